"""Many meta-analyses at once: ``(k, d)`` arrays in, arrays of length ``d`` out.

:func:`meta_analysis_batch` is the engine behind :func:`metasift.meta_analysis` too, so a
single fit and a column of a batch fit are the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from metasift.errors import InputError
from metasift.stats._kernels import (
    Columns,
    FloatArray,
    WeightedFit,
    fit_at,
    log_det,
    loglik,
    typical_variance,
)
from metasift.stats._tau2 import METHODS, Tau2Fit, estimate_tau2, tau2_se
from metasift.stats._validate import check_known, check_level

__all__ = ["BatchResult", "meta_analysis_batch"]

TESTS = ("z", "knha", "adhoc")


@dataclass(frozen=True)
class BatchResult:
    """Results of ``d`` meta-analyses; every field is an array of length ``d``.

    Fields have the meaning of :class:`metasift.MetaResult`; ``weights`` has shape ``(k, d)``
    (fractions of each column's total, 0 for missing studies).
    """

    estimate: FloatArray
    se: FloatArray
    zval: FloatArray
    tval: FloatArray
    df: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    pi_lb: FloatArray
    pi_ub: FloatArray
    tau2: FloatArray
    tau2_se: FloatArray
    tau: FloatArray
    i2: FloatArray
    i2_q: FloatArray
    h2: FloatArray
    qe: FloatArray
    qe_df: FloatArray
    qe_pval: FloatArray
    k: np.ndarray
    vt: FloatArray
    loglik_ml: FloatArray
    loglik_reml: FloatArray
    weights: FloatArray
    converged: np.ndarray
    n_iter: np.ndarray
    method: str
    test: str
    level: float

    def __len__(self) -> int:
        return int(self.estimate.shape[0])

    def to_frame(self) -> Any:
        """One row per meta-analysis (pandas DataFrame), without the weights."""
        import pandas as pd

        skip = {"weights", "method", "test", "level"}
        cols = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        frame = pd.DataFrame(cols)
        frame["method"], frame["test"], frame["level"] = self.method, self.test, self.level
        return frame


def _as_2d(name: str, values: ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name} must have shape (k,) or (k, d); got shape {arr.shape}")
    return arr


def check_options(method: str, test: str, level: float) -> None:
    """Raise InputError for an unknown method or test or a level outside (0, 1)."""
    check_known("method", method, METHODS)
    check_known("test", test, TESTS)
    check_level(level)


def meta_analysis_batch(
    yi: ArrayLike,
    vi: ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tau2: float | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> BatchResult:
    """Fit ``d`` random-effects meta-analyses at once, with no Python loop over ``d``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,) or (k, d)
        Effect sizes and sampling variances; NaN in either marks a study missing from
        that column. Present variances must be positive.
    method : str
        tau^2 estimator, metafor's code: "EE" (or "FE"), "DL", "DLIT", "HE", "HS", "HSk",
        "SJ", "SJIT", "ML", "REML", "EB", "PM", "PMM".
    test : {"z", "knha", "adhoc"}
        Wald-type z test, Hartung-Knapp-Sidik-Jonkman t test with k-1 df, or HKSJ whose
        variance factor is never below 1.
    level : float
        Confidence level of the intervals.
    tau2 : float, optional
        Fix tau^2 at this value instead of estimating it (metafor's ``tau2=`` argument).
    tol, maxiter : float, int
        Iterative estimators stop when tau^2 changes by at most ``tol * max(1, tau2)``.

    Returns
    -------
    BatchResult
        Arrays of length ``d``. Columns with fewer than two studies have NaN heterogeneity.

    Notes
    -----
    Same numbers as :func:`metasift.meta_analysis` on each column (the single call runs
    this function with ``d = 1``). The estimators and intervals are those of metafor's
    ``rma.uni`` (Viechtbauer 2010); the prediction interval is metafor's ``predict()``:
    ``estimate +- crit * sqrt(se^2 + tau2)``, with the t quantile on k-1 df under knha.

    Examples
    --------
    >>> import numpy as np
    >>> yi = np.array([[0.1, 0.3], [0.5, 0.2], [0.2, np.nan], [0.4, 0.6]])
    >>> vi = np.full((4, 2), 0.04)
    >>> res = meta_analysis_batch(yi, vi, method="DL")
    >>> res.k.tolist()
    [4, 3]
    >>> np.round(res.estimate, 4).tolist()
    [0.3, 0.3667]
    """
    check_options(method, test, level)
    y, v = _as_2d("yi", yi), _as_2d("vi", vi)
    if y.shape != v.shape:
        raise InputError(f"yi and vi must have the same shape; got {y.shape} and {v.shape}")
    bad = np.isfinite(v) & np.isfinite(y) & (v <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(
            f"vi[{i}, {j}] = {float(v[i, j])!r}: sampling variances must be > 0 "
            f"({int(bad.sum())} such value(s))"
        )
    if tau2 is not None and not (np.isfinite(tau2) and tau2 >= 0):
        raise InputError(f"tau2={tau2!r}: a fixed tau^2 must be a finite number >= 0")
    return _fit(Columns.from_arrays(y, v), method, test, level, tau2, tol, maxiter)


def _fit(
    cols: Columns,
    method: str,
    test: str,
    level: float,
    fixed_tau2: float | None,
    tol: float,
    maxiter: int,
) -> BatchResult:
    k = cols.k
    het = k >= 2
    # Degenerate columns (k < 2, zero residuals) give inf/NaN that np.where then masks.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit0 = fit_at(cols, 0.0)
        if fixed_tau2 is None:
            est = estimate_tau2(cols, method, tol, maxiter, fit0)
        else:
            d = k.shape[0]
            est = Tau2Fit(np.full(d, float(fixed_tau2)), np.zeros(d, np.int64), het)
        tau2, fit, ll_ml, ll_reml = _final_fit(cols, method, est, fit0, fixed_tau2 is None)
        tau2 = np.where(het, tau2, np.nan)
        pooled = _pooled(fit, k, test, level)
        het_fields = _heterogeneity(cols, method, tau2, fit0, het)
        pred_half = pooled.pop("crit") * np.sqrt(pooled["se"] ** 2 + tau2)
        random = het & (method not in ("EE", "FE"))
        return BatchResult(
            **pooled,
            pi_lb=np.where(random, pooled["estimate"] - pred_half, np.nan),
            pi_ub=np.where(random, pooled["estimate"] + pred_half, np.nan),
            tau2=tau2,
            tau2_se=np.where(het, tau2_se(cols, method, tau2, fit, fit0), np.nan),
            tau=np.sqrt(tau2),
            **het_fields,
            k=k.astype(np.int64),
            loglik_ml=np.where(het, ll_ml, np.nan),
            loglik_reml=np.where(het, ll_reml, np.nan),
            weights=fit.w / fit.s1,
            converged=est.converged | ~het,
            n_iter=est.n_iter,
            method=method,
            test=test,
            level=level,
        )


def _final_fit(
    cols: Columns, method: str, est: Tau2Fit, fit0: WeightedFit, estimated: bool
) -> tuple[FloatArray, WeightedFit, FloatArray, FloatArray]:
    """The fit at the estimated tau^2 and its log-likelihoods.

    For estimated ML and REML fits, tau^2 = 0 is taken where the (restricted) likelihood
    is higher there (metafor's ll0check), so a local maximum is never reported.
    """
    tau2 = np.where(cols.k >= 2, est.tau2, 0.0)
    fit = fit_at(cols, tau2)
    logdet = log_det(cols, fit)
    ll_ml = loglik(cols, tau2, fit, reml=False, logdet=logdet)
    ll_reml = loglik(cols, tau2, fit, reml=True, logdet=logdet)
    if estimated and method in ("ML", "REML"):
        reml = method == "REML"
        ll0 = loglik(cols, np.zeros_like(tau2), fit0, reml=reml)
        zero = (tau2 > 0) & (ll0 > (ll_reml if reml else ll_ml))
        if zero.any():
            tau2 = np.where(zero, 0.0, tau2)
            return _final_fit(cols, method, Tau2Fit(tau2, est.n_iter, est.converged), fit0, False)
    return tau2, fit, ll_ml, ll_reml


def _heterogeneity(
    cols: Columns, method: str, tau2: FloatArray, fit0: WeightedFit, het: np.ndarray
) -> dict[str, FloatArray]:
    """Q test, I^2 (from tau^2 and from Q), H^2 and the typical within-study variance."""
    df_q = cols.k - 1.0
    qe = np.where(het, fit0.q, np.nan)
    vt = np.where(het, typical_variance(cols, fit0), np.nan)
    i2_q = np.where(het, np.where(qe > 0, np.maximum(0.0, (qe - df_q) / qe), 0.0), np.nan)
    if method in ("EE", "FE"):
        i2, h2 = i2_q, qe / df_q
    else:
        i2, h2 = tau2 / (vt + tau2), (vt + tau2) / vt
    return {
        "i2": i2,
        "i2_q": i2_q,
        "h2": h2,
        "qe": qe,
        "qe_df": np.where(het, df_q, np.nan),
        "qe_pval": special.chdtrc(df_q, qe),
        "vt": vt,
    }


def _pooled(fit: Any, k: FloatArray, test: str, level: float) -> dict[str, FloatArray]:
    """Estimate, standard error, test statistic, p-value and confidence interval."""
    alpha = 1.0 - level
    estimate = fit.mu
    se = np.sqrt(1.0 / fit.s1)
    nan = np.full_like(estimate, np.nan)
    if test == "z":
        crit = np.full_like(estimate, special.ndtri(1.0 - alpha / 2.0))
        zval = estimate / se
        pval = 2.0 * special.ndtr(-np.abs(zval))
        tval, df = nan, nan
    else:
        df = np.where(k >= 2, k - 1.0, np.nan)
        s2w = fit.q / df
        if test == "adhoc":
            s2w = np.maximum(1.0, s2w)
        se = np.sqrt(s2w) * se
        tval = estimate / se
        crit = special.stdtrit(df, 1.0 - alpha / 2.0)
        pval = 2.0 * special.stdtr(df, -np.abs(tval))
        zval = nan
    return {
        "estimate": estimate,
        "se": se,
        "zval": zval,
        "tval": tval,
        "df": df,
        "pval": pval,
        "ci_lb": estimate - crit * se,
        "ci_ub": estimate + crit * se,
        "crit": crit,
    }
