"""run_analysis on real review stores: the published peer-support model (Smit et al. 2022)
and metafor 3.8-1's results on dat.bcg, every cell re-pooled by hand with the stats layer,
"not applicable" cells, subgroup tests, sensitivity sets, leave-one-out, publication bias,
comparators apart, and warnings collected as notes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthesis_support import (
    DATA,
    bcg_rows,
    build_bcg,
    build_smit,
    read_csv,
    set_analysis,
    smit_rows,
    write_review_toml,
)

from metasift.errors import InputError
from metasift.review import ProtocolError, Review
from metasift.stats import (
    BeggResult,
    EggerResult,
    MetaResult,
    SensitivityResult,
    TrimFillResult,
    leave_one_out,
    meta_analysis,
)
from metasift.synthesis import TABLES, SynthesisResults, run_analysis

#: The same fit on the same doubles, reached through the store: only the order of
#: operations can differ (vi = sei^2 is computed in one place or the other).
RTOL_SAME_FIT = 1e-12
#: Closed forms (DL, EE, ranks) against metafor: the same arithmetic in another order, with
#: room for R's pt/pnorm/pchisq (as tests/stats/test_bias.py).
RTOL_CLOSED_FORM = 1e-9
#: REML against metafor's tight fits (tau^2 change < 1e-12), as tests/stats.
RTOL_TIGHT = 1e-7
#: Values printed with 4 decimals in the reference (half a unit of the last digit).
ATOL_4_DECIMALS = 5e-5
ATOL_ZERO = 1e-12

REFERENCE: dict[str, Any] = json.loads((DATA / "metafor" / "metafor_reference.json").read_text())
BCG = REFERENCE["datasets"]["dat.bcg"]["RR"]["methods"]
BCG_ALLOC = REFERENCE["subgroup"]["dat.bcg/RR/alloc"]

POOLED = [
    "outcome", "group", "stratum", "facet", "category", "analysis", "k", "k_studies", "n",
    "n_unknown", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "i2", "qe", "qe_df", "qe_pval",
    "pi_lb", "pi_ub", "interpretation", "heterogeneity", "status", "note",
]  # fmt: skip


@pytest.fixture(scope="module")
def bcg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dat.bcg as a review; every third trial rated good, the others poor (AHRQ)."""
    rob = {r["study"]: "lllllll" if i % 3 == 0 else "hhlllll" for i, r in enumerate(bcg_rows())}
    return build_bcg(tmp_path_factory.mktemp("bcg") / "review", rob=rob)


@pytest.fixture(scope="module")
def smit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_smit(tmp_path_factory.mktemp("smit") / "review")


def _run(folder: Path, analysis: str) -> SynthesisResults:
    set_analysis(folder, analysis)
    with Review.open(folder) as review:
        return run_analysis(review)


def _close(ours: float, expected: float, rtol: float) -> bool:
    return math.isclose(ours, expected, rel_tol=rtol, abs_tol=ATOL_ZERO)


def _smit_arrays(comparator: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in smit_rows() if comparator in (None, r["comparator"])]
    return np.array([float(r["g"]) for r in rows]), np.array([float(r["g_se"]) for r in rows])


SMIT_MODEL = '[analysis]\neffects = "reported"\nmethod = "REML"\ntest = "knha"\ni2 = "q"\n'


def test_published_peer_support_model_on_sqlite_and_postgresql(
    tmp_path: Path, database_url: str
) -> None:
    """Smit et al. (2022), personal recovery: REML with Hartung-Knapp, I^2 from Q
    (tests/data/peer-support/SOURCE.md: this model reproduces the published results)."""
    folder = build_smit(tmp_path / "review", SMIT_MODEL, database_url)
    with Review.open(folder) as review:
        results = run_analysis(review)
    main = results.pooled_effects().iloc[0]
    expected = {
        r["outcome"]: r for r in read_csv(DATA / "peer-support" / "smit2022_expected_pooled.csv")
    }
    ref = expected["Personal recovery"]
    assert (main["k"], main["k_studies"]) == (19, 18)
    for ours, name in (("estimate", "repro_g"), ("ci_lb", "repro_ci_lb"), ("ci_ub", "repro_ci_ub"),
                       ("se", "repro_se")):  # fmt: skip
        assert abs(main[ours] - float(ref[name])) <= ATOL_4_DECIMALS, ours
    assert abs(main["tau2"] - float(ref["repro_tau2"])) <= 5e-6  # printed with 5 decimals
    assert abs(main["qe"] - float(ref["repro_Q"])) <= 5e-4  # printed with 3 decimals
    assert abs(100 * main["i2"] - float(ref["repro_I2_from_Q_pct"])) <= 5e-3
    # the published numbers, at their printed precision
    assert f"{main['estimate']:.2f} {main['ci_lb']:.2f} {main['ci_ub']:.2f}" == "0.15 0.04 0.27"
    assert f"{100 * main['i2']:.0f}" == ref["published_I2_pct"] == "43"
    g, se = _smit_arrays()
    direct = meta_analysis(g, sei=se, method="REML", test="knha")
    for name in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "qe", "qe_pval", "pi_lb"):
        assert _close(main[name], getattr(direct, name), RTOL_SAME_FIT), name
    assert _close(main["i2"], direct.i2_q, RTOL_SAME_FIT)
    sizes = [int(r["n_ps"]) + int(r["n_ctrl"]) for r in smit_rows() if r["n_ps"] != "NA"]
    assert main["n"] == sum(sizes) == 2907
    assert main["n_unknown"] == 2 and main["note"] == ""
    assert main["interpretation"] == "negligible" and main["heterogeneity"] == "not substantial"


def test_every_category_is_the_pooled_result_of_its_own_studies(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = {comparator = "post hoc"}\n')
    frame = results.pooled_effects()
    assert list(frame.columns) == POOLED
    assert frame[["facet", "category", "analysis", "k"]].values.tolist() == [
        ["all", "All studies", "main", 19],
        ["comparator", "CAU", "post hoc", 10],
        ["comparator", "WL", "post hoc", 7],
        ["comparator", "Other", "post hoc", 2],
    ]
    estimates, ses = [], []
    for _, row in frame.iloc[1:].iterrows():
        g, se = _smit_arrays(row["category"])
        direct = meta_analysis(g, sei=se, method="REML", test="knha")
        for name in ("estimate", "ci_lb", "ci_ub", "tau2", "qe_pval", "pi_ub"):
            assert _close(row[name], getattr(direct, name), RTOL_SAME_FIT), (row["category"], name)
        estimates.append(direct.estimate)
        ses.append(direct.se)
    # Test for subgroup differences by its formula (Borenstein et al. 2009, ch. 19)
    w = 1 / np.square(ses)
    mean = np.sum(w * estimates) / np.sum(w)
    q = float(np.sum(w * (np.array(estimates) - mean) ** 2))
    test = results.subgroup_tests().iloc[0]
    assert test[["facet", "analysis", "tau2_model", "k_groups"]].tolist() == [
        "comparator", "post hoc", "separate", 3,
    ]  # fmt: skip
    assert _close(test["qm"], q, RTOL_CLOSED_FORM) and test["qm_df"] == 2
    assert _close(test["qm_pval"], stats.chi2.sf(q, 2), RTOL_CLOSED_FORM)
    out = results.outcomes["personal_recovery"]
    assert out.subgroups["comparator"].analysis == "post hoc"


def test_dat_bcg_against_metafor_with_dersimonian_laird(bcg: Path) -> None:
    results = _run(
        bcg,
        '[analysis]\nmeasure = "RR"\nmethod = "DL"\ni2 = "tau2"\nsubgroups = ["alloc"]\n'
        "[analysis.sensitivity]\nleave_one_out = false\n",
    )
    ref = BCG["DL"]
    main = results.pooled_effects().iloc[0]
    pairs = {"estimate": "estimate", "se": "se", "ci_lb": "ci.lb", "ci_ub": "ci.ub",
             "pval": "pval", "tau2": "tau2", "qe": "QE", "qe_pval": "QEp", "pi_lb": "pi.lb",
             "pi_ub": "pi.ub"}  # fmt: skip
    for ours, theirs in pairs.items():
        assert _close(main[ours], ref[theirs], RTOL_CLOSED_FORM), ours
    assert _close(100 * main["i2"], ref["I2"], RTOL_CLOSED_FORM)
    studies = results.studies()
    np.testing.assert_allclose(studies["weight"], ref["weights_pct"], rtol=RTOL_CLOSED_FORM)
    np.testing.assert_allclose(
        studies["yi"], REFERENCE["datasets"]["dat.bcg"]["RR"]["escalc"]["yi"], rtol=1e-12
    )
    cells = results.pooled_effects().set_index("category")
    for level, fit in BCG_ALLOC["DL"]["separate_fits"].items():
        for ours, theirs in {"estimate": "estimate", "se": "se", "tau2": "tau2",
                             "qe": "QE", "ci_lb": "ci.lb"}.items():  # fmt: skip
            assert _close(cells.loc[level, ours], fit[theirs], RTOL_CLOSED_FORM), (level, ours)
        assert cells.loc[level, "k"] == fit["k"]
    test = results.subgroup_tests().iloc[0]
    difference = BCG_ALLOC["DL"]["subgroup_difference_test"]
    assert _close(test["qm"], difference["Q_between"], RTOL_CLOSED_FORM)
    assert _close(test["qm_pval"], difference["pval"], RTOL_CLOSED_FORM)
    _check_bias(results, ref["pubbias"])


def _check_bias(results: SynthesisResults, ref: dict[str, Any]) -> None:
    bias = results.publication_bias().set_index("test")
    assert bias["k"].tolist() == [13, 13, 13]
    egger, rank, fill = ref["regtest"], ref["ranktest"], ref["trimfill_L0"]
    assert _close(bias.loc["egger", "statistic"], egger["stat"], RTOL_CLOSED_FORM)
    assert _close(bias.loc["egger", "pval"], egger["pval"], RTOL_CLOSED_FORM)
    assert _close(bias.loc["egger", "estimate"], egger["limit_estimate"], RTOL_CLOSED_FORM)
    assert _close(bias.loc["egger", "ci_ub"], egger["limit_ci.ub"], RTOL_CLOSED_FORM)
    assert _close(bias.loc["begg", "statistic"], rank["tau"], RTOL_CLOSED_FORM)
    assert _close(bias.loc["begg", "pval"], rank["pval"], RTOL_CLOSED_FORM)
    assert bias.loc["trim_and_fill", "statistic"] == fill["k0"] == 1
    for ours, theirs in {"estimate": "estimate", "ci_lb": "ci.lb", "pval": "pval"}.items():
        assert _close(bias.loc["trim_and_fill", ours], fill[theirs], RTOL_CLOSED_FORM), ours
    assert "filled on the right" in bias.loc["trim_and_fill", "note"]
    out = next(iter(results.outcomes.values()))
    assert isinstance(out.egger, EggerResult) and isinstance(out.begg, BeggResult)
    assert isinstance(out.trim_and_fill, TrimFillResult)


def test_dat_bcg_reml_against_metafor_tight_fit(bcg: Path) -> None:
    results = _run(bcg, '[analysis]\nmeasure = "RR"\ni2 = "tau2"\nsubgroups = []\n')
    ref = BCG["REML_tight"]
    main = results.pooled_effects()
    assert len(main) == 1  # no subgroup facet
    row = main.iloc[0]
    for ours, theirs in {"estimate": "estimate", "se": "se", "ci_ub": "ci.ub", "tau2": "tau2",
                         "pi_lb": "pi.lb"}.items():  # fmt: skip
        assert _close(row[ours], ref[theirs], RTOL_TIGHT), ours
    assert _close(100 * row["i2"], ref["I2"], RTOL_TIGHT)
    out = results.outcomes["tuberculosis"]
    assert isinstance(out.main, MetaResult) and out.main.method == "REML"


def test_common_tau2_test_against_metafor(bcg: Path) -> None:
    results = _run(
        bcg,
        '[analysis]\nmeasure = "RR"\nmethod = "DL"\nsubgroups = ["alloc"]\n'
        'subgroup_tau2 = "common"\n',
    )
    test = results.subgroup_tests().iloc[0]
    model = BCG_ALLOC["DL"]["mods_model"]
    assert test["tau2_model"] == "common"
    assert _close(test["qm"], model["QM"], RTOL_CLOSED_FORM)
    assert _close(test["qm_pval"], model["QMp"], RTOL_CLOSED_FORM)
    cells = results.pooled_effects().set_index("category")
    cell_means = BCG_ALLOC["DL"]["cell_means_model"]["coefficients"]
    for name, estimate in zip(cell_means["names"], cell_means["estimate"], strict=True):
        level = name.removeprefix("g")
        assert _close(cells.loc[level, "estimate"], estimate, RTOL_CLOSED_FORM), level


def test_cells_below_the_minimum_are_not_applicable(bcg: Path) -> None:
    results = _run(
        bcg,
        '[analysis]\nmeasure = "RR"\nmethod = "DL"\nmin_studies = 3\n'
        'subgroups = {alloc = "pre-specified", era = "post hoc"}\n',
    )
    frame = results.pooled_effects().set_index(["facet", "category"])
    alternate, cluster = frame.loc[("alloc", "alternate")], frame.loc[("alloc", "cluster")]
    assert alternate["status"] == "not applicable" and alternate["k"] == 2
    assert alternate["note"] == "2 comparisons: fewer than min_studies = 3"
    assert alternate[["estimate", "ci_lb", "pval", "tau2", "i2"]].isna().all()
    assert (cluster["status"], cluster["k"], cluster["note"]) == (
        "not applicable",
        0,
        "no comparisons",
    )
    assert cluster["k_studies"] == 0 and math.isnan(cluster["n"])
    assert frame.loc[("era", "before 1960"), "status"] == "pooled"
    assert frame.loc[("era", "before 1960"), "analysis"] == "post hoc"
    assert frame["status"].value_counts().to_dict() == {"pooled": 5, "not applicable": 2}
    # the single-study rule of stats still gives the test over the coded categories
    tests = results.subgroup_tests().set_index("facet")
    assert tests.loc["alloc", "k_groups"] == 3 and np.isfinite(tests.loc["alloc", "qm"])


def test_sensitivity_sets_and_leave_one_out(bcg: Path) -> None:
    results = _run(
        bcg,
        """[analysis]
measure = "RR"
method = "DL"
subgroups = []
[analysis.sensitivity]
leave_one_out = true
[analysis.sensitivity.without_poor]
exclude = {quality = ["poor"]}
description = "poor quality left out"
[analysis.sensitivity.not_near_equator]
exclude = {latitude = [13, 18, 19]}
[analysis.sensitivity.no_country]
exclude = {country = [""]}
""",
    )
    sens = results.sensitivity()
    assert sens["analysis"].tolist()[:3] == ["without_poor", "not_near_equator", "no_country"]
    studies = results.studies()
    table = studies.set_index("study")
    latitude = {r["study"]: float(r["ablat"]) for r in bcg_rows()}
    keep = {
        "without_poor": table["quality"] != "poor",
        "not_near_equator": ~table.index.map(latitude).isin([13.0, 18.0, 19.0]),
    }
    rows = sens.set_index("analysis")
    for name, mask in keep.items():
        kept = table[np.asarray(mask)]
        direct = meta_analysis(kept["yi"].to_numpy(), kept["vi"].to_numpy(), method="DL")
        assert rows.loc[name, "k"] == len(kept) == direct.k
        for field in ("estimate", "ci_lb", "ci_ub", "pval", "tau2"):
            assert _close(rows.loc[name, field], getattr(direct, field), RTOL_SAME_FIT), field
        assert _close(rows.loc[name, "i2"], direct.i2_q, RTOL_SAME_FIT)
        left = table.index[~np.asarray(mask)].tolist()
        assert rows.loc[name, "excluded"] == "; ".join(left)
    assert (
        rows.loc["without_poor", "k"] == 5
        and "poor quality left out" in rows.loc["without_poor", "note"]
    )
    # "" matches a missing value: no study has a country, so none is left
    assert rows.loc["no_country", ["k", "status"]].tolist() == [0, "not applicable"]
    loo = sens[sens["analysis"].str.startswith("leave-one-out: ")]
    direct = leave_one_out(studies["yi"].to_numpy(), studies["vi"].to_numpy(), method="DL")
    np.testing.assert_allclose(loo["estimate"], direct.estimate, rtol=RTOL_SAME_FIT)
    np.testing.assert_allclose(loo["i2"], direct.i2_q, rtol=RTOL_SAME_FIT)
    assert loo["excluded"].tolist() == studies["study"].tolist()
    without_first = meta_analysis(studies["yi"][1:], studies["vi"][1:], method="DL")
    assert _close(loo["ci_ub"].iloc[0], without_first.ci_ub, RTOL_CLOSED_FORM)
    out = results.outcomes["tuberculosis"]
    assert set(out.sensitivity) == {"without_poor", "not_near_equator"}
    assert isinstance(out.leave_one_out, SensitivityResult) and len(out.leave_one_out) == 13


def test_comparators_apart_and_bias_checks_below_the_minimum(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'comparators = "apart"\n')
    assert list(results.outcomes) == [
        "personal_recovery: CAU",
        "personal_recovery: WL",
        "personal_recovery: Other",
    ]
    frame = results.pooled_effects()
    assert frame["stratum"].tolist() == ["CAU", "WL", "Other"]  # no comparator facet rows
    assert (frame["facet"] == "all").all()
    for _, row in frame.iterrows():
        g, se = _smit_arrays(row["stratum"])
        direct = meta_analysis(g, sei=se, method="REML", test="knha")
        assert _close(row["estimate"], direct.estimate, RTOL_SAME_FIT)
    bias = results.publication_bias()
    assessed = bias[bias["stratum"] == "CAU"]
    assert assessed["k"].tolist() == [10, 10, 10] and assessed["pval"].notna().all()
    below = bias[bias["stratum"] != "CAU"]
    assert below["note"].unique().tolist() == ["not assessed: k < 10"]
    assert below[["stratum", "k", "test"]].values.tolist()[:2] == [
        ["WL", 7, "egger"], ["WL", 7, "begg"],
    ]  # fmt: skip
    assert results.outcomes["personal_recovery: WL"].egger is None
    assert set(results.studies()["stratum"]) == {"CAU", "WL", "Other"}


def test_warnings_of_the_fits_become_notes(smit: Path) -> None:
    # Egger's test with 7 comparisons warns (FewStudiesWarning); under pytest every
    # warning is an error, so the run passing shows it was collected, not raised.
    results = _run(
        smit,
        SMIT_MODEL + 'comparators = "apart"\n[analysis.publication_bias]\nmin_studies = 3\n',
    )
    notes = results.notes()
    few = notes[notes["kind"] == "FewStudiesWarning"]
    assert set(few["stratum"]) == {"WL"}
    assert set(few["context"]) == {"publication bias"}
    assert few["message"].str.contains("k = 7 studies").all()
    bias = results.publication_bias().set_index(["stratum", "test"])
    assert bias.loc[("Other", "egger"), "note"] == "not assessed: k < 3"
    assert "Cochrane Handbook" in bias.loc[("WL", "egger"), "note"]
    assert list(results.outcomes["personal_recovery: WL"].notes.columns) == [
        "outcome", "stratum", "context", "kind", "message",
    ]  # fmt: skip


ARM_SECTIONS = """[classification]
coders = ["ann"]
arbiter = "dana"
[risk_of_bias]
coders = ["ann"]
arbiter = "dana"
[characteristics]
coders = ["ann"]
arbiter = "dana"
[outcomes.mood]
direction = "higher"
"""

#: study -> (n1, m1, sd1, n2, m2, sd2)
ARMS = {
    "A 2001": (40, 12.0, 4.0, 42, 10.0, 4.5),
    "B 2005": (25, 30.0, 6.0, 24, 27.5, 6.5),
    "C 2010": (60, 8.0, 1.0, 58, 5.0, 1.1),  # d about 2.9: beyond 2, a DataWarning
}


def _revman5(n1: float, m1: float, sd1: float, n2: float, m2: float, sd2: float) -> tuple:
    """RevMan 5's Hedges' g (approximate J) and variance (Deeks and Higgins 2010)."""
    big_n = n1 + n2
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (big_n - 2))
    g = (m1 - m2) / sp * (1 - 3 / (4 * big_n - 9))
    return g, big_n / (n1 * n2) + g**2 / (2 * (big_n - 3.94))


def test_smd_convention_and_data_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "review"
    write_review_toml(folder, ARM_SECTIONS, '[analysis]\nsmd_convention = "revman5"\n')
    with Review.open(folder) as review:
        for study, (n1, m1, sd1, n2, m2, sd2) in ARMS.items():
            review.add_study(study)
            review.extract_arm("ann", study, "peer", role="intervention")
            review.extract_arm("ann", study, "care", role="control")
            review.extract_value("ann", study, "mood", "peer", n=n1, mean=m1, sd=sd1)
            review.extract_value("ann", study, "mood", "care", n=n2, mean=m2, sd=sd2)
        results = run_analysis(review)
    studies = results.studies().set_index("study")
    for study, arms in ARMS.items():
        g, v = _revman5(*arms)
        assert _close(studies.loc[study, "yi"], g, RTOL_CLOSED_FORM), study
        assert _close(studies.loc[study, "vi"], v, RTOL_CLOSED_FORM), study
        assert studies.loc[study, "n1i"] == arms[0] and studies.loc[study, "n2i"] == arms[3]
    main = results.pooled_effects().iloc[0]
    assert main["n"] == sum(a[0] + a[3] for a in ARMS.values())
    assert main["interpretation"] == "large"
    notes = results.notes()
    assert "DataWarning" in set(notes["kind"])
    assert notes.loc[notes["kind"] == "DataWarning", "context"].tolist()[0] == "effect sizes"


def test_overrides_per_group_and_outcome_reach_the_fits(bcg: Path) -> None:
    results = _run(
        bcg,
        '[analysis]\nmeasure = "RR"\nsubgroups = []\n[analysis.groups.infection]\n'
        'method = "DL"\n[analysis.outcomes.tuberculosis]\ntest = "knha"\n',
    )
    ref = BCG["DL_knha"]
    row = results.pooled_effects().iloc[0]
    for ours, theirs in {"estimate": "estimate", "ci_lb": "ci.lb", "pval": "pval"}.items():
        assert _close(row[ours], ref[theirs], RTOL_CLOSED_FORM), ours
    settings = results.outcomes["tuberculosis"].settings
    assert (settings.method, settings.test) == ("DL", "knha")


def test_tables_have_fixed_columns_and_order(bcg: Path) -> None:
    results = _run(bcg, '[analysis]\nmeasure = "RR"\nmethod = "DL"\n')
    tables = results.tables()
    assert tuple(tables) == TABLES
    assert list(tables["subgroup_tests"].columns) == [
        "outcome", "stratum", "facet", "analysis", "qm", "qm_df", "qm_pval", "tau2_model",
        "k_groups", "note",
    ]  # fmt: skip
    assert list(tables["sensitivity"].columns) == [
        "outcome", "stratum", "analysis", "k", "estimate", "ci_lb", "ci_ub", "pval", "tau2",
        "i2", "excluded", "status", "note",
    ]  # fmt: skip
    assert list(tables["publication_bias"].columns) == [
        "outcome", "stratum", "k", "test", "statistic", "pval", "estimate", "ci_lb", "ci_ub",
        "note",
    ]  # fmt: skip
    assert list(tables["studies"].columns) == [
        "outcome", "stratum", "study", "comparison", "alloc", "era", "instrument", "construct",
        "quality", "yi", "vi", "sei", "weight", "n1i", "n2i", "ci_lb", "ci_ub",
    ]  # fmt: skip
    # subgroups not given: every facet, pre-specified, categories in the protocol's order
    pooled = tables["pooled_effects"]
    assert pooled["category"].tolist() == [
        "All studies", "random", "alternate", "systematic", "cluster", "before 1960", "1960 on",
    ]  # fmt: skip
    assert set(pooled["analysis"]) == {"main", "pre-specified"}
    again = _run(bcg, '[analysis]\nmeasure = "RR"\nmethod = "DL"\n').tables()
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, again[name])
    summary = results.summary()
    assert "tuberculosis (RR): k = 13, estimate = -0.71 [95% CI -1.06 to -0.36]" in summary


def test_bad_input_gives_clear_errors(bcg: Path, tmp_path: Path) -> None:
    set_analysis(bcg, '[analysis]\nmeasure = "RR"\nsubgroups = ["allocation"]\n')
    with pytest.raises(ProtocolError) as caught:  # found when review.toml is read
        Review.open(bcg)
    assert "analysis.subgroups: 'allocation' is not a facet" in str(caught.value)
    assert "review.toml line" in str(caught.value)
    folder = tmp_path / "empty"
    write_review_toml(folder, ARM_SECTIONS.split("[outcomes.mood]")[0], "[analysis]\n")
    with Review.open(folder) as review, pytest.raises(InputError, match=r"no \[outcomes\.NAME\]"):
        run_analysis(review)
    folder = tmp_path / "nodata"
    write_review_toml(folder, ARM_SECTIONS, "[analysis]\n")
    with Review.open(folder) as review, pytest.raises(InputError) as caught:
        run_analysis(review)
    assert "outcome 'mood' has no analysable data" in str(caught.value)
