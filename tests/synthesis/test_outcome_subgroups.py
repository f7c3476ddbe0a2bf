"""Subgroups by the outcome-level extraction fields ``construct`` and ``instrument``, coded
per study and outcome: the personal recovery data of Smit et al. (2022) with the
authors' outcome subcategory as the construct (tests/data/peer-support). Every cell is
re-pooled with the stats layer on its own rows, the test for subgroup differences is
:func:`metasift.stats.subgroup_analysis` and Cochran's Q between subgroups from its
formula."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthesis_support import (
    SMIT_SECTIONS,
    build_smit,
    set_analysis,
    smit_rows,
    write_review_toml,
)

from metasift.review import ProtocolError, Review
from metasift.stats import meta_analysis, subgroup_analysis
from metasift.synthesis import SynthesisResults, run_analysis

#: The same fit on the same doubles, reached through the store (as test_run_analysis.py).
RTOL_SAME_FIT = 1e-12
ATOL_ZERO = 1e-12
#: A closed form computed here in another order than the stats layer does.
RTOL_CLOSED_FORM = 1e-10

#: The two constructs recorded; the studies of the other subcategories (Self-esteem,
#: Self-efficacy, Hope: one comparison each) get no construct.
CONSTRUCTS = ("Recovery - global", "Empowerment/Self-efficacy")
LEFT_OUT = ["Dennis, 2003", "Mahlke, 2017", "Pfeiffer, 2019"]
SMIT_MODEL = '[analysis]\neffects = "reported"\nmethod = "REML"\ntest = "knha"\ni2 = "q"\n'


def _instrument(row: dict[str, str]) -> str:
    # Rogers 2016 labels its two comparisons "RAS - total (high)" / "(low)": one scale.
    return row["instrument"].replace(" (high)", "").replace(" (low)", "")


@pytest.fixture(scope="module")
def smit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smit et al.'s personal recovery review with instrument and construct extracted."""
    folder = build_smit(tmp_path_factory.mktemp("smit") / "review")
    with Review.open(folder) as review:
        for row in smit_rows():
            fields = {"instrument": _instrument(row)}
            if row["outcome_subcategory"] in CONSTRUCTS:
                fields["construct"] = row["outcome_subcategory"]
            review.extract_value("ann", row["study"], "personal_recovery", "peer", **fields)
    return folder


def _run(folder: Path, analysis: str) -> SynthesisResults:
    set_analysis(folder, analysis)
    with Review.open(folder) as review:
        return run_analysis(review)


def _close(ours: float, expected: float) -> bool:
    return math.isclose(ours, expected, rel_tol=RTOL_SAME_FIT, abs_tol=ATOL_ZERO)


def _arrays(rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([float(r["g"]) for r in rows]), np.array([float(r["g_se"]) for r in rows])


def test_each_construct_is_pooled_from_its_own_comparisons(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = { construct = "post hoc" }\n')
    pooled = results.pooled_effects()
    cells = pooled[pooled["facet"] == "construct"].set_index("category")
    assert list(cells.index) == sorted(CONSTRUCTS)  # the values found, sorted
    assert set(cells["analysis"]) == {"post hoc"}
    for construct in CONSTRUCTS:
        rows = [r for r in smit_rows() if r["outcome_subcategory"] == construct]
        g, se = _arrays(rows)
        direct = meta_analysis(g, sei=se, method="REML", test="knha")
        cell = cells.loc[construct]
        assert (cell["k"], cell["k_studies"]) == (len(rows), len({r["study"] for r in rows}))
        assert cell["status"] == "pooled"
        for name in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "qe", "pi_lb", "pi_ub"):
            assert _close(cell[name], getattr(direct, name)), (construct, name)
        assert _close(cell["i2"], direct.i2_q)
    # the main analysis keeps every comparison, with or without a construct
    assert pooled.loc[pooled["facet"] == "all", "k"].tolist() == [19]


def test_the_construct_test_is_the_subgroup_analysis(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = ["construct"]\n')
    test = results.subgroup_tests().set_index("facet").loc["construct"]
    rows = [r for r in smit_rows() if r["outcome_subcategory"] in CONSTRUCTS]
    g, se = _arrays(rows)
    groups = pd.Categorical([r["outcome_subcategory"] for r in rows], sorted(CONSTRUCTS))
    direct = subgroup_analysis(g, sei=se, groups=groups, method="REML", test="knha")
    assert _close(test["qm"], direct.q_between)
    assert _close(test["qm_pval"], direct.q_between_pval)
    assert (test["qm_df"], test["k_groups"], test["analysis"]) == (1, 2, "pre-specified")
    # Q between from its formula: the subgroup estimates weighted by 1 / SE^2
    fits = [meta_analysis(g[groups == c], sei=se[groups == c], method="REML", test="knha")
            for c in sorted(CONSTRUCTS)]  # fmt: skip
    w = np.array([1 / f.se**2 for f in fits])
    theta = np.array([f.estimate for f in fits])
    q = float(np.sum(w * (theta - np.sum(w * theta) / np.sum(w)) ** 2))
    assert math.isclose(test["qm"], q, rel_tol=RTOL_CLOSED_FORM)


def test_comparisons_without_a_construct_are_left_out_with_a_note(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = ["construct"]\n')
    pooled = results.pooled_effects()
    assert pooled.loc[pooled["facet"] == "construct", "k"].sum() == 19 - len(LEFT_OUT)
    notes = results.notes()
    mine = notes[notes["context"] == "subgroups by construct"]
    assert mine["message"].tolist() == [
        f"3 comparison(s) without a construct are left out of the subgroup analysis: "
        f"{'; '.join(LEFT_OUT)}"
    ]
    test = results.subgroup_tests().set_index("facet").loc["construct"]
    assert "3 comparison(s) without a construct category are left out" in test["note"]
    studies = results.studies().set_index("study")
    assert studies.loc["Boevink, 2016", "construct"] == "Empowerment/Self-efficacy"
    assert all(pd.isna(studies.loc[s, "construct"]) for s in LEFT_OUT)
    assert studies.loc["Dennis, 2003", "instrument"] == "Rosenberg Self-Esteem Scale"


def test_instrument_categories_keep_their_case_and_follow_min_studies(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = ["instrument"]\nmin_studies = 2\n')
    pooled = results.pooled_effects()
    cells = pooled[pooled["facet"] == "instrument"].set_index("category")
    found = {_instrument(r) for r in smit_rows()}
    assert list(cells.index) == sorted(found)
    # "RAS - Total" (Corrigan 2017) and "RAS - total" stay apart: case is kept
    assert cells.loc["RAS - Total", "k"] == 1
    assert cells.loc["RAS - Total", "status"] == "not applicable"
    ras = [r for r in smit_rows() if _instrument(r) == "RAS - total"]
    assert cells.loc["RAS - total", "k"] == len(ras) == 7
    g, se = _arrays(ras)
    direct = meta_analysis(g, sei=se, method="REML", test="knha")
    assert _close(cells.loc["RAS - total", "estimate"], direct.estimate)
    pooled_levels = cells.index[cells["status"] == "pooled"].tolist()
    assert pooled_levels == ["RAS - total"]  # every other instrument has one comparison
    notes = results.notes()
    assert not (notes["context"] == "subgroups by instrument").any()  # none left out


def test_the_plan_names_outcome_fields_and_rejects_others(smit: Path) -> None:
    results = _run(smit, SMIT_MODEL + 'subgroups = ["comparator", "construct", "instrument"]\n')
    facets = list(dict.fromkeys(results.pooled_effects()["facet"]))
    assert facets == ["all", "comparator", "construct", "instrument"]
    set_analysis(smit, SMIT_MODEL + 'subgroups = ["constructs"]\n')
    with pytest.raises(ProtocolError) as error:
        Review.open(smit).close()
    message = " ".join(str(error.value).split())
    assert "'constructs' is not a facet of [classification.facets] (comparator)" in message
    assert "or an outcome field ('instrument' or 'construct')" in message
    set_analysis(smit, SMIT_MODEL)


def test_a_facet_named_construct_wins(tmp_path: Path) -> None:
    """A facet called ``construct`` keeps its column and its declared categories; the
    outcome-level field of that name is not used."""
    sections = SMIT_SECTIONS.replace(
        "[risk_of_bias]", '[classification.facets.construct]\ncategories = ["B", "A"]\n'
        "[risk_of_bias]",
    )  # fmt: skip
    analysis = '[analysis]\neffects = "reported"\nsubgroups = ["construct"]\n'
    write_review_toml(tmp_path, sections, analysis)
    effects = {"S1": (0.1, 0.02, "A"), "S2": (0.3, 0.03, "A"), "S3": (0.5, 0.04, "B")}
    with Review.open(tmp_path) as review:
        for study, (yi, vi, code) in effects.items():
            review.add_study(study)
            review.classify("ann", study, {"comparator": "CAU", "construct": code})
            review.extract_effect("ann", study, "personal_recovery", yi, vi)
            review.extract_value(
                "ann", study, "personal_recovery", "peer", construct="Hope", instrument="HHI"
            )
        table = review.extraction_table("personal_recovery").data
        results = run_analysis(review)
    assert list(table.columns).count("construct") == 1
    assert table["construct"].tolist() == ["A", "A", "B"]
    assert table["instrument"].tolist() == ["HHI"] * 3
    cells = results.pooled_effects()
    cells = cells[cells["facet"] == "construct"]
    assert cells["category"].tolist() == ["B", "A"]  # the facet's declared order
    assert cells["k"].tolist() == [1, 2]
    direct = meta_analysis(np.array([0.1, 0.3]), np.array([0.02, 0.03]), method="REML")
    assert _close(float(cells["estimate"].iloc[1]), direct.estimate)
    studies = results.studies()
    assert list(studies.columns).count("construct") == 1
    assert "instrument" in studies.columns
