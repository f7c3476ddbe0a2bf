"""Labels for effect sizes, heterogeneity and significance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metasift import meta_analysis
from metasift.errors import InputError
from metasift.stats.interpret import (
    COHEN_1988,
    HANDBOOK_I2_BANDS,
    i2_bands,
    interpret,
    label_effect_size,
    label_heterogeneity,
    label_significance,
)


@pytest.mark.parametrize(
    ("d", "category"),
    [
        (0.0, "negligible"), (0.19, "negligible"), (0.2, "small"), (-0.2, "small"),
        (0.49, "small"), (0.5, "medium"), (-0.79, "medium"), (0.8, "large"), (2.5, "large"),
    ],
)  # fmt: skip
def test_cohen_1988_bands(d: float, category: str) -> None:
    """Cohen (1988), Statistical Power Analysis for the Behavioral Sciences, 2nd ed., 2.2.3:
    d = 0.2 small, 0.5 medium, 0.8 large; each threshold belongs to the band above it."""
    label = label_effect_size(d)
    assert label.category == category
    assert label.text.startswith(f"{category} effect") and "Cohen 1988" in label.text


def test_label_text_states_the_rule() -> None:
    assert str(label_effect_size(0.9)) == "large effect (|d| = 0.90; Cohen 1988: 0.8 <= |d|)"
    assert label_effect_size(0.1).text == "negligible effect (|d| = 0.10; Cohen 1988: |d| < 0.2)"
    custom = label_effect_size(0.35, thresholds=(0.1, 0.3, 0.5))
    assert custom.category == "medium" and "Cohen" not in custom.text
    assert "thresholds 0.1, 0.3, 0.5" in custom.text
    assert label_effect_size(float("nan")).category == "not estimable"


@settings(max_examples=200, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5))
def test_labels_are_monotone_in_the_absolute_value(a: float, b: float) -> None:
    order = ["negligible", "small", "medium", "large"]
    la, lb = label_effect_size(a), label_effect_size(b)
    if abs(a) <= abs(b):
        assert order.index(la.category) <= order.index(lb.category)
    assert label_effect_size(-a).category == la.category


def test_cochrane_handbook_i2_bands_overlap() -> None:
    """Cochrane Handbook v6.x section 10.10.2: 0-40%, 30-60%, 50-90%, 75-100%."""
    assert [(lo, hi) for lo, hi, _ in HANDBOOK_I2_BANDS] == [
        (0, 0.4),
        (0.3, 0.6),
        (0.5, 0.9),
        (0.75, 1.0),
    ]
    assert i2_bands(0.1) == ("might not be important",)
    assert i2_bands(0.35) == ("might not be important", "may represent moderate heterogeneity")
    assert i2_bands(0.8) == (
        "may represent substantial heterogeneity",
        "considerable heterogeneity",
    )
    assert i2_bands(1.0) == ("considerable heterogeneity",)
    assert i2_bands(float("nan")) == ()
    with pytest.raises(InputError, match="fraction"):
        i2_bands(47.0)


def test_reference_review_rule_on_published_results() -> None:
    """p < 0.1 and I^2 > 50% = substantial (the reference review's rule), applied to pooled
    results as printed: Lloyd-Evans et al. 2014 BMC Psychiatry 14:39, Table 3 (Hope:
    I^2 65%, chi^2 p 0.06; Recovery: I^2 0%, p 0.40), and Smit et al. 2022 personal recovery
    (I^2 42.5% from Q = 31.325 on 18 df; tests/data/peer-support/SOURCE.md)."""
    assert label_heterogeneity(0.65, 0.06).substantial
    assert not label_heterogeneity(0.0, 0.40).substantial
    smit = label_heterogeneity((31.325 - 18) / 31.325, 0.026)
    assert not smit.substantial
    assert smit.text == (
        "no substantial heterogeneity (Q test p = 0.026 < 0.1 and I^2 = 43% <= 50%)"
    )
    assert smit.bands == ("may represent moderate heterogeneity",)
    # both parts of the rule are needed, and the thresholds are strict
    assert not label_heterogeneity(0.9, 0.1).substantial
    assert not label_heterogeneity(0.5, 0.01).substantial
    assert label_heterogeneity(0.45, 0.2, p_threshold=0.25, i2_threshold=0.4).substantial


def test_significance_at_a_configurable_alpha() -> None:
    assert label_significance(0.049).significant
    assert not label_significance(0.05).significant
    assert label_significance(0.07, alpha=0.1).text == (
        "statistically significant at alpha = 0.1 (p = 0.070)"
    )
    assert (
        label_significance(0.3).text == "not statistically significant at alpha = 0.05 (p = 0.300)"
    )
    assert not label_significance(float("nan")).significant
    with pytest.raises(InputError, match="alpha=5"):
        label_significance(0.01, alpha=5)


def test_interpret_a_pooled_result() -> None:
    """Smit et al. 2022 clinical recovery (first five trials of the published data)."""
    g = [-0.05, 0.1933, 0.2563, 0.2800, 0.9383]
    se = [0.17, 0.0935, 0.2425, 0.1575, 0.4098]
    res = meta_analysis(g, sei=se, method="REML", test="knha", measure="SMD")
    labels = interpret(res)
    assert labels.effect is not None
    assert labels.effect.category == ("small" if abs(res.estimate) >= 0.2 else "negligible")
    assert labels.significance.significant == (res.pval < 0.05)
    assert f"I^2 = {100 * res.i2_q:.0f}%" in labels.heterogeneity.text
    tau2_based = interpret(res, i2="tau2")
    assert f"I^2 = {100 * res.i2:.0f}%" in tau2_based.heterogeneity.text
    assert labels.text.count(";") >= 2
    ratio = meta_analysis(np.log([0.8, 0.6, 0.9]), [0.04, 0.05, 0.03], measure="RR")
    assert interpret(ratio).effect is None
    with pytest.raises(InputError, match="i2='x'"):
        interpret(res, i2="x")


def test_bad_thresholds() -> None:
    for bad in [(0.5, 0.2, 0.8), (0.2, 0.5), (0.0, 0.5, 0.8), (0.2, 0.5, math.inf)]:
        with pytest.raises(InputError, match="thresholds"):
            label_effect_size(0.3, thresholds=bad)
    assert COHEN_1988 == (0.2, 0.5, 0.8)
