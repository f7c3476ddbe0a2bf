"""The sentences of the results: a pooled effect and a test for subgroup differences in the
style of a journal's results section, written from rows of the pooled-effects and
subgroup-test tables (the column names of
:meth:`metasift.synthesis.SynthesisResults.pooled_effects` and ``subgroup_tests``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from metasift.plots._common import RATIO_MEASURES
from metasift.report._format import (
    ci_text,
    count,
    is_number,
    number,
    p_text,
    participants,
    percent,
)
from metasift.stats.interpret import label_effect_size, label_heterogeneity

__all__ = ["effect_sentence", "effect_stats", "subgroup_sentence"]

Row = Mapping[str, Any]

#: Significance level of the sentences (two-sided tests).
ALPHA = 0.05


def _scaled(row: Row, measure: str) -> tuple[Any, Any, Any]:
    values = (row.get("estimate"), row.get("ci_lb"), row.get("ci_ub"))
    if measure.upper() in RATIO_MEASURES:
        # Ratio measures are pooled on the log scale and read as ratios.
        return tuple(math.exp(float(v)) if is_number(v) else v for v in values)  # type: ignore[return-value]
    return values


def effect_stats(row: Row, measure: str, level: float = 0.95, with_n: bool = True) -> str:
    """``SMD=0.20, 95% CI=0.11–0.29, p<0.001; I²=47%, p=0.02, N=4,104`` of a pooled row.

    Examples
    --------
    >>> row = {"estimate": 0.1543, "ci_lb": 0.0413, "ci_ub": 0.2673, "pval": 0.0101,
    ...        "i2": 0.4254, "qe_pval": 0.0264, "n": 2921, "k": 19}
    >>> effect_stats(row, "SMD")
    'SMD=0.15, 95% CI=0.04–0.27, p=0.01; I²=43%, p=0.03, N=2,921'
    """
    est, lb, ub = _scaled(row, measure)
    text = (
        f"{measure.upper()}={number(est)}, {100 * level:g}% CI={ci_text(lb, ub)}, "
        f"{p_text(row.get('pval'))}"
    )
    if is_number(row.get("qe_pval")) and int(row.get("k") or 0) > 1:
        text += f"; I²={percent(row.get('i2'))}, {p_text(row.get('qe_pval'))}"
    if with_n and is_number(row.get("n")) and float(row["n"]) > 0:
        shown = participants(row)  # "≥2,744" when some comparisons lack group sizes
        text += f", N{shown}" if shown.startswith("≥") else f", N={shown}"
    return text


def _pooled(row: Row) -> bool:
    return str(row.get("status", "pooled")) == "pooled" and is_number(row.get("estimate"))


def _size(row: Row, measure: str) -> str:
    if measure.upper() not in ("SMD", "SMDH"):
        return ""
    return label_effect_size(float(row["estimate"])).category + " "


def effect_sentence(
    row: Row, outcome: str, measure: str, *, direction: str = "higher", level: float = 0.95
) -> str:
    """The results sentence of one pooled effect.

    Parameters
    ----------
    row : mapping
        A row of the pooled-effects table: ``estimate, ci_lb, ci_ub, pval, i2, qe_pval,
        n, k, k_studies, status, note``.
    outcome : str
        The outcome as the text names it ("personal recovery").
    measure : str
        Effect measure code (``"SMD"``, ``"OR"``, ...); ratio measures are shown as ratios.
    direction : {"higher", "lower"}
        Which scores are better on the outcome, so that "positive" means beneficial.
    level : float
        Confidence level of the interval.

    Notes
    -----
    Significance at two-sided alpha = 0.05; the magnitude of a standardised mean
    difference is Cohen's (1988) label (:func:`metasift.stats.interpret.label_effect_size`:
    small from 0.2, medium from 0.5, large from 0.8); heterogeneity is substantial when
    I² > 50% and the Q test's p < 0.1 (:func:`~metasift.stats.interpret.label_heterogeneity`,
    the reference review's rule).

    Examples
    --------
    >>> row = {"estimate": 0.1543, "ci_lb": 0.0413, "ci_ub": 0.2673, "pval": 0.0101,
    ...        "i2": 0.4254, "qe_pval": 0.0264, "n": 2921, "k": 19, "k_studies": 18,
    ...        "status": "pooled"}
    >>> print(effect_sentence(row, "personal recovery", "SMD"))
    Across 19 comparisons from 18 studies, the intervention had a negligible positive effect
    on personal recovery (SMD=0.15, 95% CI=0.04–0.27, p=0.01; I²=43%, p=0.03, N=2,921);
    heterogeneity was not substantial.
    """
    k, studies = int(row.get("k") or 0), int(row.get("k_studies") or row.get("k") or 0)
    if not _pooled(row):
        why = str(row.get("note") or "").strip() or "too few comparisons to pool"
        return f"No pooled effect on {outcome} ({why}; k={k})."
    where = f"Across {k} comparison{'s' if k != 1 else ''} from {studies} stud" + (
        "ies" if studies != 1 else "y"
    )
    numbers = effect_stats(row, measure, level)
    if is_number(row.get("pval")) and float(row["pval"]) < ALPHA:
        good = (float(row["estimate"]) > 0) == (direction == "higher")
        sign = "positive" if good else "negative"
        text = f"{where}, the intervention had a {_size(row, measure)}{sign} effect on {outcome}"
    else:
        text = f"{where}, there was no significant effect on {outcome}"
    text += f" ({numbers})"
    if k > 1 and is_number(row.get("i2")) and is_number(row.get("qe_pval")):
        het = label_heterogeneity(float(row["i2"]), float(row["qe_pval"]))
        text += "; heterogeneity was " + ("substantial" if het.substantial else "not substantial")
    text += "."
    if is_number(row.get("pi_lb")) and is_number(row.get("pi_ub")):
        lb, ub = _scaled({"estimate": 0, "ci_lb": row["pi_lb"], "ci_ub": row["pi_ub"]}, measure)[1:]
        text += f" The {100 * level:g}% prediction interval was {ci_text(lb, ub)}."
    return text


def _category_text(row: Row, measure: str, level: float) -> str:
    name = str(row.get("category"))
    k = int(row.get("k") or 0)
    if k == 0:
        return f"no comparison for {name}"
    if not _pooled(row):
        return f"not pooled for {name} (k={k})"
    est, lb, ub = _scaled(row, measure)
    return (
        f"{measure.upper()}={number(est)} ({100 * level:g}% CI={ci_text(lb, ub)}; k={k}) for {name}"
    )


def subgroup_sentence(
    facet: str,
    test: Row | None,
    categories: Sequence[Row],
    measure: str,
    level: float = 0.95,
) -> str:
    """The sentence of one subgroup analysis: each category's effect and the test.

    Parameters
    ----------
    facet : str
        The facet as the text names it ("comparator").
    test : mapping or None
        Its row of the subgroup-tests table (``analysis, qm, qm_df, qm_pval, k_groups``).
    categories : sequence of mappings
        Its rows of the pooled-effects table, one per category.

    Examples
    --------
    >>> rows = [{"category": "CAU", "estimate": 0.25, "ci_lb": 0.10, "ci_ub": 0.40, "k": 8,
    ...          "status": "pooled"},
    ...         {"category": "Other", "estimate": float("nan"), "k": 1,
    ...          "status": "not applicable"}]
    >>> test = {"analysis": "post hoc", "qm": 1.52, "qm_df": 1, "qm_pval": 0.2176}
    >>> print(subgroup_sentence("comparator", test, rows, "SMD"))
    By comparator (post hoc): SMD=0.25 (95% CI=0.10–0.40; k=8) for CAU and not pooled for
    Other (k=1); the subgroups did not differ significantly (Q=1.52, df=1, p=0.22).
    """
    kind = f" ({test['analysis']})" if test is not None and test.get("analysis") else ""
    parts = [_category_text(row, measure, level) for row in categories]
    joined = parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + f" and {parts[-1]}"
    text = f"By {facet}{kind}: {joined}"
    if test is None or not is_number(test.get("qm_pval")):
        return text + "; the subgroups could not be compared (fewer than two pooled)."
    stats = f"Q={number(test.get('qm'))}, df={count(test.get('qm_df'))}, {p_text(test['qm_pval'])}"
    differ = (
        "differed significantly"
        if float(test["qm_pval"]) < ALPHA
        else ("did not differ significantly")
    )
    return f"{text}; the subgroups {differ} ({stats})."
