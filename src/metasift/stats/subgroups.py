"""Subgroup analysis: :func:`subgroup_analysis` and its result, :class:`SubgroupResult`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from metasift.errors import InputError
from metasift.stats._format import fmt, html, pfmt, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._metareg_design import factor_levels
from metasift.stats._validate import check_known, effect_source, study_arrays
from metasift.stats.batch import check_options
from metasift.stats.metareg import MetaRegressionResult, meta_regression
from metasift.stats.pooling import MetaResult, meta_analysis

__all__ = ["NotPooled", "SubgroupResult", "subgroup_analysis"]

NOT_POOLED = "not pooled: one study"
TAU2_MODES = ("separate", "common")


@dataclass(frozen=True)
class NotPooled:
    """A subgroup with a single study: reported, not pooled (as the reference review does).

    Attributes
    ----------
    k : int
        Always 1.
    yi, vi, sei : float
        The study's effect size, sampling variance and standard error.
    slab : str
        The study's label.
    note : str
        ``"not pooled: one study"``.
    """

    yi: float
    vi: float
    slab: str
    k: int = 1
    note: str = NOT_POOLED

    @property
    def sei(self) -> float:
        return float(np.sqrt(self.vi))


@dataclass(frozen=True)
class SubgroupResult:
    """Result of a subgroup analysis, at full precision.

    Attributes
    ----------
    subgroups : dict
        Level -> :class:`MetaResult` of the subgroup's studies (with tau2="common", fitted
        with tau^2 fixed at the common estimate), or :class:`NotPooled` for a level with
        one study. Levels in the order of a pandas Categorical, else sorted.
    overall : MetaResult
        Meta-analysis of all studies.
    q_between, q_between_df, q_between_pval : float
        Test for subgroup differences: Cochran's Q of the subgroup estimates with weights
        1/se^2 on (number of subgroups - 1) df, as RevMan and R meta compute it.
    tau2 : {"separate", "common"}
        Whether each subgroup has its own tau^2 or all share one.
    common, common_mods : MetaRegressionResult or None
        With tau2="common": the cell-means model (one coefficient per level: the
        per-level estimates) and the model with intercept and dummy variables (whose
        omnibus test is the test of subgroup differences), as metafor fits them.
    qm, qm_df, qm_ddf, qm_pval : float
        With tau2="common": that omnibus test (F under knha); NaN otherwise.
    prespecified : bool
        False for a post hoc analysis, which every table and summary says.
    name : str
        Name of the grouping variable.
    method, test, level : str, str, float
        Settings of the fits.
    notes : tuple of str
        Facts a reader must know (single-study subgroups, why a field is NaN).
    """

    subgroups: dict[Any, MetaResult | NotPooled]
    overall: MetaResult
    q_between: float
    q_between_df: float
    q_between_pval: float
    tau2: str
    common: MetaRegressionResult | None = field(repr=False)
    common_mods: MetaRegressionResult | None = field(repr=False)
    qm: float
    qm_df: float
    qm_ddf: float
    qm_pval: float
    prespecified: bool
    name: str
    method: str
    test: str
    level: float
    notes: tuple[str, ...] = ()

    @property
    def analysis(self) -> str:
        """``"pre-specified"`` or ``"post hoc"``, as every label shows it."""
        return "pre-specified" if self.prespecified else "post hoc"

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup, the overall row and the test row(s).

        Columns: analysis (pre-specified / post hoc), row (subgroup, overall, test),
        subgroup, k, estimate, se, ci_lb, ci_ub, pval, tau2, i2, qe, qe_df, qe_pval,
        statistic, df, test_pval, note. With tau2="common" a second test row holds the
        omnibus test of the mixed-effects model.
        """
        rows = [_row("subgroup", str(lv), r) for lv, r in self.subgroups.items()]
        rows.append(_row("overall", "overall", self.overall))
        rows.append(
            _test_row(
                "test for subgroup differences (Q between)",
                self.q_between,
                self.q_between_df,
                self.q_between_pval,
            )
        )
        if self.tau2 == "common":
            label = "test of moderators (common tau^2, " + ("chi2)" if self.test == "z" else "F)")
            rows.append(_test_row(label, self.qm, self.qm_df, self.qm_pval))
        frame = pd.DataFrame(rows)
        frame.insert(0, "analysis", self.analysis)
        return frame

    def summary(self) -> str:
        """A printed summary: one line per subgroup, the overall result and the tests."""
        return _summary_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(_title(self), self.to_frame())


_EMPTY_ROW: dict[str, Any] = {
    "k": np.nan, "estimate": np.nan, "se": np.nan, "ci_lb": np.nan, "ci_ub": np.nan,
    "pval": np.nan, "tau2": np.nan, "i2": np.nan, "qe": np.nan, "qe_df": np.nan,
    "qe_pval": np.nan, "statistic": np.nan, "df": np.nan, "test_pval": np.nan, "note": "",
}  # fmt: skip


def _row(kind: str, label: str, res: MetaResult | NotPooled) -> dict[str, Any]:
    row = {"row": kind, "subgroup": label, **_EMPTY_ROW}
    if isinstance(res, NotPooled):
        row.update(k=1, note=res.note)
        return row
    for name in ("k", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "i2", "qe", "qe_df",
                 "qe_pval"):  # fmt: skip
        row[name] = getattr(res, name)
    row["note"] = "; ".join(res.notes)
    return row


def _test_row(label: str, stat: float, df: float, pval: float) -> dict[str, Any]:
    row = {"row": "test", "subgroup": label, **_EMPTY_ROW}
    row.update(statistic=stat, df=df, test_pval=pval)
    return row


def _title(res: SubgroupResult) -> str:
    return (
        f"Subgroup analysis ({res.analysis}) by {res.name}: {len(res.subgroups)} subgroups, "
        f"{res.tau2} tau^2, method {res.method}, test {res.test}"
    )


def _summary_text(res: SubgroupResult) -> str:
    lines = [_title(res), ""]
    for level, r in res.subgroups.items():
        if isinstance(r, NotPooled):
            lines.append(f"{level}: k = 1, {r.note} (yi = {fmt(r.yi)}, SE = {fmt(r.sei)})")
            continue
        lines.append(
            f"{level}: k = {r.k}, estimate = {fmt(r.estimate)} [{fmt(r.ci_lb)}, "
            f"{fmt(r.ci_ub)}], p = {pfmt(r.pval)}, tau^2 = {fmt(r.tau2)}, "
            f"I^2 = {fmt(100 * r.i2, 1)}%"
        )
    o = res.overall
    lines.append(
        f"overall: k = {o.k}, estimate = {fmt(o.estimate)} [{fmt(o.ci_lb)}, {fmt(o.ci_ub)}]"
    )
    lines.append(
        f"Test for subgroup differences ({res.analysis}): Q = {fmt(res.q_between)}, "
        f"df = {fmt(res.q_between_df, 0)}, p = {pfmt(res.q_between_pval)}"
    )
    if res.tau2 == "common":
        lines.append(
            f"Mixed-effects model with common tau^2 = {fmt(res.common_mods.tau2)}: "  # type: ignore[union-attr]
            f"QM = {fmt(res.qm)}, df = {fmt(res.qm_df, 0)}, p = {pfmt(res.qm_pval)}"
        )
    return with_notes(lines, res.notes)


def _group_labels(groups: Any, k: int, labels: Sequence[str]) -> tuple[pd.Series, str]:
    if isinstance(groups, pd.Series):
        name = "group" if groups.name is None else str(groups.name)
        series = groups.reset_index(drop=True)
    elif isinstance(groups, pd.Categorical):  # keep the order of its categories
        name, series = "group", pd.Series(groups)
    else:
        arr = np.asarray(groups, dtype=object)
        if arr.ndim != 1:
            raise InputError(f"groups must be one-dimensional; got shape {arr.shape}")
        name, series = "group", pd.Series(arr, dtype=object)
    if len(series) != k:
        raise InputError(f"groups has {len(series)} values for {k} studies")
    return series, name


def _q_between(
    fits: dict[Any, MetaResult | NotPooled], tau2_common: float | None
) -> tuple[float, float, float, list[str]]:
    """Cochran's Q of the subgroup estimates with weights 1/se^2 (Borenstein et al. ch. 19)."""
    est, se, notes = [], [], []
    for level, r in fits.items():
        if isinstance(r, NotPooled):
            extra = 0.0 if tau2_common is None else tau2_common
            est.append(r.yi)
            se.append(float(np.sqrt(r.vi + extra)))
            notes.append(
                f"subgroup {level!r} has one study: its own yi and SE enter the test for "
                f"subgroup differences"
            )
        else:
            est.append(r.estimate)
            se.append(r.se)
    if len(est) < 2:
        return np.nan, np.nan, np.nan, ["one subgroup only: no test for subgroup differences"]
    q = meta_analysis(np.asarray(est), sei=np.asarray(se), method="EE")
    return q.qe, q.qe_df, q.qe_pval, notes


def subgroup_analysis(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    groups: Any = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    tau2: str = "separate",
    level: float = 0.95,
    prespecified: bool = True,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> SubgroupResult:
    """Meta-analysis per subgroup and the test for subgroup differences.

    Parameters
    ----------
    yi, vi, sei, slab :
        As in :func:`metasift.meta_analysis` (an EffectSizes object may be passed as yi).
    groups : array_like or Series of shape (k,)
        The subgroup of each study; a pandas Categorical fixes the order of the levels.
    method, test, level :
        tau^2 estimator, test and confidence level of every fit.
    tau2 : {"separate", "common"}
        "separate" (RevMan, R meta's default): each subgroup has its own tau^2.
        "common": one tau^2 across subgroups, from the mixed-effects model with the
        grouping variable as moderator (metafor).
    prespecified : bool
        Whether the protocol named this analysis; False labels it "post hoc" everywhere.
    tol, maxiter :
        Convergence of iterative estimators.

    Returns
    -------
    SubgroupResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies, a missing group, or an unknown option.

    Notes
    -----
    The test for subgroup differences is :math:`Q_b = \\sum_g w_g (\\hat\\mu_g -
    \\bar\\mu)^2` with :math:`w_g = 1/SE_g^2` and :math:`\\bar\\mu = \\sum w_g \\hat\\mu_g /
    \\sum w_g`, referred to chi^2 on G - 1 df (Borenstein et al. 2009, ch. 19; Cochrane
    Handbook 10.11.3.1). A subgroup with one study is not pooled; its own yi and SE enter
    Q_b. With a common tau^2 the test is also given as metafor's omnibus test QM of the
    dummy variables (F under knha); under test="z" the two coincide.

    Examples
    --------
    Borenstein et al. (2009), Table 19.1: two subgroups of five studies, fixed effect:

    >>> g = [0.110, 0.224, 0.338, 0.451, 0.480, 0.440, 0.492, 0.651, 0.710, 0.740]
    >>> v = [0.010, 0.030, 0.020, 0.015, 0.010, 0.015, 0.020, 0.015, 0.025, 0.012]
    >>> res = subgroup_analysis(g, v, ["A"] * 5 + ["B"] * 5, method="EE")
    >>> round(res.subgroups["A"].estimate, 4), round(res.subgroups["B"].estimate, 4)
    (0.3241, 0.6111)
    >>> round(res.q_between, 4), res.q_between_df
    (13.4626, 1.0)
    """
    yi, vi, slab, _ = effect_source(yi, vi, sei, slab)
    check_options(method, test, level)
    check_known("tau2", tau2, TAU2_MODES)
    if groups is None:
        raise InputError("groups is required: the subgroup of each study")
    y, v, labels = study_arrays(yi, vi, sei, slab)
    series, name = _group_labels(groups, y.size, labels)
    levels = factor_levels("groups", series, labels, what="argument")
    opts: dict[str, Any] = {
        "method": method,
        "test": test,
        "level": level,
        "tol": tol,
        "maxiter": maxiter,
    }
    common = common_mods = None
    tau2_common: float | None = None
    if tau2 == "common":
        common, common_mods = _common_fits(y, v, series, name, labels, len(levels), opts)
        tau2_common = common_mods.tau2
    fits = _subgroup_fits(y, v, series, levels, labels, tau2_common, opts)
    q, q_df, q_p, notes = _q_between(fits, tau2_common)
    overall = meta_analysis(y, v, slab=labels, **opts)
    nan = float("nan")
    qm = (
        (common_mods.qm, common_mods.qm_df, common_mods.qm_ddf, common_mods.qm_pval)
        if common_mods is not None and len(levels) > 1
        else (nan, nan, nan, nan)
    )
    return SubgroupResult(
        subgroups=fits,
        overall=overall,
        q_between=q,
        q_between_df=q_df,
        q_between_pval=q_p,
        tau2=tau2,
        common=common,
        common_mods=common_mods,
        qm=qm[0],
        qm_df=qm[1],
        qm_ddf=qm[2],
        qm_pval=qm[3],
        prespecified=bool(prespecified),
        name=name,
        method=method,
        test=test,
        level=level,
        notes=tuple(notes),
    )


def _subgroup_fits(
    y: FloatArray,
    v: FloatArray,
    series: pd.Series,
    levels: tuple[Any, ...],
    labels: tuple[str, ...],
    tau2_common: float | None,
    opts: dict[str, Any],
) -> dict[Any, MetaResult | NotPooled]:
    fits: dict[Any, MetaResult | NotPooled] = {}
    for lv in levels:
        idx = np.flatnonzero((series == lv).to_numpy())
        if idx.size == 1:
            i = int(idx[0])
            fits[lv] = NotPooled(yi=float(y[i]), vi=float(v[i]), slab=labels[i])
            continue
        sub_labels = [labels[i] for i in idx]
        fits[lv] = meta_analysis(y[idx], v[idx], slab=sub_labels, tau2=tau2_common, **opts)
    return fits


def _common_fits(
    y: FloatArray,
    v: FloatArray,
    series: pd.Series,
    name: str,
    labels: tuple[str, ...],
    n_levels: int,
    opts: dict[str, Any],
) -> tuple[MetaRegressionResult, MetaRegressionResult]:
    """The cell-means model and the model with intercept, sharing one tau^2."""
    frame = pd.DataFrame({name: series.to_numpy(dtype=object)})
    if isinstance(series.dtype, pd.CategoricalDtype):
        frame[name] = series.to_numpy()
        frame[name] = frame[name].astype(series.dtype)
    cells = meta_regression(y, v, frame, slab=labels, intercept=False, **opts)
    mods = meta_regression(y, v, frame if n_levels > 1 else None, slab=labels, **opts)
    return cells, mods
