"""meta_regression(): metafor, a published example, direct computations, properties, input.

Reference values: tests/data/metafor/metafor_reference.json, key ``metareg`` (metafor 3.8-1;
README.md beside it). Each entry is ``rma(yi, vi, mods = ~ <formula>)`` on the log risk
ratios of dat.bcg for FE, DL, ML, REML, REML with test="knha" and REML run to a tau^2
change of 1e-12 (``REML_tight``), with ``predict()`` at three new moderator values.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift import meta_analysis
from metasift.errors import ConvergenceWarning, DataWarning, InputError
from metasift.stats._metareg_kernels import likelihood_maxima, score_fn
from metasift.stats.metareg import meta_regression

DATA = Path(__file__).parents[1] / "data" / "metafor"
GRID: dict[str, Any] = json.loads((DATA / "metafor_reference.json").read_text())
BCG = pd.read_csv(DATA / "dat.bcg.csv")
_ESC = GRID["datasets"]["dat.bcg"]["RR"]["escalc"]
YI, VI = np.asarray(_ESC["yi"], float), np.asarray(_ESC["vi"], float)

#: Closed forms: the same arithmetic in another order. The intercept of ~ablat+year is
#: about 1e3 times its own SE-scale terms (year ~ 1950), so metafor's normal-equation
#: solve and our QR solve agree to about 4e-10 there; 1e-9 leaves room for that.
RTOL_CLOSED_FORM = 1e-9
#: Iterative estimators against metafor's tight fits (tau^2 change 1e-12; ours 1e-10).
RTOL_ITERATIVE = 1e-8
#: metafor's default convergence stops Fisher scoring at a tau^2 change below 1e-5; its
#: tau^2 is only that accurate (see test_pooling_metafor.py).
ATOL_DEFAULT_TAU2 = 1e-4
#: R^2 of a default-convergence fit also holds the tau^2 of metafor's model without
#: moderators, solved to the same 1e-5 threshold (we solve it to 1e-10): measured at most
#: 1.2e-6 relative here.
RTOL_DEFAULT_R2 = 1e-4
#: Entries of a covariance matrix that are 0 in exact arithmetic (metafor gives ~1e-20).
ATOL_ZERO = 1e-12
#: Values printed with 4 decimals in a paper: half a unit in the last place.
ATOL_PRINTED = 5e-5
#: Printed values of a default-convergence fit (tau^2 within about 1e-5 of the root) that
#: move fast with tau^2: QM by about 90, the intercept by about 57 and its SE by about
#: 100 per unit of tau^2.
ATOL_PRINTED_SENSITIVE = 1e-3

CLOSED = ("FE", "DL")
TIGHT = ("REML_tight",)
DEFAULT = ("ML", "REML", "REML_knha")
#: Entry keys that are descriptions, not fits.
ENTRY_INFO = {"dataset", "measure", "formula"}

SCALARS = {
    # metafor field -> (metasift attribute, scale applied to metafor's value)
    "tau2": ("tau2", 1.0),
    "se.tau2": ("tau2_se", 1.0),
    "I2": ("i2", 0.01),
    "H2": ("h2", 1.0),
    "R2": ("r2", 0.01),
    "QE": ("qe", 1.0),
    "QEdf": ("qe_df", 1.0),
    "QEp": ("qe_pval", 1.0),
    "QM": ("qm", 1.0),
    "QMp": ("qm_pval", 1.0),
    "logLik_ML": ("loglik_ml", 1.0),
    "logLik_REML": ("loglik_reml", 1.0),
}
COEFS = {
    "estimate": "beta",
    "se": "se",
    "zval": "zval",
    "tval": "tval",
    "pval": "pval",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
}
PREDICT = {
    "pred": "pred",
    "se": "se",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
    "pi.lb": "pi_lb",
    "pi.ub": "pi_ub",
}
#: Fields checked in other ways: settings (method, test, k, p), the F flag, the control.
OTHER_FIELDS = {"method", "test", "k", "p", "QMdf", "QM_is_F", "coefficients", "predict", "control"}


def _mods(key: str) -> pd.DataFrame:
    return BCG[key.split("~")[1].split("+")]


def _cases(keys: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(entry, key, id=f"{entry}-{key}")
        for entry, fits in GRID["metareg"].items()
        for key in keys
        if key in fits
    ]


def _close(ours: float, ref: float | None, rtol: float) -> bool:
    if ref is None:
        return math.isnan(ours)
    return math.isclose(ours, float(ref), rel_tol=rtol, abs_tol=ATOL_ZERO)


def compare_fit(res: Any, ref: dict[str, Any], rtol: float, r2_rtol: float | None = None) -> None:
    """Every field of a metafor rma() entry against a MetaRegressionResult."""
    wrong: list[str] = []
    assert (res.method, res.test, res.k, res.p) == (ref["method"], ref["test"], ref["k"], ref["p"])
    for name, (attr, scale) in SCALARS.items():
        if name not in ref:
            continue
        value = None if ref[name] is None else float(ref[name]) * scale
        tol = r2_rtol if name == "R2" and r2_rtol is not None else rtol
        if not _close(float(getattr(res, attr)), value, tol):
            wrong.append(f"{attr}: ours {getattr(res, attr)!r}, metafor {value!r}")
    coefs = ref["coefficients"]
    assert res.terms == tuple(coefs["names"])
    for name, attr in COEFS.items():
        if name in coefs:
            np.testing.assert_allclose(getattr(res, attr), coefs[name], rtol=rtol, err_msg=name)
    vcov = np.asarray(coefs["vcov"], float)
    np.testing.assert_allclose(res.vb, vcov, rtol=rtol, atol=ATOL_ZERO * np.abs(vcov).max())
    if "df" in coefs:
        assert res.df == coefs["df"]
    m, ddf = ref["QMdf"]
    assert res.qm_df == m and (_close(res.qm_ddf, ddf, 0.0))
    assert ref.get("QM_is_F", False) == (res.test != "z")
    assert not wrong, "; ".join(wrong)


def compare_predict(res: Any, ref: dict[str, Any], n_mods: int, rtol: float) -> None:
    newmods = np.asarray(ref["newmods"], float)
    assert newmods.shape[1] == n_mods
    pred = res.predict(newmods if n_mods > 1 else newmods[:, 0])
    for name, col in PREDICT.items():
        expected = ref[name]
        if expected is None or all(e is None for e in expected):
            assert pred[col].isna().all(), name
            continue
        np.testing.assert_allclose(pred[col], expected, rtol=rtol, err_msg=name)


@pytest.mark.parametrize(("entry", "key"), _cases(CLOSED))
def test_closed_form_fits_match_metafor(entry: str, key: str) -> None:
    ref = GRID["metareg"][entry][key]
    res = meta_regression(YI, VI, _mods(entry), method=ref["method"], test=ref["test"])
    compare_fit(res, ref, RTOL_CLOSED_FORM)
    compare_predict(res, ref["predict"], len(_mods(entry).columns), RTOL_CLOSED_FORM)
    assert res.converged and res.n_iter == 0


@pytest.mark.parametrize(("entry", "key"), _cases(TIGHT))
def test_tight_fits_match_metafor(entry: str, key: str) -> None:
    ref = GRID["metareg"][entry][key]
    res = meta_regression(YI, VI, _mods(entry), method=ref["method"], test=ref["test"])
    assert res.converged
    compare_fit(res, ref, RTOL_ITERATIVE)
    compare_predict(res, ref["predict"], len(_mods(entry).columns), RTOL_ITERATIVE)


@pytest.mark.parametrize(("entry", "key"), _cases(DEFAULT))
def test_default_fits_match_metafor_given_its_tau2(entry: str, key: str) -> None:
    """metafor's default tau^2 fixed: every other field to the closed-form tolerance."""
    ref = GRID["metareg"][entry][key]
    method, test = ref["method"], ref["test"]
    fixed = meta_regression(YI, VI, _mods(entry), method=method, test=test, tau2=ref["tau2"])
    compare_fit(fixed, ref, RTOL_CLOSED_FORM, r2_rtol=RTOL_DEFAULT_R2)
    compare_predict(fixed, ref["predict"], len(_mods(entry).columns), RTOL_CLOSED_FORM)
    free = meta_regression(YI, VI, _mods(entry), method=method, test=test)
    assert free.converged
    assert abs(free.tau2 - ref["tau2"]) <= ATOL_DEFAULT_TAU2 * max(1.0, ref["tau2"])


def test_every_metareg_entry_and_field_is_compared() -> None:
    compared = set(CLOSED) | set(TIGHT) | set(DEFAULT)
    assert len(GRID["metareg"]) == 3
    for entry, fits in GRID["metareg"].items():
        keys = set(fits) - ENTRY_INFO
        assert keys == compared, f"{entry}: keys {sorted(keys ^ compared)} not compared"
        for key in keys:
            unknown = set(fits[key]) - set(SCALARS) - OTHER_FIELDS
            assert not unknown, f"{entry}/{key}: fields {sorted(unknown)} not compared"
            assert set(fits[key]["coefficients"]) <= set(COEFS) | {"names", "vcov", "df"}
            assert set(fits[key]["predict"]) <= set(PREDICT) | {"newmods"}
    assert len(_cases(CLOSED + TIGHT + DEFAULT)) == 3 * len(compared)


def test_viechtbauer_2010_bcg_meta_regression() -> None:
    """Viechtbauer (2010), J Stat Softw 36(3), section 3: rma(yi, vi, mods = cbind(ablat,
    year)) on dat.bcg, printed output (4 decimals), and predict() at ablat 10..60, year 1970
    with transf = exp."""
    res = meta_regression(YI, VI, BCG[["ablat", "year"]])
    printed = {
        "tau2": 0.1108,
        "tau2_se": 0.0845,
        "qe": 28.3251,
        "qe_pval": 0.0016,
        "qm_pval": 0.0022,
    }
    for attr, value in printed.items():
        assert getattr(res, attr) == pytest.approx(value, abs=ATOL_PRINTED), attr
    assert res.qm == pytest.approx(12.2043, abs=ATOL_PRINTED_SENSITIVE)
    coef = res.coefficients
    np.testing.assert_allclose(
        coef.loc[["ablat", "year"], "estimate"], [-0.0280, 0.0019], atol=ATOL_PRINTED
    )
    np.testing.assert_allclose(coef["se"].iloc[1:], [0.0102, 0.0147], atol=ATOL_PRINTED)
    assert coef.loc["intrcpt", "se"] == pytest.approx(29.0959, abs=ATOL_PRINTED_SENSITIVE)
    np.testing.assert_allclose(coef["zval"], [-0.1219, -2.7371, 0.1299], atol=ATOL_PRINTED)
    np.testing.assert_allclose(coef["pval"], [0.9030, 0.0062, 0.8966], atol=ATOL_PRINTED)
    assert coef.loc["intrcpt", "estimate"] == pytest.approx(-3.5455, abs=ATOL_PRINTED_SENSITIVE)
    new = np.column_stack([np.arange(10, 70, 10), np.full(6, 1970)])
    rr = np.exp(res.predict(new)["pred"])
    np.testing.assert_allclose(
        rr, [0.9345, 0.7062, 0.5337, 0.4033, 0.3048, 0.2303], atol=ATOL_PRINTED
    )


# --- direct computation from the formulas, with k-by-k matrices as metafor builds them


def _p_matrix(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    wm = np.diag(w)
    return wm - wm @ x @ np.linalg.inv(x.T @ wm @ x) @ x.T @ wm


X3 = np.column_stack([np.ones(13), BCG["ablat"], BCG["year"] - 1960.0])


def test_equal_effects_fit_is_weighted_least_squares() -> None:
    sw = 1 / np.sqrt(VI)
    beta, *_ = np.linalg.lstsq(X3 * sw[:, None], YI * sw, rcond=None)
    cov = np.linalg.inv(X3.T @ np.diag(1 / VI) @ X3)
    mods = pd.DataFrame({"ablat": BCG["ablat"], "year": BCG["year"] - 1960.0})
    res = meta_regression(YI, VI, mods, method="FE")
    np.testing.assert_allclose(res.beta, beta, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(res.vb, cov, rtol=RTOL_CLOSED_FORM)
    qe = float(np.sum((YI - X3 @ beta) ** 2 / VI))
    assert res.qe == pytest.approx(qe, rel=RTOL_CLOSED_FORM)
    assert res.qe_pval == pytest.approx(stats.chi2.sf(qe, 10), rel=RTOL_CLOSED_FORM)
    qm = float(beta[1:] @ np.linalg.solve(cov[1:, 1:], beta[1:]))
    assert res.qm == pytest.approx(qm, rel=RTOL_CLOSED_FORM)
    # I^2 and H^2 of an equal-effects model come from QE; R^2 is lm()'s adjusted R^2
    assert res.i2 == pytest.approx((qe - 10) / qe, rel=RTOL_CLOSED_FORM)
    w = 1 / VI
    tss = np.sum(w * (YI - np.sum(w * YI) / w.sum()) ** 2)
    assert res.r2 == pytest.approx(1 - (qe / tss) * 12 / 10, rel=RTOL_CLOSED_FORM)


def _moment_tau2(method: str, y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """metafor's closed-form estimators, written with the explicit P matrix."""
    k, p = x.shape
    if method == "HE":
        pm = np.eye(k) - x @ np.linalg.inv(x.T @ x) @ x.T
        return max(0.0, (y @ pm @ y - np.trace(pm @ np.diag(v))) / (k - p))
    if method == "SJ":
        tau0 = np.var(y)
        pm = _p_matrix(x, 1 / (v + tau0))
        return tau0 * (y @ pm @ y) / (k - p)
    pm = _p_matrix(x, 1 / v)
    q = y @ pm @ y
    return {
        "DL": max(0.0, (q - (k - p)) / np.trace(pm)),
        "HS": max(0.0, (q - k) / np.sum(1 / v)),
        "HSk": max(0.0, (k / (k - p) * q - k) / np.sum(1 / v)),
    }[method]


@pytest.mark.parametrize("method", ["DL", "HS", "HSk", "HE", "SJ"])
def test_closed_form_tau2_from_the_p_matrix(method: str) -> None:
    res = meta_regression(YI, VI, pd.DataFrame(X3[:, 1:], columns=["a", "b"]), method=method)
    assert res.tau2 == pytest.approx(_moment_tau2(method, YI, VI, X3), rel=RTOL_CLOSED_FORM)
    w = 1 / (VI + res.tau2)
    cov = np.linalg.inv(X3.T @ np.diag(w) @ X3)
    np.testing.assert_allclose(res.vb, cov, rtol=RTOL_CLOSED_FORM)
    pm0 = _p_matrix(X3, 1 / VI)
    vt = 10 / np.trace(pm0)
    assert res.i2 == pytest.approx(res.tau2 / (vt + res.tau2), rel=RTOL_CLOSED_FORM)


@pytest.mark.parametrize("method", ["ML", "REML", "EB", "PM", "PMM"])
def test_iterative_tau2_solves_its_estimating_equation(method: str) -> None:
    """At the estimate, metafor's estimating equation (with the explicit P) is 0."""
    res = meta_regression(YI, VI, BCG[["ablat", "year"]], method=method)
    assert res.converged and res.tau2 > 0
    w = 1 / (VI + res.tau2)
    pm = _p_matrix(X3, w)
    ppy = pm @ pm @ YI
    k, p = X3.shape
    score = {
        "ML": (YI @ ppy - w.sum()) / np.sum(w**2),
        "REML": (YI @ ppy - np.trace(pm)) / np.trace(pm @ pm),
        "EB": (YI @ pm @ YI * k / (k - p) - k) / w.sum(),
        "PM": YI @ pm @ YI - (k - p),
        "PMM": YI @ pm @ YI - stats.chi2.ppf(0.5, k - p),
    }[method]
    assert abs(score) < 1e-9


def test_tau2_standard_errors_from_the_p_matrix() -> None:
    k, p = X3.shape
    mods = pd.DataFrame(X3[:, 1:], columns=["a", "b"])
    reml = meta_regression(YI, VI, mods, method="REML")
    pm = _p_matrix(X3, 1 / (VI + reml.tau2))
    assert reml.tau2_se == pytest.approx(np.sqrt(2 / np.sum(pm * pm)), rel=RTOL_CLOSED_FORM)
    he = meta_regression(YI, VI, mods, method="HE")
    pv = (np.eye(k) - X3 @ np.linalg.inv(X3.T @ X3) @ X3.T) @ np.diag(VI)
    quad = 2 * np.sum(pv * pv.T) + 4 * he.tau2 * np.trace(pv) + 2 * he.tau2**2 * (k - p)
    assert he.tau2_se == pytest.approx(np.sqrt(quad) / (k - p), rel=RTOL_CLOSED_FORM)
    sj = meta_regression(YI, VI, mods, method="SJ")
    tau0 = np.var(YI)
    pm0 = _p_matrix(X3, 1 / (VI + tau0))
    pv0 = pm0 @ np.diag(VI)
    quad = (
        2 * np.sum(pv0 * pv0.T)
        + 4 * sj.tau2 * np.sum(pv0 * pm0)
        + 2 * sj.tau2**2 * np.sum(pm0 * pm0)
    )
    assert sj.tau2_se == pytest.approx(tau0 / (k - p) * np.sqrt(quad), rel=RTOL_CLOSED_FORM)


def test_knapp_hartung_scaling_and_f_test_by_hand() -> None:
    res = meta_regression(YI, VI, BCG[["ablat", "year"]], method="DL", test="knha")
    z = meta_regression(YI, VI, BCG[["ablat", "year"]], method="DL")
    w = 1 / (VI + z.tau2)
    resid = YI - X3 @ np.linalg.solve(X3.T @ np.diag(w) @ X3, X3.T @ (w * YI))
    s2w = np.sum(w * resid**2) / 10
    np.testing.assert_allclose(res.se, z.se * np.sqrt(s2w), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(res.pval, 2 * stats.t.sf(np.abs(res.tval), 10), rtol=1e-12)
    assert res.qm == pytest.approx(z.qm / s2w / 2, rel=RTOL_CLOSED_FORM)
    assert res.qm_pval == pytest.approx(stats.f.sf(res.qm, 2, 10), rel=RTOL_CLOSED_FORM)
    crit = stats.t.ppf(0.975, 10)
    np.testing.assert_allclose(res.ci_ub, res.beta + crit * res.se, rtol=RTOL_CLOSED_FORM)


def test_predict_by_hand() -> None:
    res = meta_regression(YI, VI, BCG[["ablat", "year"]], method="DL")
    x0 = np.array([1.0, 25.0, 1965.0])
    pred = res.predict([25.0, 1965.0])
    se = np.sqrt(x0 @ res.vb @ x0)
    z = stats.norm.ppf(0.975)
    assert pred["pred"].iloc[0] == pytest.approx(x0 @ res.beta, rel=RTOL_CLOSED_FORM)
    assert pred["se"].iloc[0] == pytest.approx(se, rel=RTOL_CLOSED_FORM)
    assert pred["pi_ub"].iloc[0] == pytest.approx(
        x0 @ res.beta + z * np.sqrt(se**2 + res.tau2), rel=RTOL_CLOSED_FORM
    )
    fitted = res.predict()
    assert list(fitted.index) == list(res.slab)
    np.testing.assert_allclose(fitted["pred"], res.x @ res.beta, rtol=RTOL_CLOSED_FORM)


def test_pseudo_r2_is_the_proportional_reduction_in_tau2() -> None:
    res = meta_regression(YI, VI, BCG[["ablat"]], method="DL")
    tau2_re = meta_analysis(YI, VI, method="DL").tau2
    assert res.r2 == pytest.approx((tau2_re - res.tau2) / tau2_re, rel=RTOL_CLOSED_FORM)


# --- moderators: coding, names, cell means, redundancy


def test_categorical_moderator_is_dummy_coded_with_the_first_level_as_reference() -> None:
    res = meta_regression(YI, VI, BCG[["alloc"]], method="DL")
    assert res.terms == ("intrcpt", "allocrandom", "allocsystematic")
    expected = np.column_stack(
        [np.ones(13), BCG["alloc"] == "random", BCG["alloc"] == "systematic"]
    ).astype(float)
    np.testing.assert_array_equal(res.x, expected)
    cells = meta_regression(YI, VI, BCG[["alloc"]], method="DL", intercept=False)
    assert cells.terms == ("allocalternate", "allocrandom", "allocsystematic")
    assert math.isnan(cells.r2) and cells.btt == cells.terms
    # the cell means are the per-level fits with the common tau^2
    for level, est in zip(["alternate", "random", "systematic"], cells.beta, strict=True):
        idx = (BCG["alloc"] == level).to_numpy()
        sub = meta_analysis(YI[idx], VI[idx], tau2=cells.tau2)
        assert est == pytest.approx(sub.estimate, rel=RTOL_CLOSED_FORM)
    # a Categorical's order sets the reference level
    order = pd.Categorical(BCG["alloc"], categories=["systematic", "random", "alternate"])
    res2 = meta_regression(YI, VI, pd.DataFrame({"alloc": order}), method="DL")
    assert res2.terms == ("intrcpt", "allocrandom", "allocalternate")
    assert res2.tau2 == pytest.approx(res.tau2, rel=RTOL_CLOSED_FORM)


def test_bool_vector_and_matrix_moderators_are_named_like_metafor() -> None:
    flag = pd.DataFrame({"flag": BCG["ablat"] > 30})
    assert meta_regression(YI, VI, flag).terms == ("intrcpt", "flagTRUE")
    assert meta_regression(YI, VI, BCG["ablat"].to_numpy()).terms == ("intrcpt", "mods")
    assert meta_regression(YI, VI, X3[:, 1:]).terms == ("intrcpt", "X1", "X2")
    with_ones = meta_regression(YI, VI, X3, intercept=False)
    assert with_ones.terms == ("intrcpt", "X2", "X3") and with_ones.intercept


def test_redundant_moderators_are_dropped_with_a_warning() -> None:
    mods = pd.DataFrame({"ablat": BCG["ablat"], "twice": 2 * BCG["ablat"]})
    with pytest.warns(DataWarning, match="twice"):
        res = meta_regression(YI, VI, mods, method="DL")
    assert res.terms == ("intrcpt", "ablat")
    pred = res.predict(pd.DataFrame({"ablat": [20.0], "twice": [40.0]}))
    assert pred["pred"].iloc[0] == pytest.approx(res.beta @ [1, 20.0], rel=RTOL_CLOSED_FORM)


def test_intercept_only_model_equals_meta_analysis_on_bcg() -> None:
    for method in ("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "PMM", "SJIT"):
        reg = meta_regression(YI, VI, method=method, test="knha")
        ma = meta_analysis(YI, VI, method=method, test="knha")
        assert reg.terms == ("intrcpt",)
        pairs = [
            (reg.beta[0], ma.estimate),
            (reg.se[0], ma.se),
            (reg.tau2, ma.tau2),
            (reg.qe, ma.qe),
            (reg.i2, ma.i2),
            (reg.loglik_reml, ma.loglik_reml),
        ]
        for a, b in pairs:
            assert a == pytest.approx(b, rel=1e-10, abs=1e-13), method


# --- properties


@st.composite
def _studies(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = draw(st.integers(4, 12))
    y = np.array(draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.005, 1.0), min_size=k, max_size=k)))
    x = np.array(draw(st.lists(st.floats(-10, 10), min_size=k, max_size=k)))
    assume(np.ptp(x) > 0.1 and np.ptp(y) > 1e-3)
    return y, v, x


@settings(max_examples=60, deadline=None)
@given(_studies(), st.sampled_from(["DL", "REML", "ML", "PM", "EB", "HE", "SJ"]))
def test_intercept_only_fit_equals_meta_analysis(data: Any, method: str) -> None:
    y, v, _ = data
    if method in ("ML", "REML"):
        # on a likelihood with several maxima the two searches may stop at different ones
        score = score_fn(y, v, np.ones((y.size, 1)), method)
        assume(len(likelihood_maxima(score, float(np.var(y) + v.max()), 1e-10, 1000)) == 1)
    reg = meta_regression(y, v, method=method)
    ma = meta_analysis(y, v, method=method)
    assert reg.beta[0] == pytest.approx(ma.estimate, rel=1e-10, abs=1e-10)
    assert reg.se[0] == pytest.approx(ma.se, rel=1e-10)
    assert reg.tau2 == pytest.approx(ma.tau2, rel=1e-10, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(_studies(), st.floats(-100, 100), st.floats(0.1, 10), st.sampled_from(["DL", "REML"]))
def test_shifting_and_scaling_a_moderator_changes_only_its_coefficients(
    data: Any, shift: float, scale: float, method: str
) -> None:
    """x -> a x + c leaves tau^2, fitted values and tests unchanged; the slope is b / a."""
    y, v, x = data
    a = meta_regression(y, v, {"x": x}, method=method)
    b = meta_regression(y, v, {"x": scale * x + shift}, method=method)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-7, abs=1e-10)
    assert b.beta[1] * scale == pytest.approx(a.beta[1], rel=1e-7, abs=1e-10)
    assert b.qm == pytest.approx(a.qm, rel=1e-7, abs=1e-10)
    np.testing.assert_allclose(b.predict()["pred"], a.predict()["pred"], rtol=1e-7, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(_studies(), st.sampled_from(["FE", "DL", "REML"]))
def test_study_order_does_not_matter(data: Any, method: str) -> None:
    y, v, x = data
    perm = np.arange(y.size)[::-1]
    a = meta_regression(y, v, {"x": x}, method=method)
    b = meta_regression(y[perm], v[perm], {"x": x[perm]}, method=method)
    np.testing.assert_allclose(b.beta, a.beta, rtol=1e-8, atol=1e-10)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-8, abs=1e-10)


# --- edge cases and bad input


def test_no_intercept_model_uses_the_uncentred_residuals() -> None:
    """Regression through the origin: QE is sum(w (y - x b)^2) (metafor differs, see docs)."""
    x = BCG["ablat"].to_numpy(float)
    res = meta_regression(YI, VI, {"ablat": x}, intercept=False, method="FE")
    w = 1 / VI
    b = np.sum(w * x * YI) / np.sum(w * x * x)
    assert res.beta[0] == pytest.approx(b, rel=RTOL_CLOSED_FORM)
    assert res.qe == pytest.approx(np.sum(w * (YI - b * x) ** 2), rel=RTOL_CLOSED_FORM)
    assert res.qe_df == 12 and math.isnan(res.r2)


def test_non_convergence_is_reported() -> None:
    with pytest.warns(ConvergenceWarning, match="EB estimator"):
        res = meta_regression(YI, VI, BCG[["ablat"]], method="EB", maxiter=1)
    assert not res.converged
    assert any("did not converge" in n for n in res.notes)


def test_boundary_and_fixed_tau2_are_noted() -> None:
    y = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    res = meta_regression(y, np.full(5, 0.5), {"x": [1, 2, 3, 4, 5.0]}, method="REML")
    assert res.tau2 == 0.0 and any("boundary" in n for n in res.notes)
    fixed = meta_regression(YI, VI, BCG[["ablat"]], tau2=0.2)
    assert fixed.tau2 == 0.2 and fixed.n_iter == 0
    assert any("fixed" in n for n in fixed.notes)


def test_saturated_model_with_fixed_tau2() -> None:
    mods = {"a": [0.0, 1.0, 0.0], "b": [0.0, 0.0, 1.0]}
    res = meta_regression([0.1, 0.5, 0.2], [0.1, 0.1, 0.1], mods, tau2=0.0)
    assert res.qe == 0.0 and res.qe_pval == 1.0
    np.testing.assert_allclose(res.beta, [0.1, 0.4, 0.1], atol=1e-12)
    assert any("saturated" in n for n in res.notes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mods": {"x": [1.0, np.nan, 3.0, 4.0, 5.0]}}, r"'x'.*'Study 2'"),
        ({"mods": {"x": ["a", None, "b", "a", "b"]}}, r"'x' is missing for 'Study 2'"),
        ({"mods": {"x": [1, 2, 3]}}, "3 rows for 5 studies"),
        (
            {
                "mods": {
                    "a": [1, 2, 3, 4, 5.0],
                    "b": [2, 1, 3, 5, 4.0],
                    "c": [1, 1, 2, 2, 1.0],
                    "d": [5, 1, 2, 2, 0.0],
                }
            },
            "k >= p \\+ 1",
        ),
        ({"mods": None, "intercept": False}, "no terms"),
        ({"mods": {"x": [1, 2, 3, 4, 5.0]}, "method": "XX"}, "method='XX'"),
        ({"mods": {"x": [1, 2, 3, 4, 5.0]}, "tau2": -1.0}, "tau2=-1.0"),
        ({"mods": {"x": [1, 2, 3, 4, 5.0]}, "method": "FE", "tau2": 0.1}, "equal-effects"),
        ({"mods": np.zeros((5, 2, 2))}, "1-D/2-D"),
    ],
)
def test_bad_input_names_the_problem(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        meta_regression([0.1, 0.2, 0.3, 0.2, 0.5], [0.1, 0.1, 0.1, 0.1, 0.1], **kwargs)


def test_bad_newmods_name_the_problem() -> None:
    res = meta_regression(YI, VI, BCG[["ablat", "alloc"]], method="DL")
    with pytest.raises(InputError, match="level 'quasi'"):
        res.predict(pd.DataFrame({"ablat": [10], "alloc": ["quasi"]}))
    with pytest.raises(InputError, match="lacks"):
        res.predict(pd.DataFrame({"ablat": [10]}))
    with pytest.raises(InputError, match="level=2"):
        res.predict(level=2)


def test_frames_and_summary() -> None:
    res = meta_regression(YI, VI, BCG[["ablat", "year"]], test="knha")
    frame = res.to_frame()
    assert list(frame.columns) == [
        "term",
        "estimate",
        "se",
        "zval",
        "tval",
        "df",
        "pval",
        "ci_lb",
        "ci_ub",
    ]
    assert frame["zval"].isna().all() and (frame["df"] == 10).all()
    assert list(res.coefficients.columns) == ["estimate", "se", "tval", "pval", "ci_lb", "ci_ub"]
    assert res.model_frame().loc[0, "qm_ddf"] == 10
    text = res.summary()
    assert "F(df1 = 2, df2 = 10)" in text and "ablat" in text and "R^2" in text
    assert "<table" in res._repr_html_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        str(res)
