"""Shared pieces of the figure functions: text measurement, an inch canvas, number formats.

Figures are built with the object-oriented matplotlib API (``Figure`` plus an Agg canvas
attached to that one figure), so importing :mod:`metasift.plots` never selects a backend
and never touches pyplot's global figure list.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from metasift.errors import InputError

__all__ = [
    "FONT_SIZE",
    "LINE_SPACING",
    "MEASURE_LABELS",
    "MINUS",
    "RATIO_MEASURES",
    "fmt_num",
    "fmt_p",
    "inch_canvas",
    "new_figure",
    "save",
    "text_extent",
    "wrap_text",
]

FONT_SIZE = 8.0
"""Body text size in points: the size RevMan and robvis use for table text."""

LINE_SPACING = 1.3
"""Height of one text line as a multiple of the font size."""

MINUS = "\u2212"
"""Typographic minus sign used in numbers shown as text."""

# Measured widths come from Agg's hinted glyph metrics at 72 dpi; other dpi values and the
# vector backends place glyphs slightly differently, so layouts keep this much slack.
_MEASURE_SLACK = 1.04

RATIO_MEASURES = frozenset({"OR", "RR", "ROM", "IRR", "HR", "PETO", "VR", "CVR"})
"""Measures analysed on the log scale; forest plots show them exponentiated."""

MEASURE_LABELS = {
    "SMD": "Std. mean difference",
    "SMDH": "Std. mean difference",
    "MD": "Mean difference",
    "OR": "Odds ratio",
    "PETO": "Peto odds ratio",
    "RR": "Risk ratio",
    "RD": "Risk difference",
    "ROM": "Ratio of means",
    "IRR": "Incidence rate ratio",
    "HR": "Hazard ratio",
    "ZCOR": "Fisher's z",
    "COR": "Correlation",
}
"""Axis and column labels of metafor's measure codes."""

_SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_PNG_DPI = 300


@functools.lru_cache(maxsize=1)
def _renderer() -> RendererAgg:
    # A 72-dpi renderer measures in points, which divide by 72 to give inches.
    return RendererAgg(8, 8, 72)  # type: ignore[no-untyped-call]


@functools.lru_cache(maxsize=4096)
def _line_width(line: str, size: float, weight: str) -> float:
    prop = FontProperties(size=size, weight=weight)
    renderer = _renderer()
    width, _, _ = renderer.get_text_width_height_descent(  # type: ignore[no-untyped-call]
        line or " ", prop, ismath=False
    )
    return float(width) * _MEASURE_SLACK / 72.0


def text_extent(text: str, size: float = FONT_SIZE, weight: str = "normal") -> tuple[float, float]:
    """Width and height in inches of a text, one line per ``\\n``.

    Parameters
    ----------
    text : str
        The text; ``\\n`` starts a new line.
    size : float
        Font size in points.
    weight : str
        Font weight (``"normal"`` or ``"bold"``).

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches; the height is ``lines * size * LINE_SPACING / 72``.

    Examples
    --------
    >>> w, h = text_extent("Study", size=8)
    >>> 0.2 < w < 0.5 and abs(h - 8 * LINE_SPACING / 72) < 1e-12
    True
    """
    lines = text.split("\n")
    width = max(_line_width(line, size, weight) for line in lines)
    return width, len(lines) * size * LINE_SPACING / 72.0


def wrap_text(text: str, width: float, size: float = FONT_SIZE, weight: str = "normal") -> str:
    """Break a text into lines no wider than ``width`` inches, at spaces where possible.

    Existing line breaks are kept. A short parenthetical (up to 24 characters, such as
    ``(n = 1,161)``) is kept together. A word wider than the whole width is split between
    characters, so the result always fits.

    Examples
    --------
    >>> print(wrap_text("Reports assessed for eligibility", 1.2, size=8))
    Reports assessed for
    eligibility
    """
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        # A short parenthetical such as "(n = 1,161)" is kept on one line.
        for word in re.findall(r"\([^()]{0,24}\)[.,;:]?|[^ ]+", paragraph):
            candidate = f"{line} {word}" if line else word
            if _line_width(candidate, size, weight) <= width:
                line = candidate
                continue
            if line:
                out.append(line)
            line = word
            while _line_width(line, size, weight) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and _line_width(line[:cut], size, weight) > width:
                    cut -= 1
                out.append(line[:cut])
                line = line[cut:]
        out.append(line)
    return "\n".join(out)


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches with its own Agg canvas (no pyplot)."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def inch_canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure and one axes covering it whose data units are inches from the bottom left.

    Drawing in inches keeps circles round and lets layouts be computed from measured text.

    Examples
    --------
    >>> fig, ax = inch_canvas(3.0, 2.0)
    >>> tuple(float(v) for v in ax.get_xlim() + ax.get_ylim())
    (0.0, 3.0, 0.0, 2.0)
    """
    fig = new_figure(width, height)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(0.0, height)
    ax.set_axis_off()
    return fig, ax


def save(fig: Any, path: str | Path) -> Path:
    """Write a figure to SVG, PDF or PNG (300 dpi), chosen by the file extension.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or object with a ``figure`` attribute
        The figure, or a result such as :class:`~metasift.plots.forest.ForestPlot`.
    path : str or pathlib.Path
        Target file; its extension (``.svg``, ``.pdf`` or ``.png``) selects the format.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    SVG and PDF files carry no creation date and SVG element ids use a fixed salt, so the
    same figure gives the same bytes on every run (useful for figures kept under version
    control).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = new_figure(2, 1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = save(fig, pathlib.Path(d) / "empty.svg")
    ...     out.read_text()[:5]
    '<?xml'
    """
    figure = fig if isinstance(fig, Figure) else getattr(fig, "figure", None)
    if not isinstance(figure, Figure):
        raise InputError(
            f"fig: expected a matplotlib Figure or an object with a .figure, got {type(fig)!r}"
        )
    target = Path(path)
    fmt = _SAVE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise InputError(
            f"path {str(target)!r}: extension {target.suffix!r} is not supported; "
            f"use one of {', '.join(sorted(_SAVE_FORMATS))}"
        )
    metadata: dict[str, Any] = {"Date": None} if fmt in ("svg", "pdf") else {"Software": None}
    if fmt == "pdf":
        metadata = {"CreationDate": None}
    with mpl.rc_context({"svg.hashsalt": "metasift", "svg.fonttype": "path"}):
        figure.savefig(target, format=fmt, dpi=_PNG_DPI, metadata=metadata)
    return target


def fmt_num(value: float, digits: int = 2) -> str:
    """A number with ``digits`` decimals and a typographic minus; NaN shows as ``NA``.

    Examples
    --------
    >>> fmt_num(-0.0512), fmt_num(0.19), fmt_num(float("nan"))
    ('−0.05', '0.19', 'NA')
    """
    if value is None or not math.isfinite(value):
        return "NA"
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        # "-0.00" would suggest a sign the rounded value does not have.
        text = text[1:] if float(text) == 0.0 else MINUS + text[1:]
    return text


def fmt_p(p: float) -> str:
    """A p-value as journals print it: ``P = 0.03``, ``P = 0.004``, ``P < 0.001``.

    Examples
    --------
    >>> fmt_p(0.0264), fmt_p(0.0041), fmt_p(1e-7), fmt_p(float("nan"))
    ('P = 0.03', 'P = 0.004', 'P < 0.001', 'P = NA')
    """
    if p is None or not math.isfinite(p):
        return "P = NA"
    if p < 0.001:
        return "P < 0.001"
    if p < 0.01:
        return f"P = {p:.3f}"
    return f"P = {p:.2f}"
