"""Weighted least squares and the tau^2 estimators of the mixed-effects meta-regression model.

metafor's ``rma.uni`` writes every quantity with the k-by-k matrix
``P = W - W X (X'WX)^{-1} X'W``. Here ``P = W^{1/2} (I - H) W^{1/2}`` with ``H = QQ'`` and
``Q`` the orthonormal factor of the thin QR decomposition of ``W^{1/2} X``, so that every
quadratic form and trace costs O(k p^2) and no k-by-k matrix is built:

- ``y'Py = sum(w e^2)`` with ``e`` the weighted least-squares residuals,
- ``tr(P) = sum(w (1 - h))`` with ``h = diag(H)`` the leverages,
- ``tr((I-H) A (I-H) B) = sum(a b (1 - 2h)) + sum((Q'AQ) * (Q'BQ))`` for diagonal ``A, B``,

from which ``tr(PP)``, ``tr(PV)``, ``tr(PVPV)`` and ``tr(PVP)`` follow with ``A, B`` among
``W`` and ``WV`` (docs/validation.md). The QR route also avoids forming ``X'WX``, whose
condition number is the square of that of ``W^{1/2} X``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import linalg, special

from metasift.stats._kernels import LOG_2PI, FloatArray

#: (score, observed information, expected information) of an estimating equation in tau^2;
#: the score is positive below the root.
Score = Callable[[float], tuple[float, float, float]]


@dataclass
class WLS:
    """Weighted least-squares fit of ``y`` on ``X`` with weights ``w``."""

    x: FloatArray  # (k, p) design
    w: FloatArray  # (k,) weights
    q: FloatArray  # (k, p) orthonormal basis of W^{1/2} X
    r: FloatArray  # (p, p) upper triangular factor
    beta: FloatArray  # (p,) coefficients
    e: FloatArray  # (k,) residuals y - X beta

    @cached_property
    def h(self) -> FloatArray:
        """Leverages, the diagonal of ``H = QQ'``."""
        return np.asarray(np.einsum("kp,kp->k", self.q, self.q), dtype=np.float64)

    @property
    def rss(self) -> float:
        """``y'Py = sum(w e^2)``, the generalised Q statistic."""
        return float(np.sum(self.w * self.e * self.e))

    @property
    def tr_p(self) -> float:
        return float(np.sum(self.w * (1.0 - self.h)))

    def cross(self, a: FloatArray, b: FloatArray) -> float:
        """``tr((I-H) A (I-H) B)`` for diagonal matrices ``A = diag(a)``, ``B = diag(b)``."""
        qa = np.einsum("kp,k,kq->pq", self.q, a, self.q)
        qb = qa if b is a else np.einsum("kp,k,kq->pq", self.q, b, self.q)
        return float(np.sum(a * b * (1.0 - 2.0 * self.h)) + np.sum(qa * qb))

    def tr_pp(self) -> float:
        return self.cross(self.w, self.w)

    def y_ppy(self) -> float:
        """``y'PPy = sum((w e)^2)``."""
        return float(np.sum((self.w * self.e) ** 2))

    def y_pppy(self) -> float:
        """``y'PPPy = u'(I-H)u`` with ``u = W^{1/2} P y``."""
        u = np.sqrt(self.w) * self.w * self.e
        return float(u @ u - np.sum((self.q.T @ u) ** 2))

    def vcov(self) -> FloatArray:
        """``(X'WX)^{-1} = R^{-1} R^{-T}``."""
        r_inv = linalg.solve_triangular(self.r, np.eye(self.r.shape[0]))
        return np.asarray(r_inv @ r_inv.T, dtype=np.float64)

    def log_det_xwx(self) -> float:
        """``log det(X'WX) = 2 sum(log |diag(R)|)``."""
        return float(2.0 * np.sum(np.log(np.abs(np.diag(self.r)))))


def wls(y: FloatArray, x: FloatArray, w: FloatArray) -> WLS:
    """Fit by the thin QR decomposition of ``W^{1/2} X``; residuals from ``(I - QQ') W^{1/2} y``."""
    sw = np.sqrt(w)
    q, r = np.linalg.qr(sw[:, None] * x)
    z = sw * y
    qz = q.T @ z
    beta = linalg.solve_triangular(r, qz)
    e = (z - q @ qz) / sw
    return WLS(x=x, w=w, q=q, r=r, beta=np.asarray(beta, dtype=np.float64), e=e)


def fit_at(y: FloatArray, v: FloatArray, x: FloatArray, tau2: float) -> WLS:
    """Weighted fit with weights ``1 / (v + tau2)``."""
    return wls(y, x, 1.0 / (v + tau2))


@dataclass(frozen=True)
class Tau2Estimate:
    """A tau^2 estimate with its diagnostics."""

    tau2: float
    n_iter: int = 0
    converged: bool = True


def _he_raw(y: FloatArray, v: FloatArray, x: FloatArray) -> float:
    """Hedges' estimate from ordinary least-squares residuals, not truncated at 0."""
    k, p = x.shape
    fit = wls(y, x, np.ones_like(v))
    return float((fit.rss - np.sum(v * (1.0 - fit.h))) / (k - p))


def _sj_start(y: FloatArray) -> float:
    """metafor's Sidik-Jonkman start: the variance of the y's with divisor k (X not used)."""
    return float(np.var(y))


def closed_form(y: FloatArray, v: FloatArray, x: FloatArray, method: str) -> float:
    """The closed-form estimators EE/FE, DL, HS, HSk, HE and SJ, truncated at 0."""
    k, p = x.shape
    if method in ("EE", "FE"):
        return 0.0
    if method == "HE":
        return max(0.0, _he_raw(y, v, x))
    if method == "SJ":
        tau0 = _sj_start(y)
        return max(0.0, float(tau0 * fit_at(y, v, x, tau0).rss / (k - p)))
    fit0 = fit_at(y, v, x, 0.0)
    s1 = float(np.sum(fit0.w))
    if method == "DL":
        return max(0.0, float((fit0.rss - (k - p)) / fit0.tr_p))
    if method == "HS":
        return max(0.0, float((fit0.rss - k) / s1))
    return max(0.0, float((k / (k - p) * fit0.rss - k) / s1))  # HSk


def score_fn(y: FloatArray, v: FloatArray, x: FloatArray, method: str) -> Score:
    """Score and information of the ML, REML, EB, PM and PMM estimating equations.

    ML: ``y'PPy - tr(W)``; REML: ``y'PPy - tr(P)``; EB: ``y'Py k/(k-p) - k``; PM and PMM:
    ``y'Py - target`` with target ``k - p`` or the median of chi^2 on k-p df. The observed
    information is the negative derivative in tau^2 (``dP/dtau2 = -PP``); the expected one
    is that of metafor's Fisher scoring (``tr(W^2)``, ``tr(PP)``, ``tr(W)``).
    """
    k, p = x.shape
    target = float(special.chdtri(k - p, 0.5)) if method == "PMM" else float(k - p)

    def score(tau2: float) -> tuple[float, float, float]:
        fit = fit_at(y, v, x, tau2)
        if method in ("PM", "PMM"):
            q2 = fit.y_ppy()
            return fit.rss - target, q2, q2
        if method == "EB":
            return fit.rss * k / (k - p) - k, fit.y_ppy() * k / (k - p), float(np.sum(fit.w))
        if method == "REML":
            expected = fit.tr_pp()
            value = fit.y_ppy() - fit.tr_p
        else:
            expected = float(np.sum(fit.w**2))
            value = fit.y_ppy() - float(np.sum(fit.w))
        return value, 2.0 * fit.y_pppy() - expected, expected

    return score


def _inside(c: float, up: bool, lo: float, hi: float, lo_known: bool) -> bool:
    """Whether a step to ``c`` stays strictly inside the bracket in its direction."""
    return c < hi if up else (c > lo or (c == 0.0 and not lo_known))


def safeguarded_newton(
    score: Score,
    start: float,
    tol: float,
    maxiter: int,
    bracket: tuple[float, float] | None = None,
) -> Tau2Estimate:
    """Root of ``score`` on ``tau2 >= 0`` by Newton steps kept inside a bracket.

    ``lo`` is the largest tau^2 seen with a positive score, ``hi`` the smallest with a score
    that is not positive (``bracket`` gives known ones). The Newton step (observed
    information) is taken when it stays in the bracket, else the Fisher-scoring step
    (expected information), else the midpoint, so the iteration cannot cycle and ends in
    bisection at worst. A score that is not positive at 0 gives the boundary estimate 0.
    Converged when a step changes tau^2 by at most ``tol * max(1, tau2)``.
    """
    lo, hi, lo_known = 0.0, np.inf, False
    if bracket is not None:
        (lo, hi), lo_known = bracket, True
    t = max(0.0, start)
    for it in range(1, maxiter + 1):
        s, observed, expected = score(t)
        up = s > 0
        if up:
            lo, lo_known = max(lo, t), True
        else:
            hi = min(hi, t)
            if t == 0.0:
                return Tau2Estimate(0.0, it, True)
        info = observed if observed > 0 else expected
        newton = max(0.0, t + s / info)
        fisher = max(0.0, t + s / expected)
        if _inside(newton, up, lo, hi, lo_known):
            new = newton
        elif _inside(fisher, up, lo, hi, lo_known):
            new = fisher
        else:
            new = 0.5 * (lo + hi) if np.isfinite(hi) else fisher
        if not np.isfinite(new):
            return Tau2Estimate(t, it, False)
        if abs(new - t) <= tol * max(1.0, new):
            return Tau2Estimate(new, it, True)
        t = new
    return Tau2Estimate(t, maxiter, False)


#: Points of the scan for the maxima of the (restricted) likelihood, geometric over
#: eight orders of magnitude below the upper end.
SCAN_POINTS = 48
#: metafor's default convergence threshold of Fisher scoring: the basin it stops in
#: decides which root of a multimodal likelihood is reported.
FISHER_THRESHOLD = 1e-5


def fisher_path(score: Score, start: float, maxiter: int) -> tuple[float, int]:
    """metafor's Fisher scoring from ``start`` with step halving at 0, to its threshold.

    Returns where it stops and the number of steps.
    """
    t = start
    for it in range(1, maxiter + 1):
        s, _, expected = score(t)
        adj = s / expected
        if t == 0.0 and adj < 0:
            return 0.0, it
        while t + adj < 0:
            adj /= 2.0
        t += adj
        if not np.isfinite(t) or abs(adj) < FISHER_THRESHOLD:
            return t, it
    return t, maxiter


def _polish(score: Score, t: float, tol: float, maxiter: int) -> Tau2Estimate:
    """The root next to ``t``: bracket it by steps doubling away from ``t``, then Newton."""
    step = max(1e-3 * t, 1e-8)
    if score(t)[0] > 0:
        lo, hi = t, t + step
        for _ in range(200):
            if score(hi)[0] <= 0:
                break
            lo, step = hi, 2.0 * step
            hi = t + step
    else:
        lo, hi = max(0.0, t - step), t
        while lo > 0 and score(lo)[0] <= 0:
            hi, step = lo, 2.0 * step
            lo = max(0.0, t - step)
        if lo == 0.0 and score(0.0)[0] <= 0:
            return Tau2Estimate(0.0, 1, True)
    return safeguarded_newton(score, min(max(t, lo), hi), tol, maxiter, (lo, hi))


def _scan_top(score: Score, guess: float) -> float:
    """An upper end of the scan beyond which the score is negative (found by doubling)."""
    top = guess
    for _ in range(60):
        if score(top)[0] <= 0:
            break
        top *= 2.0
    return top


def likelihood_maxima(score: Score, scale: float, tol: float, maxiter: int) -> list[Tau2Estimate]:
    """Every maximum of the (restricted) likelihood on ``tau2 >= 0`` found by a scan.

    The score is evaluated on 0 and a geometric grid up to where it is negative; each
    sign change from + to - brackets a local maximum, refined by Newton steps; 0 is one
    when the score is not positive there.
    """
    top = _scan_top(score, 10.0 * scale)
    grid = np.concatenate([[0.0], np.geomspace(top * 1e-8, top, SCAN_POINTS)])
    signs = [score(float(t))[0] > 0 for t in grid]
    found = [] if signs[0] else [Tau2Estimate(0.0)]
    for j in range(len(grid) - 1):
        if signs[j] and not signs[j + 1]:
            lo, hi = float(grid[j]), float(grid[j + 1])
            est = safeguarded_newton(score, 0.5 * (lo + hi), tol, maxiter, (lo, hi))
            found += [est] if est.converged else []
    return found


def maximise_likelihood(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str, tol: float, maxiter: int
) -> tuple[Tau2Estimate, bool, float | None]:
    """The ML or REML estimate as metafor reaches it, checked against a scan.

    metafor runs Fisher scoring from the HE estimate until a step is below 1e-5 and then
    sets tau^2 to 0 if the likelihood is higher there (``ll0check``). The same path is
    followed here, the root it stops next to is solved to ``tol`` by safeguarded Newton
    steps, and 0 replaces it when the likelihood is higher at 0. The likelihood need not
    be concave in tau^2, so every maximum is also located by :func:`likelihood_maxima`.
    Returns the estimate, whether 0 replaced a root, and a higher maximum elsewhere if
    the scan found one (else None).
    """
    score = score_fn(y, v, x, method)
    reml = method == "REML"

    def ll(t: float) -> float:
        return loglik(v, fit_at(y, v, x, t), t, reml=reml)

    start = max(0.0, _he_raw(y, v, x))
    path_end, path_steps = fisher_path(score, start, maxiter)
    est = _polish(score, path_end, tol, maxiter)
    est = Tau2Estimate(est.tau2, est.n_iter + path_steps, est.converged)
    to_zero = est.converged and est.tau2 > 0 and ll(0.0) > ll(est.tau2)
    if to_zero:
        est = Tau2Estimate(0.0, est.n_iter, True)
    scale = max(start, est.tau2, float(np.var(y)), float(np.max(v)))
    other = [
        m
        for m in likelihood_maxima(score, scale, tol, maxiter)
        if abs(m.tau2 - est.tau2) > 1e3 * tol * max(1.0, est.tau2)
    ]
    ll_est = ll(est.tau2)
    higher = [m.tau2 for m in other if ll(m.tau2) > ll_est + 1e-9 * max(1.0, abs(ll_est))]
    best = max(higher, key=ll) if higher else None
    return est, to_zero, best


def fixed_point(
    update: Callable[[float], float], start: float, tol: float, maxiter: int
) -> Tau2Estimate:
    """Iterate ``tau2 <- update(tau2)`` until a step is at most ``tol * max(1, tau2)``."""
    t = start
    for it in range(1, maxiter + 1):
        new = update(t)
        if not np.isfinite(new):
            return Tau2Estimate(t, it, False)
        if abs(new - t) <= tol * max(1.0, new):
            return Tau2Estimate(new, it, True)
        t = new
    return Tau2Estimate(t, maxiter, False)


def iterative(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str, tol: float, maxiter: int
) -> Tau2Estimate:
    """EB (from the HE estimate, as metafor), PM, PMM (from 0), SJIT and DLIT.

    The score equations of EB, PM and PMM decrease in tau^2 (Q does), so their root is
    unique; ML and REML go through :func:`maximise_likelihood`.
    """
    k, p = x.shape
    if method == "SJIT":

        def sj_update(t: float) -> float:
            return float(t * fit_at(y, v, x, t).rss / (k - p))

        est = fixed_point(sj_update, _sj_start(y), tol, maxiter)
        return Tau2Estimate(max(0.0, est.tau2), est.n_iter, est.converged)
    if method == "DLIT":

        def dl_update(t: float) -> float:
            fit = fit_at(y, v, x, t)
            return max(0.0, (fit.rss - float(np.sum(fit.w * v * (1.0 - fit.h)))) / fit.tr_p)

        return fixed_point(dl_update, 0.0, tol, maxiter)
    start = 0.0 if method in ("PM", "PMM") else max(0.0, _he_raw(y, v, x))
    return safeguarded_newton(score_fn(y, v, x, method), start, tol, maxiter)


def tau2_se(y: FloatArray, v: FloatArray, x: FloatArray, method: str, tau2: float) -> float:
    """Standard error of the tau^2 estimate, by metafor's formula for each estimator.

    Moment estimators: the variance of their quadratic form (metafor's notes, with k-p
    in place of k-1); ML and REML: the Fisher information; EB, PM, PMM, DLIT and SJIT:
    ``sqrt(2 k^2 / (k-p)) / sum(w)``; NaN for equal-effects models.
    """
    k, p = x.shape
    df = k - p
    if method in ("DL", "HS", "HSk"):
        fit0 = fit_at(y, v, x, 0.0)
        trp = fit0.tr_p
        quad = 2.0 * df + 4.0 * tau2 * trp + 2.0 * tau2**2 * fit0.tr_pp()
        if method == "DL":
            return float(np.sqrt(quad) / trp)
        se = float(np.sqrt(quad) / np.sum(fit0.w))
        return se * k / df if method == "HSk" else se
    if method == "HE":
        ols = wls(y, x, np.ones_like(v))
        quad = 2.0 * ols.cross(v, v) + 4.0 * tau2 * float(np.sum(v * (1.0 - ols.h)))
        return float(np.sqrt(quad + 2.0 * tau2**2 * df) / df)
    if method == "SJ":
        tau0 = _sj_start(y)
        f = fit_at(y, v, x, tau0)
        wv = f.w * v
        quad = 2.0 * f.cross(wv, wv) + 4.0 * tau2 * f.cross(wv, f.w) + 2.0 * tau2**2 * f.tr_pp()
        return float(tau0 / df * np.sqrt(quad))
    fit = fit_at(y, v, x, tau2)
    if method == "REML":
        return float(np.sqrt(2.0 / fit.tr_pp()))
    if method == "ML":
        return float(np.sqrt(2.0 / np.sum(fit.w**2)))
    if method in ("EB", "PM", "PMM", "DLIT", "SJIT"):
        return float(np.sqrt(2.0 * k**2 / df) / np.sum(fit.w))
    return float("nan")


def loglik(v: FloatArray, fit: WLS, tau2: float, *, reml: bool, log_det_xx: float = 0.0) -> float:
    """metafor's log-likelihood (ML) or restricted log-likelihood (REML) at ``tau2``.

    The REML version includes ``+ log det(X'X) / 2`` (metafor's ``REMLf = TRUE``); pass
    ``log_det_xx``. ``fit`` must have the weights ``1 / (v + tau2)``.
    """
    k, p = fit.x.shape
    log_det_v = float(np.sum(np.log(v + tau2)))
    if not reml:
        return float(-0.5 * k * LOG_2PI - 0.5 * log_det_v - 0.5 * fit.rss)
    return float(
        -0.5 * (k - p) * LOG_2PI
        + 0.5 * log_det_xx
        - 0.5 * log_det_v
        - 0.5 * fit.log_det_xwx()
        - 0.5 * fit.rss
    )


def estimate_tau2(
    y: FloatArray, v: FloatArray, x: FloatArray, method: str, tol: float, maxiter: int
) -> tuple[Tau2Estimate, bool, float | None]:
    """Dispatch on metafor's method code.

    Returns the estimate; for ML/REML also whether 0 replaced the root because the
    (restricted) likelihood is higher there (metafor's ``ll0check``) and a tau^2 where
    the likelihood has a higher maximum, if any (see :func:`maximise_likelihood`).
    """
    if method in ("EE", "FE", "DL", "HS", "HSk", "HE", "SJ"):
        return Tau2Estimate(closed_form(y, v, x, method)), False, None
    if method in ("ML", "REML"):
        return maximise_likelihood(y, v, x, method, tol, maxiter)
    return iterative(y, v, x, method, tol, maxiter), False, None
