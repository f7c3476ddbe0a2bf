"""Confidence intervals for tau^2, tau, I^2 and H^2 (metasift.stats._confint).

Evidence of three kinds:

- metafor 3.8-1: every ``confint`` entry of tests/data/metafor/metafor_reference.json
  (Q-profile and profile likelihood; see the README beside it);
- published values: metafor's documented dat.bcg example and the I^2 intervals of the
  Smit et al. (2022) abstract, with the reproduction in tests/data/peer-support/;
- the defining equations, evaluated here from the formulas with plain NumPy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift.errors import InputError
from metasift.stats._confint import (
    HigginsThompsonInterval,
    Tau2Interval,
    heterogeneity_confint,
    higgins_thompson_ci,
    profile_likelihood_ci,
    q_profile_ci,
)
from metasift.stats.batch import meta_analysis_batch

DATA = Path(__file__).resolve().parents[1] / "data"
REFERENCE: dict[str, Any] = json.loads(
    (DATA / "metafor" / "metafor_reference.json").read_text(encoding="utf-8")
)

#: Both metafor (uniroot, tol=1e-12, the *_tight keys) and metasift (brentq, xtol=1e-12) stop
#: the root search at an absolute tau^2 tolerance of 1e-12. For bounds as small as 6e-4 that
#: leaves relative differences up to about 1.5e-10 (measured); 1e-8 keeps a margin while any
#: error in a formula, a quantile or a transform shows up orders of magnitude above it.
RTOL_ITERATIVE = 1e-8
#: A bound that metafor reports as exactly 0 (tau^2, tau, I^2) must be 0 here too, up to this.
ATOL_ZERO_BOUND = 1e-12
#: Closed forms (quantiles, transforms of the same number) agree to rounding.
RTOL_CLOSED_FORM = 1e-10
#: metafor's default uniroot tolerance, .Machine$double.eps^0.25 (absolute, on tau^2): the
#: non-tight confint entries are only that accurate.
ATOL_UNIROOT_DEFAULT = float(np.finfo(np.float64).eps) ** 0.25
#: A value printed with one decimal is within half a unit of the last digit.
ATOL_ONE_DECIMAL = 0.05 + 1e-9
#: A value printed as a whole number is within half a unit.
ATOL_WHOLE_NUMBER = 0.5 + 1e-9

PARAMS = (("tau2", "tau2"), ("tau", "tau"), ("i2", "I2"), ("h2", "H2"))
FIELDS = ("estimate", "ci.lb", "ci.ub")
KINDS = ("QP", "QP_tight", "PL", "PL_tight")


def _entry(dataset: str, measure: str) -> dict[str, Any]:
    entry: dict[str, Any] = REFERENCE["datasets"][dataset][measure]
    return entry


def _arrays(dataset: str, measure: str) -> tuple[np.ndarray, np.ndarray]:
    escalc = _entry(dataset, measure)["escalc"]
    return np.asarray(escalc["yi"], dtype=float), np.asarray(escalc["vi"], dtype=float)


def _confint_cases() -> Iterator[Any]:
    for dataset, measures in REFERENCE["datasets"].items():
        for measure, entry in measures.items():
            for key, fit in entry["methods"].items():
                if not isinstance(fit, dict):
                    continue
                for kind in fit.get("confint", {}):
                    yield pytest.param(
                        dataset, measure, key, kind, id=f"{dataset}-{measure}-{key}-{kind}"
                    )


CASES = list(_confint_cases())


def _all_confint_entries(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every (path..., kind) under any ``confint`` key anywhere in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "confint" and isinstance(value, dict):
                for kind in value:
                    yield (*path, kind)
            else:
                yield from _all_confint_entries(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _all_confint_entries(value, (*path, str(i)))


def _tau2_hat(yi: np.ndarray, vi: np.ndarray, key: str, fit: dict[str, Any]) -> float:
    """The estimate metafor's confint was conditional on, computed here where possible."""
    if key in ("REML", "REML_knha"):
        # metafor's default fit stopped at a tau^2 change of 1e-5; its confint used that value
        return float(fit["tau2"])
    method = key.split("_")[0]
    return float(meta_analysis_batch(yi, vi, method=method, tol=1e-12).tau2[0])


def _compute(dataset: str, measure: str, key: str, kind: str) -> Tau2Interval:
    yi, vi = _arrays(dataset, measure)
    fit = _entry(dataset, measure)["methods"][key]
    tau2_hat = _tau2_hat(yi, vi, key, fit)
    # metafor's default search limit, from its fit's tau^2
    tau2_max = max(100.0, 10.0 * float(fit["tau2"]))
    if kind.startswith("QP"):
        return q_profile_ci(yi, vi, tau2_hat=tau2_hat, tau2_max=tau2_max, tol=1e-12)
    return profile_likelihood_ci(yi, vi, tau2_hat=tau2_hat, tau2_max=tau2_max, tol=1e-12)


def _ours(result: Tau2Interval, name: str) -> np.ndarray:
    values = np.asarray(getattr(result, name), dtype=float)
    return 100.0 * values if name == "i2" else values


def _derivative(name: str, tau2: float, vt: float) -> float:
    """d(parameter)/d(tau2) at a bound, to carry a tau^2 tolerance over to tau, I^2, H^2."""
    if name == "tau2":
        return 1.0
    if name == "tau":
        return 0.5 / math.sqrt(max(tau2 - ATOL_UNIROOT_DEFAULT, ATOL_UNIROOT_DEFAULT))
    if name == "i2":
        return 100.0 * vt / (vt + tau2) ** 2
    return 1.0 / vt


@pytest.mark.parametrize(("dataset", "measure", "key", "kind"), CASES)
def test_matches_metafor(dataset: str, measure: str, key: str, kind: str) -> None:
    ref = _entry(dataset, measure)["methods"][key]["confint"][kind]
    result = _compute(dataset, measure, key, kind)
    assert (result.lb_sign, result.ub_sign) == (ref["lb.sign"], ref["ub.sign"])
    assert result.method == kind.split("_")[0]
    vt = float(_entry(dataset, measure)["methods"][key]["vt"])
    for name, ref_name in PARAMS:
        expected = np.array([ref[ref_name][f] for f in FIELDS], dtype=float)
        got = _ours(result, name)
        floor = np.where(expected == 0.0, ATOL_ZERO_BOUND, 0.0)
        assert abs(got[0] - expected[0]) <= RTOL_ITERATIVE * abs(expected[0]) + floor[0], name
        if kind.endswith("_tight"):
            tol = RTOL_ITERATIVE * np.abs(expected[1:]) + floor[1:]
            assert np.all(np.abs(got[1:] - expected[1:]) <= tol), (name, got, expected)
        else:
            ref_tau2 = [ref["tau2"]["ci.lb"], ref["tau2"]["ci.ub"]]
            for j in (1, 2):
                # a sign-marked bound is metafor's search limit, reproduced exactly
                exact = expected[j] == 0.0 or (j == 2 and ref["ub.sign"] == ">")
                atol = 2.0 * _derivative(name, ref_tau2[j - 1], vt) * ATOL_UNIROOT_DEFAULT
                tol = ATOL_ZERO_BOUND + RTOL_CLOSED_FORM * abs(expected[j]) if exact else atol
                assert abs(got[j] - expected[j]) <= tol, (name, FIELDS[j], got[j], expected[j])


def test_every_metafor_confint_entry_is_exercised() -> None:
    in_json = {entry for entry in _all_confint_entries(REFERENCE)}
    parametrized = {("datasets", *case.values[:2], "methods", *case.values[2:]) for case in CASES}
    assert in_json == parametrized
    assert len(in_json) == 240
    assert {entry[-1] for entry in in_json} == set(KINDS)
    for entry in in_json:
        _, dataset, measure, _, key, kind = entry
        ref = _entry(dataset, measure)["methods"][key]["confint"][kind]
        assert {name for _, name in PARAMS} <= set(ref)
        assert all(set(FIELDS) <= set(ref[name]) for _, name in PARAMS)


def test_largest_difference_from_metafor_tight_entries_is_small() -> None:
    """The summary figure: every *_tight number, relative difference (0 bounds excluded)."""
    worst = 0.0
    for case in CASES:
        dataset, measure, key, kind = case.values
        if not kind.endswith("_tight"):
            continue
        ref = _entry(dataset, measure)["methods"][key]["confint"][kind]
        result = _compute(dataset, measure, key, kind)
        for name, ref_name in PARAMS:
            expected = np.array([ref[ref_name][f] for f in FIELDS], dtype=float)
            got = _ours(result, name)
            nonzero = expected != 0.0
            worst = max(worst, float(np.max(np.abs(got - expected)[nonzero] / expected[nonzero])))
    assert worst < 1e-9


# ---------------------------------------------------------------------------------------------
# the defining equations, evaluated here


def _q_gen(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return float(np.sum(w * (yi - mu) ** 2))


def _loglik(yi: np.ndarray, vi: np.ndarray, tau2: float, *, reml: bool) -> float:
    """Hand-written (restricted) log-likelihood of the random-effects model, mu profiled."""
    k = yi.size
    w = 1.0 / (vi + tau2)
    ll = -0.5 * np.sum(np.log(vi + tau2)) - 0.5 * _q_gen(yi, vi, tau2)
    if reml:
        return float(ll - 0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * math.log(np.sum(w)))
    return float(ll - 0.5 * k * math.log(2 * math.pi))


DATASETS = [(d, m) for d, measures in REFERENCE["datasets"].items() for m in measures]


@pytest.mark.parametrize("level", [0.95, 0.80])
@pytest.mark.parametrize(("dataset", "measure"), DATASETS)
def test_q_profile_bounds_solve_the_q_equation(dataset: str, measure: str, level: float) -> None:
    yi, vi = _arrays(dataset, measure)
    df = yi.size - 1
    alpha = 1.0 - level
    result = q_profile_ci(yi, vi, level=level, tau2_hat=0.0)
    lb, ub = result.tau2[1:]
    upper_q, lower_q = stats.chi2.isf(alpha / 2, df), stats.chi2.ppf(alpha / 2, df)
    if lb > 0:
        assert _q_gen(yi, vi, lb) == pytest.approx(upper_q, rel=RTOL_ITERATIVE)
    else:
        assert _q_gen(yi, vi, 0.0) < upper_q
        assert any("lower bound is 0" in note for note in result.notes)
    assert _q_gen(yi, vi, ub) == pytest.approx(lower_q, rel=RTOL_ITERATIVE)
    assert result.lb_sign == result.ub_sign == ""


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize(("dataset", "measure"), DATASETS)
def test_profile_likelihood_bounds_solve_the_likelihood_equation(
    dataset: str, measure: str, reml: bool
) -> None:
    yi, vi = _arrays(dataset, measure)
    result = profile_likelihood_ci(yi, vi, reml=reml)
    est, lb, ub = result.tau2
    cut = stats.chi2.ppf(0.95, 1)
    ll_hat = _loglik(yi, vi, est, reml=reml)
    # the estimate maximises the likelihood on tau2 >= 0
    for t in (0.0, 0.5 * est, 1.5 * est + 1e-3):
        assert _loglik(yi, vi, t, reml=reml) <= ll_hat + 1e-12
    if lb > 0:
        drop = 2 * (ll_hat - _loglik(yi, vi, lb, reml=reml))
        assert drop == pytest.approx(cut, rel=1e-7)
    else:
        assert 2 * (ll_hat - _loglik(yi, vi, 0.0, reml=reml)) <= cut
    assert 2 * (ll_hat - _loglik(yi, vi, ub, reml=reml)) == pytest.approx(cut, rel=1e-7)


def test_transforms_of_the_tau2_bounds() -> None:
    yi, vi = _arrays("dat.bcg", "RR")
    result = q_profile_ci(yi, vi)
    w = 1.0 / vi
    vt = (yi.size - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    tau2 = np.array(result.tau2)
    np.testing.assert_allclose(result.tau, np.sqrt(tau2), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(result.i2, tau2 / (vt + tau2), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(result.h2, (vt + tau2) / vt, rtol=RTOL_CLOSED_FORM)


def test_default_search_finds_bound_beyond_metafors_limit() -> None:
    """dat.normand1999 MD, DL: metafor stops at tau2.max = 10 tau2 and marks the bound '>'."""
    yi, vi = _arrays("dat.normand1999", "MD")
    ref = _entry("dat.normand1999", "MD")["methods"]["DL"]["confint"]["QP_tight"]
    assert ref["ub.sign"] == ">"
    result = q_profile_ci(yi, vi)
    assert result.ub_sign == ""
    assert result.tau2[2] > ref["tau2"]["ci.ub"]
    lower_q = stats.chi2.ppf(0.025, yi.size - 1)
    assert _q_gen(yi, vi, result.tau2[2]) == pytest.approx(lower_q, rel=RTOL_ITERATIVE)
    assert result.tau2[1] == pytest.approx(ref["tau2"]["ci.lb"], rel=RTOL_ITERATIVE)
    pl_free = profile_likelihood_ci(yi, vi)
    limit = 0.5 * (pl_free.tau2[0] + pl_free.tau2[2])
    pl = profile_likelihood_ci(yi, vi, tau2_max=limit)
    assert pl.ub_sign == ">" and pl.tau2[2] == limit
    assert pl.tau2[1] == pl_free.tau2[1]
    with pytest.raises(InputError, match="must be >= the estimate"):
        profile_likelihood_ci(yi, vi, tau2_max=1.0)
    assert any("above tau2_max" in note for note in pl.notes)


def test_bounds_beyond_a_small_limit_are_both_marked() -> None:
    yi, vi = _arrays("dat.bcg", "RR")
    result = q_profile_ci(yi, vi, tau2_max=0.01)
    assert result.tau2[1:] == (0.01, 0.01)
    assert (result.lb_sign, result.ub_sign) == (">", ">")


def test_empty_interval_when_q_is_below_the_lower_quantile() -> None:
    """metafor's null set: Q(0) below chi2_{k-1, alpha/2} leaves no tau^2 >= 0."""
    yi = np.array([0.20, 0.21, 0.19, 0.20, 0.205])
    vi = np.full(5, 0.04)
    assert _q_gen(yi, vi, 0.0) < stats.chi2.ppf(0.025, 4)
    result = q_profile_ci(yi, vi)
    assert result.tau2 == (0.0, 0.0, 0.0)
    assert (result.lb_sign, result.ub_sign) == ("<", "<")
    assert "empty" in result.notes[0]
    assert result.i2 == (0.0, 0.0, 0.0) and result.h2 == (1.0, 1.0, 1.0)
    pl = profile_likelihood_ci(yi, vi)
    assert pl.tau2[:2] == (0.0, 0.0) and pl.tau2[2] > 0


# ---------------------------------------------------------------------------------------------
# published values


def test_dat_bcg_documented_example() -> None:
    """metafor's documented example: dat.bcg, log risk ratios, method="DL", confint(res).

    Values as printed to 4 decimals in metafor's tests/testthat/test_misc_confint.r
    ("confint() works correctly for 'rma.uni' objects") and in the output of the
    ``confint.rma`` help-page example: tau^2 0.3088 [0.1197, 1.1115],
    I^2(%) 92.1173 [81.9177, 97.6781], H^2 12.6861 [5.5303, 43.0680]. metafor computed them
    with its default uniroot tolerance, so the bounds are compared at that tolerance (carried
    to I^2 and H^2 through their derivatives) plus the half unit of the printed digit.
    """
    yi, vi = _arrays("dat.bcg", "RR")
    tau2_hat = float(meta_analysis_batch(yi, vi, method="DL").tau2[0])
    result = q_profile_ci(yi, vi, tau2_hat=tau2_hat)
    vt = float(meta_analysis_batch(yi, vi, method="DL").vt[0])
    printed = {
        "tau2": (0.3088, 0.1197, 1.1115),
        "i2": (92.1173, 81.9177, 97.6781),
        "h2": (12.6861, 5.5303, 43.0680),
    }
    for name, values in printed.items():
        got = _ours(result, name)
        assert abs(got[0] - values[0]) <= 5e-5 + 1e-12
        for j in (1, 2):
            atol = 2.0 * _derivative(name, result.tau2[j], vt) * ATOL_UNIROOT_DEFAULT + 5e-5
            assert abs(got[j] - values[j]) <= atol, (name, j, got[j], values[j])


PEER = pd.read_csv(DATA / "peer-support" / "smit2022_expected_pooled.csv")


@pytest.mark.parametrize("row", PEER.to_dict("records"), ids=list(PEER["outcome"]))
def test_higgins_thompson_reproduces_smit2022(row: dict[str, Any]) -> None:
    """Smit et al. 2022: I^2 and its Higgins-Thompson CI for three outcomes.

    The reproduction (REML, test="knha" on g and g_se^2; R's meta prints the interval) is
    given to 1 decimal in percent, so it is compared at that precision; the published abstract
    gives whole percents (clinical 10% [0, 44], personal 43% [1, 67], functional 36% [0, 61]).
    """
    studies = pd.read_csv(DATA / "peer-support" / str(row["outcome_file"]))
    yi = studies["g"].to_numpy(dtype=float)
    vi = studies["g_se"].to_numpy(dtype=float) ** 2
    fit = meta_analysis_batch(yi, vi, method="REML", test="knha")
    assert yi.size == row["k_comparisons"]
    assert float(fit.qe[0]) == pytest.approx(row["repro_Q"], abs=5e-4)
    result = higgins_thompson_ci(float(fit.qe[0]), yi.size)
    pct = 100.0 * np.array(result.i2)
    assert abs(pct[0] - row["repro_I2_from_Q_pct"]) <= 0.005 + 1e-9
    assert abs(pct[1] - row["repro_I2_HT_ci_lb"]) <= ATOL_ONE_DECIMAL
    assert abs(pct[2] - row["repro_I2_HT_ci_ub"]) <= ATOL_ONE_DECIMAL
    published = [row["published_I2_pct"], row["published_I2_ci_lb"], row["published_I2_ci_ub"]]
    np.testing.assert_allclose(pct, published, rtol=0.0, atol=ATOL_WHOLE_NUMBER)


def _ht_by_hand(q: float, k: int, level: float) -> tuple[float, float, float]:
    """Higgins and Thompson (2002), p. 1549, with H truncated at 1 (R's meta)."""
    h = math.sqrt(q / (k - 1))
    if q > k:
        se = (math.log(q) - math.log(k - 1)) / (2 * (math.sqrt(2 * q) - math.sqrt(2 * k - 3)))
    else:
        se = math.sqrt((1 - 1 / (3 * (k - 2) ** 2)) / (2 * (k - 2)))
    z = stats.norm.ppf(0.5 + level / 2)
    return (max(h, 1.0), max(h * math.exp(-z * se), 1.0), max(h * math.exp(z * se), 1.0))


@pytest.mark.parametrize(
    ("q", "k", "level"),
    [(152.233, 13, 0.95), (31.325, 19, 0.90), (12.0, 13, 0.95), (3.5, 4, 0.95), (9.0, 3, 0.99)],
)
def test_higgins_thompson_matches_the_formula(q: float, k: int, level: float) -> None:
    result = higgins_thompson_ci(q, k, level=level)
    h = np.array(_ht_by_hand(q, k, level))
    np.testing.assert_allclose(result.h, h, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(result.h2, h**2, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(result.i2, (h**2 - 1) / h**2, rtol=RTOL_CLOSED_FORM, atol=1e-15)
    assert ("Q > k" if q > k else "Q <= k") in result.notes[0]


def test_higgins_thompson_edge_cases() -> None:
    zero = higgins_thompson_ci(0.0, 5)
    assert zero.h == (1.0, 1.0, 1.0) and zero.i2 == (0.0, 0.0, 0.0)
    for q, k in ((1.5, 2), (0.3, 1)):
        result = higgins_thompson_ci(q, k)
        assert all(math.isnan(x) for x in result.h + result.i2)
        assert result.notes
    two = higgins_thompson_ci(8.0, 2)
    assert two.h[2] > two.h[0] > 1.0


# ---------------------------------------------------------------------------------------------
# results, edge cases, bad input


def test_result_objects() -> None:
    yi, vi = _arrays("dat.bcg", "OR")
    result = profile_likelihood_ci(yi, vi)
    frame = result.to_frame()
    assert list(frame.index) == ["tau2", "tau", "i2", "h2"]
    assert list(frame.columns) == ["estimate", "ci_lb", "ci_ub"]
    assert frame.loc["i2", "ci_ub"] == result.i2[2]
    assert "I^2(%)" in result.summary() and result.summary().startswith("PL 95%")
    ht = higgins_thompson_ci(31.325, 19)
    assert isinstance(ht, HigginsThompsonInterval)
    assert list(ht.to_frame().index) == ["h", "h2", "i2"]
    assert "I^2(%)  42.5379" in ht.summary()
    with pytest.raises(AttributeError):
        result.tau2 = (0.0, 0.0, 0.0)  # type: ignore[misc]


def test_single_study_gives_nan_with_a_reason() -> None:
    for result in (q_profile_ci([0.3], [0.1]), profile_likelihood_ci([0.3], [0.1])):
        assert all(math.isnan(x) for x in result.tau2 + result.i2)
        assert "k = 1" in result.notes[0]


def test_default_estimates_are_reml_and_ml() -> None:
    yi, vi = _arrays("dat.bcg", "RR")
    tight = _entry("dat.bcg", "RR")["methods"]["REML_tight"]["tau2"]
    assert q_profile_ci(yi, vi).tau2[0] == pytest.approx(tight, rel=RTOL_ITERATIVE)
    assert profile_likelihood_ci(yi, vi).tau2[0] == pytest.approx(tight, rel=RTOL_ITERATIVE)
    ml = float(meta_analysis_batch(yi, vi, method="ML", tol=1e-12).tau2[0])
    ml_ci = profile_likelihood_ci(yi, vi, reml=False)
    assert ml_ci.tau2[0] == pytest.approx(ml, rel=RTOL_ITERATIVE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yi": [0.1, 0.2], "vi": [0.1]}, "same length"),
        ({"yi": [[0.1, 0.2]], "vi": [[0.1, 0.1]]}, "1-D"),
        ({"yi": [], "vi": []}, "empty"),
        ({"yi": [0.1, float("nan")], "vi": [0.1, 0.1]}, "yi[1] = nan"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, "vi[1] = 0.0"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "level": 95}, "level=95"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "tol": 0.0}, "tol=0.0"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "tau2_hat": -0.1}, "tau2_hat=-0.1"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.1], "tau2_max": 0.0}, "tau2_max=0.0"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, Any], message: str) -> None:
    for function in (q_profile_ci, profile_likelihood_ci):
        with pytest.raises(InputError, match=re.escape(message)):
            function(**kwargs)


def test_bad_higgins_thompson_input_is_named() -> None:
    with pytest.raises(InputError, match=r"qe=-1\.0"):
        higgins_thompson_ci(-1.0, 5)
    with pytest.raises(InputError, match=r"k=0"):
        higgins_thompson_ci(3.0, 0)
    with pytest.raises(InputError, match=r"k=2\.5"):
        higgins_thompson_ci(3.0, 2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"level=1\.0"):
        higgins_thompson_ci(3.0, 5, level=1.0)
    with pytest.raises(InputError, match=r"tau2_max=0\.1 must be >= the estimate tau2_hat=0\.2"):
        profile_likelihood_ci([0.1, 0.5, 0.9], [0.1, 0.1, 0.1], tau2_hat=0.2, tau2_max=0.1)


# ---------------------------------------------------------------------------------------------
# a fitted model


class _Fit:
    """The attributes of metasift.MetaResult that heterogeneity_confint reads."""

    def __init__(self, yi: np.ndarray, vi: np.ndarray, method: str, tau2: float) -> None:
        batch = meta_analysis_batch(yi, vi, method=method)
        self.yi, self.vi, self.method, self.level = yi, vi, method, 0.95
        self.tau2 = tau2
        self.qe, self.k = float(batch.qe[0]), yi.size


def test_heterogeneity_confint_of_a_fit() -> None:
    yi, vi = _arrays("dat.bcg", "RR")
    reml = _Fit(yi, vi, "REML", float(meta_analysis_batch(yi, vi).tau2[0]))
    qp = heterogeneity_confint(reml, "QP")  # type: ignore[arg-type]
    assert qp == q_profile_ci(yi, vi, tau2_hat=reml.tau2)
    pl = heterogeneity_confint(reml, "pl")  # type: ignore[arg-type]
    assert pl == profile_likelihood_ci(yi, vi, tau2_hat=reml.tau2)
    ht = heterogeneity_confint(reml, "HT")  # type: ignore[arg-type]
    assert ht == higgins_thompson_ci(reml.qe, 13)
    dl = _Fit(yi, vi, "DL", 0.3)
    with pytest.raises(InputError, match="'ML' or 'REML'"):
        heterogeneity_confint(dl, "PL")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="type='Wald'"):
        heterogeneity_confint(dl, "Wald")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="random-effects"):
        heterogeneity_confint(_Fit(yi, vi, "EE", 0.0), "QP")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not the REML estimate"):
        heterogeneity_confint(_Fit(yi, vi, "REML", 0.1), "PL")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# properties


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(-3.0, 3.0, allow_nan=False), st.floats(0.001, 1.0, allow_nan=False)),
        min_size=2,
        max_size=30,
    )
)
def test_intervals_are_ordered_and_nested(data: list[tuple[float, float]]) -> None:
    yi = np.array([d[0] for d in data])
    vi = np.array([d[1] for d in data])
    for function in (q_profile_ci, profile_likelihood_ci):
        wide = function(yi, vi, level=0.95)
        narrow = function(yi, vi, level=0.80)
        if wide.lb_sign == "<":  # the empty Q-profile set
            assert wide.tau2[1:] == (0.0, 0.0)
            continue
        assert 0.0 <= wide.tau2[1] <= wide.tau2[2]
        assert wide.tau2[1] <= narrow.tau2[1] + 1e-12
        assert narrow.tau2[2] <= wide.tau2[2] + 1e-12
        assert 0.0 <= wide.i2[1] <= wide.i2[2] < 1.0
        assert 1.0 <= wide.h2[1] <= wide.h2[2]
        if function is profile_likelihood_ci:
            assert wide.tau2[1] <= wide.tau2[0] <= wide.tau2[2]
