"""meta_analysis(): direct computations, a published example, edge cases and properties."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift import ConvergenceWarning, InputError, meta_analysis
from metasift.stats import meta_analysis_batch

PEER = Path(__file__).parents[1] / "data" / "peer-support"
RTOL_CLOSED_FORM = 1e-9
#: Batch and single fits run the same code on the same column: equal to rounding.
RTOL_BATCH = 1e-10

Y = np.array([0.10, 0.30, 0.35, 0.65, 0.45, 0.15])
V = np.array([0.030, 0.030, 0.050, 0.010, 0.050, 0.020])


def test_dersimonian_laird_by_hand() -> None:
    """Every DL field from the textbook formulas (Borenstein et al. 2009, ch. 12 and 16)."""
    w = 1 / V
    mu0 = np.sum(w * Y) / np.sum(w)
    q = np.sum(w * (Y - mu0) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - 5) / c)
    ws = 1 / (V + tau2)
    mu = np.sum(ws * Y) / np.sum(ws)
    se = np.sqrt(1 / np.sum(ws))
    z = stats.norm.ppf(0.975)
    res = meta_analysis(Y, V, method="DL")
    expected = {
        "tau2": tau2,
        "qe": q,
        "qe_pval": stats.chi2.sf(q, 5),
        "estimate": mu,
        "se": se,
        "ci_lb": mu - z * se,
        "ci_ub": mu + z * se,
        "pval": 2 * stats.norm.sf(abs(mu / se)),
        "pi_lb": mu - z * np.sqrt(se**2 + tau2),
        "i2_q": (q - 5) / q,
    }
    for name, value in expected.items():
        assert getattr(res, name) == pytest.approx(value, rel=RTOL_CLOSED_FORM), name
    np.testing.assert_allclose(res.weights, ws / ws.sum(), rtol=RTOL_CLOSED_FORM)


def test_hartung_knapp_by_hand() -> None:
    res = meta_analysis(Y, V, method="DL", test="knha")
    ws = res.weights / V.min()  # any multiple of the weights: rescaled below
    ws = 1 / (V + res.tau2)
    s2 = np.sum(ws * (Y - res.estimate) ** 2) / 5
    se = np.sqrt(s2 / ws.sum())
    t = stats.t.ppf(0.975, 5)
    assert res.se == pytest.approx(se, rel=RTOL_CLOSED_FORM)
    assert res.ci_ub == pytest.approx(res.estimate + t * se, rel=RTOL_CLOSED_FORM)
    assert res.pval == pytest.approx(2 * stats.t.sf(abs(res.estimate / se), 5), rel=1e-9)
    assert math.isnan(res.zval) and res.df == 5


def test_adhoc_is_never_narrower_than_wald() -> None:
    homogeneous = np.array([0.30, 0.31, 0.29, 0.30])
    wald = meta_analysis(homogeneous, np.full(4, 0.04), method="DL")
    knha = meta_analysis(homogeneous, np.full(4, 0.04), method="DL", test="knha")
    adhoc = meta_analysis(homogeneous, np.full(4, 0.04), method="DL", test="adhoc")
    assert knha.se < wald.se  # the HKSJ factor is below 1 here
    assert adhoc.se == pytest.approx(wald.se)
    assert adhoc.ci_ub - adhoc.ci_lb > wald.ci_ub - wald.ci_lb


@pytest.mark.parametrize("outcome", ["clinical", "personal", "functional"])
def test_smit_2022_published_results(outcome: str) -> None:
    """Smit et al. 2022, Psychol Med, abstract: g, 95% CI and I^2, printed to 2 decimals.

    The model that reproduces them (tests/data/peer-support/SOURCE.md): REML tau^2 with
    Hartung-Knapp-Sidik-Jonkman intervals, one row per comparison, I^2 from Q.
    """
    studies = pd.read_csv(PEER / f"smit2022_{outcome}_recovery.csv")
    expected = pd.read_csv(PEER / "smit2022_expected_pooled.csv").set_index("outcome")
    row = expected.loc[f"{outcome.capitalize()} recovery"]
    res = meta_analysis(studies["g"], sei=studies["g_se"], method="REML", test="knha")
    assert res.k == row["k_comparisons"]
    assert round(res.estimate, 2) == row["published_g"]
    assert round(res.ci_lb, 2) == row["published_ci_lb"]
    assert round(res.ci_ub, 2) == row["published_ci_ub"]
    assert round(100 * res.i2_q) == row["published_I2_pct"]
    # and the four-decimal reproduction with metafor 3.8-1 in the same file
    assert res.estimate == pytest.approx(row["repro_g"], abs=5e-5)
    assert res.ci_lb == pytest.approx(row["repro_ci_lb"], abs=5e-5)
    assert res.qe == pytest.approx(row["repro_Q"], abs=5e-4)


def test_single_study_is_an_answer() -> None:
    res = meta_analysis([0.4], [0.04])
    assert res.estimate == 0.4 and res.se == pytest.approx(0.2)
    assert res.ci_lb == pytest.approx(0.4 - stats.norm.ppf(0.975) * 0.2)
    for name in ("tau2", "i2", "i2_q", "h2", "qe", "pi_lb"):
        assert math.isnan(getattr(res, name)), name
    assert any("one study" in note for note in res.notes)
    knha = meta_analysis([0.4], [0.04], test="knha")
    assert math.isnan(knha.ci_lb) and any("knha" in note for note in knha.notes)


def test_two_studies_and_equal_variances() -> None:
    res = meta_analysis([0.1, 0.5], [0.02, 0.02], method="REML")
    assert res.k == 2 and res.converged
    assert res.estimate == pytest.approx(0.3)
    np.testing.assert_allclose(res.weights, [0.5, 0.5])
    # REML for k = 2 with equal v: tau2 = (y1 - y2)^2 / 2 - v
    assert res.tau2 == pytest.approx(0.08 - 0.02, rel=1e-9)


def test_boundary_tau2_is_exactly_zero() -> None:
    res = meta_analysis([0.30, 0.31, 0.29], [0.05, 0.05, 0.05], method="REML")
    assert res.tau2 == 0.0 and res.converged
    assert any("boundary" in note for note in res.notes)


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2, 0.3], [0.01, -0.2, 0.02], "vi[1] = -0.2 for study 'Cook 2012'"),
        ([0.1, np.nan, 0.3], [0.01, 0.02, 0.02], "yi[1] is nan for study 'Cook 2012'"),
        ([0.1, 0.2], [0.01, 0.02, 0.03], "yi has 2 values but vi has 3"),
        ([0.1, 0.2, 0.3], [0.01, 0.0, 0.02], "must be > 0"),
    ],
)
def test_bad_input_names_the_study(yi: list[float], vi: list[float], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        meta_analysis(yi, vi, slab=["Ahn 2010", "Cook 2012", "Diaz 2015"][: len(yi)])


def test_unknown_method_and_test() -> None:
    with pytest.raises(InputError, match="method='RML' is not known"):
        meta_analysis(Y, V, method="RML")
    with pytest.raises(InputError, match="test='t'"):
        meta_analysis(Y, V, test="t")
    with pytest.raises(InputError, match="exactly one of vi"):
        meta_analysis(Y, V, sei=np.sqrt(V))


def test_non_convergence_is_reported() -> None:
    with pytest.warns(ConvergenceWarning, match="SJIT estimator did not converge"):
        res = meta_analysis(Y, V, method="SJIT", maxiter=2)
    assert not res.converged and res.n_iter == 2
    assert any("did not converge" in note for note in res.notes)


@pytest.mark.parametrize("method", ["EE", "DL", "HE", "HS", "HSk", "SJ", "SJIT", "DLIT", "ML",
                                    "REML", "EB", "PM", "PMM"])  # fmt: skip
@pytest.mark.parametrize("test", ["z", "knha"])
def test_batch_equals_single(method: str, test: str) -> None:
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 0.2, (12, 40))
    y = rng.normal(0.2, np.sqrt(v + 0.03))
    y[3, 5] = np.nan  # a study missing from one column
    batch = meta_analysis_batch(y, v, method=method, test=test)
    for j in (0, 5, 39):
        keep = np.isfinite(y[:, j])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            one = meta_analysis(y[keep, j], v[keep, j], method=method, test=test)
        for name in ("estimate", "se", "ci_lb", "pi_ub", "tau2", "tau2_se", "i2", "qe_pval"):
            assert getattr(batch, name)[j] == pytest.approx(
                getattr(one, name), rel=RTOL_BATCH, nan_ok=True
            ), name
        assert bool(batch.converged[j]) == one.converged


def test_batch_reml_converges_everywhere() -> None:
    rng = np.random.default_rng(2024)
    v = rng.uniform(0.005, 0.5, (20, 2000))
    y = rng.normal(0.0, np.sqrt(v + rng.choice([0.0, 0.01, 0.5], 2000)))
    res = meta_analysis_batch(y, v, method="REML")
    assert res.converged.all()
    assert (res.tau2 >= 0).all()
    # at an interior solution the REML score is 0
    interior = res.tau2 > 0
    w = 1 / (v + res.tau2)
    r = y - res.estimate
    s1, s2 = w.sum(0), (w * w).sum(0)
    score = (w * w * r * r).sum(0) - (s1 - s2 / s1)
    assert np.all(np.abs(score[interior]) < 1e-6 * s1[interior])


finite = st.floats(-3, 3, allow_nan=False)
positive = st.floats(0.001, 1.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, positive), min_size=2, max_size=15), finite,
       st.sampled_from(["DL", "REML", "PM", "ML", "SJ"]))  # fmt: skip
def test_invariants(studies: list[tuple[float, float]], shift: float, method: str) -> None:
    y = np.array([s[0] for s in studies])
    v = np.array([s[1] for s in studies])
    res = meta_analysis(y, v, method=method)
    assert res.converged and res.tau2 >= 0
    assert y.min() - 1e-9 <= res.estimate <= y.max() + 1e-9
    assert res.weights.sum() == pytest.approx(1.0)
    assert 0 <= res.i2 <= 1 and 0 <= res.i2_q <= 1
    moved = meta_analysis(y + shift, v, method=method)
    assert moved.estimate == pytest.approx(res.estimate + shift, abs=1e-7)
    assert moved.tau2 == pytest.approx(res.tau2, rel=1e-6, abs=1e-9)
    scaled = meta_analysis(2 * y, 4 * v, method=method)
    assert scaled.tau2 == pytest.approx(4 * res.tau2, rel=1e-6, abs=1e-9)


def test_result_tables_and_text() -> None:
    res = meta_analysis(Y, V, slab=list("ABCDEF"), method="REML", test="knha")
    frame = res.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "estimate"] == res.estimate
    assert list(res.studies()["slab"]) == list("ABCDEF")
    assert res.studies()["weight"].sum() == pytest.approx(1.0)
    text = res.summary()
    assert "restricted maximum likelihood" in text and f"{res.estimate:.4f}" in text
    assert "<table" in res._repr_html_()


# A simulated data set (benchmarks/batch.py, seed 20261125, column 515) whose restricted
# likelihood has two local maxima: tau2 ~ 0.00029 (logLik -11.3648) and tau2 ~ 0.0298
# (logLik -11.3467). metafor 3.8-1, rma(method="REML", control=list(threshold=1e-12)),
# reaches the higher one from the Hedges start: tau2 = 0.0298285263241682.
BIMODAL_Y = [
    1.1707822380460704,
    0.22110362483695,
    0.4163785627986311,
    0.8320252576574145,
    0.35386959297329407,
    1.5712531241569612,
    0.4401994320285092,
    0.21930299007910847,
    0.5392733787146714,
    0.08130834922261876,
    -0.5559667662573207,
    -0.5335375203463717,
    0.4072430159970829,
    0.04659509402762496,
    -0.06340709999212518,
    0.45343545944684016,
    0.1436127741232936,
    0.3556354879839198,
    0.5721353667226687,
    0.11508275422008057,
]
BIMODAL_V = [
    0.12378624468739713,
    0.01468806065695345,
    0.04223415832700084,
    0.2451153008598129,
    0.17057876452345602,
    0.217510690968068,
    0.19838167317152403,
    0.010487856619733874,
    0.08820764243884396,
    0.08980852233289105,
    0.11660408890714427,
    0.10277962144608334,
    0.16571351956876643,
    0.026455592250845178,
    0.14092487050120453,
    0.14720357224478864,
    0.00681233987999505,
    0.09564748914068173,
    0.13850862508846062,
    0.13652954566276446,
]


def test_bimodal_reml_likelihood_reaches_metafors_mode() -> None:
    res = meta_analysis(BIMODAL_Y, BIMODAL_V, method="REML")
    assert res.tau2 == pytest.approx(0.0298285263241682, rel=1e-8)
    assert res.loglik_reml == pytest.approx(-11.3467351908206, rel=1e-9)
    local = meta_analysis(BIMODAL_Y, BIMODAL_V, method="REML", tau2=0.00029232491834615704)
    assert local.loglik_reml < res.loglik_reml
    batch = meta_analysis_batch(np.array(BIMODAL_Y), np.array(BIMODAL_V), method="REML")
    assert batch.tau2[0] == pytest.approx(res.tau2, rel=RTOL_BATCH)


def test_ml_interior_maximum_is_not_skipped_for_the_boundary() -> None:
    """The ML likelihood has a boundary maximum at 0 and a higher interior one.

    metafor 3.8-1, rma(method="ML", control=list(threshold=1e-12)): tau2 =
    0.011561389916011799, logLik 1.8012284666230816; at tau2 = 0 the logLik is 1.3821.
    """
    y = [-0.4261, -0.0873, 0.0052, 0.0893, 0.0057, 0.0017, 0.3704]
    v = [0.01642, 0.01191, 0.01475, 0.00429, 0.02399, 0.00134, 0.06478]
    res = meta_analysis(y, v, method="ML")
    assert res.tau2 == pytest.approx(0.011561389916011799, rel=1e-8)
    assert res.loglik_ml == pytest.approx(1.8012284666230816, rel=1e-10)
    assert meta_analysis(y, v, method="ML", tau2=0.0).loglik_ml < res.loglik_ml
    batch = meta_analysis_batch(np.array(y), np.array(v), method="ML")
    assert batch.tau2[0] == pytest.approx(res.tau2, rel=RTOL_BATCH)
