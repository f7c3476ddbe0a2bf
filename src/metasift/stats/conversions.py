"""Conversions for data extraction: SDs from SEs and CIs, means and SDs from medians, SMDs
from t statistics and P values.

Every function takes scalars or array-likes (broadcast against each other) and returns NumPy
arrays; a missing value (NaN) gives NaN. A value that cannot be (a negative SE, a lower
limit above the upper, a P value outside (0, 1]) raises :class:`~metasift.errors.InputError`
naming the argument, the position and the value.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import stats

from metasift.errors import InputError
from metasift.stats import _effects_means as means

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "MeanSD",
    "SmdEstimate",
    "mean_sd_from_median",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
]


class MeanSD(NamedTuple):
    """Estimated sample means and standard deviations."""

    mean: FloatArray
    sd: FloatArray


class SmdEstimate(NamedTuple):
    """Standardized mean differences (``yi``) and their sampling variances (``vi``)."""

    yi: FloatArray
    vi: FloatArray


def _arrays(**named: npt.ArrayLike) -> list[FloatArray]:
    """The named inputs as float64 arrays broadcast to one shape."""
    out = []
    for name, value in named.items():
        try:
            out.append(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must hold numbers (or NaN): {exc}") from None
    try:
        return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*out)]
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(named, out, strict=True))
        raise InputError(f"the inputs do not have matching lengths: {shapes}") from None


def _fail(name: str, values: FloatArray, bad: npt.NDArray[np.bool_], allowed: str) -> None:
    """Raise an InputError for the first flagged element (NaN is never flagged)."""
    idx = np.argwhere(bad)
    if idx.size == 0:
        return
    pos = tuple(int(i) for i in idx[0])
    where = f"{name}[{', '.join(map(str, pos))}]" if pos else name
    raise InputError(f"{where} = {values[pos]:.12g}: {allowed}")


def _check_sizes(**sizes: FloatArray) -> None:
    """Group sizes must be > 0 (a missing size gives NaN, not an error)."""
    for name, values in sizes.items():
        _fail(name, values, values <= 0, "group sizes must be > 0")


def sd_from_se(se: npt.ArrayLike, n: npt.ArrayLike) -> FloatArray:
    """Standard deviation of a group from the standard error of its mean.

    Parameters
    ----------
    se : array-like
        Standard errors of the group means (``>= 0``).
    n : array-like
        Group sizes (``> 0``).

    Returns
    -------
    ndarray
        ``sd = se * sqrt(n)``.

    Notes
    -----
    ``SE = SD/sqrt(n)`` for the mean of one group (Cochrane Handbook for Systematic Reviews
    of Interventions, version 6, section 6.5.2.2). It does not apply to the standard error
    of a difference between groups.

    Examples
    --------
    >>> sd_from_se([0.5, 1.2], [25, 100])
    array([ 2.5, 12. ])
    """
    se_a, n_a = _arrays(se=se, n=n)
    _fail("se", se_a, se_a < 0, "standard errors must be >= 0")
    _check_sizes(n=n_a)
    return np.asarray(se_a * np.sqrt(n_a), dtype=np.float64)


def sd_from_ci(
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    n: npt.ArrayLike,
    level: float = 0.95,
    dist: str = "t",
) -> FloatArray:
    """Standard deviation of a group from a confidence interval of its mean.

    Parameters
    ----------
    lower, upper : array-like
        Limits of the confidence interval of the group mean (``lower <= upper``).
    n : array-like
        Group sizes (``> 1`` with ``dist="t"``, ``> 0`` with ``dist="z"``).
    level : float, default 0.95
        Confidence level of the interval, in (0, 1).
    dist : {"t", "z"}, default "t"
        Whether the interval was computed with Student's t (``n - 1`` degrees of freedom)
        or the normal distribution.

    Returns
    -------
    ndarray
        ``sd = sqrt(n) (upper - lower) / (2 q)``, with ``q`` the ``(1 + level)/2`` quantile.

    Notes
    -----
    Cochrane Handbook version 6, section 6.5.2.2: for a 95% interval of a large group the
    width is ``3.92 = 2 x 1.96`` standard errors; for small groups (say below 60) the
    interval should have been computed from the t distribution with ``n - 1`` degrees of
    freedom, so 3.92 becomes ``2 t(0.975, n - 1)`` (e.g. ``2 x 2.0639 = 4.128`` for n = 25);
    between about 60 and 100 either may have been used.

    Examples
    --------
    >>> print(f"{sd_from_ci(0.7, 1.3, 25):.4f}")
    0.7268
    >>> print(f"{sd_from_ci(0.7, 1.3, 25, dist='z'):.4f}")
    0.7653
    """
    if dist not in ("t", "z"):
        raise InputError(f"dist={dist!r} is not allowed; choose 't' or 'z'")
    if not 0 < level < 1:
        raise InputError(f"level = {level!r} is not allowed: it must be between 0 and 1")
    lo, up, n_a = _arrays(lower=lower, upper=upper, n=n)
    _fail("lower", lo, lo > up, "the lower limit must not exceed the upper limit")
    _fail("n", n_a, n_a <= (1 if dist == "t" else 0), f"group sizes must be > {int(dist == 't')}")
    p = (1.0 + level) / 2.0
    q = stats.t.ppf(p, n_a - 1.0) if dist == "t" else stats.norm.ppf(p)
    return np.asarray(np.sqrt(n_a) * (up - lo) / (2.0 * q), dtype=np.float64)


def _xi(n: FloatArray) -> FloatArray:
    """Wan et al. (2014) eq. 9: ``2 Φ⁻¹((n - 0.375)/(n + 0.25))``, expected range of n normals."""
    return np.asarray(2.0 * stats.norm.ppf((n - 0.375) / (n + 0.25)), dtype=np.float64)


def _eta(n: FloatArray) -> FloatArray:
    """Wan et al. (2014) eq. 16: ``2 Φ⁻¹((0.75 n - 0.125)/(n + 0.25))``, expected IQR."""
    return np.asarray(2.0 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)), dtype=np.float64)


def _check_order(values: dict[str, FloatArray]) -> None:
    """Quantiles must not decrease: minimum <= q1 <= median <= q3 <= maximum."""
    names = list(values)
    for low, high in itertools.pairwise(names):
        bad = values[low] > values[high]
        _fail(low, values[low], bad, f"{low} must not exceed {high} (of the same study)")


def mean_sd_from_median(
    median: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    minimum: npt.ArrayLike | None = None,
    maximum: npt.ArrayLike | None = None,
    q1: npt.ArrayLike | None = None,
    q3: npt.ArrayLike | None = None,
    mean_method: str = "luo",
) -> MeanSD:
    """Sample mean and SD from the median with the range, the quartiles, or both.

    Parameters
    ----------
    median : array-like
        Sample medians.
    n : array-like
        Sample sizes (``>= 2``).
    minimum, maximum : array-like, optional
        Smallest and largest values (scenario S1 of Wan et al., or S2 with the quartiles).
    q1, q3 : array-like, optional
        First and third quartiles (scenario S3, or S2 with the range).
    mean_method : {"luo", "wan"}, default "luo"
        Mean estimator: Luo et al. (2018) (sample-size weights) or Wan et al. (2014).

    Returns
    -------
    MeanSD
        ``mean`` and ``sd`` arrays.

    Notes
    -----
    With ``ξ(n) = 2 Φ⁻¹((n - 0.375)/(n + 0.25))`` and ``η(n) = 2 Φ⁻¹((0.75n - 0.125)/(n + 0.25))``
    (Wan et al. 2014, eq. 9 and 16; Blom's approximations of the expected range and
    interquartile range of n standard normal values):

    - S1 {min, median, max}: ``sd = (max - min)/ξ(n)``; Luo mean
      ``w (min + max)/2 + (1 - w) median`` with ``w = 4/(4 + n^0.75)``; Wan mean
      ``(min + 2 median + max)/4``.
    - S2 {min, q1, median, q3, max}: ``sd = (max - min)/(2 ξ(n)) + (q3 - q1)/(2 η(n))``; Luo
      mean ``w1 (min + max)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) median`` with
      ``w1 = 2.2/(2.2 + n^0.75)``, ``w2 = 0.7 - 0.72/n^0.55``; Wan mean
      ``(min + 2 q1 + 2 median + 2 q3 + max)/8``.
    - S3 {q1, median, q3}: ``sd = (q3 - q1)/η(n)``; Luo mean
      ``w (q1 + q3)/2 + (1 - w) median`` with ``w = 0.7 + 0.39/n``; Wan mean
      ``(q1 + median + q3)/3``.

    The estimators assume roughly normal data; for skewed data they can mislead. These are
    the formulas of metafor's ``conv.fivenum`` (metafor >= 4.0) with ``method="wan2014"`` SDs
    and ``"luo2016"`` means, without its skewness test; for S2 metafor's default SD is Shi
    et al. (2020), not used here. Wan X, Wang W, Liu J, Tong T (2014) BMC Med Res Methodol
    14:135; Luo D, Wan X, Liu J, Tong T (2018) Stat Methods Med Res 27(6):1785-1805.

    Examples
    --------
    >>> est = mean_sd_from_median(4.0, 12, minimum=1.0, maximum=10.0)
    >>> print(f"mean = {est.mean:.4f}, sd = {est.sd:.4f}")
    mean = 4.5743, sd = 2.7522
    >>> est = mean_sd_from_median([15.0, 1.9], [40, 150], q1=[14.0, 1.1], q3=[17.0, 2.5])
    >>> est.sd.round(4)
    array([2.3068, 1.048 ])
    """
    if mean_method not in ("luo", "wan"):
        raise InputError(f"mean_method={mean_method!r} is not allowed; choose 'luo' or 'wan'")
    has_range = minimum is not None or maximum is not None
    has_iqr = q1 is not None or q3 is not None
    if (
        (minimum is None) != (maximum is None)
        or (q1 is None) != (q3 is None)
        or not (has_range or has_iqr)
    ):
        raise InputError(
            "give minimum and maximum (scenario S1), q1 and q3 (S3), or all four (S2) with the "
            "median; one end of a range or of the quartiles alone is not enough"
        )
    nan = np.nan
    lo, a, med, b, hi, n_a = _arrays(
        minimum=nan if minimum is None else minimum,
        q1=nan if q1 is None else q1,
        median=median,
        q3=nan if q3 is None else q3,
        maximum=nan if maximum is None else maximum,
        n=n,
    )
    order = {"minimum": lo, "q1": a, "median": med, "q3": b, "maximum": hi}
    _check_order({k: v for k, v in order.items() if not np.isnan(v).all()})
    _fail("n", n_a, n_a < 2, "sample sizes must be >= 2")
    luo = mean_method == "luo"
    if has_range and has_iqr:
        w1, w2 = 2.2 / (2.2 + n_a**0.75), 0.7 - 0.72 / n_a**0.55
        mean = (
            w1 * (lo + hi) / 2 + w2 * (a + b) / 2 + (1 - w1 - w2) * med
            if luo
            else (lo + 2 * a + 2 * med + 2 * b + hi) / 8
        )
        sd = (hi - lo) / (2 * _xi(n_a)) + (b - a) / (2 * _eta(n_a))
    elif has_range:
        w = 4 / (4 + n_a**0.75)
        mean = w * (lo + hi) / 2 + (1 - w) * med if luo else (lo + 2 * med + hi) / 4
        sd = (hi - lo) / _xi(n_a)
    else:
        w = 0.7 + 0.39 / n_a
        mean = w * (a + b) / 2 + (1 - w) * med if luo else (a + med + b) / 3
        sd = (b - a) / _eta(n_a)
    # A study with any missing summary gets no estimate, not a partial one.
    used = [v for v in order.values() if not np.isnan(v).all()] + [n_a]
    missing = np.any([np.isnan(v) for v in used], axis=0)
    return MeanSD(
        np.asarray(np.where(missing, np.nan, mean), dtype=np.float64),
        np.asarray(np.where(missing, np.nan, sd), dtype=np.float64),
    )


def _smd_options(correction: str | None, vtype: str) -> None:
    if correction not in means.SMD_CORRECTIONS:
        raise InputError(
            f"correction={correction!r} is not allowed; choose 'exact', 'approx' or None"
        )
    if vtype not in means.SMD_VTYPES:
        shown = ", ".join(repr(v) for v in means.SMD_VTYPES)
        raise InputError(f"vtype={vtype!r} is not allowed; choose one of {shown}")


def smd_from_t(
    t: npt.ArrayLike,
    n1i: npt.ArrayLike,
    n2i: npt.ArrayLike,
    *,
    correction: str | None = "exact",
    vtype: str = "LS",
) -> SmdEstimate:
    """Standardized mean difference from the t statistic of a two-sample t test.

    Parameters
    ----------
    t : array-like
        t statistics of group 1 versus group 2 (equal-variance two-sample t test).
    n1i, n2i : array-like
        Group sizes (``> 0``, with ``n1i + n2i >= 4`` for Hedges' correction).
    correction : {"exact", "approx", None}, default "exact"
        Hedges' exact or approximate correction, or None for Cohen's d.
    vtype : {"LS", "LS2", "UB", "AV", "RM5"}, default "LS"
        Sampling variance, as in :func:`metasift.effect_sizes`.

    Returns
    -------
    SmdEstimate
        ``yi`` (g or d) and ``vi``.

    Notes
    -----
    ``d = t sqrt(1/n1 + 1/n2)`` (Borenstein et al. 2009, ch. 7; metafor's ``escalc`` with
    ``ti``), then the correction and variance of the SMD of
    :func:`metasift.effect_sizes`. NaN where the correction is undefined (``n1 + n2 <= 3``).

    Examples
    --------
    >>> est = smd_from_t(2.5, 20, 22)
    >>> print(f"g = {est.yi:.4f}, vi = {est.vi:.4f}")
    g = 0.7578, vi = 0.1023
    """
    _smd_options(correction, vtype)
    t_a, n1, n2 = _arrays(t=t, n1i=n1i, n2i=n2i)
    _check_sizes(n1i=n1, n2i=n2)
    d = t_a * np.sqrt(1.0 / n1 + 1.0 / n2)
    yi, vi = means.smd_from_d(d, n1, n2, correction, vtype)
    return SmdEstimate(np.asarray(yi, dtype=np.float64), np.asarray(vi, dtype=np.float64))


def smd_from_p(
    p: npt.ArrayLike,
    n1i: npt.ArrayLike,
    n2i: npt.ArrayLike,
    two_sided: bool = True,
    *,
    sign: npt.ArrayLike = 1.0,
    correction: str | None = "exact",
    vtype: str = "LS",
) -> SmdEstimate:
    """Standardized mean difference from the P value of a two-sample t test.

    Parameters
    ----------
    p : array-like
        P values, in (0, 1].
    n1i, n2i : array-like
        Group sizes (``n1i + n2i > 2``).
    two_sided : bool, default True
        Whether the P values are two-sided (``t = t(1 - p/2)``) or one-sided in the direction
        of group 1 minus group 2 (``t = t(1 - p)``).
    sign : array-like, default 1
        +1 or -1: the direction of the difference (a two-sided P value has none).
    correction, vtype
        As in :func:`smd_from_t`.

    Returns
    -------
    SmdEstimate
        ``yi`` (g or d) and ``vi``.

    Notes
    -----
    The t statistic is the quantile of Student's t with ``n1 + n2 - 2`` degrees of freedom
    (Cochrane Handbook version 6, section 6.5.2.3), then :func:`smd_from_t`. A P value
    reported as an inequality (``P < 0.05``) gives only a bound.

    Examples
    --------
    >>> est = smd_from_p(0.008, 25, 22, correction=None)
    >>> print(f"d = {est.yi:.4f}")
    d = 0.8114
    """
    if not isinstance(two_sided, bool | np.bool_):
        raise InputError(f"two_sided must be True or False, not {two_sided!r}")
    p_a, n1, n2, sgn = _arrays(p=p, n1i=n1i, n2i=n2i, sign=sign)
    _fail("p", p_a, (p_a <= 0) | (p_a > 1), "P values must be in (0, 1]")
    _fail("sign", sgn, ~np.isnan(sgn) & (np.abs(sgn) != 1), "sign must be +1 or -1")
    _check_sizes(n1i=n1, n2i=n2)
    df = n1 + n2 - 2.0
    _fail("n1i", n1, df <= 0, "n1i + n2i must be > 2 for a t test")
    t_stat = stats.t.isf(p_a / 2.0 if two_sided else p_a, df)
    return smd_from_t(sgn * t_stat, n1, n2, correction=correction, vtype=vtype)
