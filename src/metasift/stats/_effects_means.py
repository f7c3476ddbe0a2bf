"""Kernels for effect sizes of two groups' means: SMD (Hedges' g, Cohen's d), MD and ROM.

Every function takes arrays of shape ``(k,)`` or ``(k, d)`` (``k`` studies along axis 0) and
returns arrays of the same shape. Inputs are assumed valid (checked at the public boundary in
:mod:`metasift.stats.effects`); a missing value (NaN) gives NaN for that study.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]

#: Variance types of the standardized mean difference. "RM5" is RevMan 5's variance.
SMD_VTYPES: Final = ("LS", "LS2", "UB", "AV", "RM5")
#: Small-sample corrections of the standardized mean difference (None = Cohen's d).
SMD_CORRECTIONS: Final = ("exact", "approx", None)


#: Below this m, J is the plain gamma ratio; from it on, the asymptotic series (below).
_J_SERIES_FROM: Final = 50.0


def _log_j_series(m: FloatArray) -> FloatArray:
    """``log J(m)`` from the asymptotic expansion of ``log Γ(x + 1/2) - log Γ(x)``.

    With ``x = (m - 1)/2``, ``log Γ(x + 1/2) - log Γ(x) = log(x)/2 + Σ_k c_k / x^k`` where
    ``c_k = (-1)^(k+1) (B_{k+1}(1/2) - B_{k+1}(0)) / (k (k+1))`` (Bernoulli polynomials; the
    even-order terms vanish). The first omitted term is below ``0.004 x^-11``, under 1e-18 for
    ``m >= 50``.
    """
    x = (m - 1.0) / 2.0
    s = -1.0 / (8.0 * x) + 1.0 / (192.0 * x**3) - 1.0 / (640.0 * x**5)
    s = s + 17.0 / (14336.0 * x**7) - 31.0 / (18432.0 * x**9)
    return np.asarray(s - 0.5 * np.log1p(1.0 / (2.0 * x)), dtype=np.float64)


def j_exact(m: npt.ArrayLike) -> FloatArray:
    """Hedges' exact bias-correction factor ``J(m)`` for ``m`` degrees of freedom.

    ``J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2))`` (Hedges 1981, eq. 6e); NaN where ``m <= 1``,
    where the factor is undefined (as metafor's ``.cmicalc``).

    Notes
    -----
    For ``m < 50`` the gamma functions are evaluated directly. For larger ``m`` the ratio
    comes from its asymptotic series (see ``_log_j_series``): the textbook form
    ``exp(lgamma(m/2) - log(sqrt(m/2)) - lgamma((m-1)/2))`` subtracts two nearly equal large
    numbers, so its relative error grows to about 3e-10 at ``m = 1e6`` and it returns 1.28 at
    ``m = 1e14``; the ratio from SciPy's ``poch`` or ``beta`` has relative errors of 1e-11 to
    1e-10 for ``m`` between 1e4 and 1e6 (enough to make J decrease between neighbouring
    ``m``). The series is accurate to rounding for every ``m >= 50``.

    Examples
    --------
    >>> float(j_exact(10))  # doctest: +ELLIPSIS
    0.92274560805...
    """
    m = np.asarray(m, dtype=np.float64)
    small = (m > 1.0) & (m < _J_SERIES_FROM)
    m_small = np.where(small, m, 3.0)
    m_large = np.where(m >= _J_SERIES_FROM, m, _J_SERIES_FROM)
    direct = special.gamma(m_small / 2.0) / (
        np.sqrt(m_small / 2.0) * special.gamma((m_small - 1.0) / 2.0)
    )
    series = np.exp(_log_j_series(m_large))
    j = np.where(small, direct, np.where(m >= _J_SERIES_FROM, series, np.nan))
    return np.asarray(j, dtype=np.float64)


def j_approx(m: npt.ArrayLike) -> FloatArray:
    """Hedges' approximate correction ``J(m) = 1 - 3/(4m - 1)``; NaN where ``m <= 1``.

    Examples
    --------
    >>> float(j_approx(98))  # doctest: +ELLIPSIS
    0.99232736...
    """
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = 1.0 - 3.0 / (4.0 * m - 1.0)
    return np.asarray(np.where(m > 1.0, j, np.nan), dtype=np.float64)


def correction_factor(m: FloatArray, correction: str | None) -> FloatArray:
    """The factor that turns Cohen's d into the reported SMD: J exact, J approximate or 1."""
    if correction == "exact":
        return j_exact(m)
    if correction == "approx":
        return j_approx(m)
    return np.ones_like(m)


def _weighted_mean(y: FloatArray, w: FloatArray) -> FloatArray:
    """Mean of ``y`` weighted by ``w`` over studies (axis 0), ignoring missing values."""
    use = ~(np.isnan(y) | np.isnan(w))
    num = np.sum(np.where(use, y * w, 0.0), axis=0, keepdims=True)
    den = np.sum(np.where(use, w, 0.0), axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(num / den, dtype=np.float64)


def smd_from_d(
    d: FloatArray,
    n1i: FloatArray,
    n2i: FloatArray,
    correction: str | None,
    vtype: str,
) -> tuple[FloatArray, FloatArray]:
    """Reported SMD and its sampling variance from Cohen's d and the group sizes.

    ``yi = c·d`` with ``c`` the correction factor; the variance follows ``vtype`` (see
    :func:`metasift.stats.effects.effect_sizes` for the formulas and their sources).
    """
    m = n1i + n2i - 2.0
    ni = n1i + n2i
    c = correction_factor(m, correction)
    yi = c * d
    inv_n = 1.0 / n1i + 1.0 / n2i
    with np.errstate(invalid="ignore", divide="ignore"):
        if vtype == "LS":
            vi = inv_n + yi**2 / (2.0 * ni)
        elif vtype == "LS2":
            vi = c**2 * (inv_n + d**2 / (2.0 * ni))
        elif vtype == "AV":
            vi = inv_n + _weighted_mean(yi, ni) ** 2 / (2.0 * ni)
        elif vtype == "UB":
            je2 = j_exact(m) ** 2
            vi = c**2 * (inv_n / je2 + (1.0 - (m - 2.0) / (m * je2)) * d**2)
        elif vtype == "RM5":
            vi = ni / (n1i * n2i) + yi**2 / (2.0 * (ni - 3.94))
        else:  # pragma: no cover - vtype is checked at the public boundary
            raise ValueError(vtype)
    return yi, np.asarray(vi, dtype=np.float64)


def pooled_sd(sd1i: FloatArray, n1i: FloatArray, sd2i: FloatArray, n2i: FloatArray) -> FloatArray:
    """Pooled within-group standard deviation with ``n1 + n2 - 2`` degrees of freedom."""
    m = n1i + n2i - 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        var = ((n1i - 1.0) * sd1i**2 + (n2i - 1.0) * sd2i**2) / m
    return np.asarray(np.sqrt(var), dtype=np.float64)


def smd(
    m1i: FloatArray,
    sd1i: FloatArray,
    n1i: FloatArray,
    m2i: FloatArray,
    sd2i: FloatArray,
    n2i: FloatArray,
    correction: str | None,
    vtype: str,
) -> tuple[FloatArray, FloatArray]:
    """Standardized mean difference (group 1 minus group 2) and its sampling variance."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (m1i - m2i) / pooled_sd(sd1i, n1i, sd2i, n2i)
    return smd_from_d(np.asarray(d, dtype=np.float64), n1i, n2i, correction, vtype)


def md(
    m1i: FloatArray,
    sd1i: FloatArray,
    n1i: FloatArray,
    m2i: FloatArray,
    sd2i: FloatArray,
    n2i: FloatArray,
    vtype: str,
) -> tuple[FloatArray, FloatArray]:
    """Raw mean difference; variance without (``"LS"``) or with (``"HO"``) pooled SDs."""
    yi = m1i - m2i
    if vtype == "HO":
        vi = pooled_sd(sd1i, n1i, sd2i, n2i) ** 2 * (1.0 / n1i + 1.0 / n2i)
    else:
        vi = sd1i**2 / n1i + sd2i**2 / n2i
    return yi, np.asarray(vi, dtype=np.float64)


def rom(
    m1i: FloatArray,
    sd1i: FloatArray,
    n1i: FloatArray,
    m2i: FloatArray,
    sd2i: FloatArray,
    n2i: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Log ratio of means (no bias correction, as metafor 3.8-1) and its delta-method variance."""
    with np.errstate(invalid="ignore", divide="ignore"):
        yi = np.log(m1i / m2i)
        vi = sd1i**2 / (n1i * m1i**2) + sd2i**2 / (n2i * m2i**2)
    return np.asarray(yi, dtype=np.float64), np.asarray(vi, dtype=np.float64)
