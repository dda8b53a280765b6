"""Sphinx configuration of powerfit's documentation (``make docs``).

Sphinx rather than MkDocs: the docstrings are written for Sphinx (Google-style sections read by
napoleon, cross-references as ``:func:`` and ``:class:`` roles), so autodoc renders them as
written and resolves their links; the tutorial notebook is executed during the build by
myst-nb, so its outputs are never stale; math is converted to MathML at build time (no script,
no network). The build is offline and treats every warning as an error (``-W``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import powerfit

project = "powerfit"
author = "the powerfit authors"
copyright = "the powerfit authors"
release = powerfit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_nb",
    "mathml",
]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# docstrings: Google style, types from the signatures
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}

# Markdown pages and notebooks
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# a static page cannot run a live progress widget (nor should it fetch widget scripts)
os.environ["TQDM_DISABLE"] = "1"
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

html_theme = "furo"
html_title = f"powerfit {release}"
html_math_renderer = "mathml"
html_static_path: list[str] = []
napoleon_use_ivar = True  # "Attributes:" as fields, not a second description of each property


# --- docstrings written as plain text, read as reStructuredText ------------------------------
_ARG_SECTIONS = ("Args:", "Arguments:", "Parameters:")


def _join_wrapped_names(lines: list[str]) -> None:
    """Joins an argument entry whose list of names wraps onto the next line
    (``a, b, c,`` / ``d, e: text``) into one line, as napoleon reads one line per entry."""
    in_args, i = False, 0
    while i < len(lines) - 1:
        stripped = lines[i].strip()
        if stripped in _ARG_SECTIONS:
            in_args = True
        elif stripped and not lines[i].startswith(" "):
            in_args = False
        nxt = lines[i + 1].strip()
        if in_args and stripped.endswith(",") and ":" not in stripped and ":" in nxt:
            lines[i] = lines[i].rstrip() + " " + nxt
            del lines[i + 1]
            continue
        i += 1


def _process_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    _join_wrapped_names(lines)
    # |x| means an absolute value in these docstrings, never a substitution
    lines[:] = [line.replace("|", r"\|") for line in lines]


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
