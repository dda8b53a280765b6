"""Sphinx math rendered as MathML when the pages are built, so they need no script and no
network to show formulas (every current browser renders MathML)."""

from __future__ import annotations

from typing import Any

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _mathml(node: nodes.Element, latex: str, display: str) -> str:
    try:
        return str(convert(latex, display=display))
    except Exception as exc:  # noqa: BLE001  # latex2mathml raises many kinds on bad input
        logger.warning("cannot convert math %r to MathML: %s", latex, exc, location=node)
        return f"<code>{latex}</code>"


def _visit_inline(self: Any, node: nodes.Element) -> None:
    self.body.append(_mathml(node, node.astext(), "inline"))
    raise nodes.SkipNode


def _visit_block(self: Any, node: nodes.Element) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math"))
    if node.get("number"):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    self.body.append(_mathml(node, node.astext(), "block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_html_math_renderer("mathml", (_visit_inline, None), (_visit_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
