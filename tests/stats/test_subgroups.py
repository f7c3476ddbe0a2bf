"""subgroup_analysis(): metafor, a published example, direct computations, properties, input.

Reference values: tests/data/metafor/metafor_reference.json, key ``subgroup`` (metafor
3.8-1): dat.bcg log risk ratios by allocation, for FE, DL, REML and REML with knha, each
with the mixed-effects model with intercept and dummy variables (``mods_model``), the
cell-means model (``cell_means_model``), the separate per-subgroup fits and the test for
subgroup differences computed from them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift import meta_analysis
from metasift.errors import InputError
from metasift.stats.metareg import meta_regression
from metasift.stats.subgroups import NOT_POOLED, NotPooled, subgroup_analysis

DATA = Path(__file__).parents[1] / "data" / "metafor"
GRID: dict[str, Any] = json.loads((DATA / "metafor_reference.json").read_text())
ENTRY = GRID["subgroup"]["dat.bcg/RR/alloc"]
YI, VI = np.asarray(ENTRY["yi"], float), np.asarray(ENTRY["vi"], float)
#: The reference names the moderator "g": coefficient names are g + level.
GROUPS = pd.Series(ENTRY["group"], name="g")

#: Closed forms (FE, DL): the same arithmetic in another order.
RTOL_CLOSED_FORM = 1e-9
#: metafor's REML keys here stop Fisher scoring at a tau^2 change below 1e-5.
ATOL_DEFAULT_TAU2 = 1e-4
#: Fields of a default-convergence fit compared with our converged fit: measured at most
#: 2e-5 relative on these data (the separate random-allocation subgroup).
RTOL_DEFAULT_FIT = 1e-4
#: Covariance entries that are 0 in exact arithmetic (metafor gives ~1e-17).
ATOL_ZERO = 1e-12
#: Values printed with 4 decimals: half a unit in the last place.
ATOL_PRINTED = 5e-5

CLOSED = ("FE", "DL")
DEFAULT = ("REML", "REML_knha")
PARTS = ("mods_model", "cell_means_model", "separate_fits", "subgroup_difference_test")
ENTRY_INFO = {"dataset", "measure", "moderator", "levels", "group", "yi", "vi", "slab"}
MODEL_SCALARS = {
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
MODEL_OTHER = {"method", "test", "k", "p", "coefficients", "QMdf", "QM_is_F", "formula"}
COEFS = {
    "estimate": "beta",
    "se": "se",
    "zval": "zval",
    "tval": "tval",
    "pval": "pval",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
}
SEPARATE = {
    "k": "k",
    "estimate": "estimate",
    "se": "se",
    "pval": "pval",
    "ci.lb": "ci_lb",
    "ci.ub": "ci_ub",
    "tau2": "tau2",
    "I2": "i2",
    "H2": "h2",
    "QE": "qe",
    "QEp": "qe_pval",
}


def _close(ours: float, ref: float | None, rtol: float) -> bool:
    if ref is None:
        return math.isnan(ours)
    return math.isclose(ours, float(ref), rel_tol=rtol, abs_tol=ATOL_ZERO)


def _compare_model(res: Any, ref: dict[str, Any], rtol: float) -> None:
    assert (res.method, res.test, res.k, res.p) == (ref["method"], ref["test"], ref["k"], ref["p"])
    wrong = []
    for name, (attr, scale) in MODEL_SCALARS.items():
        value = None if ref[name] is None else float(ref[name]) * scale
        if not _close(float(getattr(res, attr)), value, rtol):
            wrong.append(f"{attr}: ours {getattr(res, attr)!r}, metafor {value!r}")
    assert not wrong, "; ".join(wrong)
    coefs = ref["coefficients"]
    assert res.terms == tuple(coefs["names"])
    for name, attr in COEFS.items():
        if name in coefs:
            np.testing.assert_allclose(getattr(res, attr), coefs[name], rtol=rtol, err_msg=name)
    vcov = np.asarray(coefs["vcov"], float)
    np.testing.assert_allclose(res.vb, vcov, rtol=rtol, atol=ATOL_ZERO * np.abs(vcov).max())
    m, ddf = ref["QMdf"]
    assert res.qm_df == m and (math.isnan(res.qm_ddf) if ddf is None else res.qm_ddf == ddf)
    assert ref.get("QM_is_F", False) == (res.test != "z")


def _compare_separate(res: Any, ref: dict[str, Any], rtol: float) -> None:
    assert list(res.subgroups) == ENTRY["levels"] == list(ref["separate_fits"])
    for level, fit in ref["separate_fits"].items():
        ours = res.subgroups[level]
        for name, attr in SEPARATE.items():
            scale = 0.01 if name == "I2" else 1.0
            assert getattr(ours, attr) == pytest.approx(
                fit[name] * scale, rel=rtol, abs=ATOL_ZERO
            ), f"{level}: {attr}"
    test = ref["subgroup_difference_test"]
    assert res.q_between == pytest.approx(test["Q_between"], rel=rtol)
    assert res.q_between_df == test["df"]
    assert res.q_between_pval == pytest.approx(test["pval"], rel=rtol)


@pytest.mark.parametrize("key", CLOSED)
def test_closed_form_subgroups_match_metafor(key: str) -> None:
    ref = ENTRY[key]
    method, test = ref["mods_model"]["method"], ref["mods_model"]["test"]
    common = subgroup_analysis(YI, VI, GROUPS, method=method, test=test, tau2="common")
    _compare_model(common.common_mods, ref["mods_model"], RTOL_CLOSED_FORM)
    _compare_model(common.common, ref["cell_means_model"], RTOL_CLOSED_FORM)
    assert (common.qm, common.qm_pval) == (common.common_mods.qm, common.common_mods.qm_pval)
    separate = subgroup_analysis(YI, VI, GROUPS, method=method, test=test)
    _compare_separate(separate, ref, RTOL_CLOSED_FORM)


@pytest.mark.parametrize("key", DEFAULT)
def test_default_convergence_subgroups_match_metafor(key: str) -> None:
    """Models with metafor's tau^2 fixed match to the closed-form tolerance; our own fits
    (converged to 1e-10) to the accuracy of metafor's default convergence."""
    ref = ENTRY[key]
    method, test = ref["mods_model"]["method"], ref["mods_model"]["test"]
    frame = pd.DataFrame({"g": GROUPS})
    for part, intercept in (("mods_model", True), ("cell_means_model", False)):
        fixed = meta_regression(YI, VI, frame, method=method, test=test, intercept=intercept,
                                tau2=ref[part]["tau2"])  # fmt: skip
        _compare_model(fixed, ref[part], RTOL_CLOSED_FORM)
    common = subgroup_analysis(YI, VI, GROUPS, method=method, test=test, tau2="common")
    assert abs(common.common_mods.tau2 - ref["mods_model"]["tau2"]) <= ATOL_DEFAULT_TAU2
    _compare_model(common.common, ref["cell_means_model"], RTOL_DEFAULT_FIT)
    separate = subgroup_analysis(YI, VI, GROUPS, method=method, test=test)
    _compare_separate(separate, ref, RTOL_DEFAULT_FIT)


def test_every_subgroup_entry_and_field_is_compared() -> None:
    assert list(GRID["subgroup"]) == ["dat.bcg/RR/alloc"]
    assert set(ENTRY) - ENTRY_INFO == set(CLOSED) | set(DEFAULT)
    for key in CLOSED + DEFAULT:
        assert set(ENTRY[key]) == set(PARTS), key
        for part in ("mods_model", "cell_means_model"):
            unknown = set(ENTRY[key][part]) - set(MODEL_SCALARS) - MODEL_OTHER
            assert not unknown, f"{key}/{part}: {sorted(unknown)} not compared"
            known = set(COEFS) | {"names", "vcov", "df"}
            assert set(ENTRY[key][part]["coefficients"]) <= known
        for level, fit in ENTRY[key]["separate_fits"].items():
            assert set(fit) == set(SEPARATE), f"{key}/{level}"
        assert set(ENTRY[key]["subgroup_difference_test"]) == {"Q_between", "df", "pval", "how"}


def test_metafor_q_between_is_the_weighted_q_of_its_subgroup_estimates() -> None:
    """The reference's own numbers: Q_between = sum w (est - mean)^2 with w = 1/se^2."""
    for key in CLOSED + DEFAULT:
        fits = ENTRY[key]["separate_fits"].values()
        est = np.array([f["estimate"] for f in fits])
        w = 1 / np.array([f["se"] for f in fits]) ** 2
        q = np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2)
        assert q == pytest.approx(ENTRY[key]["subgroup_difference_test"]["Q_between"], rel=1e-12)


# --- published example: Borenstein et al. (2009), Introduction to Meta-Analysis, ch. 19

BORENSTEIN_G = np.array([0.110, 0.224, 0.338, 0.451, 0.480, 0.440, 0.492, 0.651, 0.710, 0.740])
BORENSTEIN_V = np.array([0.010, 0.030, 0.020, 0.015, 0.010, 0.015, 0.020, 0.015, 0.025, 0.012])
BORENSTEIN_GROUP = ["A"] * 5 + ["B"] * 5


def test_borenstein_2009_chapter_19_fixed_effect() -> None:
    """Data of Table 19.1; fixed-effect subgroup means, within-group Q and Q between
    (ch. 19, fixed-effect model within subgroups), printed with 4 decimals."""
    res = subgroup_analysis(BORENSTEIN_G, BORENSTEIN_V, BORENSTEIN_GROUP, method="EE")
    a, b = res.subgroups["A"], res.subgroups["B"]
    assert isinstance(a, type(res.overall)) and isinstance(b, type(res.overall))
    assert a.estimate == pytest.approx(0.3241, abs=ATOL_PRINTED)
    assert b.estimate == pytest.approx(0.6111, abs=ATOL_PRINTED)
    assert a.qe == pytest.approx(8.4316, abs=ATOL_PRINTED)
    assert b.qe == pytest.approx(4.5429, abs=ATOL_PRINTED)
    assert res.overall.qe == pytest.approx(26.4371, abs=ATOL_PRINTED)
    assert res.q_between == pytest.approx(13.4626, abs=ATOL_PRINTED)
    assert res.q_between_pval == pytest.approx(0.0002, abs=ATOL_PRINTED)


def test_borenstein_2009_chapter_19_random_effects() -> None:
    """Random effects with a separate tau^2 per subgroup (method of moments = DL), and with
    the pooled within-subgroup tau^2 (ch. 19), which is DL's estimate in the model with the
    subgroup as moderator."""
    sep = subgroup_analysis(BORENSTEIN_G, BORENSTEIN_V, BORENSTEIN_GROUP, method="DL")
    assert sep.subgroups["A"].tau2 == pytest.approx(0.0164, abs=ATOL_PRINTED)
    assert sep.subgroups["B"].tau2 == pytest.approx(0.0022, abs=ATOL_PRINTED)
    assert sep.subgroups["A"].estimate == pytest.approx(0.3245, abs=ATOL_PRINTED)
    assert sep.subgroups["B"].estimate == pytest.approx(0.6100, abs=ATOL_PRINTED)
    common = subgroup_analysis(
        BORENSTEIN_G, BORENSTEIN_V, BORENSTEIN_GROUP, method="DL", tau2="common"
    )
    # pooled T^2 = (Q_A + Q_B - df_A - df_B) / (C_A + C_B), by hand from the table
    c = sum(
        np.sum(1 / v) - np.sum(1 / v**2) / np.sum(1 / v)
        for v in (BORENSTEIN_V[:5], BORENSTEIN_V[5:])
    )
    pooled = (8.431596825396825 + 4.542904347826086 - 8) / c
    assert common.common_mods.tau2 == pytest.approx(pooled, rel=1e-6)
    assert common.subgroups["A"].tau2 == common.common_mods.tau2


# --- direct computation


@pytest.mark.parametrize("method", ["EE", "DL", "REML"])
def test_q_between_by_hand(method: str) -> None:
    res = subgroup_analysis(YI, VI, GROUPS, method=method)
    fits = list(res.subgroups.values())
    est = np.array([f.estimate for f in fits])
    w = 1 / np.array([f.se for f in fits]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    assert res.q_between == pytest.approx(q, rel=RTOL_CLOSED_FORM)
    assert res.q_between_pval == pytest.approx(stats.chi2.sf(q, 2), rel=RTOL_CLOSED_FORM)
    for level, fit in res.subgroups.items():
        idx = GROUPS.eq(level).to_numpy()
        alone = meta_analysis(YI[idx], VI[idx], method=method)
        assert fit.estimate == alone.estimate and fit.tau2 == alone.tau2


def test_common_tau2_q_between_equals_the_omnibus_test_under_z() -> None:
    res = subgroup_analysis(YI, VI, GROUPS, method="DL", tau2="common")
    assert res.q_between == pytest.approx(res.qm, rel=RTOL_CLOSED_FORM)
    for level, coef in zip(res.common.terms, res.common.beta, strict=True):
        assert res.subgroups[level[1:]].estimate == pytest.approx(coef, rel=RTOL_CLOSED_FORM)


def test_single_study_subgroup_is_not_pooled_but_enters_the_test() -> None:
    groups = ["a", "a", "a", "b", "b", "c"]
    y = np.array([0.1, 0.3, 0.2, 0.6, 0.5, 0.9])
    v = np.array([0.02, 0.03, 0.02, 0.04, 0.03, 0.05])
    res = subgroup_analysis(y, v, groups, slab=list("uvwxyz"), method="DL")
    single = res.subgroups["c"]
    assert isinstance(single, NotPooled)
    assert (single.k, single.yi, single.vi, single.slab, single.note) == (
        1,
        0.9,
        0.05,
        "z",
        NOT_POOLED,
    )
    est = np.array([res.subgroups["a"].estimate, res.subgroups["b"].estimate, 0.9])
    se = np.array([res.subgroups["a"].se, res.subgroups["b"].se, np.sqrt(0.05)])
    w = 1 / se**2
    q = np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2)
    assert res.q_between == pytest.approx(q, rel=RTOL_CLOSED_FORM) and res.q_between_df == 2
    assert any("'c' has one study" in n for n in res.notes)
    frame = res.to_frame()
    row = frame[frame["subgroup"] == "c"].iloc[0]
    assert row["note"] == NOT_POOLED and math.isnan(row["estimate"]) and row["k"] == 1
    assert "c: k = 1, not pooled: one study" in res.summary()


def test_post_hoc_is_carried_into_every_label() -> None:
    res = subgroup_analysis(YI, VI, GROUPS, method="DL", prespecified=False, tau2="common")
    frame = res.to_frame()
    assert (frame["analysis"] == "post hoc").all()
    assert list(frame["row"]) == ["subgroup"] * 3 + ["overall", "test", "test"]
    assert frame["statistic"].iloc[-1] == res.qm
    assert "post hoc" in res.summary() and "post hoc" in res._repr_html_()
    pre = subgroup_analysis(YI, VI, GROUPS, method="DL")
    assert (pre.to_frame()["analysis"] == "pre-specified").all() and pre.analysis == "pre-specified"
    assert math.isnan(pre.qm) and pre.common is None


def test_one_subgroup_only_gives_no_test() -> None:
    res = subgroup_analysis(YI, VI, ["x"] * 13, method="DL", tau2="common")
    assert math.isnan(res.q_between) and math.isnan(res.qm)
    assert any("one subgroup only" in n for n in res.notes)


def test_levels_follow_a_categorical_or_sorted_order() -> None:
    cat = pd.Series(pd.Categorical(GROUPS, categories=["systematic", "random", "alternate"]))
    assert list(subgroup_analysis(YI, VI, cat, method="DL").subgroups) == [
        "systematic",
        "random",
        "alternate",
    ]
    numeric = subgroup_analysis(YI, VI, [3, 1, 2, 1, 3, 2, 1, 2, 3, 1, 2, 3, 1], method="DL")
    assert list(numeric.subgroups) == [1, 2, 3]


# --- properties


@st.composite
def _grouped(draw: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    k = draw(st.integers(6, 14))
    y = np.array(draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    g = draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=k, max_size=k))
    assume(all(g.count(x) >= 2 for x in set(g)) and len(set(g)) >= 2)
    return y, v, g


@settings(max_examples=60, deadline=None)
@given(_grouped())
def test_fixed_effect_q_partitions_into_within_and_between(data: Any) -> None:
    """Borenstein et al. (2009) ch. 19: Q_total = sum of Q within + Q between (EE)."""
    y, v, g = data
    res = subgroup_analysis(y, v, g, method="EE")
    within = sum(f.qe for f in res.subgroups.values())
    assert res.overall.qe == pytest.approx(within + res.q_between, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(_grouped(), st.sampled_from(["DL", "REML"]))
def test_relabelling_and_reordering_do_not_change_the_test(data: Any, method: str) -> None:
    y, v, g = data
    res = subgroup_analysis(y, v, g, method=method)
    perm = np.arange(y.size)[::-1]
    renamed = [{"p": "zz", "q": "aa", "r": "mm"}[x] for x in g]
    other = subgroup_analysis(y[perm], v[perm], [renamed[i] for i in perm], method=method)
    assert other.q_between == pytest.approx(res.q_between, rel=1e-8, abs=1e-10)


# --- bad input


@pytest.mark.parametrize(
    ("groups", "kwargs", "match"),
    [
        (["a", "b", None, "a", "b"], {}, "'groups' is missing for 'Study 3'"),
        (["a", "b"], {}, "2 values for 5 studies"),
        (None, {}, "groups is required"),
        (["a", "b", "a", "a", "b"], {"tau2": "pooled"}, "tau2='pooled'"),
        (["a", "b", "a", "a", "b"], {"test": "t"}, "test='t'"),
    ],
)
def test_bad_input_names_the_problem(groups: Any, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        subgroup_analysis([0.1, 0.2, 0.3, 0.2, 0.5], [0.1] * 5, groups, **kwargs)


def test_a_categorical_fixes_the_order_of_the_levels() -> None:
    order = ["WL", "CAU", "Other"]
    groups = pd.Categorical(["CAU", "WL", "Other", "CAU", "WL", "Other"], categories=order)
    yi = [0.1, 0.3, 0.2, 0.15, 0.35, 0.25]
    vi = [0.02] * 6
    for passed in (groups, pd.Series(groups)):
        assert list(subgroup_analysis(yi, vi, passed, method="DL").subgroups) == order
    assert list(subgroup_analysis(yi, vi, list(groups), method="DL").subgroups) == sorted(order)
