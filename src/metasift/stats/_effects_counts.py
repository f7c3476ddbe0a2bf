"""Kernels for effect sizes from counts (2x2 tables, single proportions) and correlations.

Arrays have shape ``(k,)`` or ``(k, d)`` with studies along axis 0; inputs are assumed valid
(checked in :mod:`metasift.stats.effects`). A missing count (NaN) gives NaN for that study.
Zero cells follow metafor 3.8-1's ``escalc`` rules for ``add``, ``to`` and ``drop00``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Allowed values of ``to``: which studies receive the continuity correction ``add``.
TO_OPTIONS: Final = ("only0", "all", "if0all", "none")


def _add_mask(has_zero: BoolArray, to: str) -> BoolArray:
    """Studies that receive ``add``: those with a zero, all, all if any zero, or none."""
    if to == "all":
        return np.ones_like(has_zero)
    if to == "if0all":
        return np.broadcast_to(np.any(has_zero, axis=0, keepdims=True), has_zero.shape).copy()
    if to == "none":
        return np.zeros_like(has_zero)
    return has_zero


def two_by_two(
    ai: FloatArray,
    bi: FloatArray,
    ci: FloatArray,
    di: FloatArray,
    measure: str,
    add: float,
    to: str,
    drop00: bool,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Log odds ratio, log risk ratio or risk difference of 2x2 tables.

    Returns ``(yi, vi, adjusted)``, where ``adjusted`` marks the studies whose four cells
    received ``add``. With ``drop00`` a study with no events (``ai = ci = 0``) or only events
    (``bi = di = 0``) in both groups gives NaN.
    """
    if drop00:
        both = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
        ai, bi, ci, di = (np.where(both, np.nan, x) for x in (ai, bi, ci, di))
    has_zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    adjusted = _add_mask(has_zero, to)
    a, b, c, d = (np.where(adjusted, x + add, x) for x in (ai, bi, ci, di))
    n1, n2 = a + b, c + d
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = a / n1, c / n2
        if measure == "OR":
            yi = np.log(p1 / (1.0 - p1)) - np.log(p2 / (1.0 - p2))
            vi = 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2
        else:  # RD
            yi = p1 - p2
            vi = p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2
    adjusted = adjusted & ~np.isnan(a + b + c + d) & (add != 0)
    return np.asarray(yi, np.float64), np.asarray(vi, np.float64), adjusted


def proportion(
    xi: FloatArray,
    ni: FloatArray,
    measure: str,
    add: float,
    to: str,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Raw proportion (PR), logit (PLO) or Freeman-Tukey double arcsine (PFT) of ``xi / ni``.

    Returns ``(yi, vi, adjusted)``; ``adjusted`` marks studies where ``add`` was added to the
    events and to the non-events (so ``ni`` grows by ``2 * add``).
    """
    mi = ni - xi
    adjusted = _add_mask((xi == 0) | (mi == 0), to)
    x = np.where(adjusted, xi + add, xi)
    m = np.where(adjusted, mi + add, mi)
    n = x + m
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        if measure == "PR":
            yi, vi = p, p * (1.0 - p) / n
        elif measure == "PLO":
            yi, vi = np.log(p / (1.0 - p)), 1.0 / x + 1.0 / m
        else:  # PFT
            yi = 0.5 * (
                np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0)))
            )
            vi = 1.0 / (4.0 * n + 2.0)
    adjusted = adjusted & ~np.isnan(n) & (add != 0)
    return np.asarray(yi, np.float64), np.asarray(vi, np.float64), adjusted


def correlation(ri: FloatArray, ni: FloatArray, measure: str) -> tuple[FloatArray, FloatArray]:
    """Raw correlation (COR) or Fisher's z (ZCOR) with its large-sample variance.

    The variance is NaN where ``ni <= 3``, as in metafor 3.8-1 (for ZCOR ``1/(ni - 3)``
    is not a variance there, and metafor applies the same cut to COR).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "ZCOR":
            yi = np.arctanh(ri)
            vi = 1.0 / (ni - 3.0)
        else:  # COR
            yi = ri.copy()
            vi = (1.0 - ri**2) ** 2 / (ni - 1.0)
    vi = np.where(ni <= 3.0, np.nan, vi)
    return np.asarray(yi, np.float64), np.asarray(vi, np.float64)
