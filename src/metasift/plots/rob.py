"""Risk-of-bias figures: the traffic-light plot and the summary bar plot (robvis style).

Both read a :class:`~metasift.plots.robtools.RobTable` (or anything :func:`rob_table`
accepts) and use the tool's judgement colours and symbols, so any tool defined as data
draws the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from metasift.errors import InputError
from metasift.plots._common import FONT_SIZE, inch_canvas, new_figure, text_extent
from metasift.plots.robtools import Judgement, RobTable, RobTool, rob_table

__all__ = ["rob_proportions", "rob_summary", "rob_traffic_light", "traffic_light_marker"]

_PAD = 0.12
_STRIP = "#BFBFBF"
_OVERALL_BG = "#E3E3E3"
_GRID = "#8C8C8C"
_LINE_H = FONT_SIZE * 1.3 / 72


def _as_table(table: RobTable | pd.DataFrame | str | Path, tool: str | RobTool | None) -> RobTable:
    if isinstance(table, RobTable):
        if tool is not None:
            raise InputError("tool: give the tool only with a plain table; a RobTable has one")
        return table
    return rob_table(table, "ROB2" if tool is None else tool)


def _symbol_colour(fill: str) -> str:
    r, g, b = to_rgb(fill)
    # Relative luminance (ITU-R BT.709 weights): dark fills get a white symbol.
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.35 else "black"


def _legend_label(label: str) -> str:
    if label in ("Some concerns", "No information", "Not applicable"):
        return label
    return f"{label} risk of bias"


def rob_traffic_light(
    table: RobTable | pd.DataFrame | str | Path,
    tool: str | RobTool | None = None,
    *,
    overall: bool = True,
    colours: str | Mapping[str, str] = "cochrane",
    cell: float = 0.3,
    title: str = "Risk of bias domains",
) -> Figure:
    """Traffic-light plot: one row per study, one circle per domain plus the overall judgement.

    Parameters
    ----------
    table : RobTable, pandas.DataFrame or path
        The judgements; a frame or CSV path is checked with :func:`rob_table`.
    tool : str or RobTool, optional
        The tool of a plain table (default ``"ROB2"``); not allowed with a RobTable.
    overall : bool
        Draw the ``Overall`` column (shaded) when the table has one.
    colours : {"cochrane", "colourblind"} or mapping
        Colour scheme, or a mapping judgement label -> colour.
    cell : float
        Size of one cell in inches; the figure grows with the number of studies.
    title : str
        Heading above the domain codes.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The layout follows robvis (McGuinness and Higgins 2021, Res Synth Methods 12:55-61):
    domain codes on top, study labels on the left, the overall column shaded, a caption
    naming each domain and a legend of the judgements that occur. Each judgement has both
    a colour and a symbol, so the figure reads in greyscale and for colour-blind readers.

    Examples
    --------
    >>> df = pd.DataFrame({"Study": ["Cook 2012", "Rogers 2016"],
    ...     "D1": ["Low", "Some concerns"], "D2": ["Low", "High"], "D3": ["Low", "Low"],
    ...     "D4": ["Low", "Low"], "D5": ["Low", "No information"], "Overall": ["Low", "High"]})
    >>> fig = rob_traffic_light(df, "ROB2")
    >>> len([p for p in fig.axes[0].patches if isinstance(p, Circle)])  # 2 x 6 + legend 4
    16
    """
    rob = _as_table(table, tool)
    tool_c = rob.tool.with_colours(colours)
    matrix = rob.matrix(overall=overall)
    codes = list(matrix.columns)
    col_w = [max(cell, text_extent(c, FONT_SIZE - 0.5)[0] + 0.08) for c in codes]
    label_w = max(text_extent(s)[0] for s in rob.studies) + 0.16
    caption = ["Domains:"] + [f"{d.code}: {d.name}." for d in rob.domains]
    present = [j for j in tool_c.judgements if j.label in set(matrix.to_numpy().ravel())]
    legend_w = 0.35 + max(text_extent(j.label)[0] for j in present)
    caption_w = max(text_extent(line)[0] for line in caption)
    grid_w = sum(col_w)
    left = _PAD + 0.22
    width = max(left + label_w + grid_w, _PAD + caption_w + 0.3 + legend_w) + _PAD
    bottom_h = max(len(caption), len(present) + 1) * _LINE_H + 0.1
    strip_h = 0.22
    height = _PAD + _LINE_H + strip_h + len(rob.studies) * cell + 0.12 + bottom_h + _PAD
    fig, ax = inch_canvas(width, height)
    grid_top = height - _PAD - _LINE_H - strip_h
    x0 = left + label_w
    ax.text(
        x0 + grid_w / 2,
        height - _PAD - _LINE_H / 2,
        title,
        ha="center",
        va="center",
        fontsize=FONT_SIZE,
    )
    _traffic_grid(ax, matrix, tool_c, x0, grid_top, col_w, cell, strip_h)
    _traffic_labels(ax, rob.studies, left, label_w, grid_top, cell)
    bottom_top = grid_top - len(rob.studies) * cell - 0.12
    for i, line in enumerate(caption):
        ax.text(
            _PAD,
            bottom_top - (i + 0.5) * _LINE_H,
            line,
            ha="left",
            va="center",
            fontsize=FONT_SIZE,
            parse_math=False,
        )
    _traffic_legend(ax, present, width - _PAD - legend_w, bottom_top)
    return fig


def _traffic_grid(
    ax: Axes,
    matrix: pd.DataFrame,
    tool: RobTool,
    x0: float,
    top: float,
    col_w: list[float],
    cell: float,
    strip_h: float,
) -> None:
    n = matrix.shape[0]
    x = x0
    for j, code in enumerate(matrix.columns):
        w = col_w[j]
        ax.add_patch(Rectangle((x, top), w, strip_h, facecolor=_STRIP, edgecolor=_GRID, lw=0.5))
        ax.text(
            x + w / 2, top + strip_h / 2, code, ha="center", va="center", fontsize=FONT_SIZE - 0.5
        )
        bg = _OVERALL_BG if code == "Overall" else "white"
        ax.add_patch(
            Rectangle((x, top - n * cell), w, n * cell, facecolor=bg, edgecolor=_GRID, lw=0.5)
        )
        for i, label in enumerate(matrix[code].tolist()):
            traffic_light_marker(
                ax, tool.judgement(label), x + w / 2, top - (i + 0.5) * cell, 0.4 * cell
            )
        x += w


def traffic_light_marker(ax: Axes, level: Judgement, cx: float, cy: float, r: float) -> None:
    """Draw one judgement as a coloured circle with its symbol, centre and radius in inches
    of an inch canvas (used by the traffic-light plot and the forest plot's RoB columns)."""
    edge = "black" if level.assessed else _GRID
    circle = Circle((cx, cy), r, facecolor=level.colour, edgecolor=edge, lw=0.6)
    circle.set_gid(f"rob-{level.label}")
    ax.add_patch(circle)
    if level.symbol:
        # The symbol's font size is tied to the circle so it stays inside at any cell size.
        ax.text(
            cx,
            cy,
            level.symbol,
            ha="center",
            va="center_baseline",
            fontsize=r * 72 * 1.15,
            fontweight="bold",
            color=_symbol_colour(level.colour),
        )


def _traffic_labels(
    ax: Axes, studies: tuple[str, ...], left: float, label_w: float, top: float, cell: float
) -> None:
    n = len(studies)
    for i, study in enumerate(studies):
        y = top - (i + 1) * cell
        ax.add_patch(
            Rectangle((left, y), label_w, cell, facecolor=_STRIP, edgecolor="white", lw=0.8)
        )
        ax.text(
            left + label_w / 2,
            y + cell / 2,
            study,
            ha="center",
            va="center",
            fontsize=FONT_SIZE,
            parse_math=False,
        )
    ax.text(
        left - 0.13,
        top - n * cell / 2,
        "Study",
        rotation=90,
        ha="center",
        va="center",
        fontsize=FONT_SIZE,
    )


def _traffic_legend(ax: Axes, levels: list[Judgement], x: float, top: float) -> None:
    ax.text(
        x,
        top - 0.5 * _LINE_H,
        "Judgement",
        ha="left",
        va="center",
        fontsize=FONT_SIZE,
        fontweight="bold",
    )
    for i, level in enumerate(levels, 1):
        cy = top - (i + 0.5) * _LINE_H
        traffic_light_marker(ax, level, x + 0.09, cy, 0.065)
        ax.text(x + 0.22, cy, level.label, ha="left", va="center", fontsize=FONT_SIZE)


def rob_proportions(
    table: RobTable | pd.DataFrame | str | Path,
    tool: str | RobTool | None = None,
    *,
    weighted: bool | None = None,
    weights: Mapping[str, float] | Any = None,
    overall: bool = False,
) -> pd.DataFrame:
    """Share of each judgement per domain, as drawn by :func:`rob_summary`.

    Parameters
    ----------
    table, tool
        As for :func:`rob_traffic_light`.
    weighted : bool or None
        ``True``: weight studies (by ``weights`` or the table's ``Weight`` column);
        ``False``: every study counts once; ``None``: weighted when weights are available.
    weights : mapping or result, optional
        Study label -> weight, or a meta-analysis result (its ``slab`` and ``weights``).
    overall : bool
        Add the ``Overall`` row (first) when the table has one.

    Returns
    -------
    pandas.DataFrame
        One row per domain (full names), one column per assessed judgement level;
        rows sum to 1. ``attrs["weighted"]`` records whether weights were used.

    Notes
    -----
    ``p[d, j] = sum_i w_i [x_id = j] / sum_i w_i [x_id assessed]``; "Not applicable"
    cells are left out of the denominator. Weighting by the meta-analysis weights is the
    presentation recommended in the Cochrane Handbook (section 7.4 of version 5.1; section
    8.7 of version 6) and robvis' default.

    Examples
    --------
    >>> df = pd.DataFrame({"Study": ["A", "B"], "D1": ["Low", "High"], "D2": ["Low", "Low"],
    ...     "D3": ["Low", "Low"], "D4": ["Low", "Low"], "D5": ["Low", "Low"],
    ...     "Weight": [3.0, 1.0]})
    >>> rob_proportions(df, "ROB2").loc["Bias arising from the randomization process", "High"]
    np.float64(0.25)
    """
    rob = _as_table(table, tool)
    w, used = _study_weights(rob, weighted, weights)
    matrix = rob.matrix(overall=overall)
    names = {d.code: d.name for d in rob.domains} | {"Overall": "Overall risk of bias"}
    levels = [j for j in rob.tool.judgements if j.assessed]
    rows = []
    for code in matrix.columns:
        values = matrix[code].to_numpy()
        share = np.array([w[values == j.label].sum() for j in levels], dtype=float)
        total = share.sum()
        rows.append(share / total if total > 0 else np.full(len(levels), np.nan))
    order = list(matrix.columns)
    if overall and "Overall" in order:
        order = ["Overall", *order[:-1]]
        rows = [rows[-1], *rows[:-1]]
    out = pd.DataFrame(rows, index=[names[c] for c in order], columns=[j.label for j in levels])
    out.attrs["weighted"] = used
    return out


def _study_weights(rob: RobTable, weighted: bool | None, weights: Any) -> tuple[np.ndarray, bool]:
    if weights is not None:
        if weighted is False:
            raise InputError("weights were given with weighted=False; drop one of them")
        return _weights_from(rob, weights), True
    if weighted is True and rob.weights is None:
        raise InputError(
            "weighted=True needs weights: add a 'Weight' column to the table or pass "
            "weights= (a mapping study -> weight, or a meta-analysis result)"
        )
    if weighted is False or rob.weights is None:
        return np.ones(len(rob.studies)), False
    return np.asarray(rob.weights, dtype=float), True


def _weights_from(rob: RobTable, weights: Any) -> np.ndarray:
    if hasattr(weights, "slab") and hasattr(weights, "weights"):
        mapping = dict(zip(weights.slab, np.asarray(weights.weights, dtype=float), strict=True))
    elif isinstance(weights, Mapping):
        mapping = {str(k): float(v) for k, v in weights.items()}
    else:
        raise InputError(
            f"weights: expected a mapping study -> weight or a meta-analysis result, "
            f"got {type(weights)!r}"
        )
    missing = [s for s in rob.studies if s not in mapping]
    if missing:
        raise InputError(
            f"weights: no weight for stud{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(repr(m) for m in missing)}; weights are given for "
            f"{', '.join(repr(k) for k in list(mapping)[:10])}"
        )
    out = np.array([mapping[s] for s in rob.studies], dtype=float)
    bad = [s for s, v in zip(rob.studies, out, strict=True) if not np.isfinite(v) or v < 0]
    if bad:
        raise InputError(f"weights: study {bad[0]!r} has weight {mapping[bad[0]]!r}; need >= 0")
    return out


def rob_summary(
    table: RobTable | pd.DataFrame | str | Path,
    tool: str | RobTool | None = None,
    *,
    weighted: bool | None = None,
    weights: Mapping[str, float] | Any = None,
    overall: bool = False,
    colours: str | Mapping[str, str] = "cochrane",
    bar_width: float = 3.6,
) -> Figure:
    """Summary bar plot: per domain, the (weighted) share of each judgement.

    Parameters
    ----------
    table, tool, weighted, weights, overall
        As for :func:`rob_proportions`, which computes the bars.
    colours : {"cochrane", "colourblind"} or mapping
        Colour scheme, or a mapping judgement label -> colour.
    bar_width : float
        Width of the bar area in inches.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` holds the bars (x from 0 to 1); the x label says whether studies
        were weighted.

    Examples
    --------
    >>> df = pd.DataFrame({"Study": ["A", "B"], "D1": ["Low", "High"], "D2": ["Low", "Low"],
    ...     "D3": ["Low", "Low"], "D4": ["Low", "Low"], "D5": ["Low", "Low"],
    ...     "Overall": ["Low", "High"]})
    >>> fig = rob_summary(df, "ROB2", overall=True)
    >>> fig.axes[0].get_xlabel()
    'Studies (%), unweighted'
    """
    rob = _as_table(table, tool)
    tool_c = rob.tool.with_colours(colours)
    shares = rob_proportions(rob, weighted=weighted, weights=weights, overall=overall)
    levels = [j for j in tool_c.judgements if j.assessed and (shares[j.label] > 0).any()]
    label_w = max(text_extent(str(n), weight="bold")[0] for n in shares.index) + 0.12
    row_h = 0.3
    entries = [(_legend_label(j.label), j.colour) for j in levels]
    legend_rows = _legend_rows(entries, label_w + bar_width)
    plot_h = len(shares) * row_h
    height = _PAD + plot_h + 0.5 + len(legend_rows) * 0.22 + 0.1 + _PAD
    width = _PAD + label_w + bar_width + 0.3
    fig = new_figure(width, height)
    bottom = height - _PAD - plot_h
    ax = fig.add_axes(
        ((_PAD + label_w) / width, bottom / height, bar_width / width, plot_h / height)
    )
    _summary_bars(ax, shares, levels)
    ax.set_xlabel(
        "Weight of studies (%)" if shares.attrs["weighted"] else "Studies (%), unweighted",
        fontsize=FONT_SIZE,
    )
    canvas = fig.add_axes((0, 0, 1, 1), zorder=-1)
    canvas.set_xlim(0, width)
    canvas.set_ylim(0, height)
    canvas.set_axis_off()
    _summary_legend(canvas, legend_rows, width, bottom - 0.5)
    return fig


def _summary_bars(ax: Axes, shares: pd.DataFrame, levels: list[Judgement]) -> None:
    n = len(shares)
    ys = np.arange(n)[::-1].astype(float)
    left = np.zeros(n)
    for level in levels:
        values = shares[level.label].fillna(0.0).to_numpy()
        bars = ax.barh(
            ys,
            values,
            left=left,
            height=0.7,
            color=level.colour,
            edgecolor="black",
            linewidth=0.5,
            label=level.label,
        )
        for bar in bars:
            bar.set_gid(f"rob-{level.label}")
        left += values
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_xticks(np.linspace(0, 1, 5), ["0%", "25%", "50%", "75%", "100%"])
    ax.set_yticks(ys, list(shares.index))
    ax.tick_params(axis="both", labelsize=FONT_SIZE, length=3)
    ax.tick_params(axis="y", length=0)
    for label in ax.get_yticklabels():
        if label.get_text() == "Overall risk of bias":
            label.set_fontweight("bold")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _legend_rows(entries: list[tuple[str, str]], width: float) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for label, colour in entries:
        w = 0.3 + text_extent(label)[0] + 0.2
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((label, colour))
        used += w
    return rows


def _summary_legend(ax: Axes, rows: list[list[tuple[str, str]]], width: float, top: float) -> None:
    for r, row in enumerate(rows):
        total = sum(0.3 + text_extent(label)[0] + 0.2 for label, _ in row) - 0.2
        x = (width - total) / 2
        y = top - (r + 0.5) * 0.22
        for label, colour in row:
            ax.add_patch(
                Rectangle((x, y - 0.07), 0.22, 0.14, facecolor=colour, edgecolor="black", lw=0.5)
            )
            ax.text(x + 0.3, y, label, ha="left", va="center", fontsize=FONT_SIZE)
            x += 0.3 + text_extent(label)[0] + 0.2
