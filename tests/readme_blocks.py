"""Runs the examples of a README section: its python blocks in order in one namespace, and
its ``powerfit compute`` command lines through the CLI's entry point."""

from __future__ import annotations

import pathlib
import re
import shlex
import warnings

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def section(heading: str) -> str:
    """The text of the README section whose '## ' heading starts with `heading`."""
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    found = [p for p in parts if p.startswith(heading)]
    assert len(found) == 1, f"README section '{heading}' not found once"
    return found[0]


def blocks(heading: str, lang: str) -> list[str]:
    """The fenced code blocks of a language in a section."""
    return re.findall(rf"```{lang}\n(.*?)```", section(heading), flags=re.DOTALL)


def run_python(heading: str) -> dict[str, object]:
    """Executes the section's python blocks (the project's own documentation) in order."""
    ns: dict[str, object] = {"__name__": "readme"}
    code = blocks(heading, "python")
    assert code, f"no python example in README section '{heading}'"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in code:
            exec(compile(block, f"README: {heading}", "exec"), ns)
    return ns


def command_lines(heading: str, prefix: str) -> list[list[str]]:
    """The section's shell commands starting with `prefix`, as argument lists (continuation
    lines joined)."""
    out = []
    for block in blocks(heading, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(prefix):
                out.append(shlex.split(line)[1:])
    return out
