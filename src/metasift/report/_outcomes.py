"""One section per outcome: the results paragraph, the forest plot with subgroups, the
funnel plot (when the plan's publication-bias minimum is reached), the pooled-effects
table of every cell (all studies and each category of each subgroup, "not applicable" cells
included) and the notes of the fits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from metasift.plots import forest_plot, funnel_plot
from metasift.plots._common import MEASURE_LABELS, RATIO_MEASURES
from metasift.report._blocks import Figure, Table, TableRow, humanise
from metasift.report._format import (
    MISSING,
    ci_text,
    count,
    number,
    p_text,
    p_value,
    participants,
    percent,
    symbols,
)
from metasift.report._paragraph import effect_sentence, subgroup_sentence
from metasift.report._studies import outcome_label
from metasift.report._svg import SvgFigures
from metasift.review.protocol import Protocol
from metasift.synthesis import OutcomeSynthesis

__all__ = ["OutcomeSection", "main_effects_table", "outcome_sections"]


@dataclass(frozen=True)
class OutcomeSection:
    """What the report shows of one outcome (or one comparator of it)."""

    key: str
    title: str
    paragraphs: tuple[str, ...]
    figures: tuple[Figure, ...]
    table: Table
    notes: tuple[str, ...]


def _key(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _title(synthesis: OutcomeSynthesis) -> str:
    title = humanise(outcome_label(synthesis.outcome))
    if synthesis.group and synthesis.group.casefold() != outcome_label(synthesis.outcome):
        title += f" ({synthesis.group})"
    if synthesis.stratum != "all":
        title += f": {synthesis.stratum}"
    return title


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(row) for _, row in frame.iterrows()]


def _paragraphs(synthesis: OutcomeSynthesis, direction: str) -> tuple[str, ...]:
    options = synthesis.settings
    pooled = synthesis.frame("pooled_effects")
    tests = synthesis.frame("subgroup_tests")
    label = outcome_label(synthesis.outcome)
    if synthesis.stratum != "all":
        label += f" (comparator: {synthesis.stratum})"
    main = _records(pooled[pooled["facet"] == "all"])[0]
    texts = [
        effect_sentence(main, label, options.measure, direction=direction, level=options.level)
    ]
    for facet in dict.fromkeys(pooled.loc[pooled["facet"] != "all", "facet"]):
        rows = _records(pooled[pooled["facet"] == facet])
        found = _records(tests[tests["facet"] == facet])
        texts.append(
            subgroup_sentence(
                str(facet).replace("_", " "),
                found[0] if found else None,
                rows,
                options.measure,
                options.level,
            )
        )
    return tuple(texts)


def _favours(direction: str) -> tuple[str, str]:
    pair = ("Favours control", "Favours intervention")
    return pair if direction == "higher" else (pair[1], pair[0])


def _figures(
    synthesis: OutcomeSynthesis, key: str, title: str, direction: str, figures: SvgFigures
) -> tuple[list[Figure], list[str]]:
    main = synthesis.main
    if main is None:
        return [], [f"No forest plot: fewer than {synthesis.settings.min_studies} comparisons."]
    out, notes = [], []
    facet = next(iter(synthesis.subgroups), None)
    result: Any = synthesis.subgroups[facet] if facet is not None else main
    label = MEASURE_LABELS.get(synthesis.settings.measure)
    forest = forest_plot(result, favours=_favours(direction), effect_label=label)
    by = f", by {facet.replace('_', ' ')}" if facet is not None else ""
    out.append(
        Figure(
            f"{key}-forest",
            f"Forest plot of {title.lower()}{by}: random-effects estimates of each "
            "comparison, subgroup and all comparisons, with the prediction interval.",
            figures.inline(forest.figure, f"{key}-forest", f"Forest plot, {title}{by}"),
        )
    )
    rule = synthesis.settings.publication_bias.min_studies
    if main.k >= rule:
        funnel = funnel_plot(
            main, trimfill=synthesis.trim_and_fill, egger=synthesis.egger, contour=True
        )
        out.append(
            Figure(
                f"{key}-funnel",
                f"Contour-enhanced funnel plot of {title.lower()}, with Egger's regression "
                "line and the comparisons trim-and-fill adds, where it adds any.",
                figures.inline(funnel, f"{key}-funnel", f"Funnel plot, {title}"),
            )
        )
    else:
        notes.append(f"No funnel plot: k = {main.k} is below the plan's minimum of {rule}.")
    return out, notes


def _scaled(value: Any, measure: str) -> Any:
    if measure in RATIO_MEASURES and isinstance(value, float) and math.isfinite(value):
        return math.exp(value)
    return value


class _Footnotes:
    """Numbers the distinct notes of a table's rows."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def mark(self, note: Any) -> str:
        parts = [symbols(p.strip()) for p in str(note or "").split(";") if p.strip()]
        marks = [str(self.texts.setdefault(p, len(self.texts) + 1)) for p in parts]
        return ", ".join(marks)

    def text(self) -> str:
        return " ".join(f"({n}) {t}." for t, n in self.texts.items())


def _cell_row(row: Mapping[str, Any], measure: str, notes: _Footnotes) -> TableRow:
    k = int(row.get("k") or 0)
    studies = int(row.get("k_studies") or 0)
    first = [str(row["category"]), f"{k} ({studies})", participants(row)]
    if row.get("status") != "pooled":
        rest = [MISSING] * 6 + [str(row.get("status", "")), notes.mark(row.get("note"))]
        return TableRow(tuple(first + rest), "muted")
    est, lb, ub, pi_lb, pi_ub = (
        _scaled(float(row[name]), measure)
        for name in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub")
    )
    k_ok = k > 1
    cells = [
        *first,
        number(est),
        ci_text(lb, ub),
        p_value(row.get("pval")),
        percent(row.get("i2")) if k_ok else MISSING,
        p_value(row.get("qe_pval")) if k_ok else MISSING,
        ci_text(pi_lb, pi_ub),
        str(row.get("interpretation") or ""),
        notes.mark(row.get("note")),
    ]
    return TableRow(tuple(cells), "total" if row.get("facet") == "all" else "")


def _test_text(tests: pd.DataFrame, facet: str) -> str:
    found = tests[tests["facet"] == facet]
    if found.empty or not math.isfinite(float(found["qm_pval"].iloc[0])):
        return "no test for subgroup differences"
    row = found.iloc[0]
    return (
        f"test for subgroup differences Q={number(float(row['qm']))}, "
        f"df={count(float(row['qm_df']))}, {p_text(float(row['qm_pval']))}"
    )


def _pooled_table(synthesis: OutcomeSynthesis, key: str, title: str) -> Table:
    options = synthesis.settings
    measure = options.measure
    level = f"{100 * options.level:g}%"
    pooled = synthesis.frame("pooled_effects")
    tests = synthesis.frame("subgroup_tests")
    notes = _Footnotes()
    rows: list[TableRow] = []
    for facet in dict.fromkeys(pooled["facet"]):
        block = pooled[pooled["facet"] == facet]
        if facet != "all":
            kind = str(block["analysis"].iloc[0])
            heading = f"{humanise(str(facet))} ({kind}): {_test_text(tests, str(facet))}"
            rows.append(TableRow((heading,), "group"))
        rows += [_cell_row(row, measure, notes) for row in _records(block)]
    shown = f"{measure} (ratio scale)" if measure in RATIO_MEASURES else measure
    header = [
        "Category",
        "k (studies)",
        "N",
        shown,
        f"{level} CI",
        "p",
        "I²",
        "Q test p",
        f"{level} PI",
        "Effect size",
        "Notes",
    ]
    legend = (
        "k: comparisons (studies); N: participants; CI: confidence interval; PI: "
        "prediction interval; effect size: Cohen's label of the pooled SMD. "
    )
    return Table.build(
        f"{key}-pooled",
        f"Pooled effects on {title.lower()}: all comparisons and each category of each subgroup",
        header,
        rows,
        [False, True, True, True, True, True, True, True, True, False, False],
        legend + (f"Notes: {notes.text()}" if notes.texts else ""),
    )


def _fit_notes(synthesis: OutcomeSynthesis) -> tuple[str, ...]:
    frame = synthesis.notes
    if frame.empty:
        return ()
    return tuple(
        symbols(f"{row.context}: {row.message}")
        for row in frame.drop_duplicates().itertuples(index=False)
    )


def outcome_sections(
    outcomes: Mapping[str, OutcomeSynthesis], protocol: Protocol, figures: SvgFigures
) -> list[OutcomeSection]:
    """A section per analysed outcome, in the order of the synthesis."""
    sections = []
    for name, synthesis in outcomes.items():
        spec = protocol.outcomes.get(synthesis.outcome)
        direction = spec.direction if spec is not None else "higher"
        key = "outcome-" + _key(name)
        title = _title(synthesis)
        figs, fig_notes = _figures(synthesis, key, title, direction, figures)
        sections.append(
            OutcomeSection(
                key,
                title,
                _paragraphs(synthesis, direction),
                tuple(figs),
                _pooled_table(synthesis, key, title),
                tuple(fig_notes) + _fit_notes(synthesis),
            )
        )
    return sections


def main_effects_table(outcomes: Mapping[str, OutcomeSynthesis], level: float) -> Table | None:
    """The main analysis of every outcome in one table (the first table of the results).

    Rows keep each outcome's own measure, so the column names the effect generically.
    """
    notes = _Footnotes()
    rows = []
    for synthesis in outcomes.values():
        pooled = synthesis.frame("pooled_effects")
        row = _records(pooled[pooled["facet"] == "all"])[0]
        measure = synthesis.settings.measure
        cells = _cell_row(row | {"category": f"{_title(synthesis)} ({measure})"}, measure, notes)
        rows.append(TableRow(cells.cells, "muted" if cells.kind == "muted" else ""))
    if not rows:
        return None
    shown = f"{100 * level:g}%"
    return Table.build(
        "table-main-effects",
        "Pooled effect of the intervention on each outcome (all comparisons)",
        [
            "Outcome",
            "k (studies)",
            "N",
            "Estimate",
            f"{shown} CI",
            "p",
            "I²",
            "Q test p",
            f"{shown} PI",
            "Effect size",
            "Notes",
        ],
        rows,
        [False, True, True, True, True, True, True, True, True, False, False],
        "k: comparisons (studies); N: participants; CI: confidence interval; PI: prediction "
        "interval; ratio measures are shown as ratios. "
        + (f"Notes: {notes.text()}" if notes.texts else ""),
    )
