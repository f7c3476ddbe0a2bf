"""Tests of metasift.stats.conversions: R/metafor values, published examples, formulas, properties.

References: validation/effects_reference.json (made by validation/effects_reference.R with
metafor 3.8-1 and R's qt/qnorm); Cochrane Handbook version 6 sections 6.5.2.2-6.5.2.3;
Wan et al. (2014) BMC Med Res Methodol 14:135, Tables 1 and 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from metasift.errors import InputError
from metasift.stats.conversions import (
    MeanSD,
    SmdEstimate,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_se,
    smd_from_p,
    smd_from_t,
)
from metasift.stats.effects import effect_sizes

#: Closed-form formulas evaluated in two programs agree to rounding (see test_effects.py).
RTOL_CLOSED_FORM = 1e-9
#: The Handbook prints t and SE to 2 decimals and SD to 2: half a unit of the last digit.
ATOL_PRINTED_2DP = 0.5e-2
#: Wan et al. print Tables 1 and 2 to 3 decimals; 6e-4 allows for the rounding (5e-4) and for
#: the accuracy of numerical integration.
ATOL_PRINTED_3DP = 6e-4
#: Blom's approximation (Wan et al. eq. 9 and 16) against the exact expected range and IQR of
#: Tables 1 and 2: computed worst cases are 1.44% (range, n = 5), 0.25% (range, n = 15..50) and
#: 0.45% (IQR, n = 5); the bounds below leave a little room.
RTOL_BLOM_RANGE_N5 = 0.015
RTOL_BLOM_RANGE_N15 = 0.003
RTOL_BLOM_IQR = 0.005

R_JSON = Path(__file__).resolve().parents[2] / "validation" / "effects_reference.json"
with R_JSON.open(encoding="utf-8") as handle:
    R_REF: dict[str, Any] = json.load(handle)


def arr(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


# --------------------------------------------------------------------------- SD from SE / CI


def test_sd_from_se_formula() -> None:
    se, n = np.array([0.5, 1.2, 0.0]), np.array([25, 100, 8])
    np.testing.assert_allclose(sd_from_se(se, n), se * np.sqrt(n), rtol=RTOL_CLOSED_FORM)
    assert np.isnan(sd_from_se([np.nan], [10])).all()


@pytest.mark.parametrize(
    ("key", "level", "dist"), [("t_0.95", 0.95, "t"), ("z_0.95", 0.95, "z"), ("t_0.90", 0.90, "t")]
)
def test_sd_from_ci_matches_r(key: str, level: float, dist: str) -> None:
    ref = R_REF["sd_from_ci"]
    inputs = {k: arr(v) for k, v in ref["inputs"].items()}
    ours = sd_from_ci(inputs["lower"], inputs["upper"], inputs["n"], level=level, dist=dist)
    np.testing.assert_allclose(ours, arr(ref[key]["sd"]), rtol=RTOL_CLOSED_FORM)


def test_sd_from_ci_handbook_divisors() -> None:
    # Cochrane Handbook 6.5.2.2: a 95% CI is 3.92 SEs wide for large samples; for n = 25 the
    # t value is 2.0639, so the divisor is 2 x 2.0639 = 4.128.
    width_t = 1.0 / sd_from_ci(0.0, 1.0, 25) * np.sqrt(25)
    np.testing.assert_allclose(width_t, 4.128, rtol=0, atol=0.5e-3)
    width_z = 1.0 / sd_from_ci(0.0, 1.0, 25, dist="z") * np.sqrt(25)
    np.testing.assert_allclose(width_z, 3.92, rtol=0, atol=0.5e-2)


# --------------------------------------------------------------------------- SMD from t / P


@pytest.mark.parametrize("vtype", ["LS", "LS2", "UB"])
def test_smd_from_t_matches_escalc(vtype: str) -> None:
    ref = R_REF["smd_from_t"]
    inputs = {k: arr(v) for k, v in ref["inputs"].items()}
    est = smd_from_t(inputs["ti"], inputs["n1i"], inputs["n2i"], vtype=vtype)
    assert isinstance(est, SmdEstimate)
    np.testing.assert_allclose(est.yi, arr(ref[vtype]["yi"]), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(est.vi, arr(ref[vtype]["vi"]), rtol=RTOL_CLOSED_FORM)


@pytest.mark.parametrize("sided", ["two", "one"])
def test_smd_from_p_matches_escalc(sided: str) -> None:
    ref = R_REF["smd_from_p"]
    inputs = {k: arr(v) for k, v in ref["inputs"].items()}
    est = smd_from_p(inputs["p"], inputs["n1i"], inputs["n2i"], two_sided=sided == "two")
    case = ref[f"{sided}_sided"]
    np.testing.assert_allclose(est.yi, arr(case["yi"]), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(est.vi, arr(case["vi"]), rtol=RTOL_CLOSED_FORM)
    negative = smd_from_p(
        inputs["p"], inputs["n1i"], inputs["n2i"], two_sided=sided == "two", sign=-1
    )
    np.testing.assert_array_equal(negative.yi, -est.yi)
    np.testing.assert_array_equal(negative.vi, est.vi)


def test_smd_from_p_handbook_example() -> None:
    # Cochrane Handbook 6.5.2.3: MD 3.8, groups of 25 and 22, P = 0.008 -> t = 2.78 (45 df),
    # SE of the MD = 3.8/2.78 = 1.37, SD = 1.37/sqrt(1/25 + 1/22) = 4.69.
    d = smd_from_p(0.008, 25, 22, correction=None).yi
    scale = np.sqrt(1 / 25 + 1 / 22)
    t_value = d / scale
    np.testing.assert_allclose(t_value, 2.78, rtol=0, atol=ATOL_PRINTED_2DP)
    np.testing.assert_allclose(3.8 / t_value, 1.37, rtol=0, atol=ATOL_PRINTED_2DP)
    # The Handbook divides the rounded SE (1.37); the unrounded chain gives 4.683, so the
    # tolerance is that of the rounded intermediate (0.005 / 0.292 ~ 0.017).
    np.testing.assert_allclose(3.8 / d, 4.69, rtol=0, atol=ATOL_PRINTED_2DP / scale)


def test_smd_from_t_equals_effect_sizes_of_the_same_d() -> None:
    t, n1, n2 = np.array([1.7, -0.3]), np.array([14.0, 40.0]), np.array([16.0, 38.0])
    d = t * np.sqrt(1 / n1 + 1 / n2)
    for correction in ("exact", "approx", None):
        for vtype in ("LS", "LS2", "UB", "AV", "RM5"):
            est = smd_from_t(t, n1, n2, correction=correction, vtype=vtype)
            es = effect_sizes(
                "SMD",
                m1i=d,
                sd1i=[1, 1],
                n1i=n1,
                m2i=[0, 0],
                sd2i=[1, 1],
                n2i=n2,
                correction=correction,
                vtype=vtype,
            )
            np.testing.assert_allclose(est.yi, es.yi, rtol=RTOL_CLOSED_FORM)
            np.testing.assert_allclose(est.vi, es.vi, rtol=RTOL_CLOSED_FORM)


@settings(max_examples=200, deadline=None)
@given(t=st.floats(min_value=-30, max_value=30), n1=st.integers(2, 400), n2=st.integers(2, 400))
def test_smd_from_p_inverts_the_t_test(t: float, n1: int, n2: int) -> None:
    p = 2 * stats.t.sf(abs(t), n1 + n2 - 2)
    if p == 0 or p > 1 - 1e-12:
        return  # the t value cannot be recovered from P = 0, nor its size from P = 1
    est = smd_from_p(p, n1, n2, sign=np.sign(t) or 1.0)
    direct = smd_from_t(t, n1, n2)
    np.testing.assert_allclose(est.yi, direct.yi, rtol=1e-6, atol=1e-12)
    assert np.isfinite(est.vi) and est.vi > 0


# --------------------------------------------------------------------------- median -> mean, SD

FIVENUM = R_REF["mean_sd_from_median"]
FQ = {k: arr(v) for k, v in FIVENUM["inputs"].items()}
SCENARIO_ARGS = {
    "S1": {"minimum": FQ["minimum"], "maximum": FQ["maximum"]},
    "S2": {"minimum": FQ["minimum"], "maximum": FQ["maximum"], "q1": FQ["q1"], "q3": FQ["q3"]},
    "S3": {"q1": FQ["q1"], "q3": FQ["q3"]},
}


@pytest.mark.parametrize("scenario", ["S1", "S2", "S3"])
@pytest.mark.parametrize("method", ["luo", "wan"])
def test_mean_sd_from_median_matches_r(scenario: str, method: str) -> None:
    est = mean_sd_from_median(FQ["median"], FQ["n"], mean_method=method, **SCENARIO_ARGS[scenario])
    assert isinstance(est, MeanSD)
    np.testing.assert_allclose(est.sd, arr(FIVENUM[scenario]["sd"]), rtol=RTOL_CLOSED_FORM)
    expected = arr(FIVENUM[scenario][f"mean_{method}"])
    np.testing.assert_allclose(est.mean, expected, rtol=RTOL_CLOSED_FORM)


def test_mean_sd_from_median_formulas() -> None:
    # S1 by hand for n = 12: xi = 2 Phi^-1(11.625 / 12.25), w = 4 / (4 + 12^0.75).
    est = mean_sd_from_median(4.0, 12, minimum=1.0, maximum=10.0)
    xi = 2 * stats.norm.ppf(11.625 / 12.25)
    w = 4 / (4 + 12**0.75)
    np.testing.assert_allclose(est.sd, 9 / xi, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(est.mean, w * 5.5 + (1 - w) * 4.0, rtol=RTOL_CLOSED_FORM)
    # S3 by hand for n = 40: eta = 2 Phi^-1((30 - 0.125) / 40.25), w = 0.7 + 0.39/40.
    est = mean_sd_from_median(15.0, 40, q1=14.0, q3=17.0, mean_method="wan")
    eta = 2 * stats.norm.ppf(29.875 / 40.25)
    np.testing.assert_allclose(est.sd, 3 / eta, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(est.mean, 46 / 3, rtol=RTOL_CLOSED_FORM)


#: Wan et al. (2014), Table 1: xi(n) = 2 E(Z_(n)), the expected range of n standard normal
#: values, n = 1..50 (3 decimals).
WAN_TABLE1 = [
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
    3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
    3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
    4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
    4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498,
]  # fmt: skip
#: Wan et al. (2014), Table 2: eta(n), the expected interquartile range of n = 4Q + 1 standard
#: normal values, Q = 1..50 (3 decimals).
WAN_TABLE2 = [
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
    1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
    1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
    1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
    1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340,
]  # fmt: skip


def _expected_range(n: int) -> float:
    def integrand(x: float) -> float:
        cdf = stats.norm.cdf(x)
        return float(1 - (1 - cdf) ** n - cdf**n)

    return float(integrate.quad(integrand, -np.inf, np.inf)[0])


def _expected_order_statistic(r: int, n: int) -> float:
    log_c = special.gammaln(n + 1) - special.gammaln(r) - special.gammaln(n - r + 1)

    def integrand(x: float) -> float:
        dens = stats.norm.logcdf(x) * (r - 1) + stats.norm.logsf(x) * (n - r)
        return float(x * np.exp(log_c + dens + stats.norm.logpdf(x)))

    return float(integrate.quad(integrand, -np.inf, np.inf)[0])


def test_wan_tables_are_the_exact_expectations() -> None:
    # Checks the transcription of the published tables against numerical integration.
    for n in (2, 5, 12, 30, 50):
        assert abs(_expected_range(n) - WAN_TABLE1[n - 1]) <= ATOL_PRINTED_3DP
    for q in (1, 3, 10, 50):
        n = 4 * q + 1
        iqr = 2 * _expected_order_statistic(3 * q + 1, n)
        assert abs(iqr - WAN_TABLE2[q - 1]) <= ATOL_PRINTED_3DP


def test_sd_estimators_reproduce_wan_tables() -> None:
    # A range (IQR) equal to the expected range (IQR) of n standard normals gives sd ~ 1.
    for n in range(5, 51):
        est = mean_sd_from_median(
            0.0, n, minimum=-WAN_TABLE1[n - 1] / 2, maximum=WAN_TABLE1[n - 1] / 2
        )
        bound = RTOL_BLOM_RANGE_N15 if n >= 15 else RTOL_BLOM_RANGE_N5
        assert abs(est.sd - 1) <= bound, n
    for q, eta in enumerate(WAN_TABLE2, start=1):
        est = mean_sd_from_median(0.0, 4 * q + 1, q1=-eta / 2, q3=eta / 2)
        assert abs(est.sd - 1) <= RTOL_BLOM_IQR, q


@settings(max_examples=200, deadline=None)
@given(
    qs=st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=5, max_size=5),
    n=st.integers(min_value=2, max_value=10_000),
    shift=st.floats(min_value=-1e3, max_value=1e3),
    scale=st.floats(min_value=0.01, max_value=100),
    method=st.sampled_from(["luo", "wan"]),
)
def test_location_scale_equivariance(
    qs: list[float], n: int, shift: float, scale: float, method: str
) -> None:
    lo, a, med, b, hi = sorted(qs)
    base = mean_sd_from_median(med, n, minimum=lo, maximum=hi, q1=a, q3=b, mean_method=method)
    moved = mean_sd_from_median(
        shift + scale * med,
        n,
        minimum=shift + scale * lo,
        maximum=shift + scale * hi,
        q1=shift + scale * a,
        q3=shift + scale * b,
        mean_method=method,
    )
    np.testing.assert_allclose(moved.mean, shift + scale * base.mean, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(moved.sd, scale * base.sd, rtol=1e-9, atol=1e-9)
    assert np.isfinite(base.sd) and base.sd >= 0
    # Data symmetric about the median: every mean estimator returns the median.
    sym = mean_sd_from_median(med, n, minimum=med - 3, maximum=med + 3, mean_method=method)
    np.testing.assert_allclose(sym.mean, med, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "pieces"),
    [
        (sd_from_se, ([0.5, -0.1], [10, 10]), {}, ["se[1] = -0.1", ">= 0"]),
        (sd_from_se, ([0.5], [0]), {}, ["n[0] = 0", "> 0"]),
        (sd_from_se, ([0.5, 0.6], [10, 10, 10]), {}, ["matching lengths"]),
        (sd_from_ci, ([2.0], [1.0], [10]), {}, ["lower[0] = 2", "upper limit"]),
        (sd_from_ci, ([1.0], [2.0], [1]), {}, ["n[0] = 1", "> 1"]),
        (sd_from_ci, ([1.0], [2.0], [10]), {"dist": "normal"}, ["dist='normal'"]),
        (sd_from_ci, ([1.0], [2.0], [10]), {"level": 95}, ["level = 95"]),
        (mean_sd_from_median, ([4.0], [10]), {"minimum": [1.0]}, ["give minimum and maximum"]),
        (mean_sd_from_median, ([4.0], [10]), {}, ["give minimum and maximum"]),
        (
            mean_sd_from_median,
            ([4.0], [10]),
            {"q1": [5.0], "q3": [6.0]},
            ["q1[0] = 5", "must not exceed median"],
        ),
        (mean_sd_from_median, ([4.0], [1]), {"q1": [3.0], "q3": [6.0]}, ["n[0] = 1", ">= 2"]),
        (
            mean_sd_from_median,
            ([4.0], [10]),
            {"q1": [3.0], "q3": [6.0], "mean_method": "hozo"},
            ["mean_method='hozo'"],
        ),
        (smd_from_t, ([2.0], [10], [0]), {}, ["n2i[0] = 0"]),
        (smd_from_t, ([2.0], [10], [10]), {"vtype": "HO"}, ["vtype='HO'"]),
        (smd_from_t, ([2.0], [10], [10]), {"correction": "none"}, ["correction='none'"]),
        (smd_from_p, ([0.0], [10], [10]), {}, ["p[0] = 0", "(0, 1]"]),
        (smd_from_p, ([1.5], [10], [10]), {}, ["p[0] = 1.5"]),
        (smd_from_p, ([0.05], [10], [10]), {"sign": 0.5}, ["sign[0] = 0.5", "+1 or -1"]),
        (smd_from_p, ([0.05], [1], [1]), {}, ["n1i + n2i must be > 2"]),
        (smd_from_p, ([0.05], [10], [10], "yes"), {}, ["two_sided must be True or False"]),
    ],
)
def test_bad_input_raises_input_error(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], pieces: list[str]
) -> None:
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    for piece in pieces:
        assert piece in str(info.value)


def test_missing_values_give_nan() -> None:
    est = mean_sd_from_median([4.0, np.nan], [10, 10], q1=[3.0, 3.0], q3=[6.0, 6.0])
    assert np.isfinite(est.mean[0]) and np.isnan(est.mean[1]) and np.isnan(est.sd[1])
    assert np.isnan(sd_from_ci([np.nan], [1.0], [10])).all()
    assert np.isnan(smd_from_p([np.nan], [10], [10]).yi).all()
