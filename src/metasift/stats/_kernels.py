"""Vectorised building blocks of the random-effects model without moderators.

Every function works on ``(k, d)`` arrays: ``k`` studies, ``d`` independent meta-analyses.
A study missing from a column is carried by a zero in the mask ``m``; its ``y`` is stored
as 0 and its ``v`` as 1 so that no NaN enters a sum.

For weights ``w`` and the intercept-only design, the projection matrix of metafor,
``P = W - W X (X'WX)^{-1} X'W``, is ``P = W - w w' / sum(w)``. Its traces have closed forms,
which replace the k-by-k matrices metafor builds (derivation in docs/validation.md):

- ``tr(P)    = S1 - S2/S1``
- ``tr(PP)   = S2 - 2 S3/S1 + S2^2/S1^2``
- ``tr(PV)   = sum(w v) - sum(w^2 v)/S1``
- ``tr(PVPV) = sum(w^2 v^2) - 2 sum(w^3 v^2)/S1 + (sum(w^2 v))^2/S1^2``
- ``tr(PVP)  = sum(w^2 v) - 2 sum(w^3 v)/S1 + S2 sum(w^2 v)/S1^2``

with ``Sj = sum(w^j)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Columns:
    """Studies of ``d`` meta-analyses, stored column-wise with a mask."""

    y: FloatArray  # (k, d) effect sizes, 0 where missing
    v: FloatArray  # (k, d) sampling variances, 1 where missing
    m: FloatArray  # (k, d) 1.0 where the study is present, else 0.0; (1, d) ones if complete
    k: FloatArray  # (d,) number of studies per column
    complete: bool = False  # no study missing anywhere: the mask can be skipped

    @classmethod
    def from_arrays(cls, yi: FloatArray, vi: FloatArray) -> Columns:
        """Build from ``(k, d)`` arrays in which NaN marks a missing study."""
        if np.isfinite(yi).all() and np.isfinite(vi).all():
            k, d = yi.shape
            return cls(y=yi, v=vi, m=np.ones((1, d)), k=np.full(d, float(k)), complete=True)
        present = np.isfinite(yi) & np.isfinite(vi)
        m = present.astype(np.float64)
        y = np.where(present, yi, 0.0)
        v = np.where(present, vi, 1.0)
        return cls(y=y, v=v, m=m, k=m.sum(axis=0))

    def unit_weights(self) -> FloatArray:
        """Weights of 1 for every study present (unweighted fits)."""
        return np.array(np.broadcast_to(self.m, self.y.shape), dtype=np.float64)

    def take(self, idx: NDArray[np.intp]) -> Columns:
        """The columns ``idx`` only (a copy); the whole object when ``idx`` covers all."""
        if idx.size == self.k.shape[0]:
            return self
        return Columns(
            y=self.y[:, idx],
            v=self.v[:, idx],
            m=self.m[:, idx],
            k=self.k[idx],
            complete=self.complete,
        )


@dataclass
class WeightedFit:
    """Weighted mean and residual sums for weights ``w`` (one value per column).

    ``s2`` and ``q2`` are computed when first asked for: most fits need neither.
    """

    w: FloatArray  # (k, d)
    s1: FloatArray  # sum(w)
    mu: FloatArray  # sum(w y) / sum(w)
    r: FloatArray  # (k, d) residuals y - mu, 0 where missing
    wr: FloatArray  # (k, d) w * r
    q: FloatArray  # sum(w r^2): the generalised Q statistic

    @cached_property
    def s2(self) -> FloatArray:
        """sum(w^2)."""
        return np.asarray(np.einsum("k...,k...->...", self.w, self.w), dtype=np.float64)

    @cached_property
    def q2(self) -> FloatArray:
        """sum(w^2 r^2) = y'PPy."""
        return np.asarray(np.einsum("k...,k...->...", self.wr, self.wr), dtype=np.float64)

    @property
    def tr_p(self) -> FloatArray:
        return np.asarray(self.s1 - self.s2 / self.s1, dtype=np.float64)

    def tr_pp(self) -> FloatArray:
        s3 = np.sum(self.w * self.w * self.w, axis=0)
        return np.asarray(self.s2 - 2.0 * s3 / self.s1 + (self.s2 / self.s1) ** 2, np.float64)


def weights(cols: Columns, tau2: FloatArray | float) -> FloatArray:
    """Inverse-variance weights ``1 / (v + tau2)``, 0 for missing studies."""
    if cols.complete:
        return np.asarray(1.0 / (cols.v + tau2), dtype=np.float64)
    return cols.m / (cols.v + tau2)


def weighted_fit(cols: Columns, w: FloatArray) -> WeightedFit:
    """Weighted mean of each column and the quadratic forms of its residuals."""
    s1 = w.sum(axis=0)
    mu = np.einsum("k...,k...->...", w, cols.y) / s1
    r = cols.y - mu if cols.complete else (cols.y - mu) * cols.m
    wr = w * r
    return WeightedFit(w=w, s1=s1, mu=mu, r=r, wr=wr, q=np.einsum("k...,k...->...", wr, r))


def fit_at(cols: Columns, tau2: FloatArray | float) -> WeightedFit:
    """Weighted fit with weights ``1 / (v + tau2)``."""
    return weighted_fit(cols, weights(cols, tau2))


def v_traces(fit: WeightedFit, v: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``tr(PV)``, ``tr(PVPV)`` and ``tr(PVP)`` for the weights of ``fit``."""
    w, s1, s2 = fit.w, fit.s1, fit.s2
    w2v = np.sum(w * w * v, axis=0)
    tr_pv = np.sum(w * v, axis=0) - w2v / s1
    w3v = w * w * w * v
    tr_pvpv = np.sum((w * v) ** 2, axis=0) - 2.0 * np.sum(w3v * v, axis=0) / s1 + (w2v / s1) ** 2
    tr_pvp = w2v - 2.0 * np.sum(w3v, axis=0) / s1 + s2 * w2v / s1**2
    return tr_pv, tr_pvpv, tr_pvp


def typical_variance(cols: Columns, fit0: WeightedFit | None = None) -> FloatArray:
    """Higgins-Thompson typical within-study variance ``(k-1) S1 / (S1^2 - S2)``, w = 1/v.

    ``fit0``, the weighted fit with ``w = 1/v``, saves recomputing the sums.
    """
    if fit0 is None:
        fit0 = fit_at(cols, 0.0)
    s1, s2 = fit0.s1, fit0.s2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((cols.k - 1.0) * s1 / (s1 * s1 - s2), dtype=np.float64)


def log_det(cols: Columns, fit: WeightedFit) -> FloatArray:
    """``sum(log(v + tau2))`` over the studies present, from the weights ``1/(v + tau2)``."""
    w = fit.w if cols.complete else np.where(cols.m > 0, fit.w, 1.0)
    return np.asarray(-np.sum(np.log(w), axis=0), dtype=np.float64)


def loglik(
    cols: Columns,
    tau2: FloatArray,
    fit: WeightedFit,
    *,
    reml: bool,
    logdet: FloatArray | None = None,
) -> FloatArray:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at ``tau2``.

    Matches metafor's ``logLik``: the REML version includes ``+ log det(X'X) / 2``,
    which is ``log(k) / 2`` for the intercept-only model. ``fit`` must have the weights
    ``1/(v + tau2)``; ``logdet`` is :func:`log_det` of it when already known.
    """
    log_det_v = log_det(cols, fit) if logdet is None else logdet
    if reml:
        return np.asarray(
            -0.5 * (cols.k - 1.0) * LOG_2PI
            + 0.5 * np.log(cols.k)
            - 0.5 * log_det_v
            - 0.5 * np.log(fit.s1)
            - 0.5 * fit.q,
            dtype=np.float64,
        )
    return np.asarray(-0.5 * cols.k * LOG_2PI - 0.5 * log_det_v - 0.5 * fit.q, dtype=np.float64)
