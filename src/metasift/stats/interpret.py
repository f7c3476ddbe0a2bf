"""Words for numbers: effect-size magnitude, heterogeneity and statistical significance.

Each function returns a small frozen result with the category, a flag where one applies,
and a sentence that states the rule it used, so that a report can quote it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metasift.errors import InputError

__all__ = [
    "COHEN_1988",
    "HANDBOOK_I2_BANDS",
    "EffectSizeLabel",
    "HeterogeneityLabel",
    "Interpretation",
    "SignificanceLabel",
    "i2_bands",
    "interpret",
    "label_effect_size",
    "label_heterogeneity",
    "label_significance",
]

#: Cohen (1988), Statistical Power Analysis for the Behavioral Sciences, 2nd ed., ch. 2:
#: small, medium and large standardized mean differences.
COHEN_1988 = (0.2, 0.5, 0.8)
_CATEGORIES = ("negligible", "small", "medium", "large")

#: Cochrane Handbook (v6.x) section 10.10.2: overlapping ranges of I^2 (fractions).
HANDBOOK_I2_BANDS = (
    (0.0, 0.4, "might not be important"),
    (0.3, 0.6, "may represent moderate heterogeneity"),
    (0.5, 0.9, "may represent substantial heterogeneity"),
    (0.75, 1.0, "considerable heterogeneity"),
)


@dataclass(frozen=True)
class EffectSizeLabel:
    """Magnitude of a standardized mean difference: value, category and the rule's text."""

    value: float
    category: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class HeterogeneityLabel:
    """Whether heterogeneity is substantial by the review's rule, and the Handbook bands."""

    substantial: bool
    bands: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class SignificanceLabel:
    """Whether a p-value is below alpha, with the sentence that says so."""

    significant: bool
    alpha: float
    text: str

    def __str__(self) -> str:
        return self.text


def _thresholds(thresholds: Sequence[float]) -> tuple[float, float, float]:
    t = tuple(float(x) for x in thresholds)
    if len(t) != 3 or not all(math.isfinite(x) and x > 0 for x in t) or not t[0] < t[1] < t[2]:
        raise InputError(
            f"thresholds={thresholds!r} must be three increasing positive numbers "
            f"(small, medium, large), such as Cohen's {COHEN_1988}"
        )
    return t[0], t[1], t[2]


def label_effect_size(d: float, *, thresholds: Sequence[float] = COHEN_1988) -> EffectSizeLabel:
    """Cohen's magnitude label of a standardized mean difference (by its absolute value).

    negligible < 0.2 <= small < 0.5 <= medium < 0.8 <= large by default; NaN is "not
    estimable".

    Notes
    -----
    Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.,
    section 2.2.3: d = 0.2 small, 0.5 medium, 0.8 large. Other thresholds are stated as
    such in the text instead of the citation.

    Examples
    --------
    >>> label_effect_size(-0.32).text
    'small effect (|d| = 0.32; Cohen 1988: 0.2 <= |d| < 0.5)'
    >>> label_effect_size(0.5).category
    'medium'
    """
    t = _thresholds(thresholds)
    value = float(d)
    if not math.isfinite(value):
        return EffectSizeLabel(value, "not estimable", "effect size not estimable")
    size = abs(value)
    i = sum(size >= x for x in t)
    bounds = (None, *t, None)
    lo, hi = bounds[i], bounds[i + 1]
    rule = " <= ".join(f"{x:g}" for x in (lo,) if x is not None)
    rule = (f"{rule} <= |d|" if rule else "|d|") + (f" < {hi:g}" if hi is not None else "")
    source = "Cohen 1988" if t == COHEN_1988 else "thresholds " + ", ".join(f"{x:g}" for x in t)
    text = f"{_CATEGORIES[i]} effect (|d| = {size:.2f}; {source}: {rule})"
    return EffectSizeLabel(value, _CATEGORIES[i], text)


def i2_bands(i2: float) -> tuple[str, ...]:
    """The Cochrane Handbook's (overlapping) descriptions whose range holds ``i2`` (a fraction).

    Notes
    -----
    Cochrane Handbook (v6.x) section 10.10.2: 0% to 40% might not be important; 30% to
    60% may represent moderate heterogeneity; 50% to 90% may represent substantial
    heterogeneity; 75% to 100% considerable heterogeneity. The ranges overlap on purpose:
    the importance of I^2 depends on the size and direction of effects and on the
    strength of evidence for heterogeneity.

    Examples
    --------
    >>> i2_bands(0.55)
    ('may represent moderate heterogeneity', 'may represent substantial heterogeneity')
    """
    value = float(i2)
    if not math.isfinite(value):
        return ()
    if not 0.0 <= value <= 1.0:
        raise InputError(f"i2={i2!r} must be a fraction between 0 and 1 (I^2 = 47% is 0.47)")
    return tuple(text for lo, hi, text in HANDBOOK_I2_BANDS if lo <= value <= hi)


def label_heterogeneity(
    i2: float, qe_pval: float, *, p_threshold: float = 0.1, i2_threshold: float = 0.5
) -> HeterogeneityLabel:
    """Substantial heterogeneity when the Q test's p < 0.1 and I^2 > 50% (defaults).

    The rule is that of the reference review: chi^2 test p < 0.1 and I^2 > 50%. The
    Handbook bands of :func:`i2_bands` are given alongside.

    Notes
    -----
    Both conditions are strict: p = 0.1 or I^2 = 50% is not substantial. ``i2`` is a
    fraction; RevMan and the reference review use the Q-based I^2, ``max(0, (Q - df)/Q)``
    (Higgins and Thompson 2002), which :func:`interpret` takes by default.

    Examples
    --------
    >>> label_heterogeneity(0.62, 0.03).text
    'substantial heterogeneity (Q test p = 0.030 < 0.1 and I^2 = 62% > 50%)'
    >>> label_heterogeneity(0.43, 0.09).substantial
    False
    """
    value, p = float(i2), float(qe_pval)
    bands = i2_bands(value)
    if not (math.isfinite(value) and math.isfinite(p)):
        return HeterogeneityLabel(False, bands, "heterogeneity not estimable")
    p_ok, i2_ok = p < p_threshold, value > i2_threshold
    words = "substantial heterogeneity" if p_ok and i2_ok else "no substantial heterogeneity"
    p_rel, i_rel = ("<" if p_ok else ">="), (">" if i2_ok else "<=")
    text = (
        f"{words} (Q test p = {_p_text(p)} {p_rel} {p_threshold:g} and I^2 = "
        f"{100 * value:.0f}% {i_rel} {100 * i2_threshold:g}%)"
    )
    return HeterogeneityLabel(p_ok and i2_ok, bands, text)


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def label_significance(pval: float, *, alpha: float = 0.05) -> SignificanceLabel:
    """Statistically significant when ``pval < alpha``, with the values stated.

    Notes
    -----
    A two-sided p-value equal to alpha is not significant (the test rejects when
    p < alpha); p-values below 0.001 are written "p < 0.001".

    Examples
    --------
    >>> label_significance(0.0004).text
    'statistically significant at alpha = 0.05 (p < 0.001)'
    >>> label_significance(0.21, alpha=0.1).significant
    False
    """
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha={alpha!r} must be between 0 and 1, such as 0.05")
    p = float(pval)
    if not math.isfinite(p):
        return SignificanceLabel(False, alpha, "significance not estimable (no p-value)")
    sig = p < alpha
    words = "statistically significant" if sig else "not statistically significant"
    sep = " " if p < 0.001 else " = "
    return SignificanceLabel(sig, alpha, f"{words} at alpha = {alpha:g} (p{sep}{_p_text(p)})")


@dataclass(frozen=True)
class Interpretation:
    """The three labels of one pooled result, and a sentence joining them."""

    effect: EffectSizeLabel | None
    heterogeneity: HeterogeneityLabel
    significance: SignificanceLabel

    @property
    def text(self) -> str:
        parts = [self.effect.text] if self.effect is not None else []
        parts += [self.significance.text, self.heterogeneity.text]
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.text


def interpret(
    result: Any,
    *,
    alpha: float = 0.05,
    thresholds: Sequence[float] = COHEN_1988,
    i2: str = "q",
    p_threshold: float = 0.1,
    i2_threshold: float = 0.5,
) -> Interpretation:
    """Label a pooled result (a :class:`metasift.MetaResult`).

    The effect-size label is given for standardized mean differences only (measure
    "SMD", or None when the caller knows the scale); ``i2="q"`` uses the Q-based I^2 (as
    RevMan, which the reference review used), ``i2="tau2"`` the tau^2-based one.

    Examples
    --------
    >>> from metasift import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2], [0.02, 0.03, 0.02, 0.04], measure="SMD")
    >>> labels = interpret(res)
    >>> print(labels.effect)
    small effect (|d| = 0.29; Cohen 1988: 0.2 <= |d| < 0.5)
    >>> print(labels.significance)
    statistically significant at alpha = 0.05 (p = 0.003)
    >>> print(labels.heterogeneity)
    no substantial heterogeneity (Q test p = 0.240 >= 0.1 and I^2 = 29% <= 50%)
    """
    if i2 not in ("q", "tau2"):
        raise InputError(f"i2={i2!r} is not known; allowed: 'q' (from Q) or 'tau2'")
    measure = getattr(result, "measure", None)
    effect = None
    if measure in (None, "SMD", "SMDH", "SMD1"):
        effect = label_effect_size(result.estimate, thresholds=thresholds)
    i2_value = result.i2_q if i2 == "q" else result.i2
    het = label_heterogeneity(
        i2_value, result.qe_pval, p_threshold=p_threshold, i2_threshold=i2_threshold
    )
    return Interpretation(effect, het, label_significance(result.pval, alpha=alpha))
