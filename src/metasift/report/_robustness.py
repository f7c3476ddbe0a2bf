"""Sensitivity analyses and publication-bias checks of every outcome, as tables.

Named sensitivity sets share one table with the main analysis of each outcome beside
them; leave-one-out analyses get a table of their own, with the range of their estimates
stated in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from metasift.plots._common import RATIO_MEASURES
from metasift.report._blocks import Table, TableRow
from metasift.report._format import MISSING, ci_text, number, p_value, percent
from metasift.report._studies import outcome_label
from metasift.synthesis import OutcomeSynthesis

__all__ = ["RobustnessSection", "robustness_section"]

_LOO = "leave-one-out: "
_TESTS = {
    "egger": "Egger's regression test",
    "begg": "Begg's rank correlation",
    "trim_and_fill": "Trim-and-fill",
}


@dataclass(frozen=True)
class RobustnessSection:
    """The tables of sensitivity analyses and publication-bias checks, and sentences."""

    sensitivity: Table | None
    leave_one_out: Table | None
    leave_one_out_text: tuple[str, ...]
    publication_bias: Table | None


def _name(synthesis: OutcomeSynthesis) -> str:
    label = outcome_label(synthesis.outcome)
    return label if synthesis.stratum == "all" else f"{label}: {synthesis.stratum}"


def _effect(row: Mapping[str, Any], measure: str) -> tuple[str, str]:
    values = [row.get(name) for name in ("estimate", "ci_lb", "ci_ub")]
    numbers = [float(v) if isinstance(v, (int, float)) else math.nan for v in values]
    if measure in RATIO_MEASURES:
        numbers = [math.exp(v) for v in numbers]
    return number(numbers[0]), ci_text(numbers[1], numbers[2])


def _main_row(synthesis: OutcomeSynthesis) -> dict[str, Any]:
    pooled = synthesis.frame("pooled_effects")
    row = pooled[pooled["facet"] == "all"].iloc[0]
    return dict(row) | {"analysis": "main analysis", "excluded": ""}


def _row(synthesis: OutcomeSynthesis, row: Mapping[str, Any], first: str) -> TableRow:
    estimate, ci = _effect(row, synthesis.settings.measure)
    pooled = str(row.get("status", "pooled")) == "pooled"
    cells = (
        first,
        str(row.get("analysis")),
        str(int(row.get("k") or 0)),
        estimate if pooled else MISSING,
        ci if pooled else MISSING,
        p_value(row.get("pval")) if pooled else MISSING,
        percent(row.get("i2")) if pooled else MISSING,
        str(row.get("excluded") or "") or str(row.get("note") or ""),
    )
    return TableRow(cells, "" if pooled else "muted")


def _header(level: float) -> list[str]:
    return [
        "Outcome",
        "Analysis",
        "k",
        "Estimate",
        f"{100 * level:g}% CI",
        "p",
        "I²",
        "Excluded or note",
    ]


def _sensitivity_table(outcomes: Mapping[str, OutcomeSynthesis], level: float) -> Table | None:
    rows: list[TableRow] = []
    for synthesis in outcomes.values():
        frame = synthesis.frame("sensitivity")
        sets = frame[~frame["analysis"].astype(str).str.startswith(_LOO)]
        if sets.empty:
            continue
        rows.append(_row(synthesis, _main_row(synthesis), _name(synthesis)))
        described = synthesis.settings.sensitivity.sets
        for _, found in sets.iterrows():
            row = dict(found)
            spec = described.get(str(row["analysis"]))
            if spec is not None and spec.description:  # the plan's words, not its key
                row["analysis"] = spec.description
            rows.append(_row(synthesis, row, ""))
    if not rows:
        return None
    return Table.build(
        "table-sensitivity",
        "Sensitivity analyses: the main analysis without the studies each set excludes",
        _header(level),
        rows,
        [False, False, True, True, True, True, True, False],
    )


def _loo_table(
    outcomes: Mapping[str, OutcomeSynthesis], level: float
) -> tuple[Table | None, tuple[str, ...]]:
    rows: list[TableRow] = []
    texts = []
    for synthesis in outcomes.values():
        frame = synthesis.frame("sensitivity")
        loo = frame[frame["analysis"].astype(str).str.startswith(_LOO)]
        if loo.empty:
            continue
        texts.append(_loo_text(synthesis, loo))
        for i, (_, row) in enumerate(loo.iterrows()):
            left = str(row["analysis"]).removeprefix(_LOO)
            shown = dict(row) | {"analysis": f"without {left}", "excluded": ""}
            rows.append(_row(synthesis, shown, _name(synthesis) if i == 0 else ""))
    if not rows:
        return None, ()
    table = Table.build(
        "table-leave-one-out",
        "Leave-one-out analyses: the main analysis without each comparison in turn",
        _header(level),
        rows,
        [False, False, True, True, True, True, True, False],
    )
    return table, tuple(texts)


def _loo_text(synthesis: OutcomeSynthesis, loo: pd.DataFrame) -> str:
    measure = synthesis.settings.measure
    values = loo["estimate"].astype(float)
    if measure in RATIO_MEASURES:
        values = values.map(math.exp)
    main = synthesis.main
    text = (
        f"Leaving out one comparison at a time, the pooled {measure} of {_name(synthesis)} "
        f"ranged from {number(values.min())} to {number(values.max())}"
    )
    if main is not None and math.isfinite(main.pval):
        significant = main.pval < 0.05
        flips = loo[(loo["pval"].astype(float) < 0.05) != significant]
        text += (
            "; no single comparison changed its statistical significance"
            if flips.empty
            else f"; leaving out {len(flips)} comparison(s) changed its statistical significance"
        )
    return text + "."


def _statistic(synthesis: OutcomeSynthesis, row: Mapping[str, Any]) -> str:
    value = row.get("statistic")
    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return MISSING
    test = str(row.get("test"))
    if test == "trim_and_fill":
        return f"k0 = {int(value)}"
    if test == "begg":
        return f"τ = {number(value)}"
    egger = synthesis.egger
    if egger is not None and math.isfinite(float(getattr(egger, "df", math.nan))):
        return f"t = {number(value)} (df {int(egger.df)})"
    return f"z = {number(value)}"


def _bias_table(outcomes: Mapping[str, OutcomeSynthesis], level: float) -> Table | None:
    rows: list[TableRow] = []
    for synthesis in outcomes.values():
        frame = synthesis.frame("publication_bias")
        for i, (_, row) in enumerate(frame.iterrows()):
            estimate, ci = _effect(row, synthesis.settings.measure)
            cells = (
                _name(synthesis) if i == 0 else "",
                _TESTS.get(str(row["test"]), str(row["test"])),
                str(int(row["k"])),
                _statistic(synthesis, row),
                p_value(row.get("pval")),
                estimate,
                ci,
                str(row.get("note") or ""),
            )
            assessed = not str(row.get("note") or "").startswith("not assessed")
            rows.append(TableRow(cells, "" if assessed else "muted"))
    if not rows:
        return None
    return Table.build(
        "table-publication-bias",
        "Publication bias: tests of funnel-plot asymmetry and trim-and-fill",
        ["Outcome", "Check", "k", "Statistic", "p", "Estimate", f"{100 * level:g}% CI", "Note"],
        rows,
        [False, False, True, True, True, True, True, False],
        "Estimate: Egger's limit estimate (as the standard error goes to 0) and the "
        "trim-and-fill estimate with the filled comparisons; k0: comparisons filled.",
    )


def robustness_section(
    outcomes: Mapping[str, OutcomeSynthesis], level: float = 0.95
) -> RobustnessSection:
    """The sensitivity and publication-bias tables of all outcomes."""
    loo, texts = _loo_table(outcomes, level)
    return RobustnessSection(
        _sensitivity_table(outcomes, level), loo, texts, _bias_table(outcomes, level)
    )
