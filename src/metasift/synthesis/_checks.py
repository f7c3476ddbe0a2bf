"""Sensitivity analyses (named sets of excluded studies, leave-one-out) and checks for
publication bias of one outcome's main analysis, through :mod:`metasift.stats`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.review.analysis_plan import AnalysisOptions
from metasift.stats import (
    BeggResult,
    EggerResult,
    MetaResult,
    SensitivityResult,
    TrimFillResult,
    begg_test,
    egger_test,
    leave_one_out,
    trim_and_fill,
)
from metasift.synthesis._cells import fit, fit_options
from metasift.synthesis._data import excluded_rows

__all__ = ["BIAS_COLUMNS", "SENSITIVITY_COLUMNS", "Bias", "Sensitivity", "bias", "sensitivity"]

SENSITIVITY_COLUMNS = [
    "outcome",
    "stratum",
    "analysis",
    "k",
    "estimate",
    "ci_lb",
    "ci_ub",
    "pval",
    "tau2",
    "i2",
    "excluded",
    "status",
    "note",
]
BIAS_COLUMNS = [
    "outcome",
    "stratum",
    "k",
    "test",
    "statistic",
    "pval",
    "estimate",
    "ci_lb",
    "ci_ub",
    "note",
]
LEAVE_ONE_OUT = "leave-one-out"


@dataclass(frozen=True)
class Sensitivity:
    """The sensitivity analyses of one outcome: rows, fits by set name, leave-one-out."""

    rows: list[dict[str, Any]]
    fits: dict[str, MetaResult] = field(default_factory=dict)
    leave_one_out: SensitivityResult | None = None


@dataclass(frozen=True)
class Bias:
    """The publication-bias checks of one outcome: rows and the stats results."""

    rows: list[dict[str, Any]]
    egger: EggerResult | None = None
    begg: BeggResult | None = None
    trim_and_fill: TrimFillResult | None = None


def _row(ids: dict[str, Any], analysis: str, k: int, excluded: str) -> dict[str, Any]:
    row = ids | {"analysis": analysis, "k": k, "excluded": excluded}
    row |= dict.fromkeys(("estimate", "ci_lb", "ci_ub", "pval", "tau2", "i2"), math.nan)
    return row | {"status": "not applicable", "note": ""}


def _pooled(row: dict[str, Any], res: MetaResult, options: AnalysisOptions) -> dict[str, Any]:
    row |= {n: getattr(res, n) for n in ("estimate", "ci_lb", "ci_ub", "pval", "tau2")}
    row["i2"] = res.i2_q if options.i2 == "q" else res.i2
    return row | {"status": "pooled", "note": "; ".join(res.notes)}


def _named_sets(
    ids: dict[str, Any],
    data: pd.DataFrame,
    options: AnalysisOptions,
    facets: list[str],
    characteristics: pd.DataFrame,
) -> tuple[list[dict[str, Any]], dict[str, MetaResult]]:
    rows, fits = [], {}
    for name, spec in options.sensitivity.sets.items():
        out = excluded_rows(data, spec.exclude, facets, characteristics)
        keep = data[~out]
        left = "; ".join(dict.fromkeys(data.loc[out, "slab"])) or "none"
        row = _row(ids, name, len(keep), left)
        if len(keep) >= options.min_studies:
            fits[name] = fit(keep, options)
            row = _pooled(row, fits[name], options)
        else:
            row["note"] = f"{len(keep)} comparison(s) left: fewer than min_studies"
        if spec.description:
            row["note"] = "; ".join(filter(None, [spec.description, row["note"]]))
        rows.append(row)
    return rows, fits


def _leave_one_out(
    ids: dict[str, Any], data: pd.DataFrame, options: AnalysisOptions
) -> tuple[list[dict[str, Any]], SensitivityResult | None]:
    k = len(data)
    if k < 2 or k - 1 < options.min_studies:
        row = _row(ids, LEAVE_ONE_OUT, max(k - 1, 0), "")
        row["note"] = f"k = {k}: each fit would have fewer than min_studies comparisons"
        return [row], None
    res = leave_one_out(
        data["yi"].to_numpy(dtype=float),
        data["vi"].to_numpy(dtype=float),
        slab=list(data["slab"]),
        **fit_options(options),
    )
    i2 = res.i2_q if options.i2 == "q" else res.i2
    rows = []
    for i, slab in enumerate(res.slab):
        row = _row(ids, f"{LEAVE_ONE_OUT}: {slab}", int(res.k[i]), slab)
        for name in ("estimate", "ci_lb", "ci_ub", "pval", "tau2"):
            row[name] = float(getattr(res, name)[i])
        row |= {"i2": float(i2[i]), "status": "pooled"}
        rows.append(row)
    return rows, res


def sensitivity(
    ids: dict[str, Any],
    data: pd.DataFrame,
    options: AnalysisOptions,
    facets: list[str],
    characteristics: pd.DataFrame,
) -> Sensitivity:
    """The named sensitivity sets, then leave-one-out when the plan asks for it."""
    rows, fits = _named_sets(ids, data, options, facets, characteristics)
    loo = None
    if options.sensitivity.leave_one_out:
        more, loo = _leave_one_out(ids, data, options)
        rows += more
    return Sensitivity(rows, fits, loo)


def _bias_row(ids: dict[str, Any], k: int, test: str, note: str) -> dict[str, Any]:
    row = ids | {"k": k, "test": test, "note": note}
    return row | dict.fromkeys(("statistic", "pval", "estimate", "ci_lb", "ci_ub"), math.nan)


def _run_test(test: str, data: pd.DataFrame, options: AnalysisOptions) -> Any:
    args = (data["yi"].to_numpy(dtype=float), data["vi"].to_numpy(dtype=float))
    slab = list(data["slab"])
    if test == "egger":
        return egger_test(*args, slab=slab, **fit_options(options))
    if test == "begg":
        return begg_test(*args, slab=slab)
    return trim_and_fill(*args, slab=slab, **fit_options(options))


def _fill(row: dict[str, Any], test: str, res: Any) -> dict[str, Any]:
    if test == "egger":
        row |= {"statistic": res.statistic, "pval": res.pval, "estimate": res.limit_estimate}
        row |= {"ci_lb": res.ci_lb, "ci_ub": res.ci_ub}
        what = f"regression test, predictor {res.predictor}, model {res.model}"
    elif test == "begg":
        row |= {"statistic": res.tau, "pval": res.pval}
        what = f"Kendall's tau, {'exact' if res.exact else 'normal approximation'} p"
    else:
        row |= {"statistic": float(res.k0), "pval": res.pval, "estimate": res.estimate}
        row |= {"ci_lb": res.ci_lb, "ci_ub": res.ci_ub}
        what = (
            f"statistic = k0: {res.k0} comparison(s) filled on the {res.side} "
            f"({res.estimator}); estimate, CI and p of the filled analysis"
        )
    row["note"] = "; ".join([what, *res.notes])
    return row


def bias(ids: dict[str, Any], data: pd.DataFrame, options: AnalysisOptions) -> Bias:
    """Egger's and Begg's tests and trim and fill when the analysis has at least
    ``publication_bias.min_studies`` comparisons; rows saying "not assessed" otherwise."""
    plan, k = options.publication_bias, len(data)
    if k < plan.min_studies:
        note = f"not assessed: k < {plan.min_studies}"
        return Bias([_bias_row(ids, k, test, note) for test in plan.tests])
    rows, found = [], {}
    for test in plan.tests:
        try:
            found[test] = _run_test(test, data, options)
        except InputError as error:  # e.g. every comparison with the same variance
            rows.append(_bias_row(ids, k, test, f"not assessed: {error}"))
            continue
        rows.append(_fill(_bias_row(ids, k, test, ""), test, found[test]))
    return Bias(rows, found.get("egger"), found.get("begg"), found.get("trim_and_fill"))
