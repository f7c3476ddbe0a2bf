"""Duval and Tweedie's trim and fill, as metafor 3.8-1's ``trimfill.rma.uni``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from metasift.errors import ConvergenceWarning, InputError
from metasift.stats._bias_common import need_studies, regression, warn_few_studies
from metasift.stats._format import html, one_row, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._validate import check_known, effect_arrays, model_options
from metasift.stats.batch import check_options
from metasift.stats.pooling import MetaResult, meta_analysis

ESTIMATORS = ("L0", "R0")
SIDES = ("left", "right")


@dataclass(frozen=True)
class TrimFillResult:
    """Trim and fill: studies imputed to make the funnel plot symmetric, and the new fit.

    Attributes
    ----------
    k0 : int
        Estimated number of missing studies.
    se_k0 : float
        Standard error of ``k0`` (Duval and Tweedie 2000).
    p_k0 : float
        For estimator R0, the p-value of the test of no missing studies on ``side``
        (``0.5^(k0 + 1)``); NaN for L0.
    side : {"left", "right"}
        Side of the funnel plot on which studies were imputed.
    estimator : {"L0", "R0"}
        Estimator of ``k0``.
    estimate, se, zval, tval, df, pval, ci_lb, ci_ub : float
        Pooled result of the observed plus the imputed studies (``fit``).
    tau2, i2, h2, qe, qe_pval : float
        Heterogeneity of that fit.
    k : int
        Number of observed studies.
    k_total : int
        ``k + k0``.
    filled_yi, filled_vi : ndarray of shape (k0,)
        Effect sizes and sampling variances of the imputed studies, for the funnel plot.
    filled_slab : tuple of str
        Their labels, "Filled 1", "Filled 2", ...
    fit : MetaResult
        Meta-analysis of the observed and imputed studies (the observed fit when k0 = 0).
    observed : MetaResult
        Meta-analysis of the observed studies only.
    n_iter : int
        Iterations of the trim-and-fill algorithm.
    converged : bool
        False when ``k0`` still changed after ``maxiter`` iterations (with a
        ConvergenceWarning).
    method, test : str
        Settings of the meta-analyses.
    level : float
        Confidence level.
    notes : tuple of str
        Facts a reader must know.
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    estimate: float
    se: float
    zval: float
    tval: float
    df: float
    pval: float
    ci_lb: float
    ci_ub: float
    tau2: float
    i2: float
    h2: float
    qe: float
    qe_pval: float
    k: int
    k_total: int
    filled_yi: FloatArray = field(repr=False)
    filled_vi: FloatArray = field(repr=False)
    filled_slab: tuple[str, ...] = field(repr=False)
    fit: MetaResult = field(repr=False)
    observed: MetaResult = field(repr=False)
    n_iter: int
    converged: bool
    method: str
    test: str
    level: float
    notes: tuple[str, ...] = ()

    _SCALARS = (
        "k0", "se_k0", "p_k0", "side", "estimator", "estimate", "se", "zval", "tval", "df",
        "pval", "ci_lb", "ci_ub", "tau2", "i2", "h2", "qe", "qe_pval", "k", "k_total",
        "n_iter", "converged", "method", "test", "level",
    )  # fmt: skip

    def to_frame(self) -> Any:
        """The scalar fields as a one-row pandas DataFrame."""
        return one_row(self, self._SCALARS)

    def studies(self) -> Any:
        """Observed and imputed studies: slab, yi, vi, filled (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "slab": [*self.observed.slab, *self.filled_slab],
                "yi": np.concatenate([self.observed.yi, self.filled_yi]),
                "vi": np.concatenate([self.observed.vi, self.filled_vi]),
                "filled": [False] * self.k + [True] * self.k0,
            }
        )

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.rma.uni.trimfill``."""
        test = f", p = {self.p_k0:.4f}" if np.isfinite(self.p_k0) else ""
        lines = [
            f"Estimated number of missing studies on the {self.side} side: {self.k0} "
            f"(SE = {self.se_k0:.4f}{test}; estimator {self.estimator})",
            "",
            self.fit.summary(),
        ]
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(f"Trim and fill: {self.k0} studies imputed ({self.side})", self.to_frame())


def _k0_estimate(centred: FloatArray, estimator: str) -> tuple[float, float]:
    """k0 and its standard error from the signed ranks of the centred effects (all k).

    ``centred`` holds the effects minus the current estimate, on the scale where missing
    studies would lie to the left (large values are the suspected excess).
    """
    k = centred.size
    # ranks of |y - mu|, ties broken by position (R's ties.method = "first")
    ranks = stats.rankdata(np.abs(centred), method="ordinal").astype(np.float64)
    signed = np.sign(centred) * ranks
    if estimator == "R0":
        negative = -signed[signed < 0]
        gamma = k - (negative.max() if negative.size else 0.0)  # the rightmost run
        k0 = gamma - 1.0
        return k0, float(np.sqrt(2.0 * max(0.0, k0) + 2.0))
    s_rank = float(np.sum(signed[signed > 0]))  # Wilcoxon statistic
    k0 = (4.0 * s_rank - k * (k + 1.0)) / (2.0 * k - 1.0)
    var_s = (
        k * (k + 1.0) * (2.0 * k + 1.0) + 10.0 * k0**3 + 27.0 * k0**2 + 17.0 * k0
        - 18.0 * k * k0**2 - 18.0 * k * k0 + 6.0 * k**2 * k0
    ) / 24.0  # fmt: skip
    return k0, 4.0 * float(np.sqrt(var_s)) / (2.0 * k - 1.0)


def _choose_side(
    y: FloatArray, v: FloatArray, labels: tuple[str, ...], method: str, side: str | None
) -> str:
    """metafor's rule: missing studies lie opposite the sign of Egger's slope (on sei)."""
    if side is not None:
        if side not in SIDES:
            raise InputError(f"side={side!r} is not known; allowed: left, right or None")
        return side
    if np.ptp(v) == 0:
        raise InputError(
            "trim_and_fill cannot choose the side when every study has the same variance "
            "(Egger's slope is undefined): pass side='left' or side='right'"
        )
    with warnings.catch_warnings():
        # a convergence problem of this auxiliary fit only matters through the slope's sign
        warnings.simplefilter("ignore")
        fit = regression(y, v, labels, np.sqrt(v), "sei", model="rma", method=method,
                         test="z", level=0.95)  # fmt: skip
    return "right" if fit.beta[1] < 0 else "left"


def _iterate(
    y: FloatArray, v: FloatArray, method: str, estimator: str, maxiter: int
) -> tuple[int, float, float, int, bool]:
    """Trim the k0 most extreme studies, re-estimate, recount, until k0 stops changing.

    ``y`` is sorted and oriented so that the suspected excess is at the large end. Returns
    k0, its standard error, the estimate of the last trimmed fit, iterations, convergence.
    """
    k = y.size
    k0, previous, n_iter, mu, se_k0 = 0, -1, 0, 0.0, float("nan")
    while k0 != previous:
        if n_iter == maxiter:
            return k0, se_k0, mu, n_iter, False
        previous, n_iter = k0, n_iter + 1
        mu = meta_analysis(y[: k - k0], v[: k - k0], method=method).estimate
        raw_k0, se_k0 = _k0_estimate(y - mu, estimator)
        # R's round() rounds halves to even, as Python's does
        k0, se_k0 = max(0, round(raw_k0)), max(0.0, se_k0)
    return k0, se_k0, mu, n_iter, True


def trim_and_fill(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
    estimator: str = "L0",
    side: str | None = None,
    maxiter: int = 100,
    ilim: tuple[float, float] | None = None,
) -> TrimFillResult:
    """Trim and fill (Duval and Tweedie 2000), as metafor's ``trimfill``.

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`metasift.stats.bias.egger_test`.
    method, test, level
        Model of every meta-analysis in the procedure, as in :func:`metasift.meta_analysis`
        (metafor's "equal-equal" or "random-random" approach); by default those of ``yi``
        when it is a fitted :class:`MetaResult`, else "REML", "z" and 0.95.
    estimator : {"L0", "R0"}
        Estimator of the number of missing studies (default L0, as metafor).
    side : {"left", "right"}, optional
        Side on which studies are missing; by default opposite the sign of the slope of
        Egger's test (the meta-regression on the standard errors with ``method``).
    maxiter : int
        Maximum iterations of the trim-and-fill algorithm.
    ilim : (float, float), optional
        Limits for the imputed effects (for bounded measures such as correlations).

    Returns
    -------
    TrimFillResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, or fewer than 3 studies.

    Warns
    -----
    metasift.errors.FewStudiesWarning
        With fewer than 10 studies.
    metasift.errors.ConvergenceWarning
        When ``k0`` has not settled after ``maxiter`` iterations.

    Notes
    -----
    On the side where studies are missing, effects are sorted; the ``k0`` largest are
    trimmed, the pooled estimate :math:`\\hat\\mu` of the rest recomputed, and ``k0``
    re-estimated from the ranks :math:`r_i` of :math:`|y_i - \\hat\\mu|` over all k studies,
    until ``k0`` stops changing (Duval and Tweedie 2000, Biometrics 56:455-463):
    :math:`L_0 = (4 S_r - k(k+1)) / (2k - 1)` with :math:`S_r` the sum of the positive signed
    ranks, and :math:`R_0 = \\gamma - 1` with :math:`\\gamma` the length of the rightmost run
    of positive ranks; both rounded, at least 0. Their standard errors are
    :math:`4\\sqrt{Var(S_r)}/(2k-1)` and :math:`\\sqrt{2 R_0 + 2}`. The ``k0`` trimmed
    studies are mirrored about the last estimate, :math:`2\\hat\\mu - y_i` with the same
    :math:`v_i`, and the observed plus mirrored studies are pooled. metafor 3.8-1 pools them
    with test "z" whatever the original test; here ``test`` applies throughout.

    Examples
    --------
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> res = trim_and_fill(yi, vi, method="FE")
    >>> res.k0, res.side, round(res.estimate, 4)
    (5, 'left', 0.216)
    >>> res.filled_yi.round(3).tolist()
    [-0.078, -0.188, -0.308, -0.378, -0.468]
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    method, test, level = model_options(yi, vi, sei, method, test, level)
    check_options(method, test, level)
    check_known("estimator", estimator, ESTIMATORS)
    if not (isinstance(maxiter, int) and maxiter >= 1):
        raise InputError(f"maxiter={maxiter!r} must be a whole number >= 1")
    need_studies(y.size, 3, "trim_and_fill")
    note = warn_few_studies(y.size, "trim_and_fill")
    notes = [] if note is None else [note]
    side = _choose_side(y, v, labels, method, side)
    sign = -1.0 if side == "right" else 1.0  # mirror so that studies are missing on the left
    order = np.argsort(sign * y, kind="stable")
    ys, vs = sign * y[order], v[order]
    k0, se_k0, mu, n_iter, converged = _iterate(ys, vs, method, estimator, maxiter)
    if not converged:
        msg = f"trim and fill did not converge in {maxiter} iterations; k0 = {k0} is not reliable"
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        notes.append(msg)
    k = y.size
    filled_y = sign * (2.0 * mu - ys[k - k0 :])
    if ilim is not None:
        filled_y = np.clip(filled_y, min(ilim), max(ilim))
    filled_v = vs[k - k0 :].copy()
    observed = meta_analysis(y, v, slab=labels, method=method, test=test, level=level)
    return _result(observed, filled_y, filled_v, k0, se_k0, side, estimator, n_iter,
                   converged, tuple(notes))  # fmt: skip


def _result(
    observed: MetaResult,
    filled_y: FloatArray,
    filled_v: FloatArray,
    k0: int,
    se_k0: float,
    side: str,
    estimator: str,
    n_iter: int,
    converged: bool,
    notes: tuple[str, ...],
) -> TrimFillResult:
    filled_slab = tuple(f"Filled {i + 1}" for i in range(k0))
    fit = observed
    if k0 > 0:
        fit = meta_analysis(
            np.concatenate([observed.yi, filled_y]),
            np.concatenate([observed.vi, filled_v]),
            slab=observed.slab + filled_slab,
            method=observed.method,
            test=observed.test,
            level=observed.level,
        )
    return TrimFillResult(
        k0=k0, se_k0=se_k0, p_k0=0.5 ** (k0 + 1) if estimator == "R0" else float("nan"),
        side=side, estimator=estimator, estimate=fit.estimate, se=fit.se, zval=fit.zval,
        tval=fit.tval, df=fit.df, pval=fit.pval, ci_lb=fit.ci_lb, ci_ub=fit.ci_ub,
        tau2=fit.tau2, i2=fit.i2, h2=fit.h2, qe=fit.qe, qe_pval=fit.qe_pval, k=observed.k,
        k_total=observed.k + k0, filled_yi=filled_y, filled_vi=filled_v,
        filled_slab=filled_slab, fit=fit, observed=observed, n_iter=n_iter,
        converged=converged, method=observed.method, test=observed.test,
        level=observed.level, notes=notes,
    )  # fmt: skip
