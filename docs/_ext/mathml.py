"""Math as MathML, converted at build time: no MathJax, no script, no font from the network.

Browsers render MathML Core themselves (Chromium 109+, Firefox, Safari), so a page with formulas
reads the same offline. A formula latex2mathml cannot convert is a build warning (an error under
``-W``), and the page shows its LaTeX source.
"""

from __future__ import annotations

import html

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _mathml(self, node: nodes.Element, latex: str, display: bool) -> str:
    try:
        return convert(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises its own exception types
        logger.warning("MathML: cannot convert %r: %s", latex, exc, location=node)
        return f"<code>{html.escape(latex)}</code>"


def visit_math(self, node: nodes.Element) -> None:
    self.body.append(f'<span class="math">{_mathml(self, node, node.astext(), False)}</span>')
    raise nodes.SkipNode


def visit_displaymath(self, node: nodes.Element) -> None:
    latex = node["latex"] if node.get("nowrap") else node.astext()
    self.body.append(f'<div class="math">{_mathml(self, node, latex, True)}</div>')
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
