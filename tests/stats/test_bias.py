"""Publication bias: egger_test, begg_test, trim_and_fill, fail_safe_n, pet_peese.

Three kinds of evidence:
- metafor 3.8-1: ``pubbias`` of every FE/DL/REML fit in tests/data/metafor/metafor_reference.json
  (regtest, regtest_lm, ranktest, trimfill_L0, trimfill_R0) and
  validation/sensitivity_reference.json (validation/sensitivity_reference.R: tight REML fits,
  every regtest predictor and model, knha, the modified predictor, PET-PEESE, fsn);
- published worked examples: Rosenthal (1979), Hackshaw et al. (1997) with Duval and Tweedie
  (2000), Kendall's table of the null distribution of S, Harrer et al. (2021, *Doing
  Meta-Analysis with R*, ThirdWave data: Egger's regression and PET-PEESE);
- direct computations: weighted least squares with NumPy, Kendall's tau and its exact
  p-value by enumeration, trim and fill step by step, the fail-safe N formulas.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift import FewStudiesWarning, InputError, meta_analysis
from metasift.stats.bias import (
    BeggResult,
    EggerResult,
    begg_test,
    egger_test,
    fail_safe_n,
    pet_peese,
    trim_and_fill,
)
from metasift.stats.metareg import meta_regression

ROOT = Path(__file__).parents[2]
GRID: dict[str, Any] = json.loads(
    (ROOT / "tests" / "data" / "metafor" / "metafor_reference.json").read_text()
)
SENS: dict[str, Any] = json.loads((ROOT / "validation" / "sensitivity_reference.json").read_text())

#: Closed forms (FE, DL, WLS, ranks, and every REML field given tau^2): the same arithmetic
#: in another order; 1e-9 leaves room for the pt/pnorm/pchisq implementations.
RTOL_CLOSED_FORM = 1e-9
#: Against metafor's tight fits (tau^2 change < 1e-12 absolute). For the smallest tau^2 here
#: (5e-4, dat.bcg RD) that is 2e-9 relative, which the p-value of z = -3.85 magnifies about
#: tenfold (measured: 1.1e-8); other fields agree to 1e-11.
RTOL_TIGHT = 1e-7
#: Against metafor's default REML fits inside trim and fill (Fisher scoring stopped at a tau^2
#: change below 1e-5 in every trimmed fit): the error moves the estimate that the filled
#: studies are mirrored about. Largest measured: 1.2e-3 (a p-value, dat.molloy2014 ZCOR);
#: Q p-values of order 1e-103 differ more, but below ATOL_ZERO.
RTOL_METAFOR_DEFAULT = 5e-3
#: tau^2 against metafor's default fits: within its own stopping rule.
ATOL_TAU2_DEFAULT = 1e-4
#: Values that are 0 in exact arithmetic.
ATOL_ZERO = 1e-12

MIN_STUDIES = 10

#: metafor field -> (our attribute, scale applied to metafor's value), per pubbias key
REGTEST = {
    "stat": ("statistic", 1.0), "pval": ("pval", 1.0), "df": ("df", 1.0),
    "limit_estimate": ("limit_estimate", 1.0), "limit_ci.lb": ("ci_lb", 1.0),
    "limit_ci.ub": ("ci_ub", 1.0), "intercept": ("intercept", 1.0), "slope": ("slope", 1.0),
    "tau2": ("tau2", 1.0),
}  # fmt: skip
REGTEST_LM = {
    "tval": ("statistic", 1.0), "df": ("df", 1.0), "pval": ("pval", 1.0),
    "limit_estimate": ("limit_estimate", 1.0), "limit_ci.lb": ("ci_lb", 1.0),
    "limit_ci.ub": ("ci_ub", 1.0),
}  # fmt: skip
RANKTEST = {"tau": ("tau", 1.0), "pval": ("pval", 1.0)}
TRIMFILL = {
    "k0": ("k0", 1.0), "se.k0": ("se_k0", 1.0), "p.k0": ("p_k0", 1.0),
    "k_total": ("k_total", 1.0), "estimate": ("estimate", 1.0), "se": ("se", 1.0),
    "zval": ("zval", 1.0), "pval": ("pval", 1.0), "ci.lb": ("ci_lb", 1.0),
    "ci.ub": ("ci_ub", 1.0), "tau2": ("tau2", 1.0), "I2": ("i2", 0.01), "QE": ("qe", 1.0),
    "QEp": ("qe_pval", 1.0), "filled_yi": ("filled_yi", 1.0), "filled_vi": ("filled_vi", 1.0),
}  # fmt: skip
#: Fields checked separately (strings, flags) or describing the entry.
CHECKED_APART = {
    "regtest": {"model", "predictor", "stat_is_t"},
    "regtest_lm": {"model", "predictor"},
    "ranktest": {"note", "warnings", "pval_normal_approx"},
    "trimfill_L0": {"estimator", "side"},
    "trimfill_R0": {"estimator", "side"},
}
FIELD_MAPS = {"regtest": REGTEST, "regtest_lm": REGTEST_LM, "ranktest": RANKTEST,
              "trimfill_L0": TRIMFILL, "trimfill_R0": TRIMFILL}  # fmt: skip


def _grid_cases() -> list[Any]:
    out = []
    for ds, measures in GRID["datasets"].items():
        for measure, entry in measures.items():
            for method, fit in entry["methods"].items():
                if "pubbias" in fit:
                    out.append(pytest.param(ds, measure, method, id=f"{ds}-{measure}-{method}"))
    return out


GRID_CASES = _grid_cases()


def _grid(ds: str, measure: str, method: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    entry = GRID["datasets"][ds][measure]
    esc = entry["escalc"]
    return np.array(esc["yi"]), np.array(esc["vi"]), entry["methods"][method]["pubbias"]


def _warns_if_few(k: int) -> AbstractContextManager[Any]:
    """Every method must warn below 10 studies; above, any warning fails the test."""
    if k < MIN_STUDIES:
        return pytest.warns(FewStudiesWarning, match="at least 10 studies")
    return nullcontext()


def _run(fn: Callable[..., Any], y: Any, *args: Any, **kwargs: Any) -> Any:
    with _warns_if_few(len(y)):
        return fn(y, *args, **kwargs)


def _compare(
    res: Any, ref: dict[str, Any], fields: dict[str, tuple[str, float]], rtol: float,
    default_tau2: bool = False,
) -> list[str]:  # fmt: skip
    wrong = []
    for name, (attr, scale) in fields.items():
        if name not in ref:
            continue
        value = ref[name]
        ours = np.atleast_1d(np.asarray(getattr(res, attr), dtype=float))
        expected = np.atleast_1d(np.array(np.nan if value is None else value, dtype=float))
        expected = expected * scale
        if ours.shape != expected.shape:
            wrong.append(f"{attr}: shape {ours.shape}, metafor {expected.shape}")
            continue
        if attr == "tau2" and default_tau2:
            ok = np.abs(ours - expected) <= ATOL_TAU2_DEFAULT * np.maximum(1.0, expected)
        else:
            ok = np.isclose(ours, expected, rtol=rtol, atol=ATOL_ZERO, equal_nan=True)
        if not ok.all():
            wrong.append(f"{attr}: ours {ours.tolist()}, metafor {expected.tolist()}")
    return wrong


# ---------------------------------------------------------------- metafor: the reference grid


@pytest.mark.parametrize(("ds", "measure", "method"), GRID_CASES)
def test_regtest_matches_metafor(ds: str, measure: str, method: str) -> None:
    yi, vi, pub = _grid(ds, measure, method)
    ref = pub["regtest"]
    assert (ref["model"], ref["predictor"], ref["stat_is_t"]) == ("rma", "sei", False)
    if method == "REML":
        # metafor's default fit stops at a tau^2 change below 1e-5: compare every field at
        # its tau^2, and our own tau^2 against its stopping rule
        res = _run(egger_test, yi, vi, method=method, tau2=ref["tau2"])
        free = _run(egger_test, yi, vi, method=method)
        assert abs(free.tau2 - ref["tau2"]) <= ATOL_TAU2_DEFAULT * max(1.0, ref["tau2"])
    else:
        res = _run(egger_test, yi, vi, method=method)
    assert isinstance(res, EggerResult) and math.isnan(res.df)
    wrong = _compare(res, ref, REGTEST, RTOL_CLOSED_FORM)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize(("ds", "measure", "method"), GRID_CASES)
def test_regtest_lm_matches_metafor(ds: str, measure: str, method: str) -> None:
    yi, vi, pub = _grid(ds, measure, method)
    ref = pub["regtest_lm"]
    assert (ref["model"], ref["predictor"]) == ("lm", "sei")
    res = _run(egger_test, yi, vi, model="lm")
    wrong = _compare(res, ref, REGTEST_LM, RTOL_CLOSED_FORM)
    assert not wrong, "; ".join(wrong)
    assert res.method == "FE" and res.test == "knha" and math.isnan(res.tau2)


@pytest.mark.parametrize(("ds", "measure", "method"), GRID_CASES)
def test_ranktest_matches_metafor(ds: str, measure: str, method: str) -> None:
    yi, vi, pub = _grid(ds, measure, method)
    ref = pub["ranktest"]
    res = _run(begg_test, yi, vi)
    assert isinstance(res, BeggResult)
    # R falls back to the normal approximation with ties, and says so in a warning
    assert res.exact == ("warnings" not in ref)
    wrong = _compare(res, ref, RANKTEST, RTOL_CLOSED_FORM)
    approx = _run(begg_test, yi, vi, exact=False)
    wrong += _compare(approx, {"pval": ref["pval_normal_approx"]}, RANKTEST, RTOL_CLOSED_FORM)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("estimator", ["L0", "R0"])
@pytest.mark.parametrize(("ds", "measure", "method"), GRID_CASES)
def test_trimfill_matches_metafor(ds: str, measure: str, method: str, estimator: str) -> None:
    yi, vi, pub = _grid(ds, measure, method)
    ref = pub[f"trimfill_{estimator}"]
    res = _run(trim_and_fill, yi, vi, method=method, estimator=estimator)
    assert (res.estimator, res.side, res.k0) == (ref["estimator"], ref["side"], ref["k0"])
    default = method == "REML"
    rtol = RTOL_METAFOR_DEFAULT if default else RTOL_CLOSED_FORM
    wrong = _compare(res, ref, TRIMFILL, rtol, default_tau2=default)
    assert not wrong, "; ".join(wrong)


def test_every_pubbias_entry_and_field_is_compared() -> None:
    n_fits = sum(len(m) for m in GRID["datasets"].values())
    assert n_fits == 15 and len(GRID_CASES) == 3 * n_fits  # FE, DL and REML of each
    for ds, measures in GRID["datasets"].items():
        for measure, entry in measures.items():
            for method, fit in entry["methods"].items():
                if "pubbias" not in fit:
                    assert method not in ("FE", "DL", "REML"), (ds, measure, method)
                    continue
                assert set(fit["pubbias"]) == set(FIELD_MAPS)
                for key, ref in fit["pubbias"].items():
                    unknown = set(ref) - set(FIELD_MAPS[key]) - CHECKED_APART[key]
                    assert not unknown, f"{ds}/{measure}/{method}/{key}: {unknown}"


# ---------------------------------------------------------------- metafor: extended reference

TIGHT_CASES = sorted(SENS["pubbias_tight"])
REGTEST_CASES = sorted(SENS["regtest"])
FSN_CASES = sorted(SENS["fsn"])
#: regtest entries of sensitivity_reference.json: field -> our attribute
REGTEST_EXT = {"stat": "statistic", "pval": "pval", "df": "df", "est": "limit_estimate",
               "ci.lb": "ci_lb", "ci.ub": "ci_ub", "tau2": "tau2"}  # fmt: skip
REGTEST_EXT_APART = {"dataset", "measure", "method", "test", "tight", "call", "ni", "model",
                     "predictor", "beta", "se"}  # fmt: skip


def _ext_regtest(res: EggerResult, ref: dict[str, Any], rtol: float) -> list[str]:
    fields = {name: (attr, 1.0) for name, attr in REGTEST_EXT.items()}
    wrong = _compare(res, ref, fields, rtol)
    np.testing.assert_allclose([res.intercept, res.slope], ref["beta"], rtol=rtol)
    np.testing.assert_allclose([res.intercept_se, res.slope_se], ref["se"], rtol=rtol)
    assert (res.model, res.predictor) == (ref["model"], ref["predictor"])
    return wrong


@pytest.mark.parametrize("key", TIGHT_CASES)
def test_tight_reml_regtest_and_trimfill_match_metafor(key: str) -> None:
    ds, measure, _ = key.split("/")
    yi, vi, _ = _grid(ds, measure, "REML")
    ref = SENS["pubbias_tight"][key]
    wrong = _ext_regtest(_run(egger_test, yi, vi), ref["regtest"], RTOL_TIGHT)
    for estimator in ("L0", "R0"):
        tf_ref = ref[f"trimfill_{estimator}"]
        res = _run(trim_and_fill, yi, vi, estimator=estimator)
        assert (res.side, res.k0) == (tf_ref["side"], tf_ref["k0"])
        wrong += _compare(res, tf_ref, TRIMFILL, RTOL_TIGHT)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("key", REGTEST_CASES)
def test_every_predictor_model_and_test_matches_metafor(key: str) -> None:
    ref = SENS["regtest"][key]
    yi, vi, _ = _grid(ref["dataset"], ref["measure"], "FE")
    res = _run(egger_test, yi, vi, predictor=ref["predictor"], model=ref["model"],
               method=ref["method"], test=ref["test"], ni=ref["ni"] or None)  # fmt: skip
    rtol = RTOL_TIGHT if ref["tight"] else RTOL_CLOSED_FORM
    wrong = _ext_regtest(res, ref, rtol)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("key", sorted(SENS["modified"]))
def test_modified_predictor_is_metafor_meta_regression(key: str) -> None:
    """The Pustejovsky-Rodgers predictor: metafor's rma() with sqrt(1/n1i + 1/n2i)."""
    ds, measure, method = key.split("/")
    ref = SENS["modified"][key]
    yi, vi, _ = _grid(ds, measure, "FE")
    res = _run(egger_test, yi, vi, predictor="modified_sei", method=method,
               n1i=ref["n1i"], n2i=ref["n2i"])  # fmt: skip
    rtol = RTOL_TIGHT if method == "REML" else RTOL_CLOSED_FORM
    np.testing.assert_allclose([res.intercept, res.slope], ref["beta"], rtol=rtol)
    np.testing.assert_allclose([res.intercept_se, res.slope_se], ref["se"], rtol=rtol)
    assert res.statistic == pytest.approx(ref["zval"][1], rel=rtol)
    assert res.pval == pytest.approx(ref["pval"][1], rel=rtol)
    assert (res.ci_lb, res.ci_ub) == pytest.approx((ref["ci.lb"][0], ref["ci.ub"][0]), rel=rtol)
    assert res.tau2 == pytest.approx(ref["tau2"], rel=rtol, abs=ATOL_ZERO)


@pytest.mark.parametrize("key", sorted(SENS["petpeese"]))
def test_pet_peese_matches_metafor_regtests(key: str) -> None:
    ds, measure = key.split("/")
    ref = SENS["petpeese"][key]
    yi, vi, _ = _grid(ds, measure, "FE")
    res = _run(pet_peese, yi, vi)
    assert not _ext_regtest(res.pet, ref["pet"], RTOL_CLOSED_FORM)
    assert not _ext_regtest(res.peese, ref["peese"], RTOL_CLOSED_FORM)
    assert res.pet.intercept_pval == pytest.approx(ref["pet_intercept_pval"], rel=1e-9)
    expected = "PEESE" if ref["pet_intercept_pval"] < 0.05 else "PET"
    chosen = ref["peese"] if expected == "PEESE" else ref["pet"]
    assert res.selected == expected
    assert (res.estimate, res.ci_lb, res.ci_ub) == pytest.approx(
        (chosen["est"], chosen["ci.lb"], chosen["ci.ub"]), rel=RTOL_CLOSED_FORM
    )


@pytest.mark.parametrize("key", FSN_CASES)
def test_fail_safe_n_matches_metafor(key: str) -> None:
    ref = SENS["fsn"][key]
    yi, vi, _ = _grid(ref["dataset"], ref["measure"], "FE")
    options: dict[str, Any] = {"type": ref["type"], "alpha": ref["alpha"]}
    variant = key.split("/")[-1]
    options.update({
        "Rosenthal_Fisher": {"combine": "Fisher"}, "Orwin_target": {"target": 0.05},
        "Orwin_weighted": {"weighted": True},
    }.get(variant, {}))  # fmt: skip
    res = _run(fail_safe_n, yi, vi, **options)
    fields = {"pval": ("pval", 1.0), "meanes": ("mean_effect", 1.0), "target": ("target", 1.0)}
    wrong = _compare(res, ref, fields, RTOL_CLOSED_FORM)
    assert not wrong, "; ".join(wrong)
    if variant == "Rosenthal_Fisher":
        # metafor: root of a saw-tooth in a real-valued n (docs/validation.md); ours: the
        # smallest whole number of null studies that reaches alpha, never below metafor's
        assert 0 <= res.fsnum - ref["fsnum"] <= 2
    else:
        assert res.fsnum == ref["fsnum"]


def test_extended_reference_is_complete() -> None:
    assert len(TIGHT_CASES) == 15 and len(REGTEST_CASES) == 4 * 6 * 6
    assert len(FSN_CASES) == 6 * 7 and len(SENS["modified"]) == 6 and len(SENS["petpeese"]) == 4
    for ref in SENS["regtest"].values():
        assert set(ref) <= set(REGTEST_EXT) | REGTEST_EXT_APART, set(ref)
    for ref in SENS["pubbias_tight"].values():
        assert set(ref["regtest"]) <= set(REGTEST_EXT) | REGTEST_EXT_APART
        for est in ("L0", "R0"):
            assert set(ref[f"trimfill_{est}"]) <= set(TRIMFILL) | CHECKED_APART["trimfill_L0"]


# ---------------------------------------------------------------- published worked examples


def test_rosenthal_1979_file_drawer() -> None:
    """Rosenthal (1979, Psychol Bull 86:638-641, p. 640): 94 studies of interpersonal
    expectancy effects with mean Z = 1.014 need 3,263 unpublished null results to bring the
    combined p to .05; 311 studies with mean Z = 1.18 need 49,457. His formula uses
    1.645^2 = 2.706 and the mean Z to the printed digits, so the published N must lie
    between the values for the mean Z rounded down and up (the exact quantile moves N by
    less than 1)."""
    for k, mean_z, published, half_digit in ((94, 1.014, 3263, 5e-4), (311, 1.18, 49457, 5e-3)):
        low = _run(fail_safe_n, np.full(k, mean_z - half_digit), np.ones(k)).fsnum
        high = _run(fail_safe_n, np.full(k, mean_z + half_digit), np.ones(k)).fsnum
        assert low <= published <= high
        res = _run(fail_safe_n, np.full(k, mean_z), np.ones(k))
        assert abs(res.fsnum - published) <= 0.01 * published


def test_hackshaw_passive_smoking_duval_tweedie() -> None:
    """37 studies of lung cancer in non-smoking women married to smokers (dat.hackshaw1998).
    Hackshaw, Law and Wald (1997, BMJ 315:980-988, abstract): excess risk 24% (95% CI 13% to
    36%), i.e. a random-effects relative risk of 1.24 (1.13 to 1.36). Duval and Tweedie
    (2000, JASA 95:89-98), trim and fill on these studies: about 7 studies missing on the
    left, adjusted relative risk 1.19 (1.08 to 1.31)."""
    yi, vi, _ = _grid("dat.hackshaw1998", "given", "DL")
    observed = meta_analysis(yi, vi, method="DL")
    assert [round(math.exp(x), 2) for x in (observed.estimate, observed.ci_lb, observed.ci_ub)] == [
        1.24, 1.13, 1.36,
    ]  # fmt: skip
    res = trim_and_fill(yi, vi, method="DL")
    assert (res.k0, res.side, res.k_total) == (7, "left", 44)
    assert [round(math.exp(x), 2) for x in (res.estimate, res.ci_lb, res.ci_ub)] == [
        1.19, 1.08, 1.31,
    ]  # fmt: skip


def test_kendall_table_for_five_pairs() -> None:
    """Kendall's table of the null distribution of S (Kendall and Gibbons 1990, Rank
    Correlation Methods, Appendix Table 1): for n = 5, P(S >= 8) = 0.042 and
    P(S >= 10) = 0.008. Five studies whose standardised effects rank as 1, 2, 3, 5, 4 against
    increasing variances have S = 8 (tau = 0.8), so the exact two-sided p is 2 x 5/120."""
    counts = [_kendall_s(list(p)) for p in itertools.permutations(range(5))]
    assert sum(s >= 8 for s in counts) == 5 and round(5 / 120, 3) == 0.042
    assert sum(s >= 10 for s in counts) == 1 and round(1 / 120, 3) == 0.008
    vi = np.array([0.010, 0.011, 0.012, 0.013, 0.014])
    yi = np.array([-2.0, -1.0, 0.0, 2.0, 1.0])
    res = _run(begg_test, yi, vi)
    assert res.exact and res.tau == pytest.approx(0.8, rel=RTOL_CLOSED_FORM)
    assert res.pval == pytest.approx(10 / 120, rel=RTOL_CLOSED_FORM)


# ---------------------------------------------------------------- direct computations

Y = np.array([0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40, 0.18])
V = np.array([0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025,
              0.015])  # fmt: skip


def _kendall_s(ranks: list[int]) -> int:
    """Kendall's S of a ranking against 0, 1, ..., n-1: concordant minus discordant pairs."""
    return sum(
        int(np.sign(ranks[j] - ranks[i]))
        for i in range(len(ranks))
        for j in range(i + 1, len(ranks))
    )


def test_classical_egger_is_weighted_least_squares() -> None:
    """model="lm": lm(yi ~ sei, weights = 1/vi) by hand, and Egger et al.'s (1997) original
    regression of y/se on 1/se by ordinary least squares, whose intercept is our slope."""
    k, se = Y.size, np.sqrt(V)
    x = np.column_stack([np.ones(k), se])
    w = 1 / V
    xtwx_inv = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = xtwx_inv @ x.T @ (w * Y)
    sigma2 = np.sum(w * (Y - x @ beta) ** 2) / (k - 2)
    se_beta = np.sqrt(sigma2 * np.diag(xtwx_inv))
    t = beta / se_beta
    crit = stats.t.ppf(0.975, k - 2)
    res = egger_test(Y, V, model="lm")
    assert (res.intercept, res.slope) == pytest.approx(tuple(beta), rel=RTOL_CLOSED_FORM)
    assert (res.intercept_se, res.slope_se) == pytest.approx(tuple(se_beta), rel=1e-9)
    assert res.statistic == pytest.approx(t[1], rel=RTOL_CLOSED_FORM) and res.df == k - 2
    assert res.pval == pytest.approx(2 * stats.t.sf(abs(t[1]), k - 2), rel=RTOL_CLOSED_FORM)
    assert res.intercept_pval == pytest.approx(2 * stats.t.sf(abs(t[0]), k - 2), rel=1e-9)
    assert (res.ci_lb, res.ci_ub) == pytest.approx(
        (beta[0] - crit * se_beta[0], beta[0] + crit * se_beta[0]), rel=RTOL_CLOSED_FORM
    )
    ols = stats.linregress(1 / se, Y / se)  # Egger et al. (1997): SND on precision
    assert ols.intercept == pytest.approx(res.slope, rel=RTOL_CLOSED_FORM)
    assert ols.intercept / ols.intercept_stderr == pytest.approx(res.statistic, rel=1e-9)


@pytest.mark.parametrize(("method", "test"), [("REML", "z"), ("DL", "knha"), ("FE", "z")])
def test_mixed_effects_egger_is_the_meta_regression_on_sei(method: str, test: str) -> None:
    res = egger_test(Y, V, method=method, test=test)
    fit = meta_regression(Y, V, {"sei": np.sqrt(V)}, method=method, test=test)
    coef = fit.coefficients
    stat = "zval" if test == "z" else "tval"
    assert res.statistic == coef.loc["sei", stat] and res.pval == coef.loc["sei", "pval"]
    assert res.limit_estimate == coef.loc["intrcpt", "estimate"]
    assert res.ci_lb == coef.loc["intrcpt", "ci_lb"] and res.tau2 == fit.tau2
    assert (res.df == Y.size - 2) if test == "knha" else math.isnan(res.df)


def test_sample_size_predictors() -> None:
    n1 = np.array([40, 25, 60, 15, 30, 10, 45, 20, 80, 12, 35, 50])
    n2 = n1 + 3
    n = n1 + n2
    for predictor, values in (("ni", n), ("ninv", 1 / n), ("sqrtni", np.sqrt(n)),
                              ("sqrtninv", 1 / np.sqrt(n)),
                              ("modified_sei", np.sqrt(1 / n1 + 1 / n2))):  # fmt: skip
        res = egger_test(Y, V, predictor=predictor, n1i=n1, n2i=n2)
        fit = meta_regression(Y, V, {predictor: values})
        assert res.slope == pytest.approx(fit.beta[1], rel=RTOL_CLOSED_FORM), predictor
        limit = predictor not in ("ni", "sqrtni")
        assert math.isnan(res.limit_estimate) != limit and math.isnan(res.ci_lb) != limit
        assert any("not a limit estimate" in note for note in res.notes) != limit
    assert (
        egger_test(Y, V, predictor="ni", ni=n).slope
        == egger_test(Y, V, predictor="ni", n1i=n1, n2i=n2).slope
    )


def test_begg_kendall_tau_and_exact_p_by_hand() -> None:
    """Standardised deviates, Kendall's S by counting pairs, and the exact two-sided p-value
    by enumerating the 8! rankings (Begg and Mazumdar 1994)."""
    y, v = Y[:8], V[:8]
    w = 1 / v
    theta = np.sum(w * y) / np.sum(w)
    y_star = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    ranks_y = np.argsort(np.argsort(y_star))[np.argsort(v)]  # y* ranks in order of v
    s_obs = _kendall_s(list(ranks_y))
    null = np.array([_kendall_s(list(p)) for p in itertools.permutations(range(8))])
    p_exact = min(1.0, 2 * min(np.mean(null >= s_obs), np.mean(null <= s_obs)))
    res = _run(begg_test, y, v)
    assert res.tau == pytest.approx(s_obs / 28, rel=RTOL_CLOSED_FORM)
    assert res.pval == pytest.approx(p_exact, rel=RTOL_CLOSED_FORM) and res.exact


def test_begg_exact_p_for_102_studies_is_the_exact_fraction() -> None:
    """dat.curtis1998 SMD (k = 102): the exact two-sided p-value as a fraction, from the
    number of rankings with at most the observed discordant pairs (Mahonian numbers, in
    Python integers). Ours agrees to 1e-14; metafor's (R's cor.test) differs by 2.5e-7
    relative, from its floating-point recursion, which ATOL_ZERO absorbs in the grid test."""
    yi, vi, pub = _grid("dat.curtis1998", "SMD", "REML")
    w = 1 / vi
    y_star = (yi - np.sum(w * yi) / np.sum(w)) / np.sqrt(vi - 1 / np.sum(w))
    n = yi.size
    s = int(sum(np.sign(y_star[j] - y_star[i]) * np.sign(vi[j] - vi[i])
                for i in range(n) for j in range(i + 1, n)))  # fmt: skip
    tail = (n * (n - 1) // 2 - abs(s)) // 2  # discordant pairs on the rarer side
    counts = [1] + [0] * tail  # rankings of 1..m with d inversions, for d <= tail
    for m in range(2, n + 1):
        prefix = list(itertools.accumulate(counts, initial=0))
        counts = [prefix[d + 1] - prefix[max(0, d - m + 1)] for d in range(tail + 1)]
    exact = Fraction(2 * sum(counts), math.factorial(n))
    res = begg_test(yi, vi)
    assert res.exact and res.pval == pytest.approx(float(exact), rel=1e-14)
    assert res.pval == pytest.approx(pub["ranktest"]["pval"], rel=1e-6)


def test_begg_with_ties_uses_the_tie_corrected_normal_approximation() -> None:
    """Kendall (1970): var(S) = [n(n-1)(2n+5) - sum t(t-1)(2t+5)]/18 with the cross terms
    for ties in both rankings; tau-b = S / sqrt((n0 - n1)(n0 - n2))."""
    v = np.array([0.01, 0.02, 0.02, 0.03, 0.04, 0.04, 0.05, 0.06, 0.08, 0.08, 0.09])
    y = np.array([0.1, 0.3, 0.2, 0.4, 0.3, 0.6, 0.5, 0.2, 0.9, 0.7, 0.8])
    res = begg_test(y, v)
    assert not res.exact and any("tied" in note for note in res.notes)
    w = 1 / v
    y_star = (y - np.sum(w * y) / np.sum(w)) / np.sqrt(v - 1 / np.sum(w))
    n = y.size
    s = sum(np.sign(y_star[j] - y_star[i]) * np.sign(v[j] - v[i])
            for i in range(n) for j in range(i + 1, n))  # fmt: skip
    tx = np.unique(y_star, return_counts=True)[1]
    ty = np.unique(v, return_counts=True)[1]
    n0 = n * (n - 1) / 2
    n1, n2 = np.sum(tx * (tx - 1) / 2), np.sum(ty * (ty - 1) / 2)
    var = (
        n * (n - 1) * (2 * n + 5)
        - np.sum(tx * (tx - 1) * (2 * tx + 5))
        - np.sum(ty * (ty - 1) * (2 * ty + 5))
    ) / 18
    var += np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1)) / (2 * n * (n - 1))
    var += (np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
            / (9 * n * (n - 1) * (n - 2)))  # fmt: skip
    assert res.tau == pytest.approx(s / math.sqrt((n0 - n1) * (n0 - n2)), rel=RTOL_CLOSED_FORM)
    assert res.pval == pytest.approx(2 * stats.norm.sf(abs(s) / math.sqrt(var)), rel=1e-9)


def _trim_and_fill_by_hand(y: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """L0 with an equal-effects model, missing studies on the left (Duval and Tweedie 2000)."""
    order = np.argsort(y, kind="stable")
    y, v = y[order], v[order]
    k, k0, previous, mu = y.size, 0, -1, 0.0
    while k0 != previous:
        previous = k0
        keep = slice(0, k - k0)
        mu = float(np.sum(y[keep] / v[keep]) / np.sum(1 / v[keep]))
        dev = y - mu
        ranks = np.empty(k)
        for r, i in enumerate(sorted(range(k), key=lambda i: (abs(dev[i]), i)), start=1):
            ranks[i] = r
        s_rank = sum(ranks[i] for i in range(k) if dev[i] > 0)
        k0 = max(0, round((4 * s_rank - k * (k + 1)) / (2 * k - 1)))
    return k0, 2 * mu - y[k - k0 :]


def test_trim_and_fill_step_by_step() -> None:
    k0, filled = _trim_and_fill_by_hand(Y, V)
    res = trim_and_fill(Y, V, method="FE", side="left")
    assert res.k0 == k0 > 0 and res.side == "left"
    np.testing.assert_allclose(res.filled_yi, filled, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_array_equal(res.filled_vi, V[np.argsort(Y, kind="stable")][-k0:])
    pooled = meta_analysis(np.concatenate([Y, filled]), np.concatenate([V, res.filled_vi]),
                           method="FE")  # fmt: skip
    assert res.estimate == pytest.approx(pooled.estimate, rel=RTOL_CLOSED_FORM)
    assert res.fit.k == res.k_total == Y.size + k0 and res.observed.k == Y.size
    # the right side is the mirror image: negate the data, get the negated filling
    mirrored = trim_and_fill(-Y, V, method="FE", side="right")
    assert mirrored.k0 == k0
    np.testing.assert_allclose(mirrored.filled_yi, -filled, rtol=RTOL_CLOSED_FORM)
    r0 = trim_and_fill(Y, V, method="FE", side="left", estimator="R0")
    assert r0.p_k0 == 0.5 ** (r0.k0 + 1) and r0.se_k0 == math.sqrt(2 * r0.k0 + 2)


def test_fail_safe_n_formulas_by_hand() -> None:
    k, z = Y.size, Y / np.sqrt(V)
    z_crit = stats.norm.isf(0.05)
    rosenthal = k * (abs(z.sum()) / math.sqrt(k) / z_crit) ** 2 - k
    res = fail_safe_n(Y, V)
    assert res.fsnum == math.ceil(rosenthal)
    assert res.pval == pytest.approx(stats.norm.sf(abs(z.sum()) / math.sqrt(k)), rel=1e-9)
    orwin = fail_safe_n(Y, type="Orwin", target=0.1)  # unweighted: no variances needed
    assert orwin.fsnum == math.ceil(k * (Y.mean() - 0.1) / 0.1)
    assert fail_safe_n(Y, type="Orwin").target == Y.mean() / 2
    w = 1 / V
    rosenberg = k * ((np.sum(w * Y) / stats.norm.isf(0.025)) ** 2 - w.sum()) / w.sum()
    assert fail_safe_n(Y, V, type="Rosenberg").fsnum == math.ceil(rosenberg)
    fisher = fail_safe_n(Y, V, combine="Fisher").fsnum
    log_p = np.sum(stats.norm.logsf(np.abs(z)))

    def combined(n: float) -> float:
        return float(stats.chi2.sf(-2 * (log_p + n * math.log(0.5)), 2 * (k + n)))

    assert combined(fisher - 1) < 0.05 <= combined(fisher)
    assert math.isinf(fail_safe_n(Y, type="Orwin", target=0.0).fsnum)
    assert fail_safe_n(-Y, type="Orwin", target=0.1).target == -0.1  # sign follows the mean


def test_pet_peese_chooses_peese_when_pet_is_significant() -> None:
    yi = np.array([0.55, 0.62, 0.48, 0.80, 0.58, 1.05, 0.52, 0.71, 0.50, 0.95, 0.60, 0.54])
    res = pet_peese(yi, V)
    assert res.pet.intercept_pval < 0.05 and res.selected == "PEESE"
    peese = egger_test(yi, V, model="lm", predictor="vi")
    assert res.estimate == peese.intercept and res.ci_ub == peese.ci_ub
    strict = pet_peese(yi, V, alpha=res.pet.intercept_pval / 2)
    assert strict.selected == "PET" and strict.estimate == res.pet.intercept
    frame = res.to_frame()
    assert frame["selected"].tolist() == [False, True]
    assert "PEESE selected" in res.summary() and "<table" in res._repr_html_()


# ---------------------------------------------------------------- warnings, input, results


def test_every_method_warns_below_ten_studies() -> None:
    y, v = Y[:9], V[:9]
    for fn in (egger_test, begg_test, trim_and_fill, fail_safe_n, pet_peese):
        with pytest.warns(FewStudiesWarning, match=r"k = 9 studies.*13\.3\.5\.2"):
            res = fn(y, v)
        assert any("at least 10 studies" in note for note in res.notes), fn.__name__
    for fn in (egger_test, begg_test, trim_and_fill, fail_safe_n, pet_peese):
        assert not any("at least 10" in n for n in fn(Y[:10], V[:10]).notes)  # no warning


def test_bad_input_is_named() -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: egger_test(Y, V, predictor="se"), "predictor='se' is not known"),
        (lambda: egger_test(Y, V, model="glm"), "model='glm' is not known"),
        (lambda: egger_test(Y, V, predictor="ni"), "needs sample sizes"),
        (lambda: egger_test(Y, V, predictor="modified_sei", n1i=[10] * 12), "n1i and n2i"),
        (lambda: egger_test(Y, V, predictor="ninv", ni=[10] * 11 + [0]),
         r"ni\[11\] = 0.0 for study 'Study 12'"),
        (lambda: egger_test(Y, V, predictor="ni", ni=[10] * 11), "ni has 11 values"),
        (lambda: egger_test(Y, np.full(12, 0.02)), "same value for every study"),
        (lambda: egger_test(Y, V, model="lm", tau2=0.1), "model=\"lm\""),
        (lambda: egger_test(Y[:2], V[:2]), "at least 3 studies"),
        (lambda: begg_test(Y[:2], V[:2]), "at least 3 studies"),
        (lambda: trim_and_fill(Y, V, estimator="Q0"), "estimator='Q0'"),
        (lambda: trim_and_fill(Y, V, side="up"), "side='up'"),
        (lambda: trim_and_fill(Y, V, maxiter=0), "maxiter=0"),
        (lambda: trim_and_fill(Y, np.full(12, 0.02)), "same variance"),
        (lambda: fail_safe_n(Y, V, type="Fisher"), "type='Fisher'"),
        (lambda: fail_safe_n(Y, V, combine="Tippett"), "combine='Tippett'"),
        (lambda: fail_safe_n(Y, V, alpha=5), "alpha=5"),
        (lambda: fail_safe_n(Y), r"exactly one of vi"),
        (lambda: fail_safe_n([0.1, np.nan], type="Orwin"), r"yi\[1\] is nan"),
        (lambda: pet_peese(Y, V, alpha=0), "alpha=0"),
        (lambda: egger_test(Y, V, method="XX"), "method='XX'"),
        (lambda: begg_test(Y, -V), r"vi\[0\] = -0.01"),
    ]  # fmt: skip
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()


def test_trim_and_fill_result_for_the_funnel_plot() -> None:
    res = trim_and_fill(Y, V, method="DL", slab=[f"S{i}" for i in range(12)])
    assert res.filled_yi.shape == res.filled_vi.shape == (res.k0,)
    assert res.filled_slab == tuple(f"Filled {i + 1}" for i in range(res.k0))
    studies = res.studies()
    assert studies["filled"].sum() == res.k0 and len(studies) == res.k_total
    assert list(studies["slab"][:2]) == ["S0", "S1"]
    assert res.fit.slab[-1] == f"Filled {res.k0}" and res.converged and res.n_iter >= 1
    assert "missing studies on the left side" in res.summary()
    assert res.to_frame().loc[0, "k0"] == res.k0 and "<table" in res._repr_html_()
    bounded = trim_and_fill(Y, V, method="DL", ilim=(0.0, 1.0))
    assert bounded.filled_yi.min() >= 0.0
    unchanged = trim_and_fill(Y[::-1], V[::-1], method="DL")  # order of input is irrelevant
    assert unchanged.k0 == res.k0 and unchanged.estimate == pytest.approx(res.estimate)


def test_result_frames_and_summaries() -> None:
    egger = egger_test(Y, V)
    frame = egger.to_frame()
    assert frame.loc[0, "statistic"] == egger.statistic and frame.loc[0, "predictor"] == "sei"
    assert "test for funnel plot asymmetry: z =" in egger.summary() and str(egger)
    assert "<table" in egger._repr_html_()
    assert "t = " in egger_test(Y, V, model="lm").summary()
    begg = begg_test(Y, V)
    assert begg.to_frame().loc[0, "tau"] == begg.tau and "Kendall's tau" in str(begg)
    fsn = fail_safe_n(Y, V, type="Orwin")
    assert fsn.to_frame().loc[0, "fsnum"] == fsn.fsnum and "target" in fsn.summary()
    assert "<table" in fsn._repr_html_() and "<table" in begg._repr_html_()


@settings(max_examples=30, deadline=None)
@given(st.floats(-5, 5), st.floats(0.2, 5))
def test_location_and_scale(shift: float, scale: float) -> None:
    """Shifting the effects moves the limit estimate by the shift and leaves the tests alone;
    rescaling effects and standard errors together changes nothing but the units."""
    base = egger_test(Y, V, model="lm")
    moved = egger_test(Y + shift, V, model="lm")
    assert moved.limit_estimate == pytest.approx(base.limit_estimate + shift, abs=1e-9)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-9)
    assert begg_test(Y + shift, V).tau == begg_test(Y, V).tau
    scaled = trim_and_fill(Y * scale, V * scale**2, method="FE")
    plain = trim_and_fill(Y, V, method="FE")
    assert scaled.k0 == plain.k0 and scaled.side == plain.side
    assert scaled.estimate == pytest.approx(plain.estimate * scale, rel=1e-9)


# ---------------------------------------------------------------- Harrer et al. (2021), ThirdWave

#: Harrer et al. (2021) print g and its 95% CI to 4 decimals (tests/data/published/SOURCE.md).
THIRDWAVE_ROUNDING = 5e-5


def _thirdwave() -> dict[str, Any]:
    """The 18 ThirdWave trials: g, its standard error recovered from the printed 95% CI, and
    the group sizes."""
    path = ROOT / "tests" / "data" / "published" / "harrer2021_thirdwave.csv"
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    g, lb, ub, n1, n2 = (table[:, j].astype(np.float64) for j in range(1, 6))
    return {"study": list(table[:, 0]), "g": g, "lb": lb, "ub": ub, "n1": n1, "n2": n2}


def _sei(lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    return (ub - lb) / (2.0 * stats.norm.ppf(0.975))


def _rounding_bound(fn: Callable[..., np.ndarray], *inputs: np.ndarray) -> np.ndarray:
    """First-order worst case of ``fn(*inputs)`` over inputs each off by THIRDWAVE_ROUNDING:
    the sum of the absolute partial derivatives (central differences) times the rounding."""
    step = 1e-6
    total = np.zeros_like(fn(*inputs))
    for which, values in enumerate(inputs):
        for i in range(values.size):
            up = [x.copy() for x in inputs]
            down = [x.copy() for x in inputs]
            up[which][i] += step
            down[which][i] -= step
            total += np.abs(fn(*up) - fn(*down)) / (2.0 * step)
    return total * THIRDWAVE_ROUNDING


def test_harrer_2021_thirdwave_data_are_recovered() -> None:
    """Harrer, Cuijpers, Furukawa and Ebert (2021, Doing Meta-Analysis with R, CRC; chapter
    "Pooling Effect Sizes", section "Pre-Calculated Effect Size Data"), random effects with REML
    and the Knapp-Hartung adjustment on the 18 ThirdWave trials: g = 0.5771 [0.3782; 0.7760],
    t = 6.12, tau^2 = 0.0820, Q = 45.50. Reproducing these checks the standard errors
    recovered from the printed confidence intervals."""
    tw = _thirdwave()
    res = meta_analysis(tw["g"], sei=_sei(tw["lb"], tw["ub"]), method="REML", test="knha")
    assert [round(x, 4) for x in (res.estimate, res.ci_lb, res.ci_ub, res.tau2)] == [
        0.5771, 0.3782, 0.7760, 0.0820,
    ]  # fmt: skip
    assert round(res.tval, 2) == 6.12 and round(res.qe, 2) == 45.50 and res.k == 18


def test_harrer_2021_thirdwave_egger() -> None:
    """Harrer et al. (2021, chapter "Publication Bias", section "Egger's Regression Test")
    regress g/SE on 1/SE by ordinary least squares (Egger et al. 1997) for the ThirdWave trials:
    intercept 4.1111 (SE 0.8790, t = 4.677, p = 0.000252) and slope -0.3407 (SE 0.1837,
    t = -1.855, p = 0.082140), 16 df. That regression is model "lm" here with the roles
    swapped: Egger's intercept is our slope on sei and Egger's slope our intercept (the limit
    estimate). The inputs are rounded to 4 decimals, so each printed value must lie within half
    its last digit plus the first-order effect of that rounding (at most 2.6e-3 for the slope,
    1.9e-6 for its p-value, 4.3e-4 for the intercept's p-value)."""
    tw = _thirdwave()

    def fields(g: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
        r = egger_test(g, sei=_sei(lb, ub), model="lm")
        t_intercept = r.intercept / r.intercept_se
        values = [r.slope, r.slope_se, r.statistic, r.pval, r.intercept, r.intercept_se]
        return np.array([*values, t_intercept, r.intercept_pval])

    ours = fields(tw["g"], tw["lb"], tw["ub"])
    res = egger_test(tw["g"], sei=_sei(tw["lb"], tw["ub"]), model="lm")
    assert (res.model, res.df, res.k) == ("lm", 16.0, 18)
    printed = np.array([4.1111, 0.8790, 4.677, 0.000252, -0.3407, 0.1837, -1.855, 0.082140])
    half_digit = np.array([5e-5, 5e-5, 5e-4, 5e-7, 5e-5, 5e-5, 5e-4, 5e-7])
    bound = _rounding_bound(fields, tw["g"], tw["lb"], tw["ub"])
    assert np.all(np.abs(ours - printed) <= half_digit + bound), (ours, printed, bound)
    # The same regression by ordinary least squares, as printed: y = g/SE on x = 1/SE.
    sei = _sei(tw["lb"], tw["ub"])
    design = np.column_stack([np.ones(18), 1.0 / sei])
    coef, *_ = np.linalg.lstsq(design, tw["g"] / sei, rcond=None)
    np.testing.assert_allclose(coef, [res.slope, res.intercept], rtol=RTOL_CLOSED_FORM)


def test_harrer_2021_thirdwave_pet_peese() -> None:
    """Harrer et al. (2021, chapter "Publication Bias", section "PET-PEESE") fit PET and PEESE
    by weighted least squares (R's lm, weights 1/SE^2: model "lm" here) with the modified
    standard error sqrt((n1 + n2)/(n1 n2)) of Pustejovsky and Rodgers (2019): PET's limit
    estimate g = -1.35, significant at p < 0.10; PEESE's g = -0.44. The book then keeps PET,
    because its one-sided rule uses PEESE only when PET's intercept is also positive."""
    tw = _thirdwave()
    sei_mod = np.sqrt((tw["n1"] + tw["n2"]) / (tw["n1"] * tw["n2"]))
    res = pet_peese(tw["g"], sei=sei_mod)
    assert round(res.pet.intercept, 2) == -1.35 and res.pet.intercept_pval < 0.10
    assert round(res.peese.intercept, 2) == -0.44
    assert (res.pet.model, res.pet.df) == ("lm", 16.0)


def test_harrer_2021_thirdwave_pet_peese_one_sided_choice() -> None:
    """Harrer et al. (2021) keep PET: its intercept (-1.35) is significant but negative, and
    the test is one-sided in the direction of the expected (positive) effect. The default
    two-sided test chooses PEESE on the same data."""
    tw = _thirdwave()
    sei_mod = np.sqrt((tw["n1"] + tw["n2"]) / (tw["n1"] * tw["n2"]))
    one_sided = pet_peese(tw["g"], sei=sei_mod, alternative="greater")
    assert one_sided.selected == "PET"
    assert one_sided.pet_pval == pytest.approx(1 - one_sided.pet.intercept_pval / 2)
    assert pet_peese(tw["g"], sei=sei_mod).selected == "PEESE"
    positive = pet_peese(-tw["g"], sei=sei_mod, alternative="greater")
    assert positive.selected == "PEESE"
    assert positive.pet_pval == pytest.approx(positive.pet.intercept_pval / 2)
    with pytest.raises(InputError, match="alternative='left' is not known"):
        pet_peese(tw["g"], sei=sei_mod, alternative="left")


def test_egger_of_a_fit_inherits_its_model_like_regtest() -> None:
    # metafor 3.8-1: regtest(rma(g, sei = g_se, method = "REML", test = "knha")) on the
    # clinical recovery data of Smit et al. 2022 prints t = 0.0009, df = 20, p = 0.9993,
    # limit estimate b = 0.1894 (CI: 0.0046, 0.3742).
    from pathlib import Path

    import pandas as pd

    from metasift.stats import meta_analysis

    data = Path(__file__).parents[1] / "data" / "peer-support" / "smit2022_clinical_recovery.csv"
    studies = pd.read_csv(data)
    fit = meta_analysis(studies["g"], sei=studies["g_se"], method="REML", test="knha")
    res = egger_test(fit)
    assert res.df == 20
    assert round(res.statistic, 4) == 0.0009
    assert round(res.pval, 4) == 0.9993
    assert (round(res.limit_estimate, 4), round(res.ci_lb, 4), round(res.ci_ub, 4)) == (
        0.1894,
        0.0046,
        0.3742,
    )
    # an explicit option still wins over the fit's: the z test of the same regression
    as_z = egger_test(fit, test="z")
    assert (round(as_z.ci_lb, 4), round(as_z.ci_ub, 4)) == (0.0286, 0.3501)
