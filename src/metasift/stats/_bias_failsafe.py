"""Fail-safe N (file-drawer analysis): Rosenthal, Orwin and Rosenberg, as metafor's ``fsn``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from metasift.errors import InputError
from metasift.stats._bias_common import check_alpha, warn_few_studies
from metasift.stats._format import html, one_row, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._validate import check_known, effect_arrays, study_labels

TYPES = ("Rosenthal", "Orwin", "Rosenberg")
COMBINE = ("Stouffer", "Fisher")
#: metafor rounds a fail-safe N within this distance of an integer, and rounds up otherwise.
_INTEGER_TOL = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class FailSafeNResult:
    """Fail-safe N: how many null studies would overturn the result (metafor's ``fsn``).

    Attributes
    ----------
    fsnum : float
        The fail-safe N, a whole number (``inf`` for Orwin's method with target 0).
    type : {"Rosenthal", "Orwin", "Rosenberg"}
        The method.
    combine : {"Stouffer", "Fisher"}
        How Rosenthal's method combines the studies' p-values.
    alpha : float
        Target significance level (Rosenthal, Rosenberg).
    pval : float
        p-value of the observed studies (Rosenthal: one-sided combined; Rosenberg: two-sided
        z test of the equal-effects estimate); NaN for Orwin.
    mean_effect : float
        Average effect (Orwin: unweighted, or weighted by 1/vi; Rosenberg: the
        equal-effects estimate); NaN for Rosenthal.
    target : float
        Orwin's target average effect; NaN otherwise.
    weighted : bool
        Orwin's method with weighted averages.
    k : int
        Number of studies.
    notes : tuple of str
        Facts a reader must know.
    """

    fsnum: float
    type: str
    combine: str
    alpha: float
    pval: float
    mean_effect: float
    target: float
    weighted: bool
    k: int
    notes: tuple[str, ...] = ()

    def to_frame(self) -> Any:
        """The fields as a one-row pandas DataFrame."""
        names = ("fsnum", "type", "combine", "alpha", "pval", "mean_effect", "target",
                 "weighted", "k")  # fmt: skip
        return one_row(self, names)

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.fsn``."""
        lines = [f"Fail-safe N ({self.type} method; k = {self.k}): {self.fsnum:g}"]
        if self.type == "Orwin":
            lines.append(f"average effect {self.mean_effect:.4f}, target {self.target:.4f}")
        else:
            lines.append(f"observed p = {self.pval:.4g}, target alpha = {self.alpha:g}")
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html("Fail-safe N", self.to_frame(), rounded=False)


def _whole(n: float) -> float:
    """metafor's rounding of a fail-safe N: up, unless within rounding error of an integer."""
    if not np.isfinite(n):
        return n
    return float(np.round(n)) if abs(n - np.round(n)) < _INTEGER_TOL else float(np.ceil(n))


def _rosenthal_stouffer(y: FloatArray, v: FloatArray, alpha: float) -> tuple[float, float]:
    k = y.size
    z_avg = abs(np.sum(y / np.sqrt(v)) / np.sqrt(k))
    pval = float(special.ndtr(-z_avg))
    crit = special.ndtri(1.0 - alpha)
    return max(0.0, k * (z_avg / crit) ** 2 - k), pval


def _fisher_pval(log_p_sum: float, k: int, n: int) -> float:
    """Fisher's combined p of k studies plus n null studies (each with p = 0.5)."""
    x2 = -2.0 * (log_p_sum + n * np.log(0.5))
    return float(special.chdtrc(2.0 * (k + n), x2))


def _rosenthal_fisher(y: FloatArray, v: FloatArray, alpha: float) -> tuple[float, float]:
    """Smallest whole number of null studies that lifts Fisher's combined p to ``alpha``.

    Over whole numbers the combined p-value grows with n (each null study adds 2 degrees of
    freedom but only ``2 log 2`` to the statistic), so doubling and bisection find it.
    metafor instead lets n be real in the degrees of freedom while counting whole studies in
    the statistic, a saw-tooth function of which ``uniroot`` returns one crossing; its
    answer can be 1 or 2 lower (docs/validation.md).
    """
    k = y.size
    log_p_sum = float(np.sum(special.log_ndtr(-np.abs(y / np.sqrt(v)))))
    pval = _fisher_pval(log_p_sum, k, 0)
    if pval >= alpha:
        return 0.0, pval
    lo, hi = 0, 1
    while _fisher_pval(log_p_sum, k, hi) < alpha:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _fisher_pval(log_p_sum, k, mid) < alpha else (lo, mid)
    return float(hi), pval


def _orwin(
    y: FloatArray, v: FloatArray, target: float | None, weighted: bool
) -> tuple[float, float, float]:
    k = y.size
    mean = float(np.sum(y / v) / np.sum(1.0 / v)) if weighted else float(np.mean(y))
    goal = mean / 2.0 if target is None else float(target)
    if goal == 0.0:
        return float("inf"), mean, goal
    if np.sign(goal) != np.sign(mean):
        goal = -goal
    return max(0.0, k * (mean - goal) / goal), mean, goal


def _rosenberg(y: FloatArray, v: FloatArray, alpha: float) -> tuple[float, float, float]:
    k = y.size
    w = 1.0 / v
    mean = float(np.sum(w * y) / np.sum(w))
    zval = mean * np.sqrt(np.sum(w))
    pval = float(2.0 * special.ndtr(-abs(zval)))
    crit = special.ndtri(1.0 - alpha / 2.0)
    w_p = (np.sum(w * y) / crit) ** 2 - np.sum(w)
    return max(0.0, k * w_p / np.sum(w)), pval, mean


def fail_safe_n(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    type: str = "Rosenthal",
    alpha: float = 0.05,
    target: float | None = None,
    weighted: bool = False,
    combine: str = "Stouffer",
) -> FailSafeNResult:
    """Fail-safe N (file-drawer analysis), as metafor 3.8-1's ``fsn``.

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`metasift.stats.bias.egger_test`; Orwin's unweighted method needs no
        variances.
    type : {"Rosenthal", "Orwin", "Rosenberg"}
        The method (default Rosenthal).
    alpha : float
        Target significance level of Rosenthal's and Rosenberg's methods.
    target : float, optional
        Orwin's target average effect; half the observed average when omitted. Its sign is
        flipped to match the observed average, as metafor does.
    weighted : bool
        Orwin's method with averages weighted by 1/vi.
    combine : {"Stouffer", "Fisher"}
        How Rosenthal's method combines p-values (metafor's ``test`` argument).

    Returns
    -------
    FailSafeNResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options.

    Warns
    -----
    metasift.errors.FewStudiesWarning
        With fewer than 10 studies.

    Notes
    -----
    With :math:`z_i = y_i/\\sqrt{v_i}` and :math:`z_\\alpha` the upper-alpha normal quantile:

    - Rosenthal (1979, Psychol Bull 86:638-641): :math:`N = k (\\bar Z / z_\\alpha)^2 - k`
      with :math:`\\bar Z = |\\sum z_i| / \\sqrt{k}` (Stouffer); with Fisher's method the
      smallest N with :math:`P(\\chi^2_{2(k+N)} > -2\\sum\\log p_i + 2N\\log 2) \\ge \\alpha`,
      :math:`p_i = 1 - \\Phi(|z_i|)`.
    - Orwin (1983, J Educ Stat 8:157-159): :math:`N = k(\\bar y - y_T)/y_T`.
    - Rosenberg (2005, Evolution 59:464-468):
      :math:`N = k [(\\sum w_i y_i / z_{\\alpha/2})^2 - \\sum w_i] / \\sum w_i`,
      :math:`w_i = 1/v_i`.

    N is at least 0 and rounded up to a whole number.

    Examples
    --------
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> fail_safe_n(yi, vi).fsnum
    201.0
    >>> fail_safe_n(yi, vi, type="Orwin", target=0.1).fsnum
    41.0
    """
    check_known("type", type, TYPES)
    check_known("combine", combine, COMBINE)
    check_alpha(alpha)
    if target is not None and not np.isfinite(target):
        raise InputError(f"target={target!r} must be a finite number")
    needs_v = type != "Orwin" or weighted
    y, v = _studies(yi, vi, sei, slab, needs_v)
    note = warn_few_studies(y.size, "fail_safe_n")
    nan = float("nan")
    mean, goal, pval = nan, nan, nan
    if type == "Rosenthal":
        rosenthal = _rosenthal_fisher if combine == "Fisher" else _rosenthal_stouffer
        n, pval = rosenthal(y, v, alpha)
    elif type == "Orwin":
        n, mean, goal = _orwin(y, v, target, weighted)
    else:
        n, pval, mean = _rosenberg(y, v, alpha)
    return FailSafeNResult(
        fsnum=_whole(n), type=type, combine=combine, alpha=alpha, pval=pval, mean_effect=mean,
        target=goal, weighted=weighted, k=y.size, notes=() if note is None else (note,),
    )  # fmt: skip


def _studies(
    yi: ArrayLike | Any,
    vi: ArrayLike | None,
    sei: ArrayLike | None,
    slab: Sequence[Any] | ArrayLike | None,
    needs_v: bool,
) -> tuple[FloatArray, FloatArray]:
    """Validated effects and variances; NaN variances where the method needs none."""
    has_v = vi is not None or sei is not None or hasattr(yi, "vi")
    if needs_v or has_v:
        y, v, _ = effect_arrays(yi, vi, sei, slab)
        return y, v
    y = np.asarray(yi, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise InputError(f"yi must be a non-empty one-dimensional array; got shape {y.shape}")
    labels = study_labels(slab, y.size)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"yi[{i}] is {float(y[i])!r} for study {labels[i]!r}: need a number")
    return y, np.full(y.size, np.nan)
