"""Small-study effects and publication bias: Egger's and Begg's tests, PET-PEESE, trim and
fill, fail-safe N.

Every method here warns with :class:`metasift.errors.FewStudiesWarning` when it is used with
fewer than 10 studies, the minimum the Cochrane Handbook (13.3.5.2) gives for tests of funnel
plot asymmetry; the result carries the same note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from metasift.stats._bias_common import (
    LIMIT_PREDICTORS,
    check_alpha,
    need_studies,
    predictor_values,
    regression,
    warn_few_studies,
)
from metasift.stats._bias_failsafe import FailSafeNResult, fail_safe_n
from metasift.stats._bias_trimfill import TrimFillResult, trim_and_fill
from metasift.stats._format import fmt, html, one_row, with_notes
from metasift.stats._validate import check_known, effect_arrays, model_options
from metasift.stats.batch import check_options
from metasift.stats.metareg import MetaRegressionResult

__all__ = [
    "BeggResult",
    "EggerResult",
    "FailSafeNResult",
    "PetPeeseResult",
    "TrimFillResult",
    "begg_test",
    "egger_test",
    "fail_safe_n",
    "pet_peese",
    "trim_and_fill",
]


@dataclass(frozen=True)
class EggerResult:
    """Regression test for funnel plot asymmetry (metafor's ``regtest``).

    Attributes
    ----------
    statistic, pval : float
        Test of the slope on the predictor (z, or t on ``df`` degrees of freedom).
    df : float
        ``k - 2`` for t tests (model "lm", or test "knha"/"adhoc"); NaN for z tests.
    slope, slope_se : float
        Coefficient of the predictor and its standard error.
    intercept, intercept_se, intercept_pval : float
        The intercept, its standard error and the p-value of its test (for the predictor
        "sei" and model "lm", this is the precision-effect test, PET).
    limit_estimate, ci_lb, ci_ub : float
        The intercept where it estimates the effect of an infinitely precise study
        (predictors "sei", "vi", "ninv", "sqrtninv", "modified_sei"), with its confidence
        interval at ``level``; NaN for the predictors "ni" and "sqrtni" (as metafor).
    tau2 : float
        Residual tau^2 of the mixed-effects model; NaN for model "lm".
    k : int
        Number of studies.
    predictor, model, method, test : str
        Settings of the test.
    level : float
        Confidence level.
    fit : MetaRegressionResult
        The fitted regression.
    notes : tuple of str
        Facts a reader must know (few studies, no limit estimate).
    """

    statistic: float
    pval: float
    df: float
    slope: float
    slope_se: float
    intercept: float
    intercept_se: float
    intercept_pval: float
    ci_lb: float
    ci_ub: float
    limit_estimate: float
    tau2: float
    k: int
    predictor: str
    model: str
    method: str
    test: str
    level: float
    fit: MetaRegressionResult = field(repr=False)
    notes: tuple[str, ...] = ()

    _SCALARS = (
        "statistic", "pval", "df", "slope", "slope_se", "intercept", "intercept_se",
        "intercept_pval", "ci_lb", "ci_ub", "limit_estimate", "tau2", "k", "predictor", "model",
        "method", "test", "level",
    )  # fmt: skip

    def to_frame(self) -> Any:
        """The scalar fields as a one-row pandas DataFrame."""
        return one_row(self, self._SCALARS)

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.regtest``."""
        kind = (
            "weighted regression with multiplicative dispersion"
            if self.model == "lm"
            else f"meta-regression ({self.method})"
        )
        stat = f"z = {fmt(self.statistic)}"
        if np.isfinite(self.df):
            stat = f"t = {fmt(self.statistic)}, df = {self.df:g}"
        lines = [
            "Regression test for funnel plot asymmetry",
            f"model: {kind}; predictor: {self.predictor}; k = {self.k}",
            f"test for funnel plot asymmetry: {stat}, p = {fmt(self.pval)}",
        ]
        if np.isfinite(self.limit_estimate):
            lines.append(
                f"limit estimate: {fmt(self.limit_estimate)} "
                f"(CI: {fmt(self.ci_lb)} to {fmt(self.ci_ub)})"
            )
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html("Regression test for funnel plot asymmetry", self.to_frame())


def _egger(
    y: np.ndarray,
    v: np.ndarray,
    labels: tuple[str, ...],
    *,
    predictor: str,
    model: str,
    method: str,
    test: str,
    level: float,
    sizes: tuple[ArrayLike | None, ArrayLike | None, ArrayLike | None] = (None, None, None),
    tau2: float | None = None,
    notes: tuple[str, ...] = (),
) -> EggerResult:
    """The regression test on validated studies, without the few-studies warning."""
    x = predictor_values(predictor, v, labels, *sizes)
    fit = regression(y, v, labels, x, predictor, model=model, method=method, test=test,
                     level=level, tau2=tau2)  # fmt: skip
    t_based = fit.test != "z"
    stat = fit.tval if t_based else fit.zval
    is_limit = predictor in LIMIT_PREDICTORS
    if not is_limit:
        notes += (f"with predictor {predictor!r} the intercept is not a limit estimate",)
    return EggerResult(
        statistic=float(stat[1]),
        pval=float(fit.pval[1]),
        df=float(fit.df) if t_based else float("nan"),
        slope=float(fit.beta[1]),
        slope_se=float(fit.se[1]),
        intercept=float(fit.beta[0]),
        intercept_se=float(fit.se[0]),
        intercept_pval=float(fit.pval[0]),
        ci_lb=float(fit.ci_lb[0]) if is_limit else float("nan"),
        ci_ub=float(fit.ci_ub[0]) if is_limit else float("nan"),
        limit_estimate=float(fit.beta[0]) if is_limit else float("nan"),
        tau2=float("nan") if model == "lm" else float(fit.tau2),
        k=y.size,
        predictor=predictor,
        model=model,
        method="FE" if model == "lm" else method,
        test=fit.test,
        level=level,
        fit=fit,
        notes=notes,
    )


def egger_test(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
    predictor: str = "sei",
    model: str = "rma",
    ni: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    tau2: float | None = None,
) -> EggerResult:
    """Egger's regression test for funnel plot asymmetry (metafor's ``regtest``).

    Parameters
    ----------
    yi : array_like of shape (k,), or an EffectSizes
        Effect sizes (an object with ``yi``, ``vi`` and ``slab`` supplies all three).
    vi, sei : array_like of shape (k,)
        Sampling variances, or standard errors; exactly one of them.
    slab : sequence of str, optional
        Study labels.
    method, test, level
        tau^2 estimator, test and confidence level of the meta-regression (model "rma");
        as in :func:`metasift.meta_analysis`. Default: those of ``yi`` when it is a
        fitted :class:`MetaResult` (as metafor's ``regtest`` of an ``rma`` fit inherits
        them), else "REML", "z" and 0.95.
    predictor : str
        metafor's predictors: "sei" (standard error, the default), "vi" (sampling variance),
        "ni" (sample size), "ninv" (1/ni), "sqrtni", "sqrtninv" (1/sqrt(ni)); and
        "modified_sei", ``sqrt(1/n1i + 1/n2i)``, the precision of a standardised mean
        difference without its dependence on the effect (Pustejovsky and Rodgers 2019).
    model : {"rma", "lm"}
        "rma" (default): mixed-effects meta-regression with the predictor as moderator.
        "lm": the classical test, weighted least squares with weights 1/vi and a
        multiplicative dispersion term (t test on k - 2 df).
    ni, n1i, n2i : array_like of shape (k,), optional
        Total and group sample sizes, for the sample-size predictors (``ni`` defaults to
        ``n1i + n2i``).
    tau2 : float, optional
        Fix the residual tau^2 of model "rma" (as metafor's regtest of a fit with ``tau2``
        fixed).

    Returns
    -------
    EggerResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, fewer than 3 studies, missing or non-positive sample
        sizes, or a predictor equal for every study.

    Warns
    -----
    metasift.errors.FewStudiesWarning
        With fewer than 10 studies.

    Notes
    -----
    The model is :math:`y_i = \\beta_0 + \\beta_1 x_i + u_i + e_i` with :math:`x_i` the
    predictor, :math:`e_i \\sim N(0, v_i)` and :math:`u_i \\sim N(0, \\tau^2)` (model
    "rma"); the test of :math:`\\beta_1 = 0` is the test for asymmetry (Sterne and Egger
    2005). Model "lm" drops :math:`u_i` and multiplies the variances by an estimated
    factor. With :math:`x_i = \\sqrt{v_i}` this is Egger et al.'s (1997, BMJ 315:629-634)
    regression of :math:`y_i/\\sqrt{v_i}` on :math:`1/\\sqrt{v_i}`, whose intercept is
    :math:`\\beta_1` here. For predictors that vanish for an infinitely precise study the
    intercept :math:`\\beta_0` is the limit estimate (with "sei" and model "lm", the PET of
    Stanley and Doucouliagos 2014). Fitted with :func:`metasift.stats.metareg.meta_regression`.

    Examples
    --------
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> res = egger_test(yi, vi, model="lm")
    >>> round(res.statistic, 3), res.df, round(res.pval, 4)
    (5.82, 9.0, 0.0003)
    >>> round(res.limit_estimate, 3), round(res.ci_lb, 3), round(res.ci_ub, 3)
    (-0.114, -0.28, 0.052)
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    method, test, level = model_options(yi, vi, sei, method, test, level)
    check_options(method, test, level)
    need_studies(y.size, 3, "egger_test")
    note = warn_few_studies(y.size, "egger_test")
    return _egger(y, v, labels, predictor=predictor, model=model, method=method, test=test,
                  level=level, sizes=(ni, n1i, n2i), tau2=tau2,
                  notes=() if note is None else (note,))  # fmt: skip


@dataclass(frozen=True)
class BeggResult:
    """Rank correlation test for funnel plot asymmetry (metafor's ``ranktest``).

    Attributes
    ----------
    tau : float
        Kendall's tau-b between the standardised effects and the sampling variances.
    pval : float
        Two-sided p-value: exact when ``exact`` is True, else the normal approximation
        (with the tie correction of the variance).
    exact : bool
        Whether the exact distribution was used (never with tied values).
    k : int
        Number of studies.
    notes : tuple of str
        Facts a reader must know (few studies, ties).
    """

    tau: float
    pval: float
    exact: bool
    k: int
    notes: tuple[str, ...] = ()

    def to_frame(self) -> Any:
        """The fields as a one-row pandas DataFrame."""
        return one_row(self, ("tau", "pval", "exact", "k"))

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.ranktest``."""
        how = "exact" if self.exact else "normal approximation"
        lines = [
            "Rank correlation test for funnel plot asymmetry",
            f"Kendall's tau = {fmt(self.tau)}, p = {fmt(self.pval)} ({how}; k = {self.k})",
        ]
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html("Rank correlation test", self.to_frame(), rounded=False)


def begg_test(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    exact: bool = True,
) -> BeggResult:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`egger_test`.
    exact : bool
        Use the exact distribution of Kendall's statistic when no values are tied (default,
        as metafor); False always uses the normal approximation.

    Returns
    -------
    BeggResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies, or fewer than 3 studies.

    Warns
    -----
    metasift.errors.FewStudiesWarning
        With fewer than 10 studies.

    Notes
    -----
    With :math:`\\hat\\theta = \\sum w_i y_i / \\sum w_i`, :math:`w_i = 1/v_i` and
    :math:`v_i^* = v_i - 1/\\sum w_i`, the standardised effects
    :math:`y_i^* = (y_i - \\hat\\theta)/\\sqrt{v_i^*}` are correlated with :math:`v_i` by
    Kendall's tau (Begg and Mazumdar 1994, Biometrics 50:1088-1101). As R's
    ``cor.test(method="kendall", exact=TRUE)``, which metafor calls: the exact two-sided
    p-value when there are no ties, otherwise the normal approximation of tau-b with the
    tie-corrected variance and no continuity correction (``scipy.stats.kendalltau``).

    Examples
    --------
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> res = begg_test(yi, vi)
    >>> round(res.tau, 4), round(res.pval, 4), res.exact
    (0.8909, 0.0, True)
    """
    y, v, _ = effect_arrays(yi, vi, sei, slab)
    need_studies(y.size, 3, "begg_test")
    note = warn_few_studies(y.size, "begg_test")
    notes: tuple[str, ...] = () if note is None else (note,)
    w = 1.0 / v
    theta = np.sum(w * y) / np.sum(w)
    y_star = (y - theta) / np.sqrt(v - 1.0 / np.sum(w))
    ties = np.unique(y_star).size < y.size or np.unique(v).size < y.size
    use_exact = exact and not ties
    if exact and ties:
        notes += ("tied values: the p-value is the normal approximation",)
    res = stats.kendalltau(y_star, v, method="exact" if use_exact else "asymptotic")
    return BeggResult(tau=float(res.statistic), pval=float(res.pvalue), exact=use_exact,
                      k=y.size, notes=notes)  # fmt: skip


@dataclass(frozen=True)
class PetPeeseResult:
    """The conditional PET-PEESE estimate (Stanley and Doucouliagos 2014).

    Attributes
    ----------
    selected : {"PET", "PEESE"}
        PEESE when PET's intercept differs from 0 at ``alpha`` (in the direction of
        ``alternative``), else PET.
    estimate, se, pval, ci_lb, ci_ub : float
        The selected intercept, its standard error, p-value and confidence interval.
    pet, peese : EggerResult
        The regressions on the standard error (PET) and on the sampling variance (PEESE).
    alpha : float
        Significance level of PET's test.
    k : int
        Number of studies.
    notes : tuple of str
        Facts a reader must know.
    alternative : {"two-sided", "greater", "less"}
        The alternative hypothesis of PET's test.
    pet_pval : float
        PET's p-value under ``alternative`` (the one the choice used).
    """

    selected: str
    estimate: float
    se: float
    pval: float
    ci_lb: float
    ci_ub: float
    pet: EggerResult = field(repr=False)
    peese: EggerResult = field(repr=False)
    alpha: float
    k: int
    notes: tuple[str, ...] = ()
    alternative: str = "two-sided"
    pet_pval: float = float("nan")

    def to_frame(self) -> Any:
        """Rows PET, PEESE and the selected one: intercept, se, pval, ci_lb, ci_ub."""
        import pandas as pd

        rows = []
        for name, res in (("PET", self.pet), ("PEESE", self.peese)):
            rows.append({"model": name, "estimate": res.intercept, "se": res.intercept_se,
                         "pval": res.intercept_pval, "ci_lb": res.ci_lb, "ci_ub": res.ci_ub,
                         "selected": name == self.selected})  # fmt: skip
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Both regressions and the choice between them."""
        lines = [
            f"PET-PEESE (k = {self.k}; alpha = {self.alpha:g}, {self.alternative}): "
            f"{self.selected} selected",
            f"PET   intercept = {fmt(self.pet.intercept)}, p = {fmt(self.pet.intercept_pval)}",
            f"PEESE intercept = {fmt(self.peese.intercept)}, p = {fmt(self.peese.intercept_pval)}",
            f"estimate = {fmt(self.estimate)} (CI: {fmt(self.ci_lb)} to {fmt(self.ci_ub)})",
        ]
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(f"PET-PEESE: {self.selected} selected", self.to_frame())


def pet_peese(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    model: str = "lm",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> PetPeeseResult:
    """PET-PEESE: the intercept of a precision-effect regression, chosen conditionally.

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`egger_test`.
    alpha : float
        Significance level of the test of PET's intercept.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis of that test: "greater" (or "less") when the effects are
        expected to be positive (negative), so that PEESE is chosen only for a significant
        intercept of that sign.
    model : {"lm", "rma"}
        "lm" (default): weighted least squares with a multiplicative dispersion term, as
        Stanley and Doucouliagos; "rma": mixed-effects meta-regressions with ``method`` and
        ``test``.
    method, test, level
        As in :func:`egger_test`.

    Returns
    -------
    PetPeeseResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, or fewer than 3 studies.

    Warns
    -----
    metasift.errors.FewStudiesWarning
        With fewer than 10 studies.

    Notes
    -----
    PET regresses :math:`y_i` on :math:`\\sqrt{v_i}`, PEESE on :math:`v_i`, both weighted by
    :math:`1/v_i` (Stanley and Doucouliagos 2014, Res Synth Methods 5:60-78). If PET's
    intercept differs significantly from 0 there is a genuine effect, and PEESE's intercept,
    less biased then, is the estimate; otherwise PET's intercept is. metafor documents the
    same rule with ``regtest(model="lm", predictor="sei")`` and ``predictor="vi"``. Stanley
    and Doucouliagos test PET's intercept one-sided in the direction of the expected effect
    (``alternative="greater"`` for positive effects); the one-sided p-value is half the
    two-sided one when the intercept has that sign and one minus that otherwise.

    Examples
    --------
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> res = pet_peese(yi, vi)
    >>> res.selected, round(res.estimate, 3), round(res.pet.intercept_pval, 3)
    ('PET', -0.114, 0.154)
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    check_options(method, test, level)
    check_alpha(alpha)
    need_studies(y.size, 3, "pet_peese")
    note = warn_few_studies(y.size, "pet_peese")
    notes = () if note is None else (note,)
    pet, peese = (
        _egger(y, v, labels, predictor=p, model=model, method=method, test=test, level=level)
        for p in ("sei", "vi")
    )
    check_known("alternative", alternative, ("two-sided", "greater", "less"))
    pet_pval = _one_sided(pet.intercept, pet.intercept_pval, alternative)
    chosen = peese if pet_pval < alpha else pet
    return PetPeeseResult(
        selected="PEESE" if chosen is peese else "PET",
        estimate=chosen.intercept,
        se=chosen.intercept_se,
        pval=chosen.intercept_pval,
        ci_lb=chosen.ci_lb,
        ci_ub=chosen.ci_ub,
        pet=pet,
        peese=peese,
        alpha=alpha,
        k=y.size,
        notes=notes,
        alternative=alternative,
        pet_pval=pet_pval,
    )


def _one_sided(estimate: float, p_two_sided: float, alternative: str) -> float:
    """The p-value of a symmetric (z or t) test under ``alternative``."""
    if alternative == "two-sided":
        return p_two_sided
    in_direction = estimate > 0 if alternative == "greater" else estimate < 0
    return p_two_sided / 2.0 if in_direction else 1.0 - p_two_sided / 2.0
