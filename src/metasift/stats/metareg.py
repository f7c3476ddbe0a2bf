"""Mixed-effects meta-regression: :func:`meta_regression` and :class:`MetaRegressionResult`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from metasift.errors import ConvergenceWarning, InputError
from metasift.stats._format import METHOD_NAMES, fmt, four_decimals, html, one_row, pfmt, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._metareg_design import Design, build, new_frame
from metasift.stats._metareg_kernels import (
    WLS,
    Tau2Estimate,
    estimate_tau2,
    fit_at,
    loglik,
    tau2_se,
    wls,
)
from metasift.stats._validate import check_level, effect_source, study_arrays
from metasift.stats.batch import check_options

__all__ = ["MetaRegressionResult", "meta_regression"]

_EQUAL = ("EE", "FE")


@dataclass(frozen=True)
class MetaRegressionResult:
    """Result of a (mixed-effects) meta-regression, at full precision.

    Attributes
    ----------
    terms : tuple of str
        Names of the model's coefficients, metafor's: ``intrcpt``, numeric moderators by
        their column name, dummy variables as column name + level (``allocrandom``).
    beta, se, pval, ci_lb, ci_ub : ndarray of shape (p,)
        Coefficients, standard errors (knha/adhoc: scaled by the HKSJ factor), two-sided
        p-values and confidence intervals at ``level``.
    zval, tval : ndarray of shape (p,)
        Wald z statistics (test="z"), or t statistics on ``df`` degrees of freedom
        (test="knha"/"adhoc"); the other one is NaN.
    vb : ndarray of shape (p, p)
        Variance-covariance matrix of the coefficients (also as :attr:`vcov`).
    df : float
        k - p under knha/adhoc, NaN under test="z".
    tau2, tau2_se, tau : float
        Residual between-study variance, its standard error (metafor's formula for the
        estimator, also when tau^2 is fixed) and its square root; 0 and NaN for EE/FE.
    i2, h2 : float
        Residual I^2 (a fraction) and H^2, ``tau2 / (vt + tau2)`` and ``(vt + tau2) / vt``
        with ``vt = (k - p) / tr(P)``; for EE/FE models from QE.
    r2 : float
        Pseudo-R^2, a fraction: ``max(0, (tau2_RE - tau2) / tau2_RE)`` with ``tau2_RE``
        from the model without moderators and the same estimator (Raudenbush 1994); for
        EE/FE models the adjusted R^2 of the weighted least-squares fit. NaN when the model
        has no intercept or no moderator (as metafor, which reports none).
    vt : float
        Typical within-study variance.
    qe, qe_df, qe_pval : float
        Test for residual heterogeneity (weights 1/vi), on k - p df.
    qm, qm_df, qm_ddf, qm_pval : float
        Omnibus test of the coefficients in :attr:`btt` (all but the intercept): chi^2 on
        ``qm_df`` df, or under knha/adhoc F on (``qm_df``, ``qm_ddf`` = k - p) df.
    btt : tuple of str
        The coefficients the omnibus test covers.
    k, p : int
        Number of studies and of coefficients.
    loglik_ml, loglik_reml : float
        Log-likelihood and restricted log-likelihood at the fitted tau^2 (metafor's).
    weights : ndarray
        Weights ``1 / (vi + tau2)`` as fractions summing to 1.
    yi, vi, x : ndarray
        Effect sizes, sampling variances and the design matrix (k, p).
    slab : tuple of str
        Study labels.
    method, test, level : str, str, float
        Settings of the fit.
    intercept : bool
        Whether the model has an intercept.
    converged : bool
        False when an iterative estimator did not reach ``tol`` (with a ConvergenceWarning).
    n_iter : int
        Iterations of the tau^2 estimator (0 for closed forms and a fixed tau^2).
    notes : tuple of str
        Why a field is NaN, and other facts a reader must know.
    """

    terms: tuple[str, ...]
    beta: FloatArray = field(repr=False)
    se: FloatArray = field(repr=False)
    zval: FloatArray = field(repr=False)
    tval: FloatArray = field(repr=False)
    pval: FloatArray = field(repr=False)
    ci_lb: FloatArray = field(repr=False)
    ci_ub: FloatArray = field(repr=False)
    vb: FloatArray = field(repr=False)
    df: float
    tau2: float
    tau2_se: float
    tau: float
    i2: float
    h2: float
    r2: float
    vt: float
    qe: float
    qe_df: float
    qe_pval: float
    qm: float
    qm_df: float
    qm_ddf: float
    qm_pval: float
    btt: tuple[str, ...]
    k: int
    p: int
    loglik_ml: float
    loglik_reml: float
    weights: FloatArray = field(repr=False)
    yi: FloatArray = field(repr=False)
    vi: FloatArray = field(repr=False)
    x: FloatArray = field(repr=False)
    slab: tuple[str, ...] = field(repr=False)
    method: str
    test: str
    level: float
    intercept: bool
    converged: bool
    n_iter: int
    notes: tuple[str, ...] = ()
    design: Design | None = field(default=None, repr=False, compare=False)

    _SCALARS = (
        "tau2", "tau2_se", "tau", "i2", "h2", "r2", "vt", "qe", "qe_df", "qe_pval", "qm",
        "qm_df", "qm_ddf", "qm_pval", "k", "p", "df", "loglik_ml", "loglik_reml", "method",
        "test", "level", "converged", "n_iter",
    )  # fmt: skip

    @property
    def random_effects(self) -> bool:
        """True unless the model is the equal-effects model."""
        return self.method not in _EQUAL

    @property
    def coefficients(self) -> pd.DataFrame:
        """One row per term: estimate, se, zval (or tval), pval, ci_lb, ci_ub."""
        stat = ("zval", self.zval) if self.test == "z" else ("tval", self.tval)
        cols = {"estimate": self.beta, "se": self.se, stat[0]: stat[1], "pval": self.pval}
        cols.update(ci_lb=self.ci_lb, ci_ub=self.ci_ub)
        return pd.DataFrame(cols, index=pd.Index(self.terms, name="term"))

    @property
    def vcov(self) -> pd.DataFrame:
        """Variance-covariance matrix of the coefficients, labelled by term."""
        return pd.DataFrame(self.vb.copy(), index=list(self.terms), columns=list(self.terms))

    def to_frame(self) -> pd.DataFrame:
        """The coefficients with stable columns: term, estimate, se, zval, tval, df, pval, ..."""
        return pd.DataFrame(
            {
                "term": list(self.terms),
                "estimate": self.beta,
                "se": self.se,
                "zval": self.zval,
                "tval": self.tval,
                "df": self.df,
                "pval": self.pval,
                "ci_lb": self.ci_lb,
                "ci_ub": self.ci_ub,
            }
        )

    def model_frame(self) -> pd.DataFrame:
        """The model's scalar fields (tau2, i2, r2, qe, qm, ...) as a one-row DataFrame."""
        return one_row(self, self._SCALARS)

    def predict(self, newmods: Any = None, *, level: float | None = None) -> pd.DataFrame:
        """Predicted effects with confidence and prediction intervals (metafor's predict.rma).

        ``newmods``: new moderator values in the form the model was fitted with (a
        DataFrame with the same columns, categorical ones with known levels; or an array
        with one column per moderator, without the intercept). None gives the fitted
        values of the studies. The prediction interval is ``pred +- crit sqrt(se^2 +
        tau2)`` with the critical value of the CI (t on k - p df under knha); NaN for
        equal-effects models.
        """
        return _predict(self, newmods, self.level if level is None else level)

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.rma``."""
        return _summary_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(_header(self), self.coefficients, index=True)


def _predict(res: MetaRegressionResult, newmods: Any, level: float) -> pd.DataFrame:
    check_level(level)
    index: pd.Index
    if newmods is None:
        x, index = res.x, pd.Index(res.slab, name="slab")
    else:
        if res.design is None:
            raise InputError("this result carries no design to code newmods with")
        frame = new_frame(res.design, newmods)
        labels = [f"newmods row {i}" for i in range(len(frame))]
        x, index = res.design.matrix(frame, labels), pd.RangeIndex(len(frame))
    pred = x @ res.beta
    se = np.sqrt(np.einsum("np,pq,nq->n", x, res.vb, x))
    crit = _crit(res.test, res.df, level)
    pi_se = np.sqrt(se**2 + res.tau2)
    nan = np.full_like(pred, np.nan)
    random = res.random_effects
    return pd.DataFrame(
        {
            "pred": pred,
            "se": se,
            "ci_lb": pred - crit * se,
            "ci_ub": pred + crit * se,
            "pi_lb": pred - crit * pi_se if random else nan,
            "pi_ub": pred + crit * pi_se if random else nan,
        },
        index=index,
    )


def _crit(test: str, df: float, level: float) -> float:
    if test == "z":
        return float(special.ndtri(0.5 + level / 2.0))
    return float(special.stdtrit(df, 0.5 + level / 2.0)) if df > 0 else float("nan")


def _header(res: MetaRegressionResult) -> str:
    model = "Mixed-effects" if res.random_effects else "Equal-effects"
    return f"{model} meta-regression (k = {res.k}; tau^2 estimator: {METHOD_NAMES[res.method]})"


def _summary_text(res: MetaRegressionResult) -> str:
    lines = [_header(res), ""]
    if res.random_effects:
        lines.append(
            f"tau^2 (residual heterogeneity) = {fmt(res.tau2)} (SE = {fmt(res.tau2_se)})"
            f"   tau = {fmt(res.tau)}"
        )
    lines.append(f"I^2 (residual) = {fmt(100 * res.i2, 2)}%   H^2 = {fmt(res.h2)}")
    if np.isfinite(res.r2):
        lines.append(f"R^2 (heterogeneity accounted for) = {fmt(100 * res.r2, 2)}%")
    lines.append(
        f"Test for residual heterogeneity: QE(df = {fmt(res.qe_df, 0)}) = {fmt(res.qe)}, "
        f"p = {pfmt(res.qe_pval)}"
    )
    tested = ", ".join(res.btt)
    if res.test == "z":
        qm = f"QM(df = {fmt(res.qm_df, 0)}) = {fmt(res.qm)}"
    else:
        qm = f"F(df1 = {fmt(res.qm_df, 0)}, df2 = {fmt(res.qm_ddf, 0)}) = {fmt(res.qm)}"
    lines += [f"Test of moderators ({tested}): {qm}, p = {pfmt(res.qm_pval)}", ""]
    lines.append(f"Model results (test: {res.test}, {100 * res.level:g}% intervals):")
    lines.append(res.coefficients.to_string(float_format=four_decimals))
    return with_notes(lines, res.notes)


def _check_size(k: int, p: int, method: str, fixed: bool) -> None:
    if method in _EQUAL or fixed:
        if p > k:
            raise InputError(
                f"the model has {p} coefficients but only {k} studies: at most k "
                f"coefficients can be estimated"
            )
    elif p + 1 > k:
        raise InputError(
            f"the model has {p} coefficients and tau^2 to estimate but only {k} studies: "
            f"a random-effects meta-regression needs k >= p + 1 (or a fixed tau2)"
        )


def _tau2(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str, fixed: float | None, opts: Any
) -> tuple[Tau2Estimate, list[str]]:
    notes: list[str] = []
    if fixed is not None:
        return Tau2Estimate(float(fixed)), ["tau^2 fixed by the user, not estimated"]
    est, to_zero, higher = estimate_tau2(y, v, x, method, *opts)
    if to_zero:
        notes.append(
            f"the {method} likelihood is higher at tau^2 = 0 than at the root of its score "
            f"equation, so tau^2 was set to 0 (metafor's ll0check)"
        )
    if higher is not None:
        notes.append(
            f"the {method} likelihood is not concave in tau^2: it has a higher maximum at "
            f"tau^2 = {higher:.6g}; the estimate is the maximum metafor's Fisher scoring "
            f"from the HE estimate reaches"
        )
    if not est.converged:
        warnings.warn(
            f"{method} estimator did not converge after {est.n_iter} iterations; "
            f"tau^2 = {est.tau2!r} is not reliable",
            ConvergenceWarning,
            stacklevel=4,
        )
        notes.append(f"the {method} estimator did not converge: tau^2 is not reliable")
    elif method not in _EQUAL and est.tau2 == 0.0:
        notes.append("tau^2 estimate is on the boundary 0")
    return est, notes


def _coef_tests(fit: WLS, k: int, test: str, level: float) -> dict[str, Any]:
    """Coefficients, their variances (HKSJ-scaled under knha/adhoc), tests and intervals."""
    p = fit.x.shape[1]
    vb = fit.vcov()
    df = float(k - p) if test != "z" else float("nan")
    if test != "z":
        # metafor sets the factor to 0 when the residuals vanish (all yi on the plane)
        s2w = 0.0 if fit.rss <= np.finfo(float).eps else fit.rss / (k - p)
        s2w = s2w if k > p else float("nan")
        vb = vb * (max(1.0, s2w) if test == "adhoc" else s2w)
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = fit.beta / se
    crit = _crit(test, df, level)
    nan = np.full(p, np.nan)
    if test == "z":
        pval = 2.0 * special.ndtr(-np.abs(stat))
    else:
        pval = 2.0 * special.stdtr(df, -np.abs(stat)) if df > 0 else nan
    return {
        "beta": fit.beta,
        "se": se,
        "zval": stat if test == "z" else nan,
        "tval": nan if test == "z" else stat,
        "pval": pval,
        "ci_lb": fit.beta - crit * se,
        "ci_ub": fit.beta + crit * se,
        "vb": vb,
        "df": df,
    }


def _omnibus(c: dict[str, Any], btt: list[int], k: int, p: int, test: str) -> dict[str, Any]:
    """Wald test of the coefficients ``btt``: chi^2, or F = QM/m under knha/adhoc."""
    b = c["beta"][btt]
    try:
        qm = float(b @ np.linalg.solve(c["vb"][np.ix_(btt, btt)], b))
    except (np.linalg.LinAlgError, ValueError):
        qm = float("nan")
    m = float(len(btt))
    if test == "z":
        pval_chi2 = float(special.chdtrc(m, qm))
        return {"qm": qm, "qm_df": m, "qm_ddf": float("nan"), "qm_pval": pval_chi2}
    ddf = float(k - p)
    pval = float(special.fdtrc(m, ddf, qm / m)) if ddf > 0 else float("nan")
    return {"qm": qm / m, "qm_df": m, "qm_ddf": ddf, "qm_pval": pval}


def _heterogeneity(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str, tau2: float
) -> dict[str, Any]:
    """QE on k - p df (weights 1/vi), vt, I^2 and H^2 as metafor computes them."""
    k, p = x.shape
    if k <= p:
        return {"qe": 0.0, "qe_df": 0.0, "qe_pval": 1.0, "vt": 0.0, "i2": 0.0, "h2": 1.0}
    fit0 = fit_at(y, v, x, 0.0)
    qe, df = max(0.0, fit0.rss), float(k - p)
    vt = df / fit0.tr_p
    if method in _EQUAL:
        i2 = max(0.0, (qe - df) / qe) if qe > 0 else 0.0
        h2 = qe / df
    else:
        i2, h2 = tau2 / (vt + tau2), tau2 / vt + 1.0
    return {
        "qe": qe,
        "qe_df": df,
        "qe_pval": float(special.chdtrc(df, qe)),
        "vt": vt,
        "i2": i2,
        "h2": h2,
    }


def _pseudo_r2(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    method: str,
    tau2: float,
    het: dict[str, float],
    opts: Any,
) -> tuple[float, str | None]:
    """metafor's pseudo-R^2 (its r2def 1), as a fraction truncated at 0."""
    k, p = x.shape
    if method in _EQUAL:
        if k <= p:
            return float("nan"), "R^2 not computed: no residual df (k = p)"
        if np.var(y) == 0.0:
            return 0.0, None
        qe0 = fit_at(y, v, np.ones((k, 1)), 0.0).rss
        return max(0.0, 1.0 - het["qe"] / qe0 * (k - 1) / (k - p)), None
    reduced = estimate_tau2(y, v, np.ones((k, 1)), method, *opts)[0]
    if not reduced.converged:
        return float("nan"), "R^2 not computed: the model without moderators did not converge"
    if reduced.tau2 == 0.0:
        return 0.0, None
    return max(0.0, (reduced.tau2 - tau2) / reduced.tau2), None


def meta_regression(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    mods: Any = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    intercept: bool = True,
    slab: Sequence[Any] | ArrayLike | None = None,
    tau2: float | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> MetaRegressionResult:
    """Mixed-effects (or equal-effects) meta-regression with inverse-variance weights.

    Parameters
    ----------
    yi : array_like of shape (k,), or an EffectSizes
        Effect sizes (an object with ``yi``, ``vi`` and ``slab`` supplies all three).
    vi, sei : array_like of shape (k,)
        Sampling variances, or standard errors; exactly one of them.
    mods : DataFrame, Series, mapping or array_like, optional
        Moderators, one row per study. DataFrame columns that are categorical (object,
        string, category or bool) are dummy-coded with the first level as reference;
        a 1-D array is one moderator named ``mods``, a 2-D array gives ``X1, X2, ...``.
        None fits the intercept-only model.
    method : str
        tau^2 estimator, metafor's code: "REML" (default), "ML", "EB", "PM", "PMM", "DL",
        "DLIT", "HE", "HS", "HSk", "SJ", "SJIT", or "EE"/"FE" for equal effects.
    test : {"z", "knha", "adhoc"}
        Wald z tests and chi^2 omnibus test, or Knapp-Hartung t tests on k - p df with an
        F omnibus test ("adhoc": the scale factor is never below 1).
    level : float
        Confidence level.
    intercept : bool
        Add an intercept (default). Without one, the first categorical moderator is coded
        with one column per level (the cell-means model).
    slab : sequence of str, optional
        Study labels, used in messages and in ``predict()``.
    tau2 : float, optional
        Fix the residual tau^2 instead of estimating it.
    tol, maxiter : float, int
        Iterative estimators stop when tau^2 changes by at most ``tol * max(1, tau2)``.

    Returns
    -------
    MetaRegressionResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies (naming the study), a moderator value that is missing or not
        numeric (naming the column and the study), more coefficients than the studies can
        estimate, or an unknown method or test.

    Warns
    -----
    metasift.errors.ConvergenceWarning
        When an iterative estimator does not converge (``converged=False``).
    metasift.errors.DataWarning
        When moderators that are linear combinations of earlier ones are dropped.

    Notes
    -----
    The model is :math:`y_i = x_i'\\beta + u_i + e_i` with :math:`u_i \\sim N(0, \\tau^2)`
    and :math:`e_i \\sim N(0, v_i)`. With :math:`W = diag(1/(v_i + \\hat\\tau^2))`,
    :math:`\\hat\\beta = (X'WX)^{-1} X'Wy` and :math:`Var(\\hat\\beta) = (X'WX)^{-1}`
    (times :math:`y'Py/(k-p)` under Knapp-Hartung), with
    :math:`P = W - WX(X'WX)^{-1}X'W`. The tau^2 estimators are those of metafor's
    ``rma.uni`` written with X (Viechtbauer 2010, J Stat Softw 36(3); Raudenbush 2009):
    DL ``(y'P_0y - (k-p)) / tr(P_0)``, HE from ordinary least squares, ML/REML/EB/PM as
    roots of their score equations, solved by a safeguarded Newton iteration.
    QM is the Wald statistic :math:`\\hat\\beta_b' V_b^{-1} \\hat\\beta_b` of the
    coefficients other than the intercept. docs/validation.md lists the checks.

    Examples
    --------
    Log risk ratios of the BCG vaccine trials against absolute latitude (dat.bcg):

    >>> yi = [-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469,
    ...       -1.371, -0.339, 0.446, -0.017]
    >>> vi = [0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073,
    ...       0.012, 0.533, 0.071]
    >>> ablat = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
    >>> res = meta_regression(yi, vi, {"ablat": ablat})
    >>> res.terms
    ('intrcpt', 'ablat')
    >>> round(float(res.coefficients.loc["ablat", "estimate"]), 4), round(res.r2, 2)
    (-0.0291, 0.76)
    """
    yi, vi, slab, _ = effect_source(yi, vi, sei, slab)
    check_options(method, test, level)
    y, v, labels = study_arrays(yi, vi, sei, slab)
    x, design = build(mods, y.size, labels, intercept=intercept)
    if tau2 is not None and not (np.isfinite(tau2) and tau2 >= 0):
        raise InputError(f"tau2={tau2!r}: a fixed tau^2 must be a finite number >= 0")
    if tau2 is not None and method in _EQUAL and tau2 != 0:
        raise InputError(f"tau2={tau2!r} cannot be fixed in an equal-effects ({method}) model")
    _check_size(y.size, x.shape[1], method, tau2 is not None)
    return _fit(y, v, x, labels, design, method, test, level, tau2, (tol, maxiter))


def _fit(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    labels: tuple[str, ...],
    design: Design,
    method: str,
    test: str,
    level: float,
    fixed: float | None,
    opts: tuple[float, int],
) -> MetaRegressionResult:
    k, p = x.shape
    est, notes = _tau2(y, v, x, method, fixed, opts)
    tau2 = est.tau2
    fit = fit_at(y, v, x, tau2)
    coef = _coef_tests(fit, k, test, level)
    btt = list(range(1, p)) if design.int_incl and p > 1 else list(range(p))
    het = _heterogeneity(y, v, x, method, tau2)
    r2, r2_note = float("nan"), None
    if design.int_incl and p > 1:
        r2, r2_note = _pseudo_r2(y, v, x, method, tau2, het, opts)
    else:
        notes.append("R^2 not computed: it needs a model with an intercept and a moderator")
    notes += [r2_note] if r2_note else []
    if k <= p:
        notes.append("saturated model (k = p): no test for residual heterogeneity")
    elif test != "z" and fit.rss <= np.finfo(float).eps:
        notes.append(
            "the residuals are all 0, so the Knapp-Hartung scale factor and the standard "
            "errors are 0 (as metafor)"
        )
    log_det_xx = wls(y, x, np.ones(k)).log_det_xwx()
    return MetaRegressionResult(
        terms=design.names,
        **coef,
        tau2=tau2,
        tau2_se=tau2_se(y, v, x, method, tau2) if k > p else float("nan"),
        tau=float(np.sqrt(tau2)),
        r2=r2,
        **het,
        **_omnibus(coef, btt, k, p, test),
        btt=tuple(design.names[j] for j in btt),
        k=k,
        p=p,
        loglik_ml=loglik(v, fit, tau2, reml=False),
        loglik_reml=loglik(v, fit, tau2, reml=True, log_det_xx=log_det_xx),
        weights=fit.w / np.sum(fit.w),
        yi=y,
        vi=v,
        x=x,
        slab=labels,
        method=method,
        test=test,
        level=level,
        intercept=design.int_incl,
        converged=est.converged,
        n_iter=est.n_iter,
        notes=tuple(notes),
        design=design,
    )
