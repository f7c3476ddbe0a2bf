"""The report of the worked example (built in conftest.py) with subgroups by the construct
each study's outcome measure assesses, an outcome-level extraction field: the authors'
outcome subcategory of Smit et al. (2022), tests/data/peer-support. The construct is the
first subgroup, so the forest plots are grouped by it."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from metasift.report.html import render_report
from metasift.review import Review
from metasift.synthesis import SynthesisResults, run_analysis

DATA = Path(__file__).resolve().parents[1] / "data" / "peer-support"
OUTCOMES = {
    "clinical_recovery": "smit2022_clinical_recovery.csv",
    "personal_recovery": "smit2022_personal_recovery.csv",
    "functional_recovery": "smit2022_functional_recovery.csv",
}
PLAN = 'subgroups = { comparator = "pre-specified", format = "post hoc" }'
WITH_CONSTRUCT = 'subgroups = { construct = "post hoc", comparator = "pre-specified" }'
#: A study whose personal recovery construct is not recorded (Hope: one comparison).
UNRECORDED = "Pfeiffer, 2019"


@pytest.fixture(scope="module")
def construct_report(
    peer_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SynthesisResults, str]:
    """A copy of the worked example with each study's construct per outcome recorded."""
    folder = tmp_path_factory.mktemp("construct") / "peer-support"
    shutil.copytree(peer_folder, folder)
    toml = folder / "review.toml"
    text = toml.read_text(encoding="utf-8")
    assert PLAN in text
    toml.write_text(text.replace(PLAN, WITH_CONSTRUCT), encoding="utf-8")
    with Review.open(folder) as review:
        for outcome, name in OUTCOMES.items():
            rows = pd.read_csv(DATA / name).drop_duplicates("study")
            for study, construct in zip(rows["study"], rows["outcome_subcategory"], strict=True):
                if (study, outcome) != (UNRECORDED, "personal_recovery"):
                    review.extract_value("ann", study, outcome, "peer", construct=construct)
        results = run_analysis(review)
        return results, render_report(review, results)


def _doc(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page.encode("utf-8"))


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_pooled_tables_show_the_construct_cells(construct_report: tuple) -> None:
    results, page = construct_report
    doc = _doc(page)
    pooled = results.pooled_effects()
    tests = results.subgroup_tests().set_index(["outcome", "facet"])
    for outcome, name in OUTCOMES.items():
        table = doc.get_element_by_id(f"outcome-{outcome.replace('_', '-')}-pooled")
        rows = [[_text(c) for c in r.findall("td")] for r in table.iter("tr")][1:]
        groups = [r[0] for r in rows if len(r) == 1]
        assert groups[0].startswith("Construct (post hoc): ")
        assert groups[1].startswith("Comparator (pre-specified): ")
        found = sorted(set(pd.read_csv(DATA / name)["outcome_subcategory"]))
        if outcome == "personal_recovery":
            found.remove("Hope")  # Pfeiffer 2019, the only Hope study, has no construct
        cells = pooled[(pooled["outcome"] == outcome) & (pooled["facet"] == "construct")]
        assert cells["category"].tolist() == found
        start = groups[0]
        shown = [r[0] for r in rows[[r[0] for r in rows].index(start) + 1 :]]
        assert shown[: len(found)] == found
        qm = tests.loc[(outcome, "construct"), "qm"]
        assert f"Q={qm:.2f}" in start


def test_forest_plots_are_grouped_by_construct(construct_report: tuple) -> None:
    _, page = construct_report
    doc = _doc(page)
    for outcome in OUTCOMES:
        figure = doc.get_element_by_id(f"figure-outcome-{outcome.replace('_', '-')}-forest")
        caption = _text(figure.find("figcaption"))
        assert "Forest plot of " in caption and ", by construct:" in caption


def test_text_names_the_construct_analysis(construct_report: tuple) -> None:
    _, page = construct_report
    doc = _doc(page)
    section = doc.get_element_by_id("outcome-personal-recovery")
    texts = [_text(p) for p in section.findall("p")]
    assert any(t.startswith("By construct (post hoc):") for t in texts)
    notes = _text(section)
    assert f"without a construct are left out of the subgroup analysis: {UNRECORDED}" in notes
    methods = _text(doc.get_element_by_id("methods"))
    assert (
        "Subgroups were analysed by comparator (pre-specified) and construct measured "
        "(post hoc)" in methods
    )
    assert "The construct measured was extracted for each study and outcome" in methods
