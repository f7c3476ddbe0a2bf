"""leave_one_out, cumulative and influence: metafor, a published example, direct computations.

References (the suite never runs R):
- tests/data/metafor/metafor_reference.json, keys ``leave1out`` and ``cumul`` (metafor 3.8-1
  with its default convergence);
- validation/sensitivity_reference.json (validation/sensitivity_reference.R, metafor 3.8-1):
  ``sequential`` (leave1out/cumul with tight convergence, with test="knha", and the Lau et al.
  1992 data), ``influence`` (influence() of intercept-only models), ``published`` (raw data);
- Harrer et al. (2021, *Doing Meta-Analysis with R*, ThirdWave data): the influential studies
  and the order of the leave-one-out fits that the book reports.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metasift import InputError, meta_analysis
from metasift.stats.effects import effect_sizes
from metasift.stats.sensitivity import (
    InfluenceResult,
    SensitivityResult,
    cumulative,
    influence,
    leave_one_out,
)

ROOT = Path(__file__).parents[2]
GRID: dict[str, Any] = json.loads(
    (ROOT / "tests" / "data" / "metafor" / "metafor_reference.json").read_text()
)
SENS: dict[str, Any] = json.loads((ROOT / "validation" / "sensitivity_reference.json").read_text())
BCG_YEAR = np.loadtxt(
    ROOT / "tests" / "data" / "metafor" / "dat.bcg.csv", delimiter=",", skiprows=1, usecols=2
)

#: Closed forms (FE, DL, and everything given tau^2): the same arithmetic in another order.
RTOL_CLOSED_FORM = 1e-9
#: Against metafor run to a tau^2 change of 1e-12 (ours stop at 1e-10): agreement ~1e-10.
RTOL_ITERATIVE = 1e-8
#: Against metafor's default REML fits, which stop Fisher scoring when tau^2 changes by less
#: than 1e-5: that error propagates into every field (largest measured: 2.5e-4, the p-value
#: 7e-5 of a cumulative fit; tau^2 itself 3.2e-5). The tight keys check the same fits exactly.
RTOL_METAFOR_DEFAULT = 1e-3
#: tau^2 against metafor's default fits: within metafor's own stopping rule.
ATOL_TAU2_DEFAULT = 1e-4
#: Values that are 0 in exact arithmetic.
ATOL_ZERO = 1e-12
#: A batch column and a single fit run the same code on the same numbers.
RTOL_BATCH = 1e-10

#: metafor field -> (our attribute, scale applied to metafor's value)
SEQ_FIELDS = {
    "estimate": ("estimate", 1.0),
    "se": ("se", 1.0),
    "zval": ("zval", 1.0),
    "stat": ("stat", 1.0),  # zval or tval, whichever the test gives
    "pval": ("pval", 1.0),
    "pvals": ("pval", 1.0),
    "ci.lb": ("ci_lb", 1.0),
    "ci.ub": ("ci_ub", 1.0),
    "Q": ("qe", 1.0),
    "Qp": ("qe_pval", 1.0),
    "tau2": ("tau2", 1.0),
    "I2": ("i2", 0.01),
    "H2": ("h2", 1.0),
}
#: Fields describing an entry rather than results; ``slab`` is compared on its own.
SEQ_META = {"dataset", "measure", "method", "note", "order", "year_of_added", "call", "slab"}
INF_FIELDS = {
    "rstudent": "rstudent",
    "dffits": "dffits",
    "cook.d": "cook_d",
    "cov.r": "cov_r",
    "tau2.del": "tau2_del",
    "QE.del": "qe_del",
    "hat": "hat",
    "weight": "weight",
    "dfbs": "dfbetas",
}
INF_META = {"dataset", "measure", "method", "test", "tight", "call", "yi", "vi", "full", "inf"}

#: The parametrisations below; test_every_entry_is_compared checks they cover the references.
LEAVE1OUT_KEYS = sorted(GRID["leave1out"])
CUMUL_KEYS = sorted(GRID["cumul"])
SEQUENTIAL_KEYS = sorted(SENS["sequential"])
INFLUENCE_KEYS = sorted(SENS["influence"])


def _escalc(ds: str, measure: str) -> dict[str, Any]:
    entry: dict[str, Any] = GRID["datasets"][ds][measure]["escalc"]
    return entry


def _ours(res: SensitivityResult, name: str) -> np.ndarray:
    if name == "stat":
        return res.zval if res.test == "z" else res.tval
    return np.asarray(getattr(res, name), dtype=float)


def _compare_rows(
    res: SensitivityResult, ref: dict[str, Any], rtol: float, rows: slice = slice(None)
) -> list[str]:
    wrong = []
    for name, values in ref.items():
        if name in SEQ_META or (isinstance(values, list) and not values):
            continue
        attr, scale = SEQ_FIELDS[name]
        expected = np.array([np.nan if x is None else x for x in values], float)[rows] * scale
        ours = _ours(res, attr)[rows]
        if attr == "tau2" and rtol == RTOL_METAFOR_DEFAULT:
            ok = np.abs(ours - expected) <= ATOL_TAU2_DEFAULT * np.maximum(1.0, expected)
        else:
            ok = np.isclose(ours, expected, rtol=rtol, atol=ATOL_ZERO, equal_nan=True)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            wrong.append(f"{attr}[{i}]: ours {ours[i]!r}, metafor {expected[i]!r}")
    return wrong


def _rtol(method: str, tight: bool) -> float:
    if method in ("FE", "EE", "DL"):
        return RTOL_CLOSED_FORM
    return RTOL_ITERATIVE if tight else RTOL_METAFOR_DEFAULT


def _single_study_convention(res: SensitivityResult, ref: dict[str, Any]) -> None:
    """Row 0 of a cumulative analysis: metafor reports Q = 0, I^2 = 0, H^2 = 1; we give NaN."""
    assert ref["Q"][0] == 0 and ref["Qp"][0] == 1 and ref["I2"][0] == 0 and ref["H2"][0] == 1
    for name in ("qe", "qe_pval", "i2", "h2", "tau2"):
        assert math.isnan(getattr(res, name)[0]), name
    assert res.k[0] == 1


@pytest.mark.parametrize("key", LEAVE1OUT_KEYS)
def test_leave1out_matches_metafor(key: str) -> None:
    ref = GRID["leave1out"][key]
    esc = _escalc(ref["dataset"], ref["measure"])
    res = leave_one_out(esc["yi"], esc["vi"], slab=ref["slab"], method=ref["method"])
    assert list(res.slab) == ref["slab"]
    wrong = _compare_rows(res, ref, _rtol(ref["method"], tight=False))
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("key", CUMUL_KEYS)
def test_cumul_matches_metafor(key: str) -> None:
    ref = GRID["cumul"][key]
    esc = _escalc(ref["dataset"], ref["measure"])
    res = cumulative(esc["yi"], esc["vi"], slab=esc["slab"], order=BCG_YEAR, method=ref["method"])
    assert list(res.slab) == ref["slab"]
    np.testing.assert_array_equal(res.order, ref["year_of_added"])
    _single_study_convention(res, ref)
    wrong = _compare_rows(res, ref, _rtol(ref["method"], tight=False), rows=slice(1, None))
    assert not wrong, "; ".join(wrong)


def _sequential_inputs(key: str) -> tuple[np.ndarray, np.ndarray, Any, list[str]]:
    kind, ds, measure, _ = key.split("/")
    if ds == "dat.lau1992":
        pub = SENS["published"][ds]
        return np.array(pub["yi"]), np.array(pub["vi"]), pub["year"], pub["trial"]
    esc = _escalc(ds, measure)
    order = BCG_YEAR if kind == "cumul" else None
    labels = esc["slab"] if kind == "cumul" else [str(i + 1) for i in range(len(esc["yi"]))]
    return np.array(esc["yi"]), np.array(esc["vi"]), order, labels


@pytest.mark.parametrize("key", SEQUENTIAL_KEYS)
def test_sequential_tight_and_knha_match_metafor(key: str) -> None:
    ref = SENS["sequential"][key]
    kind, _, _, tag = key.split("/")
    method = tag.split("_")[0]
    test = "knha" if "knha" in tag else "z"
    yi, vi, order, labels = _sequential_inputs(key)
    if kind == "leave1out":
        res = leave_one_out(yi, vi, slab=labels, method=method, test=test)
        rows = slice(None)
    else:
        res = cumulative(yi, vi, slab=labels, order=order, method=method, test=test)
        _single_study_convention(res, ref)
        rows = slice(1, None)
    assert list(res.slab) == ref["slab"]
    wrong = _compare_rows(res, ref, _rtol(method, tight=tag.endswith("tight")), rows)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("key", INFLUENCE_KEYS)
def test_influence_matches_metafor(key: str) -> None:
    ref = SENS["influence"][key]
    res = influence(ref["yi"], ref["vi"], method=ref["method"], test=ref["test"])
    rtol = _rtol(ref["method"], ref["tight"])
    for name, attr in INF_FIELDS.items():
        np.testing.assert_allclose(getattr(res, attr), ref[name], rtol=rtol, atol=ATOL_ZERO)
    np.testing.assert_array_equal(res.inf, ref["inf"])
    assert res.overall.estimate == pytest.approx(ref["full"]["estimate"], rel=rtol)


def test_every_entry_is_compared() -> None:
    """The parametrisations cover every reference entry, and every field is compared."""
    assert set(LEAVE1OUT_KEYS) == set(GRID["leave1out"]) and len(LEAVE1OUT_KEYS) == 3
    assert set(CUMUL_KEYS) == set(GRID["cumul"]) and len(CUMUL_KEYS) == 3
    assert set(SEQUENTIAL_KEYS) == set(SENS["sequential"]) and len(SEQUENTIAL_KEYS) == 7
    assert set(INFLUENCE_KEYS) == set(SENS["influence"]) and len(INFLUENCE_KEYS) == 7
    sequences = [*GRID["leave1out"].values(), *GRID["cumul"].values()]
    sequences += list(SENS["sequential"].values())
    for entry in sequences:
        assert set(entry) <= set(SEQ_FIELDS) | SEQ_META, set(entry) - set(SEQ_FIELDS)
    for entry in SENS["influence"].values():
        assert set(entry) <= set(INF_FIELDS) | INF_META, set(entry) - set(INF_FIELDS)


# ---------------------------------------------------------------- published worked example


def test_lau_1992_streptokinase_cumulative() -> None:
    """Lau et al. (1992, NEJM 327:248-254, abstract): after the first eight trials (1973,
    2,432 patients) the pooled odds ratio was 0.74 (95% CI 0.59 to 0.92); the 25 later trials
    enrolled another 34,542 patients. Lau et al. pooled with Mantel-Haenszel weights; the
    inverse-variance equal-effects weights used here give 0.744 (0.595 to 0.929), so the
    interval is checked to the 0.01 that separates the two weightings.
    """
    pub = SENS["published"]["dat.lau1992"]
    es = effect_sizes("OR", ai=pub["ai"], n1i=pub["n1i"], ci=pub["ci"], n2i=pub["n2i"])
    np.testing.assert_allclose(es.yi, pub["yi"], rtol=RTOL_CLOSED_FORM)
    res = cumulative(es, order=pub["year"], slab=pub["trial"], method="FE")
    n = np.add(pub["n1i"], pub["n2i"])
    assert n[:8].sum() == 2432 and n[8:].sum() == 34542
    assert res.slab[7] == "Frankfurt 2" and res.order[7] == 1973
    assert round(math.exp(res.estimate[7]), 2) == 0.74
    assert abs(math.exp(res.ci_lb[7]) - 0.59) < 0.01
    assert abs(math.exp(res.ci_ub[7]) - 0.92) < 0.01
    assert res.pval[7] < 0.01  # "statistically significant" from 1973 on
    assert (res.pval[7:] < 0.05).all()


# ---------------------------------------------------------------- direct computations

Y = np.array([0.10, 0.30, 0.35, 0.65, 0.45, 0.15, -0.20])
V = np.array([0.030, 0.030, 0.050, 0.010, 0.050, 0.020, 0.080])
FIT_FIELDS = ("estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "i2", "qe")


@pytest.mark.parametrize(
    ("method", "test"), [("FE", "z"), ("DL", "z"), ("REML", "z"), ("PM", "knha"), ("ML", "adhoc")]
)
def test_leave_one_out_column_equals_fit_without_the_study(method: str, test: str) -> None:
    res = leave_one_out(Y, V, method=method, test=test)
    for i in range(Y.size):
        keep = np.arange(Y.size) != i
        single = meta_analysis(Y[keep], V[keep], method=method, test=test)
        for name in FIT_FIELDS:
            expected = getattr(single, name)
            assert getattr(res, name)[i] == pytest.approx(expected, rel=RTOL_BATCH, nan_ok=True)
        assert res.k[i] == Y.size - 1
    assert res.overall.estimate == meta_analysis(Y, V, method=method, test=test).estimate


@pytest.mark.parametrize(("method", "test"), [("DL", "z"), ("REML", "knha")])
def test_cumulative_column_equals_fit_of_first_studies(method: str, test: str) -> None:
    order = np.array([3.0, 1.0, 2.0, 1.0, 5.0, 0.5, 2.0])
    res = cumulative(Y, V, order=order, method=method, test=test)
    perm = [5, 1, 3, 2, 6, 0, 4]  # ascending, ties (1.0: 1, 3; 2.0: 2, 6) in input order
    assert res.study.tolist() == perm
    for j in range(1, Y.size):
        idx = perm[: j + 1]
        single = meta_analysis(Y[idx], V[idx], method=method, test=test)
        for name in FIT_FIELDS:
            expected = getattr(single, name)
            assert getattr(res, name)[j] == pytest.approx(expected, rel=RTOL_BATCH, nan_ok=True)
    assert res.estimate[0] == Y[5]
    if test == "z":
        assert res.se[0] == math.sqrt(V[5])
    else:  # a t test with k - 1 = 0 degrees of freedom
        assert math.isnan(res.se[0]) and math.isnan(res.ci_lb[0])


def test_cumulative_descending_and_other_order_types() -> None:
    years = [2001, 1998, 2001, 1995, 2010, 1990, 1998]
    down = cumulative(Y, V, order=years, descending=True, method="DL")
    assert down.study.tolist() == [4, 0, 2, 1, 6, 3, 5]  # ties still in input order
    labels = ["b", "a", "c", "a", "e", "d", "b"]
    by_label = cumulative(Y, V, order=labels, method="DL")
    assert by_label.study.tolist() == [1, 3, 0, 6, 2, 5, 4]
    dates = np.array(["2020-01-02", "2019-05-01"] + ["2021-01-01"] * 5, dtype="datetime64[D]")
    assert cumulative(Y, V, order=dates, method="DL").study.tolist()[:2] == [1, 0]
    unchanged = cumulative(Y, V, method="DL")
    assert unchanged.study.tolist() == list(range(7)) and unchanged.order is None
    assert cumulative(Y, V, method="DL", descending=True).study.tolist() == list(range(6, -1, -1))


@pytest.mark.parametrize("test", ["z", "knha"])
def test_influence_by_hand(test: str) -> None:
    """Each diagnostic from its formula with explicit leave-one-out fits (Viechtbauer and
    Cheung 2010; metafor's influence.rma.uni for the intercept-only model)."""
    k = Y.size
    full = meta_analysis(Y, V, method="REML", test=test)
    res = influence(Y, V, method="REML", test=test)
    w = 1 / (V + full.tau2)
    for i in range(k):
        keep = np.arange(k) != i
        d = meta_analysis(Y[keep], V[keep], method="REML", test=test)
        w_del = 1 / (V[keep] + d.tau2)
        s2w = 1.0 if test == "z" else np.sum(w_del * (Y[keep] - d.estimate) ** 2) / (k - 2)
        hat = w[i] / w.sum()
        expected = {
            "rstudent": (Y[i] - d.estimate) / math.sqrt(s2w * (V[i] + d.tau2) + d.se**2),
            "dffits": (full.estimate - d.estimate) / math.sqrt(s2w * hat * (d.tau2 + V[i])),
            "dfbetas": (full.estimate - d.estimate) / math.sqrt(s2w / np.sum(1 / (V + d.tau2))),
            "cook_d": (full.estimate - d.estimate) ** 2 / full.se**2,
            "cov_r": d.se**2 / full.se**2,
            "tau2_del": d.tau2,
            "qe_del": d.qe,
            "hat": hat,
            "weight": 100 * hat,
        }
        for name, value in expected.items():
            assert getattr(res, name)[i] == pytest.approx(value, rel=RTOL_BATCH), (name, i)
        flag = (
            abs(expected["dffits"]) > 3 * math.sqrt(1 / (k - 1))
            or stats.chi2.cdf(expected["cook_d"], 1) > 0.5
            or hat > 3 / k
            or abs(expected["dfbetas"]) > 1
        )
        assert bool(res.inf[i]) == flag


def test_influence_flags_an_outlier() -> None:
    y = np.array([0.2, 0.25, 0.18, 0.22, 1.6, 0.21, 0.19, 0.24])
    v = np.full(8, 0.01)
    res = influence(y, v, method="DL", slab=[f"S{i}" for i in range(8)])
    assert res.influential == ("S4",)
    assert abs(res.rstudent[4]) > 3 and res.rstudent[4] == res.rstudent.max()
    frame = res.to_frame()
    assert list(frame.columns) == ["slab", *InfluenceResult._COLUMNS]
    assert "S4" in res.summary() and "*" in res.summary()
    assert "<table" in res._repr_html_()


# ---------------------------------------------------------------- results and input


def test_frames_name_the_test_statistic() -> None:
    z = leave_one_out(Y, V, method="DL").to_frame()
    t = leave_one_out(Y, V, method="DL", test="knha").to_frame()
    assert "zval" in z.columns and "tval" not in z.columns
    assert {"tval", "df"} <= set(t.columns) and "zval" not in t.columns
    for col in ("slab", "estimate", "se", "pval", "ci_lb", "ci_ub", "tau2", "i2", "h2", "qe"):
        assert col in z.columns and col in t.columns
    c = cumulative(Y, V, order=np.arange(7)[::-1], method="DL")
    assert list(c.to_frame()["order"]) == list(range(7))
    assert "Study added" in c.summary() and "Study left out" in str(leave_one_out(Y, V))
    assert "<table" in c._repr_html_() and len(c) == 7


def test_accepts_effect_sizes_and_standard_errors() -> None:
    es = effect_sizes("MD", m1i=[5, 6, 7], sd1i=[2, 2, 3], n1i=[20, 30, 25],
                      m2i=[4, 6.5, 5], sd2i=[2, 2, 2], n2i=[20, 30, 25],
                      slab=["A", "B", "C"])  # fmt: skip
    res = leave_one_out(es, method="DL")
    assert res.slab == ("A", "B", "C")
    by_se = leave_one_out(es.yi, sei=np.sqrt(es.vi), method="DL")
    np.testing.assert_allclose(res.estimate, by_se.estimate, rtol=RTOL_BATCH)


def test_two_studies_leave_single_study_fits() -> None:
    res = leave_one_out([0.1, 0.5], [0.01, 0.02], method="DL")
    assert res.estimate.tolist() == [0.5, 0.1]
    assert np.isnan(res.tau2).all() and any("one study" in n for n in res.notes)


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="at least 2 studies"):
        leave_one_out([0.1], [0.01])
    with pytest.raises(InputError, match="at least 3 studies"):
        influence([0.1, 0.2], [0.01, 0.01])
    with pytest.raises(InputError, match="one value per study"):
        cumulative(Y, V, order=[1, 2, 3])
    with pytest.raises(InputError, match=r"order\[2\] is missing for study 'Study 3'"):
        cumulative(Y, V, order=[1, 2, np.nan, 4, 5, 6, 7])
    with pytest.raises(InputError, match=r"order\[1\] is missing"):
        cumulative(Y, V, order=["a", None, "b", "c", "d", "e", "f"])
    with pytest.raises(InputError, match="cannot be compared"):
        cumulative(Y, V, order=["a", 1, "b", "c", "d", "e", "f"])
    with pytest.raises(InputError, match=r"vi\[1\] = -0.1 for study 'B'"):
        leave_one_out([0.1, 0.2, 0.3], [0.1, -0.1, 0.1], slab=["A", "B", "C"])
    with pytest.raises(InputError, match="method='XX'"):
        cumulative(Y, V, method="XX")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(0.001, 1.0)), min_size=3, max_size=12))
def test_properties(studies: list[tuple[float, float]]) -> None:
    y = np.array([s[0] for s in studies])
    v = np.array([s[1] for s in studies])
    loo = leave_one_out(y, v, method="DL")
    for i in range(y.size):
        rest = np.delete(y, i)
        assert rest.min() - 1e-9 <= loo.estimate[i] <= rest.max() + 1e-9
    cum = cumulative(y, v, method="DL")
    assert cum.k.tolist() == list(range(1, y.size + 1))
    assert cum.estimate[-1] == pytest.approx(cum.overall.estimate, rel=RTOL_BATCH, abs=1e-12)


# ---------------------------------------------------------------- Harrer et al. (2021), ThirdWave


def _thirdwave() -> tuple[list[str], np.ndarray, np.ndarray]:
    """The 18 ThirdWave trials of Harrer et al. (2021): labels, g, and the standard error
    recovered from the printed 95% CI (tests/data/published/SOURCE.md)."""
    path = ROOT / "tests" / "data" / "published" / "harrer2021_thirdwave.csv"
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    g, lb, ub = (table[:, j].astype(np.float64) for j in (1, 2, 3))
    return list(table[:, 0]), g, (ub - lb) / (2.0 * stats.norm.ppf(0.975))


def test_harrer_2021_thirdwave_influence() -> None:
    """Harrer, Cuijpers, Furukawa and Ebert (2021, Doing Meta-Analysis with R, CRC; chapter
    "Between-Study Heterogeneity", section "Influence Analysis"): metafor's influence
    diagnostics of the random-effects fit (REML, Knapp-Hartung) of the 18 ThirdWave trials flag
    only DanitzOrsillo, while Shapiro et al. shows the second spike in the plots. The printed
    fit (g = 0.5771 [0.3782; 0.7760], tau^2 = 0.0820) is reproduced first."""
    study, g, sei = _thirdwave()
    res = influence(g, sei=sei, slab=study, method="REML", test="knha")
    fit = res.overall
    printed = [0.5771, 0.3782, 0.7760, 0.0820]
    assert [round(x, 4) for x in (fit.estimate, fit.ci_lb, fit.ci_ub, fit.tau2)] == printed
    assert res.influential == ("DanitzOrsillo",)
    for values in (res.rstudent, res.dffits, res.cook_d):
        top_two = {study[i] for i in np.argsort(-np.abs(values))[:2]}
        assert top_two == {"DanitzOrsillo", "Shapiro et al."}
    # DanitzOrsillo is flagged by the DFFITS rule of the book, Shapiro et al. is not.
    cutoff = 3.0 * math.sqrt(1.0 / (len(study) - 1))
    assert res.dffits[study.index("DanitzOrsillo")] > cutoff
    assert res.dffits[study.index("Shapiro et al.")] < cutoff


def test_harrer_2021_thirdwave_leave_one_out() -> None:
    """Harrer et al. (2021, chapter "Between-Study Heterogeneity", section "Leave-One-Out
    Meta-Analysis Results"), leave-one-out fits of the same model (REML, Knapp-Hartung): the
    pooled effect is smallest, and I^2 (the Q-based I^2 of the meta package) lowest, when
    DanitzOrsillo or Shapiro et al. is left out. The book shows these fits only as plots, so
    the order of the fits is what is checked."""
    study, g, sei = _thirdwave()
    res = leave_one_out(g, sei=sei, slab=study, method="REML", test="knha")
    expected = {"DanitzOrsillo", "Shapiro et al."}
    assert {res.slab[i] for i in np.argsort(res.estimate)[:2]} == expected
    assert {res.slab[i] for i in np.argsort(res.i2_q)[:2]} == expected
    assert (res.estimate < res.overall.estimate)[[study.index(s) for s in expected]].all()


def test_a_fitted_result_passes_on_its_model() -> None:
    # metafor's leave1out, cumul, influence and trimfill of an rma fit use its method,
    # test and level; the same holds when a MetaResult is passed.
    from pathlib import Path

    import pandas as pd

    from metasift.stats import cumulative, influence, leave_one_out, meta_analysis, trim_and_fill

    data = Path(__file__).parents[1] / "data" / "peer-support" / "smit2022_personal_recovery.csv"
    studies = pd.read_csv(data)
    yi, vi = studies["g"].to_numpy(), studies["g_se"].to_numpy() ** 2
    fit = meta_analysis(yi, vi, method="DL", test="knha", level=0.9)
    given = {"method": "DL", "test": "knha", "level": 0.9}
    for function in (leave_one_out, cumulative, influence, trim_and_fill):
        inherited = function(fit).to_frame()
        explicit = function(yi, vi, **given).to_frame()
        pd.testing.assert_frame_equal(inherited, explicit, check_exact=True)
        default = function(yi, vi).to_frame()  # arrays: REML, z, 0.95 as before
        assert not default.equals(explicit)
    # an option given explicitly still wins over the fit's
    pd.testing.assert_frame_equal(
        leave_one_out(fit, method="REML", test="z", level=0.95).to_frame(),
        leave_one_out(yi, vi).to_frame(),
        check_exact=True,
    )
