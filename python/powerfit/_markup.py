"""Escaping user strings for every format powerfit writes: HTML text and attributes, Markdown,
URLs and file names, matplotlib text (where ``$`` starts mathtext) and the terminal.

Column names, group keys, law names, titles, file names and image names are the user's; they go
through one of these before they reach an output, so that ``<script>`` stays text everywhere.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

_MD = re.compile(r"([\\`*_\[\]|~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def html_text(s: object) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape(str(s), quote=True)


def markdown(s: object) -> str:
    """Text for a Markdown line or table cell: HTML special characters as entities (Markdown
    passes raw HTML through), Markdown punctuation backslash-escaped, line breaks as spaces."""
    text = html.escape(" ".join(str(s).split()), quote=True)
    return _MD.sub(r"\\\1", text)


def code_span(s: object) -> str:
    """Text as a Markdown code span (shown literally), with a fence longer than any run of
    backticks inside."""
    text = " ".join(str(s).split())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def slug(s: object, used: set[str] | None = None) -> str:
    """A safe identifier and file stem: letters, digits, ``-`` and ``_`` only (never empty,
    never a path), made unique against ``used`` (which it updates)."""
    text = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:60] or "figure"
    out, i = base, 2
    while used is not None and out in used:
        out, i = f"{base}-{i}", i + 1
    if used is not None:
        used.add(out)
    return out


def url_path(s: str) -> str:
    """A relative path for a link or image source, percent-encoded."""
    return quote(s, safe="/")


def plot_text(s: object) -> str:
    """Text for a matplotlib label or title: a ``$`` is a dollar sign, not the start of
    mathtext (which would render, or fail on, the user's text)."""
    return str(s).replace("$", r"\$")


def terminal(s: object) -> str:
    """Text for the terminal: control characters (escape sequences among them) shown as
    ``\\xNN`` instead of acted upon."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(s))


__all__ = ["code_span", "html_text", "markdown", "plot_text", "slug", "terminal", "url_path"]
