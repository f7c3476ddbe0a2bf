"""Estimators of the between-study variance tau^2, vectorised over columns.

Each estimator follows metafor's ``rma.uni`` (Viechtbauer 2010, J Stat Softw 36(3); the
estimator formulas and standard errors are those of metafor 3.8-1 and its notes), written for
``(k, d)`` arrays. Iterative estimators run until the change in tau^2 is at most
``tol * max(1, tau2)``; a column that does not get there is reported, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from metasift.stats._kernels import (
    Columns,
    FloatArray,
    WeightedFit,
    fit_at,
    v_traces,
    weighted_fit,
)

METHODS = (
    "EE", "FE", "DL", "DLIT", "HE", "HS", "HSk", "SJ", "SJIT", "ML", "REML", "EB", "PM", "PMM",
)  # fmt: skip

#: A function of tau^2 giving (score, observed information, expected information); the
#: score is positive below the root.
ScoreFn = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray]]


@dataclass(frozen=True)
class Tau2Fit:
    """tau^2 estimates of ``d`` columns with their diagnostics."""

    tau2: FloatArray
    n_iter: np.ndarray
    converged: np.ndarray


def _closed(tau2: FloatArray) -> Tau2Fit:
    d = tau2.shape[0]
    return Tau2Fit(tau2, np.zeros(d, dtype=np.int64), np.ones(d, dtype=bool))


def tau2_dl(cols: Columns, fit: WeightedFit) -> Tau2Fit:
    """DerSimonian-Laird (1986): ``max(0, (Q - (k-1)) / tr(P))``; ``fit`` has ``w = 1/v``."""
    return _closed(np.maximum(0.0, (fit.q - (cols.k - 1.0)) / fit.tr_p))


def tau2_hs(cols: Columns, fit: WeightedFit, *, k_correction: bool) -> Tau2Fit:
    """Hunter-Schmidt: ``(Q - k) / S1``, with the k/(k-1) correction ("HSk"); w = 1/v."""
    k = cols.k
    q = fit.q * k / (k - 1.0) if k_correction else fit.q
    return _closed(np.maximum(0.0, (q - k) / fit.s1))


def _unit_fit(cols: Columns) -> WeightedFit:
    return weighted_fit(cols, cols.unit_weights())


def _he_raw(cols: Columns) -> FloatArray:
    """Hedges' unweighted moment estimate, not truncated at 0.

    With unit weights ``tr(PV) = sum(v) (1 - 1/k)``.
    """
    fit = _unit_fit(cols)
    tr_pv = np.sum(cols.m * cols.v, axis=0) * (1.0 - 1.0 / cols.k)
    return np.asarray((fit.q - tr_pv) / (cols.k - 1.0), dtype=np.float64)


def tau2_he(cols: Columns) -> Tau2Fit:
    """Hedges (1983) / Cochran ANOVA estimator from unweighted residuals."""
    return _closed(np.maximum(0.0, _he_raw(cols)))


def _sj_start(cols: Columns) -> FloatArray:
    """Sidik-Jonkman starting value: the variance of the y's with divisor k."""
    return np.asarray(_unit_fit(cols).q / cols.k, dtype=np.float64)


def tau2_sj(cols: Columns) -> Tau2Fit:
    """Sidik-Jonkman (2005): ``tau0 * Q(tau0) / (k-1)`` with ``tau0 = var(y) (k-1)/k``."""
    tau0 = _sj_start(cols)
    return _closed(np.maximum(0.0, tau0 * fit_at(cols, tau0).q / (cols.k - 1.0)))


def tau2_se(
    cols: Columns, method: str, tau2: FloatArray, fit: WeightedFit, fit0: WeightedFit
) -> FloatArray:
    """Standard error of the tau^2 estimate, by metafor's formula for each estimator.

    ``fit`` holds weights ``1/(v + tau2)`` and ``fit0`` weights ``1/v``. The moment
    estimators' SEs are those of their quadratic forms (metafor's notes); ML and REML use
    the Fisher information; EB, PM, PMM, DLIT and SJIT ``sqrt(2 k^2 / (k-1)) / sum(w)``.
    """
    k, df = cols.k, cols.k - 1.0
    if method in ("DL", "HS", "HSk"):
        trp, trpp = fit0.tr_p, fit0.tr_pp()
        quad = 2.0 * df + 4.0 * tau2 * trp + 2.0 * tau2**2 * trpp
        if method == "DL":
            return np.asarray(np.sqrt(quad / trp**2), dtype=np.float64)
        se = np.sqrt(quad / fit0.s1**2)
        return np.asarray(se * k / df if method == "HSk" else se, dtype=np.float64)
    if method == "HE":
        tr_pv, tr_pvpv, _ = v_traces(_unit_fit(cols), cols.v)
        quad = 2.0 * tr_pvpv + 4.0 * tau2 * tr_pv + 2.0 * tau2**2 * df
        return np.asarray(np.sqrt(quad) / df, dtype=np.float64)
    if method == "SJ":
        tau0 = _sj_start(cols)
        fit_sj = fit_at(cols, tau0)
        _, tr_pvpv, tr_pvp = v_traces(fit_sj, cols.v)
        quad = 2.0 * tr_pvpv + 4.0 * tau2 * tr_pvp + 2.0 * tau2**2 * fit_sj.tr_pp()
        return np.asarray(tau0 / df * np.sqrt(quad), dtype=np.float64)
    if method == "REML":
        return np.asarray(np.sqrt(2.0 / fit.tr_pp()), dtype=np.float64)
    if method == "ML":
        return np.asarray(np.sqrt(2.0 / fit.s2), dtype=np.float64)
    if method in ("EB", "PM", "PMM", "DLIT", "SJIT"):
        return np.asarray(np.sqrt(2.0 * k**2 / df) / fit.s1, dtype=np.float64)
    return np.full(k.shape, np.nan)


def _fixed_point(
    cols: Columns,
    start: FloatArray,
    update: Callable[[FloatArray], FloatArray],
    tol: float,
    maxiter: int,
) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """Iterate ``tau2 <- update(tau2)`` column-wise until the change is small."""
    tau2 = start.copy()
    d = tau2.shape[0]
    n_iter = np.zeros(d, dtype=np.int64)
    active = np.isfinite(tau2)
    for _ in range(maxiter):
        if not active.any():
            break
        new = update(tau2)
        change = np.abs(new - tau2)
        tau2 = np.where(active, new, tau2)
        n_iter += active
        active &= ~(change <= tol * np.maximum(1.0, np.abs(tau2)))
    return tau2, n_iter, ~active


def tau2_sjit(cols: Columns, tol: float, maxiter: int) -> Tau2Fit:
    """Iterated Sidik-Jonkman: ``tau2 <- tau2 * Q(tau2) / (k-1)`` from the SJ start."""
    df = cols.k - 1.0

    def update(tau2: FloatArray) -> FloatArray:
        return np.asarray(tau2 * fit_at(cols, tau2).q / df, dtype=np.float64)

    tau2, n_iter, conv = _fixed_point(cols, _sj_start(cols), update, tol, maxiter)
    return Tau2Fit(np.maximum(0.0, tau2), n_iter, conv)


def tau2_dlit(cols: Columns, tol: float, maxiter: int) -> Tau2Fit:
    """Iterated DerSimonian-Laird: ``tau2 <- max(0, (Q_w - tr(PV)) / tr(P))`` from 0.

    Weights ``1/(v + tau2)`` of the previous step; its fixed point is the Paule-Mandel
    estimate (DerSimonian and Kacker 2007), as in metafor >= 4.6.
    """

    def update(tau2: FloatArray) -> FloatArray:
        fit = fit_at(cols, tau2)
        tr_pv, _, _ = v_traces(fit, cols.v)
        return np.maximum(0.0, (fit.q - tr_pv) / fit.tr_p)

    start = np.zeros(cols.y.shape[1])
    tau2, n_iter, conv = _fixed_point(cols, start, update, tol, maxiter)
    return Tau2Fit(tau2, n_iter, conv)


def score_fn(cols: Columns, method: str) -> ScoreFn:
    """Score and information in tau^2 of the ML, REML, EB, PM and PMM estimating equations.

    The update is ``tau2 + score / information`` with the observed information (Newton's
    method), which converges quadratically where metafor's expected information (Fisher
    scoring) converges linearly; both have the same root. Where the observed information
    is not positive, the expected one is used. For PM and PMM the score is
    ``Q(tau2) - target`` and its negative derivative is ``sum(w^2 r^2)``.
    """
    k, df = cols.k, cols.k - 1.0
    target = special.chdtri(df, 0.5) if method == "PMM" else df

    def score(tau2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        fit = fit_at(cols, tau2)
        if method in ("PM", "PMM"):
            return fit.q - target, fit.q2, fit.q2
        if method == "EB":
            return fit.q * k / df - k, fit.q2 * k / df, fit.s1
        # y'PPPy = sum(w^3 r^2) - (sum(w^2 r))^2 / sum(w) for the intercept-only model.
        # s2, q2, tr(P) and tr(PP) are WeightedFit.s2 / .q2 / .tr_p / .tr_pp() written
        # inline: this is the hot loop, and the properties cost 20% of a single fit.
        w, wr, s1 = fit.w, fit.wr, fit.s1
        w2r = w * wr
        pppy = np.einsum("k...,k...->...", w2r, wr) - w2r.sum(axis=0) ** 2 / s1
        s2 = np.einsum("k...,k...->...", w, w)
        q2 = np.einsum("k...,k...->...", wr, wr)
        if method == "REML":
            ratio = s2 / s1
            expected = s2 - 2.0 * np.einsum("k...,k...->...", w * w, w) / s1 + ratio * ratio
            score_value = q2 - (s1 - ratio)
        else:
            expected = s2
            score_value = q2 - s1
        observed = 2.0 * pppy - expected
        return score_value, np.where(observed > 0, observed, expected), expected

    return score


def _bracketed(score: ScoreFn, lo: FloatArray, tau2: FloatArray, tol: float) -> FloatArray:
    """Root of a score by bisection, for columns where scoring steps oscillate.

    Starts from a bracket ``[lo, hi]`` with ``score(lo) > 0 >= score(hi)``; ``hi`` is found
    by doubling. Slow but sure: about 60 halvings reach double precision.
    """
    hi = np.maximum(2.0 * np.maximum(tau2, lo), 1.0)
    for _ in range(200):
        s = score(hi)[0]
        up = s > 0
        if not up.any():
            break
        lo = np.where(up, hi, lo)
        hi = np.where(up, 2.0 * hi, hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        s = score(mid)[0]
        lo = np.where(s > 0, mid, lo)
        hi = np.where(s > 0, hi, mid)
        if np.all(hi - lo <= tol * np.maximum(1.0, hi)):
            break
    return np.asarray(0.5 * (lo + hi), dtype=np.float64)


def newton_scoring(
    cols: Columns, method: str, start: FloatArray, tol: float, maxiter: int
) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """Root of the score on ``tau2 >= 0``: metafor's Fisher-scoring path, then Newton.

    Each column keeps a bracket: ``lo`` where the score was positive, ``hi`` where it was
    not. Until both ends are known the steps are metafor's Fisher-scoring steps from the same
    start (the shorter of the Fisher and Newton steps), so the iteration reaches the root
    metafor reaches and does not jump across a local minimum into another mode of a
    multimodal likelihood; a step that would go below 0 is halved as metafor does (at most
    ``MAX_HALVINGS`` times). Where Fisher scoring contracts steadily (two successive
    contraction ratios within 0.05), the iteration is in its asymptotic regime: the step is
    extrapolated to just beyond the longer of the geometric limit and the Newton step, which
    brackets the root. Once
    bracketed, Newton steps (observed information) are taken while they stay inside the
    bracket, else Fisher steps, else the midpoint, so the iteration cannot cycle. A column
    whose score is not positive at 0 ends at exactly 0: the boundary is an answer. A
    Fisher step must be 100 times smaller than ``tol`` to end the iteration, since a
    linearly converging sequence is further from its limit than its last step. Only
    unconverged columns are evaluated; columns still unconverged after
    ``min(maxiter, 100)`` steps are finished by bisection, and ``converged`` is False only
    where that fails too.
    """
    tau2 = start.copy()
    d = tau2.shape[0]
    if d == 1 and np.isfinite(tau2[0]):
        return _search_one_column(cols, method, float(tau2[0]), tol, maxiter)
    n_iter = np.zeros(d, dtype=np.int64)
    active = np.isfinite(tau2)
    search = _Search.begin(d)
    for _ in range(min(maxiter, 100)):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        t = tau2[idx]
        s, observed, expected = score_fn(cols.take(idx), method)(t)
        new, bracketed = search.step(idx, t, s, observed, expected)
        tau2[idx] = new
        n_iter[idx] += 1
        limit = tol * np.maximum(1.0, new) * np.where(bracketed, 1.0, 0.01)
        active[idx] = ~(np.abs(new - t) <= limit)
    if active.any():
        _finish_by_bisection(cols, method, tau2, search.lo, active, n_iter, tol)
    return tau2, n_iter, ~active


@dataclass
class _Search:
    """Per-column state of :func:`newton_scoring`: the bracket and the recent steps."""

    lo: FloatArray
    hi: FloatArray
    lo_known: np.ndarray
    halvings: np.ndarray
    prev_step: FloatArray
    prev_rho: FloatArray

    @classmethod
    def begin(cls, d: int) -> _Search:
        nan = np.full(d, np.nan)
        return cls(np.zeros(d), np.full(d, np.inf), np.zeros(d, bool), np.zeros(d, np.int64),
                   nan, nan.copy())  # fmt: skip

    def step(
        self,
        idx: np.ndarray,
        t: FloatArray,
        s: FloatArray,
        observed: FloatArray,
        expected: FloatArray,
    ) -> tuple[FloatArray, np.ndarray]:
        """The next tau^2 of the columns ``idx`` from the score at ``t``, and whether the
        root was bracketed when the step was taken."""
        pos = s > 0
        self.lo[idx] = np.where(pos, np.maximum(self.lo[idx], t), self.lo[idx])
        self.lo_known[idx] |= pos
        self.hi[idx] = np.where(pos, self.hi[idx], np.minimum(self.hi[idx], t))
        lo, hi, lo_known = self.lo[idx], self.hi[idx], self.lo_known[idx]
        bracketed = lo_known & np.isfinite(hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            fisher_step = s / np.maximum(observed, expected)
            rho = fisher_step / self.prev_step[idx]
        steady = (rho > 0.0) & (rho < 1.0) & (np.abs(rho - self.prev_rho[idx]) < 0.05)
        with np.errstate(divide="ignore", invalid="ignore"):
            geometric, newton_step = fisher_step / (1.0 - rho), s / observed
        longer = np.where(np.abs(newton_step) > np.abs(geometric), newton_step, geometric)
        extrapolated = t + EXTRAPOLATION * longer
        halve = (t > 0) & (t + fisher_step < 0) & (self.halvings[idx] < MAX_HALVINGS)
        plain = np.where(halve, _halved(t, fisher_step), np.maximum(0.0, t + fisher_step))
        use_extrapolation = ~bracketed & steady & (extrapolated > 0)
        self.halvings[idx] += ~bracketed & halve
        self.prev_step[idx] = np.where(use_extrapolation, np.nan, fisher_step)
        self.prev_rho[idx] = rho
        first = np.where(
            bracketed,
            np.maximum(0.0, t + s / observed),
            np.where(use_extrapolation, extrapolated, plain),
        )
        fisher = np.maximum(0.0, t + s / expected)
        mid = np.where(np.isfinite(hi), 0.5 * (lo + hi), fisher)
        bracket = (pos, lo, hi, lo_known)
        new = np.where(
            _inside(first, *bracket), first, np.where(_inside(fisher, *bracket), fisher, mid)
        )
        return np.asarray(new, dtype=np.float64), bracketed


def _search_one_column(
    cols: Columns, method: str, tau2: float, tol: float, maxiter: int
) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """:func:`newton_scoring` for one column, with its state in Python floats.

    The same rule as :meth:`_Search.step`, written out because a single meta-analysis is
    the common call and array bookkeeping would triple its cost; tests require both to give
    the same numbers.
    """
    # 1-D arrays make every sum a NumPy scalar, several times cheaper than 1-element arrays.
    flat = Columns(
        y=cols.y[:, 0], v=cols.v[:, 0], m=cols.m[:, 0], k=cols.k[0], complete=cols.complete
    )
    score = score_fn(flat, method)
    lo, hi, lo_known, halvings = 0.0, math.inf, False, 0
    prev_step = prev_rho = math.nan
    for n_iter in range(1, min(maxiter, 100) + 1):
        s, observed, expected = (float(x) for x in score(np.asarray(tau2, dtype=np.float64)))
        pos = s > 0
        if pos:
            lo, lo_known = max(lo, tau2), True
        else:
            hi = min(hi, tau2)
        bracketed = lo_known and hi < math.inf
        fisher_step = _divide(s, max(observed, expected))
        rho = _divide(fisher_step, prev_step)
        steady = 0.0 < rho < 1.0 and abs(rho - prev_rho) < 0.05
        if steady:
            geometric, newton_step = fisher_step / (1.0 - rho), _divide(s, observed)
            longer = newton_step if abs(newton_step) > abs(geometric) else geometric
            extrapolated = tau2 + EXTRAPOLATION * longer
        else:
            extrapolated = -1.0
        halve = tau2 > 0 and tau2 + fisher_step < 0 and halvings < MAX_HALVINGS
        if bracketed:
            first = max(0.0, tau2 + _divide(s, observed))
        elif steady and extrapolated > 0:
            first, fisher_step = extrapolated, math.nan
        elif halve:
            first = float(_halved(np.array([tau2]), np.array([fisher_step]))[0])
        else:
            first = max(0.0, tau2 + fisher_step)
        halvings += not bracketed and halve
        prev_step, prev_rho = fisher_step, rho
        fisher = max(0.0, tau2 + _divide(s, expected))
        new = next(
            (
                c
                for c in (first, fisher)
                if (c < hi if pos else c > lo or (c == 0 and not lo_known))
            ),
            0.5 * (lo + hi) if hi < math.inf else fisher,
        )
        done = abs(new - tau2) <= tol * max(1.0, new) * (1.0 if bracketed else 0.01)
        tau2 = new
        if done:
            return np.array([tau2]), np.array([n_iter]), np.array([True])
    out, iters, active = np.array([tau2]), np.array([n_iter]), np.array([True])
    _finish_by_bisection(cols, method, out, np.array([lo]), active, iters, tol)
    return out, iters, ~active


def _divide(a: float, b: float) -> float:
    """``a / b`` with NumPy's rules (inf or NaN, no exception) for a zero or NaN ``b``."""
    return (
        float(np.float64(a) / np.float64(b))
        if b != 0.0
        else math.copysign(math.inf, a)
        if a
        else math.nan
    )


#: Fisher steps that contract steadily are extrapolated this far (as a multiple of the
#: estimated distance to the root), so that the step lands just beyond it and brackets it.
EXTRAPOLATION = 1.05

#: Steps that would cross 0 before the root is bracketed are halved, as metafor does, at most
#: this many times (tau^2 shrinks at least 2^8-fold); only then may a step end at exactly 0.
MAX_HALVINGS = 8


def _halved(t: FloatArray, step: FloatArray) -> FloatArray:
    """``t + step / 2^m`` with the least m >= 0 that keeps it at or above 0 (metafor's rule).

    A step that crosses 0 at once could pass over an interior maximum of the likelihood,
    while the score at 0 says only that 0 is a local maximum.
    """
    ratio = np.where(t > 0, -step / np.where(t > 0, t, 1.0), 1.0)
    m = np.ceil(np.log2(np.maximum(ratio, 1.0)))
    return np.asarray(np.maximum(0.0, t + step / 2.0**m), dtype=np.float64)


def _inside(
    c: FloatArray, pos: np.ndarray, lo: FloatArray, hi: FloatArray, lo_known: np.ndarray
) -> np.ndarray:
    """Whether a step to ``c`` stays strictly inside the bracket in its direction."""
    return np.where(pos, c < hi, (c > lo) | ((c == 0.0) & ~lo_known))


def _finish_by_bisection(
    cols: Columns,
    method: str,
    tau2: FloatArray,
    lo: FloatArray,
    active: np.ndarray,
    n_iter: np.ndarray,
    tol: float,
) -> None:
    """Solve the still-active columns by bisection, updating the arrays in place."""
    idx = np.flatnonzero(active)
    score = score_fn(cols.take(idx), method)
    s0 = score(np.zeros(idx.size))[0]
    root = _bracketed(score, lo[idx], tau2[idx], tol)
    tau2[idx] = np.where(s0 > 0, root, 0.0)
    s, observed, _ = score(tau2[idx])
    at_root = (np.abs(s / observed) <= 10 * tol * np.maximum(1.0, tau2[idx])) | (tau2[idx] == 0)
    n_iter[idx] += 400
    active[idx] = ~at_root


def tau2_iterative(cols: Columns, method: str, tol: float, maxiter: int) -> Tau2Fit:
    """ML, REML, EB (Newton from the HE estimate, as metafor's start), PM and PMM (from 0)."""
    from_zero = method in ("PM", "PMM")
    start = np.zeros(cols.y.shape[1]) if from_zero else np.maximum(0.0, _he_raw(cols))
    return Tau2Fit(*newton_scoring(cols, method, start, tol, maxiter))


def estimate_tau2(
    cols: Columns, method: str, tol: float, maxiter: int, fit0: WeightedFit | None = None
) -> Tau2Fit:
    """Dispatch on metafor's method code; ``fit0`` is the fit with ``w = 1/v`` if known."""
    if method in ("EE", "FE"):
        return _closed(np.zeros(cols.y.shape[1]))
    if method in ("DL", "HS", "HSk"):
        fit0 = fit_at(cols, 0.0) if fit0 is None else fit0
        if method == "DL":
            return tau2_dl(cols, fit0)
        return tau2_hs(cols, fit0, k_correction=method == "HSk")
    if method == "HE":
        return tau2_he(cols)
    if method == "SJ":
        return tau2_sj(cols)
    if method == "SJIT":
        return tau2_sjit(cols, tol, maxiter)
    if method == "DLIT":
        return tau2_dlit(cols, tol, maxiter)
    return tau2_iterative(cols, method, tol, maxiter)
