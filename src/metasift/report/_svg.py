"""Matplotlib figures as SVG inside the HTML report: deterministic, self-contained, and with
ids that cannot clash between figures.

Each figure is written by matplotlib's SVG backend with the settings of
:func:`metasift.plots.save` (fixed hash salt, no date, text as glyph paths so it looks the
same without the fonts), then made fit for inlining: the XML prologue, the RDF metadata
(which names matplotlib's web site) and the text comments go; every id is prefixed with
the figure's key; glyph outlines, identical in every figure, move to one shared
``<defs>`` block (:meth:`SvgFigures.glyph_defs`) so that each glyph is stored once.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field

import matplotlib as mpl
from markupsafe import Markup, escape
from matplotlib.figure import Figure

from metasift.errors import InputError

__all__ = ["SvgFigures"]

#: rcParams of the SVG output; the same as metasift.plots.save uses for files.
SVG_RC = {"svg.hashsalt": "metasift", "svg.fonttype": "path"}

# matplotlib stores glyph outlines in FreeType's 26.6 units and scales them by 1/64.
_GLYPH = re.compile(r'<path id="([^"]+)" d="([^"]*)" transform="scale\(0\.015625\)"/>')
_ROOT = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([^"]+)"')
_KEY = re.compile(r"[a-z][a-z0-9-]*")


@dataclass
class SvgFigures:
    """Turns figures into inline SVG and collects the glyphs they share.

    Examples
    --------
    >>> from metasift.plots._common import inch_canvas
    >>> fig, ax = inch_canvas(1.0, 0.5)
    >>> _ = ax.text(0.1, 0.2, "Aa")
    >>> figures = SvgFigures()
    >>> svg = figures.inline(fig, "demo", "Two letters")
    >>> str(svg)[:60]
    '<svg id="demo" class="figure" width="72pt" height="36pt" vie'
    >>> "matplotlib.org" in svg, 'id="demo-' in svg, len(figures.glyphs)
    (False, True, 2)
    """

    glyphs: dict[str, str] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)

    def inline(self, figure: Figure, key: str, title: str) -> Markup:
        """The figure as an ``<svg>`` element with id ``key`` and a ``<title>``."""
        if not _KEY.fullmatch(key) or key in self.keys:
            raise InputError(f"figure key {key!r}: give a new lower-case key (a-z, 0-9, -)")
        self.keys.add(key)
        buffer = io.StringIO()
        with mpl.rc_context(SVG_RC):
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        text = buffer.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        text = re.sub(r'<style type="text/css">[^<]*</style>', "", text)
        text = _GLYPH.sub(self._take_glyph, text)
        text = re.sub(r"<defs>\s*</defs>", "", text)
        text = _prefix_ids(text, key, set(self.glyphs))
        text = re.sub(r"[ \t]*\n\s*", "\n", text)
        return Markup(_root(text, key, title))

    def _take_glyph(self, match: re.Match[str]) -> str:
        glyph, outline = match.group(1), match.group(2)
        known = self.glyphs.setdefault(glyph, outline)
        # Two fonts giving one id two outlines would be a matplotlib change: keep it local.
        return "" if known == outline else match.group(0)

    def glyph_defs(self) -> Markup:
        """One hidden ``<svg>`` holding every glyph the figures use, by id."""
        paths = "".join(
            f'<path id="{name}" d="{self.glyphs[name]}" transform="scale(0.015625)"/>'
            for name in sorted(self.glyphs)
        )
        text = re.sub(r"[ \t]*\n\s*", "\n", paths)
        return Markup(
            '<svg class="glyphs" width="0" height="0" aria-hidden="true" focusable="false">'
            f"<defs>{text}</defs></svg>"
        )


def _prefix_ids(text: str, key: str, shared: set[str]) -> str:
    """Make every id the figure's own (``KEY-id``), and valid in HTML.

    A gid a figure gives several artists (one per traffic-light cell, say) names a kind,
    not an element: it becomes a ``data-gid`` attribute, so ids stay unique in the page.
    """
    counts = Counter(re.findall(r'\bid="([^"]+)"', text))

    def own(name: str) -> str:
        return name if name in shared else key + "-" + re.sub(r"\s+", "_", name)

    def element_id(match: re.Match[str]) -> str:
        name = match.group(1)
        if counts[name] > 1:
            return f'data-gid="{name}"'
        return f'id="{own(name)}"'

    text = re.sub(r'\bid="([^"]+)"', element_id, text)
    text = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'href="#{own(m.group(1))}"', text)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{own(m.group(1))})", text)


def _root(text: str, key: str, title: str) -> str:
    root = _ROOT.search(text)
    if root is None:  # pragma: no cover - matplotlib always writes one
        raise InputError("matplotlib wrote no <svg> element")
    tag = root.group(0)
    width = re.search(r'\bwidth="([^"]+)"', tag)
    height = re.search(r'\bheight="([^"]+)"', tag)
    box = _VIEWBOX.search(tag)
    if width is None or height is None or box is None:  # pragma: no cover
        raise InputError(f"unexpected <svg> element from matplotlib: {tag}")
    head = (
        f'<svg id="{key}" class="figure" width="{width.group(1)}" height="{height.group(1)}" '
        f'viewBox="{box.group(1)}" role="img" aria-labelledby="{key}-title">'
        f'<title id="{key}-title">{escape(title)}</title>'
    )
    return head + text[root.end() :].strip()
