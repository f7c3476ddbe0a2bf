"""The HTML report of the worked example (Smit et al. 2022, built in conftest.py): that it is
one self-contained page, that its sentences and tables give the published pooled results,
and that its counts follow from the data (each expected value is computed here from the
CSV files, not taken from metasift)."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import matplotlib
import numpy
import pandas as pd
import pytest
import scipy

from metasift.report.html import write_report

DATA = Path(__file__).resolve().parents[1] / "data"
PEER = DATA / "peer-support"
REPORT = DATA / "report"
OUTCOMES = {
    "clinical_recovery": "smit2022_clinical_recovery.csv",
    "personal_recovery": "smit2022_personal_recovery.csv",
    "functional_recovery": "smit2022_functional_recovery.csv",
}

#: Published pooled results (Smit et al. 2022, abstract; tests/data/peer-support/SOURCE.md),
#: with the Q test p-values of the reproduction there (metafor 3.8-1, REML + Hartung-Knapp),
#: as a results sentence prints them.
PUBLISHED = {
    "clinical_recovery": ("0.19", "0.11–0.27", "10%", "p=0.33"),
    "personal_recovery": ("0.15", "0.04–0.27", "43%", "p=0.03"),
    "functional_recovery": ("0.08", "−0.02 to 0.18", "36%", "p=0.04"),
}
#: Studies the conftest adds without data.
EXTRA_STUDIES = 2


def _doc(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page.encode("utf-8"))


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _table(doc: lxml.html.HtmlElement, key: str) -> list[list[str]]:
    table = doc.get_element_by_id(key)
    return [[_text(cell) for cell in row.findall("td")] for row in table.iter("tr")][1:]


def _csv(outcome: str) -> pd.DataFrame:
    return pd.read_csv(PEER / OUTCOMES[outcome])


def test_the_page_is_self_contained(peer_html: str) -> None:
    doc = _doc(peer_html)
    assert peer_html.startswith("<!DOCTYPE html>")
    for tag in ("script", "link", "img", "iframe", "object", "embed"):
        assert doc.findall(f".//{tag}") == [], tag
    attributes = [value for element in doc.iter() for value in element.attrib.values()]
    assert not [v for v in attributes if "://" in v or v.startswith("//")]
    hrefs = [e.get("href") for e in doc.iter() if e.get("href") is not None]
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert not re.search(r"url\((?!#)", peer_html)  # only references inside the page
    ids = [e.get("id") for e in doc.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique across figures"
    missing = {h[1:] for h in hrefs} - set(ids)
    assert not missing, sorted(missing)[:5]


def test_every_section_and_figure_is_there(peer_html: str) -> None:
    doc = _doc(peer_html)
    headings = [_text(h) for h in doc.iter("h2")]
    assert headings == [
        "Methods",
        "Study selection",
        "Study characteristics",
        "Risk of bias",
        "Effects of the intervention",
        "Sensitivity analyses",
        "Publication bias",
        "Software",
    ]
    svgs = [e for e in doc.iter("svg") if "figure" in (e.get("class") or "")]
    keys = [e.get("id") for e in svgs]
    # PRISMA; per outcome a traffic light and a summary; per outcome a forest plot and a
    # funnel plot (k = 22, 19 and 25 reach the plan's 10).
    rob = [
        f"rob-{o.replace('_', '-')}-{kind}"
        for o in OUTCOMES
        for kind in ("traffic-light", "summary")
    ]
    plots = [
        f"outcome-{o.replace('_', '-')}-{kind}" for o in OUTCOMES for kind in ("forest", "funnel")
    ]
    assert keys == ["prisma", *rob, *plots]
    for svg in svgs:
        title = svg.find("title")
        assert title is not None and title.text
    captions = [_text(c) for c in doc.iter("figcaption")]
    assert [c.split(".")[0] for c in captions] == [f"Figure {i}" for i in range(1, 14)]
    tables = [_text(c) for c in doc.iter("caption")]
    assert [c.split(".")[0] for c in tables] == [f"Table {i}" for i in range(1, len(tables) + 1)]


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_results_sentence_gives_the_published_effect(peer_html: str, outcome: str) -> None:
    doc = _doc(peer_html)
    section = doc.get_element_by_id(f"outcome-{outcome.replace('_', '-')}")
    first = _text(section.find("p"))
    estimate, ci, i2, q_p = PUBLISHED[outcome]
    data = _csv(outcome)
    sizes = data["n_ps"] + data["n_ctrl"]
    n = int(sizes.sum())  # rows without sizes drop out (NaN), so N is a lower bound
    assert sizes.isna().any()  # every outcome of the data has such rows
    label = outcome.replace("_", " ")
    assert f"SMD={estimate}, 95% CI={ci}" in first
    assert f"I²={i2}, {q_p}, N≥{n:,})" in first
    studies = data["study"].nunique()
    assert first.startswith(f"Across {len(data)} comparisons from {studies} studies")
    if outcome == "functional_recovery":  # p = 0.11
        assert f"there was no significant effect on {label}" in first
    else:  # |g| < 0.2: Cohen's label is "negligible"
        assert f"the intervention had a negligible positive effect on {label}" in first
    assert "heterogeneity was not substantial" in first  # I2 <= 50% in all three


def test_main_effects_table(peer_html: str) -> None:
    rows = _table(_doc(peer_html), "table-main-effects")
    assert [r[0] for r in rows] == [
        "Clinical recovery (SMD)",
        "Personal recovery (SMD)",
        "Functional recovery (SMD)",
    ]
    for row, outcome in zip(rows, OUTCOMES, strict=True):
        estimate, ci, i2, q_p = PUBLISHED[outcome]
        data = _csv(outcome)
        assert row[1] == f"{len(data)} ({data['study'].nunique()})"
        assert row[3:5] == [estimate, ci]
        assert row[6:8] == [i2, q_p.removeprefix("p=")]


def test_pooled_table_keeps_not_applicable_cells(peer_html: str, peer: tuple) -> None:
    _, results = peer
    doc = _doc(peer_html)
    pooled = results.pooled_effects()
    for outcome in OUTCOMES:
        rows = _table(doc, f"outcome-{outcome.replace('_', '-')}-pooled")
        mine = pooled[pooled["outcome"] == outcome]
        data_rows = [r for r in rows if len(r) > 1]
        assert len(data_rows) == len(mine)
        closed = mine[mine["status"] != "pooled"]
        shown = [r for r in data_rows if r[9] == "not applicable"]
        assert [r[0] for r in shown] == list(closed["category"])
        assert all(r[3] == "–" for r in shown)
    groups = [r[0] for r in _table(doc, "outcome-personal-recovery-pooled") if len(r) == 1]
    assert groups[0].startswith("Comparator (pre-specified): test for subgroup differences Q=")
    assert groups[1].startswith("Format (post hoc)")


def test_subgroup_sentences_quote_the_tests(peer_html: str, peer: tuple) -> None:
    _, results = peer
    tests = results.subgroup_tests().set_index(["outcome", "facet"])
    doc = _doc(peer_html)
    for outcome in OUTCOMES:
        section = doc.get_element_by_id(f"outcome-{outcome.replace('_', '-')}")
        texts = [_text(p) for p in section.findall("p")]
        for facet, kind in (("comparator", "pre-specified"), ("format", "post hoc")):
            row = tests.loc[(outcome, facet)]
            said = next(t for t in texts if t.startswith(f"By {facet} ({kind}):"))
            p = row["qm_pval"]
            p_text = "p<0.001" if p < 0.001 else (f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}")
            assert f"(Q={row['qm']:.2f}, df={row['qm_df']:.0f}, {p_text})" in said
            differ = "differed significantly" if p < 0.05 else "did not differ significantly"
            assert differ in said


def test_study_counts_follow_the_data(peer_html: str) -> None:
    doc = _doc(peer_html)
    frames = pd.concat([_csv(o) for o in OUTCOMES])
    comparator = frames.groupby("study")["comparator"].first()
    k = comparator.size + EXTRA_STUDIES
    rows = {r[0]: r for r in _table(doc, "table-facets") if len(r) > 1}
    assert rows["All studies"][1:3] == [str(k), "100%"]
    for category in ("CAU", "WL", "Other"):
        n = int((comparator == category).sum())
        assert rows[category][1:3] == [str(n), f"{100 * n / k:.0f}%"]
    assert rows["not classified"][1] == str(EXTRA_STUDIES)
    info = pd.read_csv(REPORT / "metapsy_study_characteristics.csv")
    chars = _table(doc, "table-characteristics")
    usa = next(r for r in chars if r[0] == "USA")
    assert usa[1] == str(int((info["country"] == "USA").sum()))
    women = next(r for r in chars if r[0].startswith("median"))
    assert women[0].startswith(f"median {info['percent_women'].median():.1f} (IQR")
    availability = _text(doc.get_element_by_id("availability").getnext())
    assert availability == (
        f"{comparator.size} of {k} included studies had usable data; the data of 1 were "
        "requested from the authors in vain; for 1, data could not be obtained."
    )
    assert _table(doc, "table-requests") == [
        ["Asked 2019", "personal recovery", "2021-02-01", "no reply"]
    ]


def test_risk_of_bias_counts_per_outcome(peer_html: str) -> None:
    doc = _doc(peer_html)
    rob = pd.read_csv(REPORT / "metapsy_rob2.csv")
    words = {
        "Low risk": "{verb} at low risk of bias",
        "Some concerns": "raised some concerns",
        "High risk": "{verb} at high risk of bias",
    }
    for outcome in OUTCOMES:
        label = outcome.replace("_", " ")
        mine = rob[rob["outcome_category"].str.lower() == label].groupby("study").first()
        counts = mine["overall"].value_counts()
        parts = [
            f"{counts[k]} " + w.format(verb="was" if counts[k] == 1 else "were")
            for k, w in words.items()
            if k in counts
        ]
        listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        section = doc.get_element_by_id(f"rob-{outcome.replace('_', '-')}")
        assert _text(section.find("p")) == (
            f"Of the {len(mine)} studies appraised for {label}, {listed}."
        )
        quality = _table(doc, f"rob-{outcome.replace('_', '-')}-quality")
        assert quality[0][-1] == str(len(mine))


def test_methods_follow_the_protocol(peer_html: str) -> None:
    doc = _doc(peer_html)
    methods = _text(doc.get_element_by_id("methods"))
    assert "We searched PubMed, Embase and PsycINFO on 18 December 2020." in methods
    assert "Reference lists (citation searching, 15 January 2021)" in methods
    assert "screened by two reviewers independently; disagreements were settled by an " in (methods)
    assert "Reasons for exclusion were: Not an RCT, No peer support or No usable outcome" in (
        methods
    )
    assert "Languages: English. Publication years: from 1990." in methods
    assert "restricted maximum likelihood estimator of τ²" in methods
    assert "Hartung-Knapp-Sidik-Jonkman confidence intervals" in methods
    assert "Subgroups were analysed by comparator (pre-specified) and format (post hoc)" in (
        methods
    )
    assert (
        "without_high_risk (without studies at high risk of bias) and leaving out one "
        "comparison at a time" in methods
    )
    assert "trim-and-fill in analyses of at least 10 comparisons" in methods
    listed = doc.get_element_by_id("software")
    software = dict(zip(map(_text, listed.iter("dt")), map(_text, listed.iter("dd")), strict=True))
    assert list(software)[:2] == ["metasift", "Python"]
    for name, module in (
        ("numpy", numpy),
        ("scipy", scipy),
        ("pandas", pd),
        ("matplotlib", matplotlib),
    ):
        assert software[name] == module.__version__


def test_prisma_from_the_review_folder(peer_html: str, peer: tuple) -> None:
    _, results = peer
    doc = _doc(peer_html)
    counts = dict(tuple(r) for r in _table(doc, "table-prisma"))
    assert counts["Records screened"] == "3,455"
    assert counts["Studies included in review"] == "30"
    assert counts["Records excluded"] == "not reported"
    assert counts["Reports assessed for eligibility"] == "not reported"
    analysed = results.studies()["study"].nunique()
    assert counts["Studies included in meta-analysis"] == str(analysed) == "28"
    caption = _text(doc.get_element_by_id("figure-prisma").find("figcaption"))
    assert "read from prisma.csv in the review folder" in caption


def test_rerun_gives_the_same_bytes(peer: tuple, peer_html: str) -> None:
    review, results = peer
    written = write_report(review, results)  # a second rendering, in a fresh figure set
    assert written == Path(review.folder) / "output" / "report.html"
    assert written.read_bytes() == peer_html.encode("utf-8")


def test_sensitivity_sets_are_named_by_their_description(peer_html: str, peer: tuple) -> None:
    table = _doc(peer_html).get_element_by_id("table-sensitivity")
    names = [_text(row.findall("td")[1]) for row in table.iter("tr") if row.findall("td")]
    assert "without studies at high risk of bias" in names
    assert "without_high_risk" not in names
    _, results = peer
    sets = results.sensitivity()
    mine = sets[sets["analysis"].eq("without_high_risk")].set_index("outcome")
    shown = [r for r in table.iter("tr") if "without studies at high" in _text(r)]
    assert [_text(r.findall("td")[2]) for r in shown] == [str(k) for k in mine["k"]]
