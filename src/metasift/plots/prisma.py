"""The PRISMA 2020 flow diagram.

The diagram follows the PRISMA 2020 templates (Page MJ et al. The PRISMA 2020 statement.
BMJ 2021;372:n71, figure 1): identification via databases and registers, optionally via
other methods and from a previous version of the review, screening, retrieval,
eligibility with reasons for exclusion, and the studies included (and, as in the
PRISMA2020 R package since version 1.1.4, those in the meta-analysis).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from metasift.errors import InputError
from metasift.plots._common import FONT_SIZE, LINE_SPACING, inch_canvas, text_extent, wrap_text
from metasift.plots.prisma_data import PrismaCounts, read_prisma_csv

__all__ = ["prisma_flow"]

_PAD_IN = 0.08  # padding between a box's edge and its text
_GAP_ROW = 0.32  # vertical space for arrows between rows
_GAP_SIDE = 0.35  # horizontal space for arrows to the exclusion boxes
_GAP_GROUP = 0.3
_PHASE_W = 0.3
_MARGIN = 0.15
_INDENT = "    "
_LINE_H = FONT_SIZE * LINE_SPACING / 72
_WIDTHS = {"prev": 1.9, "main": 2.2, "main_side": 2.5, "other": 2.0, "other_side": 2.2}
_TITLE_NEW = "#FFC000"
_TITLE_GREY = "#D9D9D9"
_PHASE = "#A9C9EB"


@dataclass
class _Box:
    key: str
    lines: list[tuple[int, str]]
    col: str
    row: int
    align: str = "center"
    text: str = ""
    height: float = 0.0


def _n(value: int | None, missing: str) -> str:
    return f"(n = {missing if value is None else f'{value:,}'})"


def _entry_lines(entries: Any, missing: str) -> list[tuple[int, str]]:
    return [(1, f"{name} {_n(n, missing)}") for name, n in (entries or ()) if name]


def _identification_boxes(c: PrismaCounts, missing: str, other: bool) -> list[_Box]:
    ident = [(0, "Records identified from:"), (1, f"Databases {_n(c.database_results, missing)}")]
    ident += [(lvl + 1, text) for lvl, text in _entry_lines(c.database_specific_results, missing)]
    ident.append((1, f"Registers {_n(c.register_results, missing)}"))
    ident += [(lvl + 1, text) for lvl, text in _entry_lines(c.register_specific_results, missing)]
    removed = [
        (0, "Records removed before screening:"),
        (1, f"Duplicate records removed {_n(c.duplicates, missing)}"),
        (
            1,
            f"Records marked as ineligible by automation tools {_n(c.excluded_automatic, missing)}",
        ),
        (1, f"Records removed for other reasons {_n(c.excluded_other, missing)}"),
    ]
    boxes = [
        _Box("identification", ident, "main", 1, "left"),
        _Box("removed", removed, "main_side", 1, "left"),
    ]
    if other:
        other_lines = [
            (0, "Records identified from:"),
            (1, f"Websites {_n(c.website_results, missing)}"),
            (1, f"Organisations {_n(c.organisation_results, missing)}"),
            (1, f"Citation searching {_n(c.citations_results, missing)}"),
        ]
        boxes.append(_Box("other_identification", other_lines, "other", 1, "left"))
    return boxes


def _excluded_box(key: str, entries: Any, col: str, missing: str) -> _Box:
    named = [e for e in (entries or ()) if e[0]]
    if named:
        return _Box(key, [(0, "Reports excluded:"), *_entry_lines(named, missing)], col, 4, "left")
    total = entries[0][1] if entries else None
    return _Box(key, [(0, "Reports excluded"), (0, _n(total, missing))], col, 4)


def _screening_boxes(c: PrismaCounts, missing: str, other: bool) -> list[_Box]:
    def single(key: str, label: str, value: int | None, col: str, row: int) -> _Box:
        return _Box(key, [(0, label), (0, _n(value, missing))], col, row)

    boxes = [
        single("screened", "Records screened", c.records_screened, "main", 2),
        single("screened_excluded", "Records excluded", c.records_excluded, "main_side", 2),
        single("sought", "Reports sought for retrieval", c.dbr_sought_reports, "main", 3),
        single(
            "not_retrieved", "Reports not retrieved", c.dbr_notretrieved_reports, "main_side", 3
        ),
        single("assessed", "Reports assessed for eligibility", c.dbr_assessed, "main", 4),
        _excluded_box("excluded", c.dbr_excluded, "main_side", missing),
    ]
    if other:
        boxes += [
            single(
                "other_sought", "Reports sought for retrieval", c.other_sought_reports, "other", 3
            ),
            single(
                "other_not_retrieved",
                "Reports not retrieved",
                c.other_notretrieved_reports,
                "other_side",
                3,
            ),
            single(
                "other_assessed", "Reports assessed for eligibility", c.other_assessed, "other", 4
            ),
            _excluded_box("other_excluded", c.other_excluded, "other_side", missing),
        ]
    return boxes


def _included_boxes(c: PrismaCounts, missing: str, previous: bool) -> list[_Box]:
    if previous:
        new = [
            (0, f"New studies included in review {_n(c.new_studies, missing)}"),
            (0, f"Reports of new included studies {_n(c.new_reports, missing)}"),
        ]
        total = [
            (0, f"Total studies included in review {_n(c.total_studies, missing)}"),
            (0, f"Reports of total included studies {_n(c.total_reports, missing)}"),
        ]
        boxes = [_Box("included", new, "main", 5), _Box("total", total, "main", 6)]
        prev = [
            (
                0,
                f"Studies included in previous version of review {_n(c.previous_studies, missing)}",
            ),
            (
                0,
                f"Reports of studies included in previous version of review "
                f"{_n(c.previous_reports, missing)}",
            ),
        ]
        boxes.append(_Box("previous", prev, "prev", 1))
    else:
        studies = c.new_studies if c.new_studies is not None else c.total_studies
        reports = c.new_reports if c.new_reports is not None else c.total_reports
        lines = [
            (0, f"Studies included in review {_n(studies, missing)}"),
            (0, f"Reports of included studies {_n(reports, missing)}"),
        ]
        boxes = [_Box("included", lines, "main", 5)]
    if c.total_studies_ma is not None or c.total_reports_ma is not None:
        ma = [(0, f"Studies included in meta-analysis {_n(c.total_studies_ma, missing)}")]
        if c.total_reports_ma is not None:
            ma.append(
                (
                    0,
                    f"Reports of studies included in meta-analysis "
                    f"{_n(c.total_reports_ma, missing)}",
                )
            )
        boxes.append(_Box("meta_analysis", ma, "main", 7 if previous else 6))
    return boxes


def _as_counts(counts: PrismaCounts | Mapping[str, Any] | str | Path) -> PrismaCounts:
    if isinstance(counts, PrismaCounts):
        return counts
    if isinstance(counts, (str, Path)):
        return read_prisma_csv(counts)
    if isinstance(counts, Mapping):
        return PrismaCounts.from_mapping(counts)
    raise InputError(
        f"counts: expected PrismaCounts, a mapping of PRISMA2020 variables or a CSV path, "
        f"got {type(counts)!r}"
    )


def _has_any(*values: Any) -> bool:
    return any(v not in (None, 0, ()) for v in values)


def prisma_flow(
    counts: PrismaCounts | Mapping[str, Any] | str | Path,
    *,
    previous: bool | None = None,
    other: bool | None = None,
    missing: str = "NA",
    check: bool = True,
) -> Figure:
    """Draw the PRISMA 2020 flow diagram.

    Parameters
    ----------
    counts : PrismaCounts, mapping or path
        The counts, by PRISMA2020 variable name (see
        :class:`~metasift.plots.prisma_data.PrismaCounts`), or a PRISMA2020 CSV file.
    previous : bool, optional
        Draw the "previous studies" column (updated reviews). Default: when
        ``previous_studies`` or ``previous_reports`` is above 0.
    other : bool, optional
        Draw the "other methods" column (websites, organisations, citation searching).
        Default: when any of its counts is above 0.
    missing : str
        Shown in place of a count that is not reported.
    check : bool
        Warn (:class:`~metasift.errors.DataWarning`) when known counts do not add up
        (see :meth:`PrismaCounts.check`).

    Returns
    -------
    matplotlib.figure.Figure
        Boxes are rectangles with gid ``prisma-box-<key>`` and their text has gid
        ``prisma-text-<key>`` (keys such as ``screened``, ``excluded``, ``included``,
        ``meta_analysis``), so the figure can be tested or restyled.

    Notes
    -----
    Boxes are sized to their wrapped text, rows to their tallest box, and the canvas to the
    columns drawn, so boxes never overlap and text stays inside its box.

    Examples
    --------
    >>> fig = prisma_flow({"records_screened": 3455, "new_studies": 30,
    ...                    "total_studies_ma": 28}, check=False)
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "prisma-text-screened"]
    ['Records screened\\n(n = 3,455)']
    """
    c = _as_counts(counts)
    if check:
        c.warn_if_inconsistent()
    if previous is None:
        previous = _has_any(c.previous_studies, c.previous_reports)
    if other is None:
        other = _has_any(
            c.website_results,
            c.organisation_results,
            c.citations_results,
            c.other_sought_reports,
            c.other_assessed,
        )
    boxes = (
        _identification_boxes(c, missing, other)
        + _screening_boxes(c, missing, other)
        + _included_boxes(c, missing, previous)
    )
    cols = _column_x(previous, other)
    for box in boxes:
        box.text = _wrap_box(box, _WIDTHS[box.col] - 2 * _PAD_IN)
        box.height = text_extent(box.text)[1] + 2 * _PAD_IN
    return _draw(boxes, cols, previous, other)


def _column_x(previous: bool, other: bool) -> dict[str, float]:
    x = _MARGIN + _PHASE_W + 0.15
    cols: dict[str, float] = {}
    order = (["prev"] if previous else []) + ["main", "main_side"]
    order += ["other", "other_side"] if other else []
    for name in order:
        cols[name] = x
        x += _WIDTHS[name] + (_GAP_SIDE if name in ("main", "other") else _GAP_GROUP)
    return cols


def _wrap_box(box: _Box, width: float) -> str:
    out: list[str] = []
    for level, text in box.lines:
        indent = _INDENT * level
        room = width - text_extent(indent)[0] if level else width
        # Continuation lines hang under the first one, so list items stay distinct.
        hang = indent + "  " if level else ""
        room_next = width - text_extent(hang)[0] if hang else width
        first, *rest = wrap_text(text, room).split("\n")
        rest = wrap_text(" ".join(rest), room_next).split("\n") if rest else []
        out += [indent + first] + [hang + line for line in rest]
    return "\n".join(out)


def _draw(boxes: list[_Box], cols: dict[str, float], previous: bool, other: bool) -> Figure:
    titles = _titles(cols, previous, other)
    title_h = max(text_extent(t)[1] for _, t, _, _, _ in titles) + 2 * _PAD_IN
    n_rows = max(b.row for b in boxes)
    row_h = {
        r: max((b.height for b in boxes if b.row == r), default=0.0) for r in range(1, n_rows + 1)
    }
    width = max(x + _WIDTHS[c] for c, x in cols.items()) + _MARGIN
    height = _MARGIN + title_h + _GAP_ROW * n_rows + sum(row_h.values()) + _MARGIN
    fig, ax = inch_canvas(width, height)
    centre: dict[int, float] = {}
    top = height - _MARGIN - title_h - _GAP_ROW
    for r in range(1, n_rows + 1):
        centre[r] = top - row_h[r] / 2
        top -= row_h[r] + _GAP_ROW
    for key, text, x, w, colour in titles:
        _title(ax, key, text, x, height - _MARGIN - title_h, w, title_h, colour)
    placed = {b.key: _place(ax, b, cols, centre) for b in boxes}
    _phases(ax, centre, row_h, n_rows)
    _arrows(ax, placed, previous, other)
    return fig


def _titles(
    cols: dict[str, float], previous: bool, other: bool
) -> list[tuple[str, str, float, float, str]]:
    main_w = _WIDTHS["main"] + _GAP_SIDE + _WIDTHS["main_side"]
    out = [
        (
            "title_new",
            "Identification of new studies via databases and registers",
            cols["main"],
            main_w,
            _TITLE_NEW,
        )
    ]
    if previous:
        out.insert(
            0, ("title_previous", "Previous studies", cols["prev"], _WIDTHS["prev"], _TITLE_GREY)
        )
    if other:
        out.append(
            (
                "title_other",
                "Identification of new studies via other methods",
                cols["other"],
                _WIDTHS["other"] + _GAP_SIDE + _WIDTHS["other_side"],
                _TITLE_GREY,
            )
        )
    return [(k, wrap_text(t, w - 2 * _PAD_IN), x, w, c) for k, t, x, w, c in out]


def _title(
    ax: Axes, key: str, text: str, x: float, y: float, w: float, h: float, colour: str
) -> None:
    patch = FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.06",
        facecolor=colour,
        edgecolor="black",
        lw=0.6,
    )
    patch.set_gid(f"prisma-box-{key}")
    ax.add_patch(patch)
    ax.text(
        x + w / 2,
        y + h / 2,
        text,
        ha="center",
        va="center",
        fontsize=FONT_SIZE,
        fontweight="normal",
        gid=f"prisma-text-{key}",
        linespacing=LINE_SPACING,
    )


def _place(ax: Axes, box: _Box, cols: dict[str, float], centre: dict[int, float]) -> Rectangle:
    x, w, h = cols[box.col], _WIDTHS[box.col], box.height
    y = centre[box.row] - h / 2
    rect = Rectangle((x, y), w, h, facecolor="white", edgecolor="black", lw=0.7)
    rect.set_gid(f"prisma-box-{box.key}")
    ax.add_patch(rect)
    tx = x + _PAD_IN if box.align == "left" else x + w / 2
    ax.text(
        tx,
        y + h / 2,
        box.text,
        ha=box.align,
        va="center",
        fontsize=FONT_SIZE,
        multialignment=box.align,
        gid=f"prisma-text-{box.key}",
        parse_math=False,
        linespacing=LINE_SPACING,
    )
    return rect


def _phases(ax: Axes, centre: dict[int, float], row_h: dict[int, float], n_rows: int) -> None:
    spans = {"Identification": (1, 1), "Screening": (2, 4), "Included": (5, n_rows)}
    for label, (first, last) in spans.items():
        top = centre[first] + row_h[first] / 2
        bottom = centre[last] - row_h[last] / 2
        patch = FancyBboxPatch(
            (_MARGIN, bottom),
            _PHASE_W,
            top - bottom,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=_PHASE,
            edgecolor="none",
        )
        patch.set_gid(f"prisma-box-phase_{label.lower()}")
        ax.add_patch(patch)
        ax.text(
            _MARGIN + _PHASE_W / 2,
            (top + bottom) / 2,
            label,
            rotation=90,
            ha="center",
            va="center",
            fontsize=FONT_SIZE,
            fontweight="bold",
            gid=f"prisma-text-phase_{label.lower()}",
        )


def _arrow(ax: Axes, *points: tuple[float, float]) -> None:
    if len(points) > 2:
        xs, ys = zip(*points[:-1], strict=True)
        ax.plot(xs, ys, color="black", lw=0.8, solid_capstyle="butt")
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={
            "arrowstyle": "-|>,head_length=0.5,head_width=0.25",
            "lw": 0.8,
            "color": "black",
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )


def _down(ax: Axes, upper: Rectangle, lower: Rectangle) -> None:
    x = upper.get_x() + upper.get_width() / 2
    _arrow(ax, (x, upper.get_y()), (x, lower.get_y() + lower.get_height()))


def _right(ax: Axes, left: Rectangle, right: Rectangle) -> None:
    y = left.get_y() + left.get_height() / 2
    _arrow(ax, (left.get_x() + left.get_width(), y), (right.get_x(), y))


def _arrows(ax: Axes, b: dict[str, Rectangle], previous: bool, other: bool) -> None:
    chain = ["identification", "screened", "sought", "assessed", "included"]
    chain += ["total"] if previous else []
    chain += ["meta_analysis"] if "meta_analysis" in b else []
    for upper, lower in itertools.pairwise(chain):
        _down(ax, b[upper], b[lower])
    for main, side in (
        ("identification", "removed"),
        ("screened", "screened_excluded"),
        ("sought", "not_retrieved"),
        ("assessed", "excluded"),
    ):
        _right(ax, b[main], b[side])
    if other:
        _down(ax, b["other_identification"], b["other_sought"])
        _down(ax, b["other_sought"], b["other_assessed"])
        _right(ax, b["other_sought"], b["other_not_retrieved"])
        _right(ax, b["other_assessed"], b["other_excluded"])
        src, dst = b["other_assessed"], b["included"]
        x = src.get_x() + src.get_width() / 2
        y = dst.get_y() + dst.get_height() / 2
        _arrow(ax, (x, src.get_y()), (x, y), (dst.get_x() + dst.get_width(), y))
    if previous:
        src, dst = b["previous"], b["total"]
        x = src.get_x() + src.get_width() / 2
        y = dst.get_y() + dst.get_height() / 2
        _arrow(ax, (x, src.get_y()), (x, y), (dst.get_x(), y))
