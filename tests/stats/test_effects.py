"""Tests of metasift.stats.effects.effect_sizes against metafor, published examples and formulas.

Evidence per measure family:
1. metafor 3.8-1 ``escalc`` on real datasets (tests/data/metafor/metafor_reference.json) and on
   constructed edge cases (validation/effects_reference.json, made by
   validation/effects_reference.R);
2. published worked examples (Borenstein et al. 2009, Introduction to Meta-Analysis, Wiley;
   the Smit et al. 2022 peer-support dataset);
3. direct computation from the formulas in the test;
4. hypothesis property tests.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from metasift.errors import DataWarning, InputError
from metasift.stats import _effects_counts, _effects_means
from metasift.stats.effects import EffectSizes, effect_sizes

#: Closed-form formulas evaluated in two programs agree to rounding; 1e-9 leaves room for
#: different but equivalent operation orders (e.g. metafor's lgamma J vs our Pochhammer J).
RTOL_CLOSED_FORM = 1e-9
#: Published examples print 4 decimals: a correct value is within half a unit of the last one.
ATOL_PRINTED_4DP = 0.5e-4
#: The Smit et al. dataset's ``g_recomputed_from_msd`` column is rounded to 6 decimals.
ATOL_PRINTED_6DP = 0.5e-6

DATA = Path(__file__).resolve().parents[1] / "data"
METAFOR_JSON = DATA / "metafor" / "metafor_reference.json"
R_JSON = Path(__file__).resolve().parents[2] / "validation" / "effects_reference.json"
PEER = DATA / "peer-support"


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(json.load(handle))


METAFOR = _load(METAFOR_JSON)
R_REF = _load(R_JSON)


def arr(values: Any) -> np.ndarray:
    """JSON numbers as float64, null as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def assert_close(actual: np.ndarray, expected: Any, rtol: float = RTOL_CLOSED_FORM) -> None:
    np.testing.assert_allclose(actual, arr(expected), rtol=rtol, atol=0, equal_nan=True)


def call(expect_warning: bool, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` and check that it warns (DataWarning) exactly when expected."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    data = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    other = [str(w.message) for w in caught if not issubclass(w.category, DataWarning)]
    assert not other, other
    assert bool(data) == expect_warning, data
    return result


# --------------------------------------------------------------------------- 1. metafor (JSON)

#: arguments of effect_sizes for each dataset of metafor_reference.json (column names).
DATASET_ARGS: dict[str, dict[str, str]] = {
    "dat.normand1999": {
        "m1i": "m1i",
        "sd1i": "sd1i",
        "n1i": "n1i",
        "m2i": "m2i",
        "sd2i": "sd2i",
        "n2i": "n2i",
    },
    "dat.curtis1998": {
        "m1i": "m1i",
        "sd1i": "sd1i",
        "n1i": "n1i",
        "m2i": "m2i",
        "sd2i": "sd2i",
        "n2i": "n2i",
    },
    "dat.bcg": {"ai": "tpos", "bi": "tneg", "ci": "cpos", "di": "cneg"},
    "dat.molloy2014": {"ri": "ri", "ni": "ni"},
    "dat.pritz1997": {"xi": "xi", "ni": "ni"},
    "dat.hackshaw1998": {"yi": "yi", "vi": "vi"},
    "dat.raudenbush1985": {"yi": "yi", "vi": "vi"},
}
ESCALC_ENTRIES = sorted(
    (dataset, measure)
    for dataset, measures in METAFOR["datasets"].items()
    for measure, entry in measures.items()
    if "escalc" in entry
)


@pytest.mark.parametrize(("dataset", "measure"), ESCALC_ENTRIES)
def test_metafor_escalc(dataset: str, measure: str) -> None:
    ref = METAFOR["datasets"][dataset][measure]["escalc"]
    frame = pd.read_csv(DATA / "metafor" / f"{dataset}.csv").iloc[np.array(ref["rows"]) - 1]
    code = "GEN" if measure == "given" else measure
    big = code == "SMD" and bool(np.nanmax(np.abs(arr(ref["yi"]))) > 2)
    es = call(big, effect_sizes, code, data=frame, **DATASET_ARGS[dataset])
    assert_close(es.yi, ref["yi"])
    assert_close(es.vi, ref["vi"])
    assert len(es) == ref["k"]


def test_every_metafor_escalc_entry_is_exercised() -> None:
    # test_metafor_escalc is parametrized by every escalc entry of the JSON; this pins the
    # grid, so an entry that disappears, or a new one without an argument mapping, fails.
    expected = (
        {("dat.normand1999", m) for m in ("SMD", "MD", "ROM")}
        | {("dat.curtis1998", m) for m in ("SMD", "ROM")}
        | {("dat.bcg", m) for m in ("RR", "OR", "RD")}
        | {("dat.molloy2014", m) for m in ("ZCOR", "COR")}
        | {("dat.pritz1997", m) for m in ("PLO", "PR", "PFT")}
        | {("dat.hackshaw1998", "given"), ("dat.raudenbush1985", "given")}
    )
    assert set(ESCALC_ENTRIES) == expected
    assert set(DATASET_ARGS) == {dataset for dataset, _ in ESCALC_ENTRIES}


# --------------------------------------------------------------------------- 1b. metafor (R)


def _smd_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    if "convention" in case:
        return {"convention": case["convention"]}
    corr = None if case["correction"] == "none" else case["correction"]
    return {"correction": corr, "vtype": case["vtype"]}


SMD_CASES = [(name, key) for name, block in R_REF["smd"].items() for key in block["cases"]]


@pytest.mark.parametrize(("dataset", "key"), SMD_CASES)
def test_smd_vtypes_and_corrections_match_r(dataset: str, key: str) -> None:
    block = R_REF["smd"][dataset]
    case = block["cases"][key]
    inputs = {k: arr(v) for k, v in block["inputs"].items()}
    big = bool(np.nanmax(np.abs(arr(case["yi"]))) > 2)
    es = call(big, effect_sizes, "SMD", **inputs, **_smd_kwargs(case))
    assert_close(es.yi, case["yi"])
    # metafor's AV variance stays defined for a study whose mean is missing (its yi is NA);
    # metasift gives NaN for both, since such a study has no effect size to weight.
    expected_vi = np.where(np.isnan(arr(case["yi"])), np.nan, arr(case["vi"]))
    np.testing.assert_allclose(es.vi, expected_vi, rtol=RTOL_CLOSED_FORM, atol=0)


def test_r_smd_grid_is_complete() -> None:
    expected = {f"{c}_{v}" for c in ("exact", "approx", "none") for v in ("LS", "LS2", "UB", "AV")}
    for block in R_REF["smd"].values():
        assert set(block["cases"]) == expected | {"revman5", "cma"}
    assert R_REF["meta"]["metafor_version"] == "3.8.1"


def test_md_ho_matches_r() -> None:
    frame = pd.read_csv(DATA / "metafor" / "dat.normand1999.csv")
    es = effect_sizes("MD", data=frame, vtype="HO", **DATASET_ARGS["dat.normand1999"])
    assert_close(es.yi, R_REF["md"]["HO"]["yi"])
    assert_close(es.vi, R_REF["md"]["HO"]["vi"])


TABLE_KEYS = sorted(R_REF["tables"]["cases"])


def _table_inputs(case: dict[str, Any]) -> dict[str, np.ndarray]:
    if case.get("dataset") == "dat.bcg":
        bcg = pd.read_csv(DATA / "metafor" / "dat.bcg.csv")
        return {k: bcg[c].to_numpy(float) for k, c in DATASET_ARGS["dat.bcg"].items()}
    return {k: arr(v) for k, v in R_REF["tables"]["inputs"].items()}


@pytest.mark.parametrize("key", TABLE_KEYS)
def test_two_by_two_zero_cells_match_r(key: str) -> None:
    case = R_REF["tables"]["cases"][key]
    cells = _table_inputs(case)
    a, b, c, d = (cells[k] for k in ("ai", "bi", "ci", "di"))
    complete = ~np.isnan(a + b + c + d)
    if case["drop00"]:
        complete &= ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    undefined = complete & np.isnan(arr(case["yi"]) + arr(case["vi"]))
    es = call(
        bool(undefined.any()),
        effect_sizes,
        case["measure"],
        **cells,
        add=case["add"],
        to=case["to"],
        drop00=case["drop00"],
    )
    assert_close(es.yi, case["yi"])
    assert_close(es.vi, case["vi"])
    # The same tables given as events and group sizes give the same numbers.
    es_n = call(
        bool(undefined.any()),
        effect_sizes,
        case["measure"],
        ai=a,
        n1i=a + b,
        ci=c,
        n2i=c + d,
        add=case["add"],
        to=case["to"],
        drop00=case["drop00"],
    )
    np.testing.assert_array_equal(es_n.yi, es.yi)
    np.testing.assert_array_equal(es_n.vi, es.vi)


def test_r_table_grid_is_complete() -> None:
    keys = set(TABLE_KEYS)
    for measure in ("OR", "RR", "RD"):
        for to in ("only0", "all", "if0all", "none"):
            for drop in ("FALSE", "TRUE"):
                for add in ("0.5", "0.25"):
                    keys.remove(f"{measure}_{to}_add{add}_drop00{drop}")
            if to in ("all", "if0all"):
                keys.remove(f"bcg_{measure}_{to}")
    assert keys == set()


@pytest.mark.parametrize("key", sorted(R_REF["proportions"]["cases"]))
def test_proportions_zero_and_all_events_match_r(key: str) -> None:
    case = R_REF["proportions"]["cases"][key]
    xi, ni = (arr(R_REF["proportions"]["inputs"][k]) for k in ("xi", "ni"))
    undefined = ~np.isnan(xi) & np.isnan(arr(case["yi"]) + arr(case["vi"]))
    options = {} if key == "PFT_default" else {"add": case["add"], "to": case["to"]}
    es = call(bool(undefined.any()), effect_sizes, case["measure"], xi=xi, ni=ni, **options)
    assert_close(es.yi, case["yi"])
    assert_close(es.vi, case["vi"])
    assert es.add == case["add"]


def test_pft_default_adds_nothing_but_explicit_add_does() -> None:
    es = effect_sizes("PFT", xi=[10], ni=[10])
    assert es.add == 0.0 and not es.adjusted.any()
    es = effect_sizes("PFT", xi=[10], ni=[10], add=0.5)
    assert es.add == 0.5 and es.adjusted.all()


@pytest.mark.parametrize("measure", ["ZCOR", "COR"])
def test_correlation_edges_match_r(measure: str) -> None:
    case = R_REF["correlations"]["cases"][measure]
    ri, ni = (arr(R_REF["correlations"]["inputs"][k]) for k in ("ri", "ni"))
    with pytest.warns(DataWarning, match="ni > 3") as record:
        es = effect_sizes(measure, ri=ri, ni=ni)
    assert "Study 4" in str(record[0].message)  # ni = 3: no variance
    assert_close(es.yi, case["yi"])
    # metafor computes the ZCOR variance 1/(ni - 3) even when ri is missing; metasift gives
    # NaN for both yi and vi of a study with missing input.
    expected_vi = np.where(np.isnan(ri), np.nan, arr(case["vi"]))
    np.testing.assert_allclose(es.vi, expected_vi, rtol=RTOL_CLOSED_FORM, atol=0)


# --------------------------------------------------------------------------- 2. published


def test_borenstein_ch4_mean_differences() -> None:
    # Borenstein et al. (2009), ch. 4 worked examples: means 103 and 100, SDs 5.5 and 4.5,
    # n = 50 and 50. Printed: D = 3.00, V_D = 1.0100; S_within = 5.0249, d = 0.5970,
    # V_d = 0.0418, SE_d = 0.2044; J = 0.9923, g = 0.5924, V_g = 0.0411, SE_g = 0.2028.
    groups = {
        "m1i": [103.0],
        "sd1i": [5.5],
        "n1i": [50],
        "m2i": [100.0],
        "sd2i": [4.5],
        "n2i": [50],
    }
    md = effect_sizes("MD", **groups)
    d = effect_sizes("SMD", **groups, correction=None)
    g = effect_sizes("SMD", **groups, correction="approx", vtype="LS2")
    printed = [
        (md.yi, 3.0),
        (md.vi, 1.0100),
        (d.yi, 0.5970),
        (d.vi, 0.0418),
        (d.sei, 0.2044),
        (g.yi, 0.5924),
        (g.vi, 0.0411),
        (g.sei, 0.2028),
    ]
    for ours, book in printed:
        np.testing.assert_allclose(ours, [book], rtol=0, atol=ATOL_PRINTED_4DP)
    # The "cma" convention is this computation.
    cma = effect_sizes("SMD", **groups, convention="cma")
    np.testing.assert_array_equal(cma.vi, g.vi)


def test_borenstein_ch5_binary_example() -> None:
    # Borenstein et al. (2009), ch. 5: 5/100 events (treated) vs 10/100 (control). Printed:
    # log RR = -0.6931, V = 0.2800, SE = 0.5292; log OR = -0.7472, V = 0.3216, SE = 0.5671;
    # RD = -0.0500, V = 0.0014, SE = 0.0371.
    cells = {"ai": [5], "bi": [95], "ci": [10], "di": [90]}
    printed = {
        "RR": (-0.6931, 0.2800, 0.5292),
        "OR": (-0.7472, 0.3216, 0.5671),
        "RD": (-0.0500, 0.0014, 0.0371),
    }
    for measure, (y, v, se) in printed.items():
        es = effect_sizes(measure, **cells)
        for ours, book in ((es.yi, y), (es.vi, v), (es.sei, se)):
            np.testing.assert_allclose(ours, [book], rtol=0, atol=ATOL_PRINTED_4DP)


def test_borenstein_ch6_correlation_example() -> None:
    # Borenstein et al. (2009), ch. 6: r = 0.50, n = 100 -> z = 0.5493, V_z = 0.0103,
    # SE_z = 0.1015.
    es = effect_sizes("ZCOR", ri=[0.5], ni=[100])
    for ours, book in ((es.yi, 0.5493), (es.vi, 0.0103), (es.sei, 0.1015)):
        np.testing.assert_allclose(ours, [book], rtol=0, atol=ATOL_PRINTED_4DP)


#: Rows of the Smit et al. dataset whose stored g or SE is not the CMA computation from its
#: own means/SDs (see tests/data/peer-support/SOURCE.md): Boevink 2016 is stored rounded to
#: two decimals; the Kaplan 2011 and Solomon 1995 values differ in the 4th decimal.
SMIT_NOT_EXACT = {("clinical", 1), ("personal", 34), ("functional", 33), ("functional", 64)}


@pytest.mark.parametrize("outcome", ["clinical", "personal", "functional"])
def test_smit2022_g_recomputed_with_cma_convention(outcome: str) -> None:
    frame = pd.read_csv(PEER / f"smit2022_{outcome}_recovery.csv")
    msd = frame[frame["g_recomputed_from_msd"].notna()].reset_index(drop=True)
    es = effect_sizes(
        "SMD",
        m1i="mean_ps",
        sd1i="sd_ps",
        n1i="n_ps",
        m2i="mean_ctrl",
        sd2i="sd_ctrl",
        n2i="n_ctrl",
        data=msd,
        slab="study",
        convention="cma",
    )
    # The dataset flips the sign of lower-is-better scales ("reversed").
    sign = np.where(msd["msd_raw_direction"] == "reversed", -1.0, 1.0)
    np.testing.assert_allclose(
        sign * es.yi, msd["g_recomputed_from_msd"], rtol=0, atol=ATOL_PRINTED_6DP
    )
    same = effect_sizes(
        "SMD",
        m1i="mean_ps",
        sd1i="sd_ps",
        n1i="n_ps",
        m2i="mean_ctrl",
        sd2i="sd_ctrl",
        n2i="n_ctrl",
        data=msd,
        correction="approx",
    )
    np.testing.assert_array_equal(same.yi, es.yi)
    exact = np.array([(outcome, r) not in SMIT_NOT_EXACT for r in msd["row_in_source"]])
    assert exact.sum() >= 14
    np.testing.assert_allclose(sign[exact] * es.yi[exact], msd["g"][exact], rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(es.sei[exact], msd["g_se"][exact], rtol=RTOL_CLOSED_FORM)
    assert es.slab[0] == msd["study"][0]


# --------------------------------------------------------------------------- 3. formulas

SMD_GROUPS = {
    "m1i": np.array([10.0, 4.2, 7.0, 0.5, 25.0]),
    "sd1i": np.array([2.0, 1.1, 3.0, 0.4, 6.0]),
    "n1i": np.array([2.0, 3.0, 5.0, 12.0, 150.0]),
    "m2i": np.array([8.0, 5.0, 7.5, 0.1, 24.0]),
    "sd2i": np.array([3.0, 0.8, 2.0, 0.5, 7.0]),
    "n2i": np.array([2.0, 2.0, 6.0, 10.0, 140.0]),
}


@pytest.mark.parametrize("correction", ["exact", "approx", None])
@pytest.mark.parametrize("vtype", ["LS", "LS2", "UB", "AV", "RM5"])
def test_smd_formulas(correction: str | None, vtype: str) -> None:
    g = SMD_GROUPS
    n1, n2 = g["n1i"], g["n2i"]
    m, big_n, a = n1 + n2 - 2, n1 + n2, 1 / n1 + 1 / n2
    sp = np.sqrt(((n1 - 1) * g["sd1i"] ** 2 + (n2 - 1) * g["sd2i"] ** 2) / m)
    d = (g["m1i"] - g["m2i"]) / sp
    j_exact = special.gamma(m / 2) / (np.sqrt(m / 2) * special.gamma((m - 1) / 2))
    c = {"exact": j_exact, "approx": 1 - 3 / (4 * m - 1), None: np.ones_like(m)}[correction]
    y = c * d
    expected = {
        "LS": a + y**2 / (2 * big_n),
        "LS2": c**2 * (a + d**2 / (2 * big_n)),
        "UB": c**2 * (a / j_exact**2 + (1 - (m - 2) / (m * j_exact**2)) * d**2),
        "AV": a + (np.sum(y * big_n) / np.sum(big_n)) ** 2 / (2 * big_n),
        "RM5": big_n / (n1 * n2) + y**2 / (2 * (big_n - 3.94)),
    }[vtype]
    es = effect_sizes("SMD", **g, correction=correction, vtype=vtype)
    np.testing.assert_allclose(es.yi, y, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(es.vi, expected, rtol=RTOL_CLOSED_FORM)
    assert (es.correction, es.vtype) == (correction, vtype)


def test_conventions_are_their_settings() -> None:
    for convention, (correction, vtype) in {
        "metafor": ("exact", "LS"),
        "revman5": ("approx", "RM5"),
        "cma": ("approx", "LS2"),
    }.items():
        a = effect_sizes("SMD", **SMD_GROUPS, convention=convention)
        b = effect_sizes("SMD", **SMD_GROUPS, correction=correction, vtype=vtype)
        np.testing.assert_array_equal(a.yi, b.yi)
        np.testing.assert_array_equal(a.vi, b.vi)
        assert (a.convention, a.correction, a.vtype) == (convention, correction, vtype)
    # RevMan 5 writes the correction as 1 - 3/(4N - 9): the same number.
    n = SMD_GROUPS["n1i"] + SMD_GROUPS["n2i"]
    np.testing.assert_allclose(
        _effects_means.j_approx(n - 2), 1 - 3 / (4 * n - 9), rtol=RTOL_CLOSED_FORM
    )


def test_md_rom_formulas() -> None:
    g = SMD_GROUPS
    md = effect_sizes("MD", **g)
    np.testing.assert_allclose(md.yi, g["m1i"] - g["m2i"], rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(
        md.vi, g["sd1i"] ** 2 / g["n1i"] + g["sd2i"] ** 2 / g["n2i"], rtol=RTOL_CLOSED_FORM
    )
    rom = effect_sizes("ROM", **g)
    np.testing.assert_allclose(rom.yi, np.log(g["m1i"] / g["m2i"]), rtol=RTOL_CLOSED_FORM)
    expected = g["sd1i"] ** 2 / (g["n1i"] * g["m1i"] ** 2) + g["sd2i"] ** 2 / (
        g["n2i"] * g["m2i"] ** 2
    )
    np.testing.assert_allclose(rom.vi, expected, rtol=RTOL_CLOSED_FORM)


def test_table_formulas_with_continuity_correction() -> None:
    # One table with a zero cell (only0 adds 0.5 to its four cells) and one without.
    a, b, c, d = (np.array(x, dtype=float) for x in ([0, 12], [10, 30], [4, 9], [6, 31]))
    a2, b2, c2, d2 = (np.where([True, False], x + 0.5, x) for x in (a, b, c, d))
    n1, n2 = a2 + b2, c2 + d2
    p1, p2 = a2 / n1, c2 / n2
    expected = {
        "OR": (np.log(a2 * d2 / (b2 * c2)), 1 / a2 + 1 / b2 + 1 / c2 + 1 / d2),
        "RR": (np.log(p1 / p2), 1 / a2 - 1 / n1 + 1 / c2 - 1 / n2),
        "RD": (p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2),
    }
    for measure, (y, v) in expected.items():
        es = effect_sizes(measure, ai=a, bi=b, ci=c, di=d)
        np.testing.assert_allclose(es.yi, y, rtol=RTOL_CLOSED_FORM)
        np.testing.assert_allclose(es.vi, v, rtol=RTOL_CLOSED_FORM)
        np.testing.assert_array_equal(es.adjusted, [True, False])


def test_proportion_and_correlation_formulas() -> None:
    x, n = np.array([0.0, 7.0, 20.0]), np.array([15.0, 20.0, 20.0])
    x2 = np.where([True, False, True], x + 0.5, x)
    n2 = np.where([True, False, True], n + 1.0, n)
    p = x2 / n2
    pr, plo = effect_sizes("PR", xi=x, ni=n), effect_sizes("PLO", xi=x, ni=n)
    np.testing.assert_allclose(pr.yi, p, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(pr.vi, p * (1 - p) / n2, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(plo.yi, np.log(x2 / (n2 - x2)), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(plo.vi, 1 / x2 + 1 / (n2 - x2), rtol=RTOL_CLOSED_FORM)
    pft = effect_sizes("PFT", xi=x, ni=n)  # no continuity correction by default
    ft = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    np.testing.assert_allclose(pft.yi, ft, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(pft.vi, 1 / (4 * n + 2), rtol=RTOL_CLOSED_FORM)
    r, nr = np.array([-0.4, 0.1, 0.75]), np.array([30.0, 8.0, 200.0])
    z, cor = effect_sizes("ZCOR", ri=r, ni=nr), effect_sizes("COR", ri=r, ni=nr)
    np.testing.assert_allclose(z.yi, 0.5 * np.log((1 + r) / (1 - r)), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(z.vi, 1 / (nr - 3), rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(cor.vi, (1 - r**2) ** 2 / (nr - 1), rtol=RTOL_CLOSED_FORM)


def test_gen_with_vi_or_sei() -> None:
    a = effect_sizes("GEN", yi=[0.2, -0.1], sei=[0.1, 0.3])
    b = effect_sizes("GEN", yi=[0.2, -0.1], vi=[0.01, 0.09])
    np.testing.assert_allclose(a.vi, b.vi, rtol=RTOL_CLOSED_FORM)
    np.testing.assert_array_equal(a.yi, [0.2, -0.1])


def test_j_exact_is_accurate_for_huge_m() -> None:
    # J(m) = 1 - 3/(4m) - 7/(32 m^2) + O(m^-3); the lgamma form is off by 3e-10 at m = 1e6.
    # At m >= 1e5 the omitted O(m^-3) term is below 1e-15.
    m = np.array([1e5, 1e6, 1e9, 1e14])
    series = 1 - 3 / (4 * m) - 7 / (32 * m**2)
    np.testing.assert_allclose(_effects_means.j_exact(m), series, rtol=1e-14)
    assert np.isnan(_effects_means.j_exact([1.0, 0.5])).all()


# --------------------------------------------------------------------------- missing, warnings


def test_missing_inputs_give_nan_for_that_study_only() -> None:
    groups = {k: v.copy() for k, v in SMD_GROUPS.items()}
    groups["m2i"][2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        es = effect_sizes("SMD", **groups, vtype="AV")
    assert np.isnan(es.yi[2]) and np.isnan(es.vi[2])
    assert np.isfinite(np.delete(es.yi, 2)).all() and np.isfinite(np.delete(es.vi, 2)).all()
    # The missing study is left out of the AV mean, as metafor does (na.rm = TRUE).
    rest = {k: np.delete(v, 2) for k, v in SMD_GROUPS.items()}
    np.testing.assert_allclose(
        np.delete(es.vi, 2), effect_sizes("SMD", **rest, vtype="AV").vi, rtol=RTOL_CLOSED_FORM
    )
    frame = pd.DataFrame({"x": pd.array([3, None], dtype="Int64"), "n": [10, 12]})
    prop = effect_sizes("PR", xi="x", ni="n", data=frame)
    assert np.isnan(prop.yi[1]) and prop.yi[0] == 0.3


def test_large_smd_warns_with_study_names() -> None:
    with pytest.warns(DataWarning, match=r"SE entered as SD\?") as record:
        effect_sizes(
            "SMD",
            m1i=[5, 9],
            sd1i=[1, 1],
            n1i=[20, 20],
            m2i=[4, 1],
            sd2i=[1, 1],
            n2i=[20, 20],
            slab=["Small", "Huge"],
        )
    message = str(record[0].message)
    assert "'Huge'" in message and "'Small'" not in message


def test_undefined_smd_is_nan_with_warning() -> None:
    with pytest.warns(DataWarning, match="'Tiny'.*n1i \\+ n2i >= 4") as record:
        es = effect_sizes(
            "SMD",
            m1i=[1, 2],
            sd1i=[1, 1],
            n1i=[2, 20],
            m2i=[0, 1],
            sd2i=[1, 1],
            n2i=[1, 20],
            slab=["Tiny", "Fine"],
        )
    assert len(record) == 1
    assert np.isnan(es.yi[0]) and np.isfinite(es.yi[1])
    with pytest.warns(DataWarning, match="'Flat'"):
        es = effect_sizes(
            "SMD", m1i=[1], sd1i=[0], n1i=[5], m2i=[0], sd2i=[0], n2i=[5], slab=["Flat"]
        )
    assert np.isnan(es.yi[0]) and np.isnan(es.vi[0])


def test_zero_cell_without_correction_warns() -> None:
    with pytest.warns(DataWarning, match="'Zero'.*to='none'"):
        es = effect_sizes(
            "OR", ai=[0, 4], bi=[10, 6], ci=[3, 2], di=[7, 8], to="none", slab=["Zero", "Fine"]
        )
    assert np.isnan(es.yi[0]) and np.isfinite(es.yi[1])


# --------------------------------------------------------------------------- bad input

GOOD_MSD: dict[str, Any] = {
    "m1i": [1.0, 2.0],
    "sd1i": [1.0, 1.5],
    "n1i": [10, 12],
    "m2i": [0.5, 1.0],
    "sd2i": [1.0, 1.2],
    "n2i": [11, 13],
}
LABELS = ["Cook 2012", "Rogers 2016"]


def _msd(**changes: Any) -> dict[str, Any]:
    return {**GOOD_MSD, "slab": LABELS, **changes}


@pytest.mark.parametrize(
    ("measure", "kwargs", "pieces"),
    [
        ("SMD", _msd(n1i=[10, 0]), ["n1i[1] = 0", "'Rogers 2016'", "> 0"]),
        ("MD", _msd(sd2i=[-1.0, 1.0]), ["sd2i[0] = -1", "'Cook 2012'", ">= 0"]),
        ("ROM", _msd(m2i=[0.5, -1.0]), ["m2i[1] = -1", "'Rogers 2016'", "means > 0"]),
        ("SMD", _msd(m1i=[1.0]), ["sd1i has 2 values", "m1i has 1"]),
        ("SMD", {k: v for k, v in GOOD_MSD.items() if k != "sd2i"}, ["needs sd2i"]),
        ("SMD", _msd(vtype="HO"), ["vtype='HO'", "'LS2'"]),
        ("MD", _msd(vtype="UB"), ["vtype='UB'", "'HO'"]),
        ("SMD", _msd(correction="hedges"), ["correction='hedges'", "'approx'"]),
        ("SMD", _msd(convention="stata"), ["convention='stata'", "'revman5'"]),
        ("SMD", _msd(convention="cma", vtype="LS"), ["vtype='LS' conflicts", "'LS2'"]),
        ("SMD", _msd(convention="revman5", correction="exact"), ["correction='exact'"]),
        ("MD", _msd(convention="cma"), ["applies to measure 'SMD' only"]),
        ("MD", _msd(correction=None), ["applies to measure 'SMD' only"]),
        ("SMD", _msd(add=1.0), ["add and to apply to 2x2 tables"]),
        ("SMD", _msd(ai=[1, 2]), ["does not use ai"]),
        ("SMD", _msd(m1i="mean1"), ["m1i='mean1'", "no DataFrame"]),
        ("Cohen", _msd(), ["measure='Cohen'", "'SMD'"]),
        (
            "OR",
            {"ai": [3, 12], "bi": [5, 8], "ci": [2, 4], "n2i": [3, 3], "slab": LABELS},
            ["ci[1] = 4", "'Rogers 2016'", "cannot exceed the group size n2i"],
        ),
        (
            "RR",
            {"ai": [3, -2], "bi": [5, 8], "ci": [2, 4], "di": [1, 1], "slab": LABELS},
            ["ai[1] = -2", "counts must be >= 0"],
        ),
        (
            "RD",
            {
                "ai": [3, 2],
                "bi": [5, 8],
                "n1i": [8, 11],
                "ci": [2, 4],
                "di": [1, 1],
                "slab": LABELS,
            },
            ["n1i[1] = 11", "n1i must equal ai + bi"],
        ),
        ("OR", {"ai": [3, 2], "ci": [2, 4], "di": [1, 1]}, ["give bi", "or n1i"]),
        ("OR", {"ai": [3], "bi": [5], "ci": [2], "di": [1], "to": "some"}, ["to='some'"]),
        ("OR", {"ai": [3], "bi": [5], "ci": [2], "di": [1], "add": -0.5}, ["add = -0.5"]),
        ("PR", {"xi": [3], "ni": [10], "drop00": True}, ["drop00 applies to 2x2"]),
        (
            "PLO",
            {"xi": [3, 11], "ni": [10, 10], "slab": LABELS},
            ["xi[1] = 11", "'Rogers 2016'", "between 0 and ni"],
        ),
        (
            "ZCOR",
            {"ri": [0.3, 1.2], "ni": [10, 10], "slab": LABELS},
            ["ri[1] = 1.2", "'Rogers 2016'", "between -1 and 1"],
        ),
        ("COR", {"ri": [0.3], "ni": [-4]}, ["ni[0] = -4", "'Study 1'"]),
        ("GEN", {"yi": [0.1], "vi": [0.01], "sei": [0.1]}, ["exactly one of vi"]),
        ("GEN", {"yi": [0.1, 0.2], "vi": [0.01, -0.02]}, ["vi[1] = -0.02", "'Study 2'"]),
        ("GEN", {"yi": ["a", "b"], "vi": [0.01, 0.02]}, ["yi must hold numbers"]),
        ("SMD", _msd(slab=["only one"]), ["slab has 1 labels", "2 studies"]),
        ("GEN", {}, ["needs yi, vi, sei"]),
    ],
)
def test_bad_input_raises_input_error(
    measure: str, kwargs: dict[str, Any], pieces: list[str]
) -> None:
    with pytest.raises(InputError) as info:
        effect_sizes(measure, **kwargs)
    for piece in pieces:
        assert piece in str(info.value)
    assert isinstance(info.value, ValueError)


def test_column_names_need_a_dataframe_that_has_them() -> None:
    frame = pd.DataFrame({"x": [3, 4], "n": [10, 10]})
    with pytest.raises(InputError, match=r"ni='size' is not a column of data; .*'x', 'n'"):
        effect_sizes("PR", xi="x", ni="size", data=frame)
    with pytest.raises(InputError, match="data must be a pandas DataFrame"):
        effect_sizes("PR", xi="x", ni="n", data={"x": [3], "n": [10]})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"slab\[1\] is missing"):
        effect_sizes("PR", xi=[1, 2], ni=[5, 5], slab=["a", None])


# --------------------------------------------------------------------------- result object


def test_result_object() -> None:
    frame = pd.DataFrame({"who": ["<A&B>", "C"], "x": [0, 4], "n": [10, 10]})
    es = effect_sizes("PLO", xi="x", ni="n", data=frame, slab="who")
    assert isinstance(es, EffectSizes) and len(es) == 2
    assert es.slab == ("<A&B>", "C")
    np.testing.assert_array_equal(es.sei, np.sqrt(es.vi))
    out = es.to_frame()
    assert list(out.columns) == ["slab", "yi", "vi", "sei"]
    np.testing.assert_array_equal(out["yi"], es.yi)
    text = es.summary()
    assert "PLO, k = 2" in text and "add=0.5" in text and "added to the counts of: <A&B>" in text
    assert "&lt;A&amp;B&gt;" in es._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        es.measure = "OR"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        es.yi[0] = 1.0
    default = effect_sizes("SMD", **GOOD_MSD, correction=None)
    assert default.slab == ("Study 1", "Study 2")
    assert "Cohen's d" in default.summary() and default.add is None


# --------------------------------------------------------------------------- 4. properties

sizes = st.integers(min_value=2, max_value=500)
positive = st.floats(min_value=0.1, max_value=100.0)
means_ = st.floats(min_value=-50.0, max_value=50.0)


@settings(max_examples=200, deadline=None)
@given(
    m1=means_,
    m2=means_,
    s1=positive,
    s2=positive,
    n1=sizes,
    n2=sizes,
    vtype=st.sampled_from(["LS", "LS2", "UB", "RM5"]),
    correction=st.sampled_from(["exact", "approx", None]),
)
def test_swapping_groups_negates_smd_and_md(
    m1: float,
    m2: float,
    s1: float,
    s2: float,
    n1: int,
    n2: int,
    vtype: str,
    correction: str | None,
) -> None:
    a = [np.array([x], dtype=float) for x in (m1, s1, n1, m2, s2, n2)]
    b = [a[3], a[4], a[5], a[0], a[1], a[2]]
    ya, va = _effects_means.smd(*a, correction, vtype)
    yb, vb = _effects_means.smd(*b, correction, vtype)
    np.testing.assert_allclose(yb, -ya, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(vb, va, rtol=1e-12)
    assert np.isfinite(ya).all() and (va > 0).all()
    da, _ = _effects_means.md(*a, "LS")
    db, _ = _effects_means.md(*b, "LS")
    np.testing.assert_allclose(db, -da, rtol=1e-12, atol=1e-15)


counts = st.integers(min_value=0, max_value=200)


@settings(max_examples=200, deadline=None)
@given(
    a=counts,
    b=counts,
    c=counts,
    d=counts,
    measure=st.sampled_from(["OR", "RR", "RD"]),
    to=st.sampled_from(["only0", "all", "if0all"]),
)
def test_swapping_groups_negates_table_measures(
    a: int, b: int, c: int, d: int, measure: str, to: str
) -> None:
    cells = [np.array([x], dtype=float) for x in (a, b, c, d)]
    ya, va, _ = _effects_counts.two_by_two(*cells, measure, 0.5, to, False)
    yb, vb, _ = _effects_counts.two_by_two(
        cells[2], cells[3], cells[0], cells[1], measure, 0.5, to, False
    )
    np.testing.assert_allclose(yb, -ya, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(vb, va, rtol=1e-12)
    # A continuity correction of 1/2 makes every measure finite, whatever the zeros.
    assert np.isfinite(ya).all() and np.isfinite(va).all()


@settings(max_examples=200, deadline=None)
@given(m=st.floats(min_value=1.001, max_value=1e5), step=st.floats(min_value=0.01, max_value=1e3))
def test_j_in_unit_interval_and_increasing(m: float, step: float) -> None:
    j, j_next = _effects_means.j_exact([m, m + step])
    assert 0 < j < j_next < 1
    assert 0 < _effects_means.j_approx(m + 1) < 1


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(min_value=1, max_value=6),
    d=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    vtype=st.sampled_from(["LS", "LS2", "UB", "AV", "RM5"]),
)
def test_kernels_take_k_by_d_arrays(k: int, d: int, seed: int, vtype: str) -> None:
    rng = np.random.default_rng(seed)
    shape = (k, d)
    groups = (
        rng.normal(size=shape),
        rng.uniform(0.5, 2, shape),
        rng.integers(2, 50, shape),
        rng.normal(size=shape),
        rng.uniform(0.5, 2, shape),
        rng.integers(2, 50, shape),
    )
    groups = tuple(np.asarray(x, dtype=float) for x in groups)
    y, v = _effects_means.smd(*groups, "exact", vtype)
    for col in range(d):
        yc, vc = _effects_means.smd(*(x[:, col] for x in groups), "exact", vtype)
        np.testing.assert_allclose(y[:, col], yc, rtol=1e-14)
        np.testing.assert_allclose(v[:, col], vc, rtol=1e-14)
