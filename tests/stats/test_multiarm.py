"""Multi-arm trials: combining arms, splitting a shared control, the long-table helper."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metasift.errors import InputError
from metasift.stats.multiarm import (
    HANDBOOK_COMBINE,
    HANDBOOK_SPLIT,
    arms_to_comparisons,
    combine_arms,
    combine_arms_binary,
    split_shared_control,
)

#: The same arithmetic in another order.
RTOL = 1e-12


def handbook_table_6_5_a(
    n1: float, m1: float, sd1: float, n2: float, m2: float, sd2: float
) -> tuple[float, float, float]:
    """Cochrane Handbook v6.x, section 6.5.2.10, Table 6.5.a, term by term as printed:
    N = N1 + N2; M = (N1 M1 + N2 M2) / (N1 + N2);
    SD = sqrt(((N1-1) SD1^2 + (N2-1) SD2^2 + N1 N2 / (N1+N2) (M1^2 + M2^2 - 2 M1 M2)) /
    (N1 + N2 - 1))."""
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    ss = (n1 - 1) * sd1**2 + (n2 - 1) * sd2**2 + n1 * n2 / n * (m1**2 + m2**2 - 2 * m1 * m2)
    return n, mean, math.sqrt(ss / (n - 1))


def test_handbook_table_6_5_a_two_groups() -> None:
    """Worked by hand with the Table 6.5.a formula: arms of 20 (mean 10, SD 3) and 30
    (mean 14, SD 4): N = 50, M = (200 + 420) / 50 = 12.4,
    SD = sqrt((19*9 + 29*16 + 600/50*16) / 49) = sqrt(827 / 49) = 4.1082..."""
    res = combine_arms([20, 30], [10.0, 14.0], [3.0, 4.0])
    assert res.n == 50 and res.mean == pytest.approx(12.4, rel=RTOL)
    assert res.sd == pytest.approx(math.sqrt(827 / 49), rel=RTOL)
    assert tuple(res) == pytest.approx(handbook_table_6_5_a(20, 10, 3, 30, 14, 4), rel=RTOL)


def test_negative_means_and_change_scores_keep_their_sign() -> None:
    """Change scores: -5 and +1. Taking absolute values (a known error in some tools) would
    give M = 3.4 and a smaller SD; the signed formula gives M = -1.4."""
    res = combine_arms([20, 30], [-5.0, 1.0], [3.0, 4.0])
    assert res.mean == pytest.approx(-1.4, rel=RTOL)
    expected = handbook_table_6_5_a(20, -5.0, 3.0, 30, 1.0, 4.0)
    assert res.sd == pytest.approx(expected[2], rel=RTOL)
    wrong = handbook_table_6_5_a(20, 5.0, 3.0, 30, 1.0, 4.0)
    assert not math.isclose(res.sd, wrong[2], rel_tol=1e-3)


def test_combined_arms_are_the_mean_and_sd_of_the_pooled_participants() -> None:
    """Direct computation: the formula is the sample mean and SD of all participants."""
    rng = np.random.default_rng(20240605)
    arms = [rng.normal(mu, sd, n) for mu, sd, n in ((-2.0, 1.5, 17), (0.5, 3.0, 23), (4, 2, 9))]
    res = combine_arms(
        [a.size for a in arms], [a.mean() for a in arms], [a.std(ddof=1) for a in arms]
    )
    pooled = np.concatenate(arms)
    assert res.n == pooled.size
    assert res.mean == pytest.approx(pooled.mean(), rel=RTOL)
    assert res.sd == pytest.approx(pooled.std(ddof=1), rel=1e-10)


def test_binary_arms_are_summed() -> None:
    assert combine_arms_binary([12, 9, 0], [50, 48, 20]) == (21, 118)


def test_one_arm_is_returned_as_it_is() -> None:
    assert combine_arms([12], [-3.5], [2.0]) == (12, -3.5, 2.0)


def test_split_shared_control() -> None:
    """Cochrane Handbook 23.3.4: the shared group's participants divided among comparisons."""
    exact = split_shared_control(61, 2, events=15, mean=4.2, sd=1.1)
    np.testing.assert_allclose(exact.n, [30.5, 30.5])
    np.testing.assert_allclose(exact.events, [7.5, 7.5])
    assert (exact.mean, exact.sd) == (4.2, 1.1)
    whole = split_shared_control(100, 3, events=10, integer=True)
    np.testing.assert_array_equal(whole.n, [34, 33, 33])
    np.testing.assert_array_equal(whole.events, [4, 3, 3])
    assert split_shared_control(7, 3, events=7, integer=True).events.tolist() == [3, 2, 2]


# --- properties


_arm = st.tuples(st.integers(2, 500), st.floats(-1e3, 1e3), st.floats(0.0, 100.0))


@settings(max_examples=100, deadline=None)
@given(st.lists(_arm, min_size=2, max_size=6), st.floats(-1e3, 1e3))
def test_shifting_all_means_shifts_the_mean_and_keeps_the_sd(arms: Any, shift: float) -> None:
    """What an absolute-value formula breaks: location does not change the spread."""
    n, m, sd = (list(x) for x in zip(*arms, strict=True))
    a = combine_arms(n, m, sd)
    b = combine_arms(n, [x + shift for x in m], sd)
    assert b.mean == pytest.approx(a.mean + shift, rel=1e-9, abs=1e-7)
    assert b.sd == pytest.approx(a.sd, rel=1e-7, abs=1e-7)
    c = combine_arms(n, [-x for x in m], sd)
    assert c.mean == pytest.approx(-a.mean, rel=1e-12, abs=1e-12)
    assert c.sd == pytest.approx(a.sd, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(_arm, min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_order_of_the_arms_does_not_matter(arms: Any, rnd: Any) -> None:
    shuffled = list(arms)
    rnd.shuffle(shuffled)
    a = combine_arms(*(list(x) for x in zip(*arms, strict=True)))
    b = combine_arms(*(list(x) for x in zip(*shuffled, strict=True)))
    assert b.n == a.n
    assert b.mean == pytest.approx(a.mean, rel=1e-9, abs=1e-9)
    assert b.sd == pytest.approx(a.sd, rel=1e-8, abs=1e-8)


@settings(max_examples=100, deadline=None)
@given(_arm)
def test_two_identical_arms_keep_the_mean_and_the_pooled_sample_sd(arm: Any) -> None:
    """Two copies of an arm: same mean; SD^2 scaled by 2(n-1)/(2n-1), that of the doubled
    sample (the SD is kept only as n grows: the pooled sample has one more df)."""
    n, m, sd = arm
    res = combine_arms([n, n], [m, m], [sd, sd])
    assert res.n == 2 * n
    assert res.mean == pytest.approx(m, rel=1e-12, abs=1e-12)
    assert res.sd == pytest.approx(sd * math.sqrt((2 * n - 2) / (2 * n - 1)), rel=1e-12)


# --- the long-table helper


ARMS = pd.DataFrame(
    {
        "study": [
            "Lee 2019",
            "Lee 2019",
            "Lee 2019",
            "Ode 2020",
            "Ode 2020",
            "Ray 2021",
            "Ray 2021",
            "Ray 2021",
        ],
        "arm": [
            "peer",
            "peer+app",
            "usual care",
            "peer",
            "waitlist",
            "group",
            "usual care",
            "waitlist",
        ],
        "role": [
            "intervention",
            "Intervention",
            "control",
            "intervention",
            "control",
            "intervention",
            "control",
            "control",
        ],
        "n": [20, 30, 25, 40, 41, 33, 16, 18],
        "mean": [-4.0, -1.0, -0.5, 10.2, 11.0, 5.0, 6.5, 7.1],
        "sd": [3.0, 2.5, 2.8, 4.0, 4.1, 2.2, 2.0, 2.4],
    }
)


def test_combine_gives_one_comparison_per_study_and_an_audit_trail() -> None:
    res = arms_to_comparisons(ARMS)
    comp = res.comparisons.set_index("study")
    assert list(comp.index) == ["Lee 2019", "Ode 2020", "Ray 2021"]
    lee = combine_arms([20, 30], [-4.0, -1.0], [3.0, 2.5])
    assert tuple(comp.loc["Lee 2019", ["n1i", "m1i", "sd1i"]]) == pytest.approx(tuple(lee))
    ray = combine_arms([16, 18], [6.5, 7.1], [2.0, 2.4])
    assert tuple(comp.loc["Ray 2021", ["n2i", "m2i", "sd2i"]]) == pytest.approx(tuple(ray))
    assert comp.loc["Ode 2020", "comparison"] == "peer vs waitlist"
    audit = res.audit
    combined = audit[audit["method"] == HANDBOOK_COMBINE]
    assert sorted(zip(combined["study"], combined["group"], strict=True)) == [
        ("Lee 2019", "intervention"),
        ("Ray 2021", "control"),
    ]
    lee_row = combined[combined["study"] == "Lee 2019"].iloc[0]
    assert lee_row["arms"] == "peer + peer+app" and "peer: n=20, mean=-4" in lee_row["inputs"]
    assert (audit[audit["study"] == "Ode 2020"]["action"] == "as reported").all()
    assert "Lee 2019 [intervention] peer + peer+app: arms combined" in res.summary()


def test_split_gives_one_comparison_per_intervention_arm() -> None:
    res = arms_to_comparisons(ARMS, how="split")
    lee = res.comparisons[res.comparisons["study"] == "Lee 2019"]
    assert list(lee["comparison"]) == [
        "peer vs usual care (1/2 of control)",
        "peer+app vs usual care (1/2 of control)",
    ]
    np.testing.assert_allclose(lee["n2i"], [12.5, 12.5])
    np.testing.assert_allclose(lee["m2i"], [-0.5, -0.5])
    assert res.audit["method"].eq(HANDBOOK_SPLIT).sum() == 1
    assert res.to_frame().shape[0] == 4


def test_binary_arms_table() -> None:
    arms = pd.DataFrame(
        {
            "study": ["S"] * 3,
            "arm": ["a", "b", "c"],
            "role": ["intervention", "intervention", "control"],
            "n": [50, 48, 60],
            "events": [12, 9, 20],
        }
    )
    res = arms_to_comparisons(arms)
    row = res.comparisons.iloc[0]
    assert (row["ai"], row["bi"], row["n1i"], row["ci"], row["di"], row["n2i"]) == (
        21,
        77,
        98,
        20,
        40,
        60,
    )
    split = arms_to_comparisons(arms, how="split").comparisons
    np.testing.assert_allclose(split["ci"], [10, 10])
    np.testing.assert_allclose(split["n2i"], [30, 30])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"role": ["intervention"] * 3 + ["placebo"] + ["control"] * 4}, "role 'placebo'"),
        ({"sd": [3.0, 2.5, 2.8, 4.0, np.nan, 2.2, 2.0, 2.4]}, "'sd'.*Ode 2020.*waitlist"),
        ({"n": [20, 0, 25, 40, 41, 33, 16, 18]}, "n = 0.0 for study 'Lee 2019' arm 'peer\\+app'"),
        ({"sd": [3.0, -2.5, 2.8, 4.0, 4.1, 2.2, 2.0, 2.4]}, "sd = -2.5"),
        ({"arm": ["peer", "peer", "usual care", "peer", "waitlist", "g", "u", "w"]}, "twice"),
        ({"role": ["intervention"] * 3 + ["control"] * 5}, "'Lee 2019' has no control arm"),
    ],
)
def test_bad_arms_name_the_study_and_arm(change: dict[str, Any], match: str) -> None:
    arms = ARMS.copy()
    for col, values in change.items():
        arms[col] = values
    with pytest.raises(InputError, match=match):
        arms_to_comparisons(arms)


def test_bad_options_and_columns() -> None:
    with pytest.raises(InputError, match="lacks"):
        arms_to_comparisons(ARMS.drop(columns="n"))
    with pytest.raises(InputError, match="how='merge'"):
        arms_to_comparisons(ARMS, how="merge")
    with pytest.raises(InputError, match="outcome"):
        arms_to_comparisons(ARMS.assign(events=1))
    with pytest.raises(InputError, match="DataFrame"):
        arms_to_comparisons(ARMS.to_dict())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: combine_arms([10, 0], [1, 2], [1, 1]), r"n\[1\] = 0.0"),
        (lambda: combine_arms([10, 5], [1, np.nan], [1, 1]), r"mean\[1\] is nan"),
        (lambda: combine_arms([10, 5], [1, 2], [1, -1]), r"sd\[1\] = -1.0"),
        (lambda: combine_arms([10, 5], [1, 2, 3], [1, 1]), "one value per arm"),
        (lambda: combine_arms_binary([5, 11], [10, 10]), r"events\[1\] = 11.0"),
        (lambda: split_shared_control(10, 0), "comparisons=0"),
        (lambda: split_shared_control(10, 2, events=11), "events=11"),
        (lambda: split_shared_control(10.5, 2, integer=True), "whole-number"),
    ],
)
def test_bad_values_raise(call: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call()
