"""Layout and drawing of the forest plot; :mod:`metasift.plots.forest` prepares the rows.

Everything is measured in inches: rows are stacked from the top, columns are as wide as
their widest text, and the figure is as large as its content, so no text overlaps
another and none leaves the canvas whatever the number of studies or label lengths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from metasift.plots._common import (
    FONT_SIZE,
    LINE_SPACING,
    MINUS,
    new_figure,
    text_extent,
    wrap_text,
)
from metasift.plots.rob import traffic_light_marker
from metasift.plots.robtools import RobTable

__all__ = ["Column", "Row", "draw_forest"]

_MARGIN = 0.12
_GAP = 0.14
_ROW_H = 0.2
_LINE_H = FONT_SIZE * LINE_SPACING / 72
_SMALL = FONT_SIZE - 0.5
_SMALL_H = _SMALL * LINE_SPACING / 72
_ROB_W = 0.2
_SQUARE_MAX_PT = 0.72 * _ROW_H * 72
_SQUARE_MIN_PT = 3.0
_DIAMOND_H = 0.065
_SQUARE = "#2F5597"
_PI_COLOUR = "#C0392B"
_PLOTTED = ("study", "subtotal", "total", "prediction")


@dataclass
class Column:
    """A text column: key into ``Row.cells``, header, alignment and optional group header."""

    key: str
    header: str
    align: str = "left"
    group: str = ""
    x: float = 0.0
    width: float = 0.0


@dataclass
class Row:
    """One drawn row: kind, label, values on the drawn scale, weight and text cells."""

    kind: str
    label: str
    estimate: float = math.nan
    ci_lb: float = math.nan
    ci_ub: float = math.nan
    weight: float = math.nan
    cells: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    bold: bool = False
    index: int = -1
    text: str = ""
    height: float = 0.0
    y: float = 0.0
    clipped: tuple[bool, bool] = (False, False)


@dataclass
class _Frame:
    width: float
    height: float
    plot_x: float
    plot_w: float
    header_bottom: float
    axis_y: float
    rows_top: float
    rob_x: float
    xlim: tuple[float, float]
    ticks: list[float]
    log: bool


def _row_font(row: Row) -> tuple[float, str]:
    return (_SMALL if row.kind == "text" else FONT_SIZE), ("bold" if row.bold else "normal")


def _measure_columns(rows: list[Row], cols: list[Column], max_label: float) -> float:
    for row in rows:
        if row.kind not in ("text", "blank"):
            size, weight = _row_font(row)
            row.text = wrap_text(row.label, max_label, size, weight)
    for col in cols:
        widths = [text_extent(col.header)[0]]
        for row in rows:
            text = row.text if col.key == "label" else row.cells.get(col.key, "")
            if text and not (col.key == "label" and row.kind in ("text", "blank")):
                widths.append(text_extent(text, *_row_font(row))[0])
        col.width = max(widths)
    groups: dict[str, list[Column]] = {}
    for col in cols:
        if col.group:
            groups.setdefault(col.group, []).append(col)
    for name, members in groups.items():
        need = text_extent(name, weight="bold")[0] - sum(c.width for c in members)
        need -= _GAP * (len(members) - 1)
        if need > 0:
            for c in members:
                c.width += need / len(members)
    x = _MARGIN
    for col in cols:
        col.x = x
        x += col.width + _GAP
    return x - _GAP - _MARGIN


def _row_heights(rows: list[Row], table_w: float) -> None:
    for row in rows:
        if row.kind == "text":
            row.text = wrap_text(row.label, table_w, _SMALL)
            row.height = text_extent(row.text, _SMALL)[1] + 0.02
        elif row.kind == "blank":
            row.height = 0.08
        else:
            row.height = max(_ROW_H, text_extent(row.text, FONT_SIZE)[1] + 0.06)


def _nice_limits(
    rows: list[Row], null: float, log: bool
) -> tuple[tuple[float, float], list[float]]:
    # Subgroup diamonds of a few studies can be very wide (t with few df); they are clipped
    # with arrows rather than squeezing every study into a corner of the plot.
    vals = [
        v
        for r in rows
        if r.kind in ("study", "total", "prediction")
        for v in (r.ci_lb, r.ci_ub, r.estimate)
    ]
    vals = [v for v in vals if math.isfinite(v) and (v > 0 or not log)]
    if log:
        half = max([abs(math.log(v / null)) for v in vals] + [math.log(2.0)])
        for limit, preset in _LOG_TICKS:
            if math.log(limit) >= half - 1e-12:
                return (null / limit, null * limit), [null * t for t in preset]
        exp = math.ceil(half / math.log(10))
        ticks = [10.0**e for e in range(-exp, exp + 1, max(1, exp // 3))]
        return (null / 10**exp, null * 10**exp), [null * t for t in ticks]
    half = max([abs(v - null) for v in vals] + [1e-9])
    # The smallest 1-2-2.5-5 step that reaches every value within three steps of the null.
    step = 10.0 ** (math.floor(math.log10(half)) - 1)
    while True:
        for mult in (1.0, 2.0, 2.5, 5.0):
            n = math.ceil(half / (mult * step) - 1e-9)
            if n <= 3:
                ticks = [null + i * mult * step for i in range(-n, n + 1)]
                return (ticks[0], ticks[-1]), ticks
        step *= 10.0


_LOG_TICKS = (
    (2.0, (0.5, 0.7, 1.0, 1.5, 2.0)),
    (5.0, (0.2, 0.5, 1.0, 2.0, 5.0)),
    (10.0, (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    (20.0, (0.05, 0.2, 1.0, 5.0, 20.0)),
    (100.0, (0.01, 0.1, 1.0, 10.0, 100.0)),
    (1000.0, (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)),
)


def _user_ticks(xlim: tuple[float, float], log: bool) -> list[float]:
    lo, hi = xlim
    locator = LogLocator(subs=(1.0, 2.0, 5.0)) if log else MaxNLocator(nbins=5)
    ticks = [float(t) for t in locator.tick_values(lo, hi) if lo - 1e-12 <= t <= hi + 1e-12]
    return ticks or [lo, hi]


def _tick_label(value: float) -> str:
    text = f"{value:.4g}"
    return text.replace("-", MINUS) if float(text) != 0 else "0"


def _to_inch(frame: _Frame, value: float) -> float:
    lo, hi = frame.xlim
    log = frame.log
    share = math.log(value / lo) / math.log(hi / lo) if log else (value - lo) / (hi - lo)
    return frame.plot_x + share * frame.plot_w


def _layout(
    rows: list[Row],
    cols: list[Column],
    notes: list[str],
    rob: RobTable | None,
    opts: dict[str, Any],
) -> tuple[_Frame, list[str]]:
    table_w = _measure_columns(rows, cols, opts["max_label_width"])
    _row_heights(rows, table_w)
    plot_x = _MARGIN + table_w + 0.25
    rob_x = plot_x + opts["plot_width"] + 0.2
    n_rob = 0 if rob is None else len(rob.domains) + (rob.overall is not None)
    # Without risk-of-bias columns, leave room for half of the last tick label.
    width = rob_x + n_rob * _ROB_W + _MARGIN if n_rob else rob_x + _MARGIN
    log = bool(opts["log_scale"])
    if opts["xlim"] is None:
        xlim, ticks = _nice_limits(rows, opts["null"], log)
    else:
        xlim = (float(opts["xlim"][0]), float(opts["xlim"][1]))
        ticks = _user_ticks(xlim, log)
    frame = _Frame(width, 0.0, plot_x, opts["plot_width"], 0.0, 0.0, 0.0, rob_x, xlim, ticks, log)
    if opts["favours"] is not None:
        null_in = _to_inch(frame, opts["null"])
        right = null_in + 0.06 + text_extent(opts["favours"][1], _SMALL)[0]
        frame.width = width = max(width, right + _MARGIN)
    lines = [wrap_text(n, width - 2 * _MARGIN, _SMALL) for n in notes]
    lines += _rob_legend(rob, width - 2 * _MARGIN)
    header_lines = max(len(c.header.split("\n")) for c in cols)
    group_h = _LINE_H + 0.04 if any(c.group for c in cols) or rob is not None else 0.0
    title_h = _LINE_H * 1.4 if opts["title"] else 0.0
    header_h = title_h + group_h + header_lines * _LINE_H + 0.08
    axis_h = 0.32 + (_SMALL_H + 0.04 if opts["favours"] else 0.0)
    notes_h = sum(text_extent(t, _SMALL)[1] for t in lines) + 0.06
    height = _MARGIN + header_h + sum(r.height for r in rows) + 0.06 + axis_h + notes_h + _MARGIN
    frame.height = height
    frame.header_bottom = height - _MARGIN - header_h
    y = frame.header_bottom - 0.04
    frame.rows_top = y
    for row in rows:
        row.y = y - row.height / 2
        y -= row.height
    frame.axis_y = y - 0.06
    return frame, lines


def _rob_legend(rob: RobTable | None, width: float) -> list[str]:
    if rob is None:
        return []
    domains = "; ".join(f"{d.code}: {d.name}" for d in rob.domains)
    levels = ", ".join(f"{j.symbol or ' '} {j.label}" for j in rob.tool.judgements if j.assessed)
    overall = "; O: Overall" if rob.overall is not None else ""
    text = f"Risk of bias ({rob.tool.name}): {domains}{overall}."
    return [wrap_text(text, width, _SMALL), wrap_text(f"Judgements: {levels}.", width, _SMALL)]


def draw_forest(
    rows: list[Row],
    columns: list[Column],
    notes: list[str],
    rob: RobTable | None,
    *,
    header_label: str,
    effect_header: str,
    **opts: Any,
) -> tuple[Figure, pd.DataFrame]:
    """Lay out and draw the forest plot; returns the figure and its layout frame."""
    cols = [
        Column("label", header_label, "left"),
        *columns,
        Column("weight", "Weight", "right"),
        Column("effect", effect_header, "right"),
    ]
    frame, lines = _layout(rows, cols, notes, rob, opts)
    fig = new_figure(frame.width, frame.height)
    canvas = fig.add_axes((0, 0, 1, 1))
    canvas.set_xlim(0, frame.width)
    canvas.set_ylim(0, frame.height)
    canvas.set_axis_off()
    plot = fig.add_axes(
        (
            frame.plot_x / frame.width,
            frame.axis_y / frame.height,
            frame.plot_w / frame.width,
            (frame.rows_top - frame.axis_y) / frame.height,
        )
    )
    _draw_headers(canvas, cols, frame, effect_header, rob, opts["title"])
    _draw_table(canvas, rows, cols, frame, rob)
    _draw_plot(plot, rows, frame, opts["null"])
    _draw_notes(canvas, lines, frame, opts)
    return fig, _layout_frame(rows)


def _header_text(ax: Axes, x: float, y: float, text: str, ha: str, size: float = FONT_SIZE) -> None:
    ax.text(x, y, text, ha=ha, va="bottom", fontsize=size, fontweight="bold",
            multialignment=ha, linespacing=LINE_SPACING, parse_math=False)  # fmt: skip


def _draw_headers(
    ax: Axes,
    cols: list[Column],
    frame: _Frame,
    effect_header: str,
    rob: RobTable | None,
    title: str | None,
) -> None:
    base = frame.header_bottom + 0.04
    if title:
        ax.text(_MARGIN, frame.height - _MARGIN, title, ha="left", va="top",
                fontsize=FONT_SIZE + 1.5, fontweight="bold", parse_math=False)  # fmt: skip
    for col in cols:
        _header_text(ax, col.x if col.align == "left" else col.x + col.width, base, col.header,
                     col.align)  # fmt: skip
    group_y = base + max(len(c.header.split("\n")) for c in cols) * _LINE_H + 0.04
    groups: dict[str, list[Column]] = {}
    for col in cols:
        if col.group:
            groups.setdefault(col.group, []).append(col)
    for name, members in groups.items():
        left, right = members[0].x, members[-1].x + members[-1].width
        _header_text(ax, (left + right) / 2, group_y, name, "center")
        # A rule under the arm's name spans the arm's columns, as in RevMan.
        ax.plot([left, right], [group_y - 0.02] * 2, color="black", lw=0.5)
    _header_text(ax, frame.plot_x + frame.plot_w / 2, base, effect_header, "center")
    if rob is not None:
        codes = [d.code for d in rob.domains] + (["O"] if rob.overall is not None else [])
        for j, code in enumerate(codes):
            _header_text(ax, frame.rob_x + (j + 0.5) * _ROB_W, base, code, "center", _SMALL)
        _header_text(ax, frame.rob_x + len(codes) * _ROB_W / 2, group_y, "Risk of bias", "center")
    ax.plot([_MARGIN, frame.width - _MARGIN], [frame.header_bottom] * 2, color="black", lw=0.6)


def _draw_table(
    ax: Axes, rows: list[Row], cols: list[Column], frame: _Frame, rob: RobTable | None
) -> None:
    for row in rows:
        if row.kind == "blank":
            continue
        size, weight = _row_font(row)
        for col in cols:
            text = row.text if col.key == "label" else row.cells.get(col.key, "")
            if not text:
                continue
            x = col.x if col.align == "left" else col.x + col.width
            ax.text(
                x,
                row.y,
                text,
                ha=col.align,
                va="center",
                fontsize=size,
                fontweight=weight,
                multialignment=col.align,
                linespacing=LINE_SPACING,
                parse_math=False,
                gid=f"forest-{col.key}",
            )
        if rob is not None and row.kind == "study":
            codes = [d.code for d in rob.domains] + (["Overall"] if rob.overall else [])
            for j, code in enumerate(codes):
                label = row.cells.get(f"rob:{code}")
                if label:
                    traffic_light_marker(
                        ax,
                        rob.tool.judgement(label),
                        frame.rob_x + (j + 0.5) * _ROB_W,
                        row.y,
                        0.065,
                    )


def _clip(row: Row, lo: float, hi: float) -> tuple[float, float]:
    lb, ub = row.ci_lb, row.ci_ub
    row.clipped = (lb < lo, ub > hi)
    return max(min(lb, hi), lo), min(max(ub, lo), hi)


def _draw_plot(ax: Axes, rows: list[Row], frame: _Frame, null: float) -> None:
    lo, hi = frame.xlim
    if frame.log:
        ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(frame.axis_y, frame.rows_top)
    ax.set_xticks(frame.ticks, [_tick_label(t) for t in frame.ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelsize=FONT_SIZE, length=3, width=0.6)
    ax.set_yticks([])
    ax.patch.set_alpha(0.0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_linewidth(0.6)
    first = next((r for r in rows if r.kind in _PLOTTED), None)
    top = first.y + first.height / 2 if first is not None else frame.rows_top
    ax.plot([null, null], [frame.axis_y, top], color="black", lw=0.6, gid="forest-null")
    wmax = max(
        (r.weight for r in rows if r.kind == "study" and math.isfinite(r.weight)), default=1.0
    )
    for row in rows:
        if row.kind not in _PLOTTED or not math.isfinite(row.ci_lb):
            continue
        lb, ub = _clip(row, lo, hi)
        if row.kind == "study":
            _study_marks(ax, row, lb, ub, wmax)
        elif row.kind == "prediction":
            ax.plot(
                [lb, ub],
                [row.y] * 2,
                color=_PI_COLOUR,
                lw=2.4,
                solid_capstyle="butt",
                gid="forest-prediction",
            )
        else:
            # The diamond keeps its true corners; the axes clip it at the limits, so a cut
            # diamond ends in a vertical edge (and an arrow) instead of a false tip.
            xs = [row.ci_lb, row.estimate, row.ci_ub, row.estimate]
            ys = [row.y, row.y + _DIAMOND_H, row.y, row.y - _DIAMOND_H]
            ax.add_patch(
                Polygon(
                    np.column_stack([xs, ys]),
                    closed=True,
                    facecolor="black",
                    edgecolor="black",
                    lw=0.5,
                    gid=f"forest-diamond-{row.kind}",
                )
            )
        for clipped, edge, marker in ((row.clipped[0], lo, "<"), (row.clipped[1], hi, ">")):
            if clipped:
                ax.plot(
                    [edge],
                    [row.y],
                    marker=marker,
                    markersize=4.5,
                    color="black",
                    clip_on=False,
                    gid="forest-arrow",
                )


def _study_marks(ax: Axes, row: Row, lb: float, ub: float, wmax: float) -> None:
    lo, hi = ax.get_xlim()
    ax.plot([lb, ub], [row.y] * 2, color="black", lw=0.7, solid_capstyle="butt", gid="forest-ci")
    if lo <= row.estimate <= hi:
        side = max(_SQUARE_MIN_PT, _SQUARE_MAX_PT * math.sqrt(max(row.weight, 0.0) / wmax))
        ax.plot(
            [row.estimate],
            [row.y],
            marker="s",
            markersize=side,
            color=_SQUARE,
            markeredgewidth=0,
            linestyle="none",
            gid="forest-square",
        )


def _draw_notes(ax: Axes, lines: list[str], frame: _Frame, opts: dict[str, Any]) -> None:
    y = frame.axis_y - 0.32
    favours = opts["favours"]
    if favours is not None:
        null_in = _to_inch(frame, opts["null"])
        ax.text(
            null_in - 0.06,
            y,
            favours[0],
            ha="right",
            va="center",
            fontsize=_SMALL,
            parse_math=False,
            gid="forest-favours",
        )
        ax.text(
            null_in + 0.06,
            y,
            favours[1],
            ha="left",
            va="center",
            fontsize=_SMALL,
            parse_math=False,
            gid="forest-favours",
        )
        y -= _SMALL_H + 0.04
    y -= 0.04
    for text in lines:
        h = text_extent(text, _SMALL)[1]
        ax.text(
            _MARGIN,
            y,
            text,
            ha="left",
            va="top",
            fontsize=_SMALL,
            linespacing=LINE_SPACING,
            parse_math=False,
            gid="forest-note",
        )
        y -= h


def _layout_frame(rows: list[Row]) -> pd.DataFrame:
    kept = [r for r in rows if r.kind in ("study", "subgroup", "subtotal", "total", "prediction")]
    return pd.DataFrame(
        {
            "kind": [r.kind for r in kept],
            "label": [r.label for r in kept],
            "group": [r.group for r in kept],
            "estimate": [r.estimate for r in kept],
            "ci_lb": [r.ci_lb for r in kept],
            "ci_ub": [r.ci_ub for r in kept],
            "weight": [r.weight for r in kept],
            "y": [r.y for r in kept],
            "clipped_lb": [r.clipped[0] for r in kept],
            "clipped_ub": [r.clipped[1] for r in kept],
        }
    )
