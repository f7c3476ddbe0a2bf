"""Confidence intervals for the amount of heterogeneity: tau^2, tau, I^2 and H^2.

Three methods, each a pure function of 1-D arrays:

- :func:`q_profile_ci`: the Q-profile interval (Viechtbauer 2007), metafor's default
  ``confint(res)`` for ``rma.uni`` fits;
- :func:`profile_likelihood_ci`: the (restricted) profile-likelihood interval, metafor's
  ``confint(res, type="PL")``;
- :func:`higgins_thompson_ci`: the test-based interval for H and I^2 computed from Q alone
  (Higgins and Thompson 2002), the one R's ``meta`` package prints next to I^2.

The intervals for tau, I^2 and H^2 of the first two are the tau^2 bounds passed through the
monotone maps ``tau = sqrt(tau2)``, ``I2 = tau2 / (vt + tau2)`` and ``H2 = (vt + tau2) / vt``,
with ``vt`` the typical within-study variance, as metafor's ``confint.rma.uni`` does. I^2 is a
fraction here; metafor prints it as a percent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from metasift.errors import ConvergenceWarning, InputError
from metasift.stats._kernels import Columns, FloatArray, fit_at, loglik, typical_variance
from metasift.stats._tau2 import estimate_tau2
from metasift.stats._validate import check_level

if TYPE_CHECKING:
    from metasift.stats.pooling import MetaResult

__all__ = [
    "HigginsThompsonInterval",
    "Tau2Interval",
    "heterogeneity_confint",
    "higgins_thompson_ci",
    "profile_likelihood_ci",
    "q_profile_ci",
]

#: (estimate, ci_lb, ci_ub)
Triple = tuple[float, float, float]

_NAN3: Triple = (math.nan, math.nan, math.nan)
# brentq refuses a relative tolerance below 4 machine epsilons; use the smallest it allows so
# that ``tol`` (absolute, like metafor's uniroot tol) is what stops the search.
_BRENT_RTOL = 4.0 * float(np.finfo(np.float64).eps)
_BRENT_MAXITER = 500
_MAX_DOUBLINGS = 2000


@dataclass(frozen=True)
class Tau2Interval:
    """Estimate and confidence interval of tau^2, tau, I^2 and H^2.

    Attributes
    ----------
    tau2, tau, i2, h2 : tuple of float
        ``(estimate, ci_lb, ci_ub)``. ``i2`` is a fraction (0.47, not 47%).
    method : str
        ``"QP"`` (Q-profile) or ``"PL"`` (profile likelihood).
    level : float
        Confidence level, such as 0.95.
    lb_sign, ub_sign : str
        metafor's marks: ``""`` when the bound was found; ``">"`` when it lies above the
        search limit ``tau2_max`` (the bound shown is that limit); ``"<"`` when it lies below
        zero (both bounds are then 0 and the interval is empty).
    notes : tuple of str
        Why a bound is 0, truncated or missing.
    """

    tau2: Triple
    tau: Triple
    i2: Triple
    h2: Triple
    method: str
    level: float
    lb_sign: str = ""
    ub_sign: str = ""
    notes: tuple[str, ...] = ()

    def to_frame(self) -> Any:
        """Rows ``tau2, tau, i2, h2``; columns ``estimate, ci_lb, ci_ub`` (pandas DataFrame)."""
        return _frame({"tau2": self.tau2, "tau": self.tau, "i2": self.i2, "h2": self.h2})

    def summary(self) -> str:
        """The interval as text, with I^2 in percent."""
        title = f"{self.method} {100 * self.level:g}% confidence intervals"
        rows = {"tau^2": self.tau2, "tau": self.tau, "I^2(%)": _pct(self.i2), "H^2": self.h2}
        return _text(title, rows, (self.lb_sign, self.ub_sign), self.notes)


@dataclass(frozen=True)
class HigginsThompsonInterval:
    """Higgins-Thompson test-based interval for H, H^2 and I^2 from Cochran's Q.

    Attributes
    ----------
    h, h2, i2 : tuple of float
        ``(estimate, ci_lb, ci_ub)``; H and its bounds are truncated below at 1, so I^2 and
        its bounds are fractions in [0, 1).
    qe : float
        Cochran's Q statistic.
    k : int
        Number of studies.
    level : float
        Confidence level.
    notes : tuple of str
        Which standard-error formula was used, or why the interval is missing.
    """

    h: Triple
    h2: Triple
    i2: Triple
    qe: float
    k: int
    level: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> Any:
        """Rows ``h, h2, i2``; columns ``estimate, ci_lb, ci_ub`` (pandas DataFrame)."""
        return _frame({"h": self.h, "h2": self.h2, "i2": self.i2})

    def summary(self) -> str:
        """The interval as text, with I^2 in percent."""
        title = f"Higgins-Thompson {100 * self.level:g}% confidence intervals (Q = {self.qe:.4f})"
        return _text(title, {"H": self.h, "I^2(%)": _pct(self.i2)}, ("", ""), self.notes)


def _frame(rows: dict[str, Triple]) -> Any:
    import pandas as pd

    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_lb", "ci_ub"])
    frame.index.name = "parameter"
    return frame


def _pct(values: Triple) -> Triple:
    return (100.0 * values[0], 100.0 * values[1], 100.0 * values[2])


def _text(
    title: str, rows: dict[str, Triple], signs: tuple[str, str], notes: tuple[str, ...]
) -> str:
    lines = [title]
    for name, (est, lb, ub) in rows.items():
        lines.append(f"{name:<7} {est:.4f} [{signs[0]}{lb:.4f}, {signs[1]}{ub:.4f}]")
    return "\n".join(lines + [f"note: {n}" for n in notes])


# ---------------------------------------------------------------------------------------------
# input checks


def _check_data(yi: ArrayLike, vi: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return float arrays after checking shape, finiteness and positive variances."""
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    for name, arr in (("yi", y), ("vi", v)):
        if arr.ndim != 1:
            raise InputError(f"{name} must be a 1-D array of study values; got shape {arr.shape}")
    if y.shape != v.shape:
        raise InputError(f"yi and vi must have the same length; got {y.size} and {v.size}")
    if y.size == 0:
        raise InputError("yi and vi are empty: at least one study is needed")
    for name, arr in (("yi", y), ("vi", v)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{name}[{i}] = {float(arr[i])!r}: values must be finite numbers")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"vi[{i}] = {float(v[i])!r}: sampling variances must be > 0")
    return y, v


def _check_tau2(name: str, value: float | None, *, positive: bool = False) -> None:
    if value is None:
        return
    ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        allowed = "> 0" if positive else ">= 0"
        raise InputError(f"{name}={value!r} must be a finite number {allowed}")


def _check_input(
    yi: ArrayLike,
    vi: ArrayLike,
    level: float,
    tol: float,
    tau2_hat: float | None,
    tau2_max: float | None,
) -> tuple[FloatArray, FloatArray]:
    """The checks of :func:`q_profile_ci` and :func:`profile_likelihood_ci`; float arrays."""
    y, v = _check_data(yi, vi)
    check_level(level)
    if not (math.isfinite(tol) and tol > 0):
        raise InputError(f"tol={tol!r} must be a positive number, such as 1e-12")
    _check_tau2("tau2_hat", tau2_hat)
    _check_tau2("tau2_max", tau2_max, positive=True)
    return y, v


# ---------------------------------------------------------------------------------------------
# shared pieces


def _columns(y: FloatArray, v: FloatArray) -> Columns:
    return Columns.from_arrays(y[:, None], v[:, None])


def _q_gen(cols: Columns, tau2: float) -> float:
    """Generalised Q statistic ``sum w (y - mu_w)^2`` with ``w = 1 / (v + tau2)``."""
    return float(fit_at(cols, tau2).q[0])


def _loglik(cols: Columns, tau2: float, *, reml: bool) -> float:
    """(Restricted) log-likelihood at ``tau2``, profiled over mu (metafor's logLik)."""
    t = np.array([tau2])
    return float(loglik(cols, t, fit_at(cols, t), reml=reml)[0])


def _estimate(cols: Columns, method: str, tol: float) -> float:
    """tau^2 by ``method``, warning when the estimator stops short of ``tol``."""
    fit = estimate_tau2(cols, method, tol, 1000)
    if not bool(fit.converged[0]):
        warnings.warn(
            f"the {method} estimate of tau^2 did not converge to tol={tol:g}; "
            "pass tau2_hat to use another estimate",
            ConvergenceWarning,
            stacklevel=3,
        )
    return float(fit.tau2[0])


def _root(f: Callable[[float], float], lo: float, hi: float, tol: float) -> float:
    """Brent's root of ``f`` on ``[lo, hi]`` (signs differ at the ends); NaN if it fails."""
    root, info = optimize.brentq(
        f, lo, hi, xtol=tol, rtol=_BRENT_RTOL, maxiter=_BRENT_MAXITER, full_output=True, disp=False
    )
    return float(root) if info.converged else math.nan


def _expand(f: Callable[[float], float], start: float) -> float:
    """Double ``start`` until ``f`` turns positive; NaN if it never does before overflow."""
    hi = start
    for _ in range(_MAX_DOUBLINGS):
        if f(hi) > 0:
            return hi
        hi *= 2.0
        if not math.isfinite(hi):
            break
    return math.nan


def _result(
    method: str, level: float, tau2: Triple, vt: float, signs: tuple[str, str], notes: list[str]
) -> Tau2Interval:
    """Map the tau^2 triple to tau, I^2 and H^2 (metafor's confint.rma.uni transforms)."""

    def mapped(f: Callable[[float], float]) -> Triple:
        return (f(tau2[0]), f(tau2[1]), f(tau2[2]))

    return Tau2Interval(
        tau2=tau2,
        tau=mapped(lambda t: math.sqrt(t) if t >= 0 else math.nan),
        i2=mapped(lambda t: t / (vt + t)),
        h2=mapped(lambda t: 1.0 + t / vt),
        method=method,
        level=level,
        lb_sign=signs[0],
        ub_sign=signs[1],
        notes=tuple(notes),
    )


def _not_estimable(method: str, level: float, k: int) -> Tau2Interval:
    note = f"k = {k}: heterogeneity cannot be estimated from a single study"
    return Tau2Interval(_NAN3, _NAN3, _NAN3, _NAN3, method, level, notes=(note,))


# ---------------------------------------------------------------------------------------------
# Q-profile


def q_profile_ci(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    level: float = 0.95,
    tau2_hat: float | None = None,
    tau2_max: float | None = None,
    tol: float = 1e-12,
) -> Tau2Interval:
    """Q-profile confidence interval for tau^2, tau, I^2 and H^2.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and their sampling variances (> 0).
    level : float
        Confidence level.
    tau2_hat : float, optional
        Point estimate shown with the interval (the bounds do not depend on it). Default: the
        REML estimate, solved to ``tol``.
    tau2_max : float, optional
        Upper end of the search, as metafor's ``control=list(tau2.max=...)``; a bound beyond it
        is reported as ``tau2_max`` with sign ``">"``. metafor's default is
        ``max(100, 10 * tau2_hat)``. Default: no limit (the bracket is found from the data).
    tol : float
        Absolute tolerance on tau^2 of the root search (``scipy.optimize.brentq``).

    Returns
    -------
    Tau2Interval
        NaN with a note when k = 1.

    Notes
    -----
    With ``w_i = 1 / (v_i + tau2)`` and ``mu_w = sum w y / sum w``, the generalised Q statistic
    ``Q(tau2) = sum w_i (y_i - mu_w)^2`` follows a chi-square distribution with k - 1 degrees
    of freedom at the true tau^2 and decreases in tau^2 (Viechtbauer 2007, Stat Med 26:37-52,
    eqs. 12-13). The interval collects the tau^2 whose Q lies between the quantiles:

    - lower bound: ``Q(tau2) = chi2_{k-1}`` quantile ``1 - alpha/2``; it is 0 when ``Q(0)`` is
      already below that quantile;
    - upper bound: ``Q(tau2) = chi2_{k-1}`` quantile ``alpha/2``; when ``Q(0)`` is below it,
      no tau^2 >= 0 fits and both bounds are 0 with sign ``"<"`` (the interval is empty).

    Without ``tau2_max`` the bracket's upper end is ``2 SS / target`` with
    ``SS = sum (y - mean(y))^2``: since ``Q(tau2) < SS / tau2``, Q is below the target there.

    Examples
    --------
    >>> yi = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37]
    >>> vi = [0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.06, 0.07]
    >>> ci = q_profile_ci(yi, vi)
    >>> [round(x, 4) for x in ci.tau2]
    [0.3107, 0.1026, 1.0781]
    >>> round(100 * ci.i2[1], 1)
    79.5
    """
    y, v = _check_input(yi, vi, level, tol, tau2_hat, tau2_max)
    if y.size < 2:
        return _not_estimable("QP", level, y.size)
    cols = _columns(y, v)
    est = _estimate(cols, "REML", tol) if tau2_hat is None else float(tau2_hat)
    vt = float(typical_variance(cols)[0])
    df = y.size - 1.0
    alpha = 1.0 - level
    crit_u = float(special.chdtri(df, alpha / 2.0))  # upper quantile, for the lower bound
    crit_l = float(special.chdtri(df, 1.0 - alpha / 2.0))  # lower quantile, for the upper bound
    q0 = _q_gen(cols, 0.0)
    if q0 < crit_l:
        note = (
            f"the interval is empty: Q(0) = {q0:.6g} is below the chi-square quantile "
            f"{crit_l:.6g}, so no tau^2 >= 0 fits; both bounds are shown as 0"
        )
        return _result("QP", level, (est, 0.0, 0.0), vt, ("<", "<"), [note])
    # Q(tau2) < SS / tau2, so Q is below any target c at 2 SS / c: a sure bracket end.
    ss = float(np.sum((y - y.mean()) ** 2))
    notes: list[str] = []
    ub, ub_sign = _qp_bound(cols, crit_l, 2.0 * ss / crit_l, tau2_max, tol, "upper", notes)
    if q0 < crit_u:
        lb, lb_sign = 0.0, ""
        notes.append(
            f"the lower bound is 0: Q(0) = {q0:.6g} is below the chi-square quantile {crit_u:.6g}"
        )
    else:
        lb, lb_sign = _qp_bound(cols, crit_u, 2.0 * ss / crit_u, tau2_max, tol, "lower", notes)
    if lb_sign == ">":
        ub, ub_sign = lb, ">"
    return _result("QP", level, (est, lb, ub), vt, (lb_sign, ub_sign), notes)


def _qp_bound(
    cols: Columns,
    target: float,
    hi: float,
    tau2_max: float | None,
    tol: float,
    which: str,
    notes: list[str],
) -> tuple[float, str]:
    """Root of ``Q(tau2) = target`` on ``[0, hi]``, or ``tau2_max`` with ``">"`` beyond it."""
    if tau2_max is not None:
        if _q_gen(cols, tau2_max) > target:
            notes.append(f"the {which} bound lies above tau2_max = {tau2_max:.6g}")
            return tau2_max, ">"
        hi = tau2_max
    return _found(_root(lambda t: _q_gen(cols, t) - target, 0.0, hi, tol), which, notes), ""


def _found(bound: float, which: str, notes: list[str]) -> float:
    if math.isnan(bound):
        notes.append(f"the search for the {which} bound did not converge")
        warnings.warn(
            f"the search for the {which} bound of tau^2 did not converge",
            ConvergenceWarning,
            stacklevel=4,
        )
    return bound


# ---------------------------------------------------------------------------------------------
# profile likelihood


def profile_likelihood_ci(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    level: float = 0.95,
    reml: bool = True,
    tau2_hat: float | None = None,
    tau2_max: float | None = None,
    tol: float = 1e-12,
) -> Tau2Interval:
    """Profile-likelihood confidence interval for tau^2, tau, I^2 and H^2.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and their sampling variances (> 0).
    level : float
        Confidence level.
    reml : bool
        Profile the restricted (REML, default) or the full (ML) log-likelihood.
    tau2_hat : float, optional
        The maximiser of that likelihood. Default: the REML (or ML) estimate solved to ``tol``.
        Pass the estimate of the fit the interval belongs to, as metafor does.
    tau2_max : float, optional
        Upper end of the search, as metafor's ``tau2.max``; an upper bound beyond it is
        reported as ``tau2_max`` with sign ``">"``. Default: no limit (the bracket is doubled
        until the likelihood has dropped enough).
    tol : float
        Absolute tolerance on tau^2 of the root search.

    Returns
    -------
    Tau2Interval
        NaN with a note when k = 1.

    Notes
    -----
    With ``ll(tau2)`` the log-likelihood (ML) or restricted log-likelihood (REML) of the
    random-effects model with mu replaced by its weighted estimate at ``tau2`` (metafor's
    ``logLik``; Viechtbauer 2005, J Educ Behav Stat 30:261-293), the interval is
    ``{tau2 >= 0 : 2 (ll(tau2_hat) - ll(tau2)) <= chi2_{1, level}}`` (Hardy and Thompson 1996,
    Stat Med 15:619-629). Its lower bound is 0 when ``ll(0)`` is within the cut-off.

    Examples
    --------
    >>> yi = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37]
    >>> vi = [0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.06, 0.07]
    >>> ci = profile_likelihood_ci(yi, vi)
    >>> [round(x, 4) for x in ci.tau2]
    [0.3107, 0.1095, 1.072]
    """
    y, v = _check_input(yi, vi, level, tol, tau2_hat, tau2_max)
    if y.size < 2:
        return _not_estimable("PL", level, y.size)
    cols = _columns(y, v)
    est = _estimate(cols, "REML" if reml else "ML", tol) if tau2_hat is None else float(tau2_hat)
    if tau2_max is not None and tau2_max < est:
        raise InputError(f"tau2_max={tau2_max!r} must be >= the estimate tau2_hat={est!r}")
    crit = float(special.chdtri(1.0, 1.0 - level))
    ll_hat = _loglik(cols, est, reml=reml)

    def excess(tau2: float) -> float:
        # positive outside the interval, negative inside
        return 2.0 * (ll_hat - _loglik(cols, tau2, reml=reml)) - crit

    notes: list[str] = []
    if excess(0.0) < 0:
        lb = 0.0
        notes.append(f"the lower bound is 0: ll(0) is within the cut-off {crit:.6g} / 2")
    else:
        lb = _found(_root(excess, 0.0, est, tol), "lower", notes)
    ub, ub_sign = _pl_upper(excess, est, float(np.mean(v)), tau2_max, tol, notes)
    vt = float(typical_variance(cols)[0])
    return _result("PL", level, (est, lb, ub), vt, ("", ub_sign), notes)


def _pl_upper(
    excess: Callable[[float], float],
    est: float,
    scale: float,
    tau2_max: float | None,
    tol: float,
    notes: list[str],
) -> tuple[float, str]:
    """Upper profile-likelihood bound: the root of ``excess`` above the estimate."""
    if tau2_max is not None:
        if excess(tau2_max) < 0:
            notes.append(f"the upper bound lies above tau2_max = {tau2_max:.6g}")
            return tau2_max, ">"
        hi = tau2_max
    else:
        # the (restricted) likelihood falls like -(k-1)/2 log(tau2), so doubling ends
        hi = _expand(excess, max(2.0 * est, scale))
    if math.isnan(hi):
        return _found(math.nan, "upper", notes), ""
    return _found(_root(excess, est, hi, tol), "upper", notes), ""


# ---------------------------------------------------------------------------------------------
# Higgins-Thompson


def higgins_thompson_ci(qe: float, k: int, level: float = 0.95) -> HigginsThompsonInterval:
    """Higgins-Thompson test-based confidence interval for H and I^2 from Cochran's Q.

    Parameters
    ----------
    qe : float
        Cochran's Q statistic (inverse-variance weights ``1 / v``), >= 0.
    k : int
        Number of studies.
    level : float
        Confidence level.

    Returns
    -------
    HigginsThompsonInterval
        NaN with a note when the standard error is undefined (k = 1, or k = 2 with Q <= 2).

    Notes
    -----
    ``H = sqrt(Q / (k - 1))`` and the interval is ``exp(ln H -+ z_{1-alpha/2} SE(ln H))`` with
    (Higgins and Thompson 2002, Stat Med 21:1539-1558, p. 1549)

    - ``SE(ln H) = (ln Q - ln(k - 1)) / (2 (sqrt(2 Q) - sqrt(2 k - 3)))`` when ``Q > k``;
    - ``SE(ln H) = sqrt(1 / (2 (k - 2)) * (1 - 1 / (3 (k - 2)^2)))`` when ``Q <= k``.

    H and both bounds are truncated below at 1, and ``I^2 = (H^2 - 1) / H^2`` maps each of
    them, as R's ``meta`` package does (``meta:::calcH`` and ``meta:::isquared``).

    Examples
    --------
    >>> ci = higgins_thompson_ci(31.325, 19)
    >>> [round(100 * x, 1) for x in ci.i2]
    [42.5, 1.1, 66.6]
    """
    check_level(level)
    if not (math.isfinite(qe) and qe >= 0):
        raise InputError(f"qe={qe!r} must be a finite number >= 0 (Cochran's Q)")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k={k!r} must be a whole number of studies >= 1")
    k = int(k)
    se, note = _se_ln_h(qe, k)
    if math.isnan(se):
        return HigginsThompsonInterval(_NAN3, _NAN3, _NAN3, qe, k, level, (note,))
    ln_h = 0.5 * (math.log(qe) - math.log(k - 1.0)) if qe > 0 else -math.inf
    z = float(special.ndtri(1.0 - (1.0 - level) / 2.0))
    h = tuple(max(1.0, math.exp(x)) for x in (ln_h, ln_h - z * se, ln_h + z * se))
    h2 = tuple(x * x for x in h)
    i2 = tuple((x - 1.0) / x for x in h2)
    return HigginsThompsonInterval(
        h=(h[0], h[1], h[2]),
        h2=(h2[0], h2[1], h2[2]),
        i2=(i2[0], i2[1], i2[2]),
        qe=float(qe),
        k=k,
        level=level,
        notes=(note,),
    )


def _se_ln_h(qe: float, k: int) -> tuple[float, str]:
    """SE(ln H) of Higgins and Thompson (2002, p. 1549) and which formula gave it."""
    if k < 2:
        return math.nan, f"k = {k}: H is not defined for a single study"
    if qe > k:
        se = 0.5 * math.log(qe / (k - 1.0)) / (math.sqrt(2.0 * qe) - math.sqrt(2.0 * k - 3.0))
        return se, "SE(ln H) from the formula for Q > k"
    if k == 2:
        return math.nan, "k = 2 and Q <= k: SE(ln H) is not defined"
    se = math.sqrt(1.0 / (2.0 * (k - 2)) * (1.0 - 1.0 / (3.0 * (k - 2) ** 2)))
    return se, "SE(ln H) from the formula for Q <= k"


# ---------------------------------------------------------------------------------------------
# a fitted model


def heterogeneity_confint(
    res: MetaResult, type: str = "QP"
) -> Tau2Interval | HigginsThompsonInterval:
    """Interval of a fitted model, the engine of :meth:`metasift.MetaResult.confint`.

    Parameters
    ----------
    res : MetaResult
        A fit. ``"QP"`` and ``"PL"`` need a random-effects fit, ``"PL"`` an ML or REML one
        whose tau^2 is the maximiser (a fixed tau^2 is refused).
    type : {"QP", "PL", "HT"}
        :func:`q_profile_ci` and :func:`profile_likelihood_ci` (estimate: the fit's tau^2; no
        upper search limit), or :func:`higgins_thompson_ci` from the fit's Q and k.

    Examples
    --------
    >>> from metasift.stats.pooling import meta_analysis
    >>> res = meta_analysis([0.1, 0.5, 0.3, 0.9, -0.2], [0.04, 0.05, 0.02, 0.1, 0.03])
    >>> [round(x, 4) for x in heterogeneity_confint(res, "QP").tau2]
    [0.0954, 0.0064, 1.3548]
    """
    kind = type.upper()
    if kind == "HT":
        return higgins_thompson_ci(res.qe, res.k, res.level)
    if kind not in ("QP", "PL"):
        raise InputError(f"type={type!r} is not known; allowed: 'QP', 'PL', 'HT'")
    if res.method in ("EE", "FE"):
        raise InputError(
            f"type={type!r} needs a random-effects fit; method={res.method!r} has none"
        )
    tau2_hat = res.tau2 if math.isfinite(res.tau2) else None
    if kind == "QP":
        return q_profile_ci(res.yi, res.vi, level=res.level, tau2_hat=tau2_hat)
    if res.method not in ("ML", "REML"):
        raise InputError(f"type='PL' needs method 'ML' or 'REML'; the fit used {res.method!r}")
    if tau2_hat is not None:
        best = _estimate(_columns(res.yi, res.vi), res.method, 1e-12)
        # metafor's default fits stop at a tau^2 change of 1e-5, far inside this margin
        if abs(best - tau2_hat) > 1e-4 * max(1.0, best):
            raise InputError(
                f"tau2 = {tau2_hat!r} of this fit is not the {res.method} estimate ({best!r}); "
                "a profile-likelihood interval needs the estimated, not a fixed, tau^2"
            )
    reml = res.method == "REML"
    return profile_likelihood_ci(res.yi, res.vi, level=res.level, reml=reml, tau2_hat=tau2_hat)
