"""The cells of the pooled-effects table: all studies and each category of each subgroup
facet, with the tests for subgroup differences. Every number comes from
:func:`metasift.stats.meta_analysis` and :func:`metasift.stats.subgroup_analysis`."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.review.analysis_plan import AnalysisOptions
from metasift.stats import MetaResult, SubgroupResult, interpret, meta_analysis, subgroup_analysis
from metasift.synthesis._data import participants

__all__ = [
    "ALL_STUDIES",
    "POOLED_COLUMNS",
    "TEST_COLUMNS",
    "category_levels",
    "cell_row",
    "facet_cells",
    "fit",
]

#: The category label of the analysis of all studies.
ALL_STUDIES = "All studies"
POOLED_COLUMNS = [
    "outcome",
    "group",
    "stratum",
    "facet",
    "category",
    "analysis",
    "k",
    "k_studies",
    "n",
    "n_unknown",
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "pval",
    "tau2",
    "i2",
    "qe",
    "qe_df",
    "qe_pval",
    "pi_lb",
    "pi_ub",
    "interpretation",
    "heterogeneity",
    "status",
    "note",
]
TEST_COLUMNS = [
    "outcome",
    "stratum",
    "facet",
    "analysis",
    "qm",
    "qm_df",
    "qm_pval",
    "tau2_model",
    "k_groups",
    "note",
]
_NUMBERS = ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "qe", "qe_df", "qe_pval")


def fit_options(options: AnalysisOptions) -> dict[str, Any]:
    """The keyword arguments of every fit: method, test, level."""
    return {"method": options.method, "test": options.test, "level": options.level}


def fit(frame: pd.DataFrame, options: AnalysisOptions) -> MetaResult:
    """:func:`metasift.stats.meta_analysis` of the rows of ``frame``."""
    return meta_analysis(
        frame["yi"].to_numpy(dtype=float),
        frame["vi"].to_numpy(dtype=float),
        slab=list(frame["slab"]),
        measure=options.measure,
        **fit_options(options),
    )


def _labels(res: MetaResult, options: AnalysisOptions) -> tuple[str, str]:
    """Cohen's label of the effect (SMD only) and whether heterogeneity is substantial."""
    words = interpret(res, alpha=1.0 - options.level, i2=options.i2)
    # Cohen's thresholds are for standardised mean differences only
    smd = options.measure == "SMD" and words.effect is not None
    effect = words.effect.category if smd else ""  # type: ignore[union-attr]
    het = words.heterogeneity
    if het.substantial:
        return effect, "substantial"
    finite = math.isfinite(res.qe_pval) and math.isfinite(res.i2_q)
    return effect, "not substantial" if finite else "not estimable"


def _too_few(k: int, options: AnalysisOptions) -> str:
    if k == 0:
        return "no comparisons"
    return f"{k} comparison{'s' if k > 1 else ''}: fewer than min_studies = {options.min_studies}"


def cell_row(
    ids: dict[str, Any], frame: pd.DataFrame, res: MetaResult | None, options: AnalysisOptions
) -> dict[str, Any]:
    """One row of the pooled-effects table; "not applicable" when ``res`` is None."""
    n, unknown = participants(frame)
    row: dict[str, Any] = ids | {"k": len(frame), "k_studies": frame["study"].nunique()}
    row |= {"n": n, "n_unknown": unknown}
    row |= dict.fromkeys((*_NUMBERS, "i2", "pi_lb", "pi_ub"), math.nan)
    if res is None:
        words = {"interpretation": "", "heterogeneity": "", "status": "not applicable"}
        return row | words | {"note": _too_few(len(frame), options)}
    row |= {name: getattr(res, name) for name in _NUMBERS}
    row["i2"] = res.i2_q if options.i2 == "q" else res.i2
    if options.prediction_interval:
        row["pi_lb"], row["pi_ub"] = res.pi_lb, res.pi_ub
    effect, het = _labels(res, options)
    words = {"interpretation": effect, "heterogeneity": het, "status": "pooled"}
    return row | words | {"note": "; ".join(res.notes)}


def category_levels(values: pd.Series, declared: list[str]) -> list[str]:
    """The categories of a facet in the protocol's order, then any other code found."""
    found = set(values.dropna().astype(str))
    return [*declared, *sorted(found - set(declared))]


def _subgroups(
    coded: pd.DataFrame, facet: str, levels: list[str], kind: str, options: AnalysisOptions
) -> tuple[SubgroupResult | None, str]:
    used = [level for level in levels if (coded[facet] == level).any()]
    if not used:
        return None, "no comparison has a category of this facet"
    try:
        res = subgroup_analysis(
            coded["yi"].to_numpy(dtype=float),
            coded["vi"].to_numpy(dtype=float),
            pd.Categorical(coded[facet].astype(str), categories=used),
            slab=list(coded["slab"]),
            tau2=options.subgroup_tau2,
            prespecified=kind == "pre-specified",
            **fit_options(options),
        )
    except InputError as error:  # too few comparisons for the common-tau^2 model
        return None, f"subgroup analysis not possible: {error}"
    return res, ""


def _test_row(
    ids: dict[str, Any], res: SubgroupResult | None, why: str, options: AnalysisOptions
) -> dict[str, Any]:
    row = ids | {"tau2_model": options.subgroup_tau2, "k_groups": 0, "note": why}
    row |= {"qm": math.nan, "qm_df": math.nan, "qm_pval": math.nan}
    if res is None:
        return row
    notes = list(res.notes)
    if options.subgroup_tau2 == "common":
        stat = (res.qm, res.qm_df, res.qm_pval)
        if options.test != "z":
            notes.append(f"F test on {res.qm_df:g} and {res.qm_ddf:g} df")
    else:
        stat = (res.q_between, res.q_between_df, res.q_between_pval)
    row |= dict(zip(("qm", "qm_df", "qm_pval"), stat, strict=True))
    return row | {"k_groups": len(res.subgroups), "note": "; ".join(notes)}


def facet_cells(
    ids: dict[str, Any],
    data: pd.DataFrame,
    facet: str,
    declared: list[str],
    kind: str,
    options: AnalysisOptions,
) -> tuple[list[dict[str, Any]], dict[str, Any], SubgroupResult | None]:
    """Rows of each category of ``facet``, the row of its test for subgroup differences
    and the :class:`SubgroupResult` (None when no comparison is coded)."""
    coded = data[data[facet].notna()].reset_index(drop=True)
    levels = category_levels(coded[facet], declared)
    res, why = _subgroups(coded, facet, levels, kind, options)
    rows = []
    for level in levels:
        part = coded[coded[facet].astype(str) == level]
        found = res.subgroups.get(level) if res is not None else None
        pooled: MetaResult | None = None
        if len(part) >= options.min_studies:
            # a one-study category (min_studies = 1), or the common-tau^2 model failed
            pooled = found if isinstance(found, MetaResult) else fit(part, options)
        cell = ids | {"facet": facet, "category": level, "analysis": kind}
        rows.append(cell_row(cell, part, pooled, options))
    test = _test_row(_test_ids(ids, facet, kind), res, why, options)
    uncoded = int(data[facet].isna().sum())
    if uncoded:
        extra = f"{uncoded} comparison(s) without a {facet} category are left out"
        test["note"] = "; ".join(filter(None, [test["note"], extra]))
    return rows, test, res


def _test_ids(ids: dict[str, Any], facet: str, kind: str) -> dict[str, Any]:
    keep = {"outcome": ids["outcome"], "stratum": ids["stratum"]}
    return keep | {"facet": facet, "analysis": kind}
