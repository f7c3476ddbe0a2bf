"""The parts of the HTML report on their own: the results sentences from pooled rows, the
inline SVG, the PRISMA diagram from a store screened in metasift, from prisma.csv or from
nothing, and a review appraised per study with the modified Cochrane tool (AHRQ ratings).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import lxml.html
import pytest
from matplotlib.figure import Figure

from metasift.errors import DataWarning, InputError
from metasift.plots._common import inch_canvas
from metasift.report._paragraph import effect_sentence, subgroup_sentence
from metasift.report._prisma import prisma_section
from metasift.report._svg import SvgFigures
from metasift.report.html import render_report
from metasift.review import Review
from metasift.synthesis import run_analysis

#: Personal recovery of Smit et al. (2022), as reproduced in tests/data/peer-support
#: (metafor 3.8-1, REML + Hartung-Knapp): g = 0.1543 [0.0413, 0.2673], I2 (from Q) =
#: 42.54%, Q p = 0.0264; the pooled p-value of that fit is 0.0102.
PERSONAL = {
    "estimate": 0.1543,
    "ci_lb": 0.0413,
    "ci_ub": 0.2673,
    "pval": 0.0102,
    "i2": 0.4254,
    "qe_pval": 0.0264,
    "pi_lb": -0.1611,
    "pi_ub": 0.4697,
    "n": 2907,
    "k": 19,
    "k_studies": 18,
    "status": "pooled",
}

#: Six records of a PubMed search, written as RIS.
TITLES = {
    2010: "Peer support for depression: a randomised trial",
    2012: "Group peer support after psychosis",
    2015: "Online peer support for anxiety",
    2016: "A cohort study of peer workers",
    2017: "Cognitive therapy for insomnia",
    2018: "Exercise and mood in older adults",
}
RECORDS = "".join(
    f"TY  - JOUR\nTI  - {title}\nPY  - {year}\nER  - \n\n" for year, title in TITLES.items()
)

PROTOCOL = """[review]
title = "A small review"
[team]
reviewers = ["ann", "ben", "dana"]
[[databases]]
name = "PubMed"
date = 2021-03-01
[screening.title_abstract]
arbiter = "dana"
[screening.full_text]
arbiter = "dana"
reasons = ["Not an RCT", "No peer support"]
[classification]
coders = ["ann"]
arbiter = "dana"
[classification.facets.setting]
categories = ["online", "in person"]
[risk_of_bias]
tool = "modified_cochrane"
coders = ["ann"]
arbiter = "dana"
[characteristics]
coders = ["ann"]
arbiter = "dana"
[outcomes.mood]
direction = "lower"
"""

#: Three trials (effect, variance, setting, domains judged unclear, high): invented inputs
#: of the small review, chosen so that the AHRQ rule gives good, fair and poor.
TRIALS = {
    "Adams 2010": (-0.30, 0.04, "in person", (), ()),
    "Brown 2012": (-0.10, 0.05, "in person", ("power_calculation",), ()),
    "Chen 2015": (-0.45, 0.06, "online", ("allocation_concealment",), ("intention_to_treat",)),
}
MODIFIED_COCHRANE = (
    "random_sequence_generation",
    "allocation_concealment",
    "blinding_outcome_assessment",
    "incomplete_outcome_data",
    "selective_outcome_reporting",
    "power_calculation",
    "intention_to_treat",
)


def _doc(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page.encode("utf-8"))


def _rows(doc: lxml.html.HtmlElement, key: str) -> list[list[str]]:
    table = doc.get_element_by_id(key)
    rows = [[" ".join(c.text_content().split()) for c in r.findall("td")] for r in table.iter("tr")]
    return rows[1:]


# results sentences -------------------------------------------------------------------------


def test_sentence_of_a_pooled_effect() -> None:
    text = effect_sentence(PERSONAL, "personal recovery", "SMD")
    assert text == (
        "Across 19 comparisons from 18 studies, the intervention had a negligible positive "
        "effect on personal recovery (SMD=0.15, 95% CI=0.04–0.27, p=0.01; I²=43%, p=0.03, "
        "N=2,907); heterogeneity was not substantial. The 95% prediction interval was "
        "−0.16 to 0.47."
    )


def test_sentence_words_follow_the_rules() -> None:
    # I2 > 50% with Q p < 0.1: substantial (both strict).
    row = PERSONAL | {"i2": 0.62, "qe_pval": 0.03, "estimate": 0.55, "pi_lb": math.nan}
    assert "a medium positive effect" in effect_sentence(row, "mood", "SMD")
    assert "heterogeneity was substantial" in effect_sentence(row, "mood", "SMD")
    edge = PERSONAL | {"i2": 0.5, "qe_pval": 0.03}
    assert "heterogeneity was not substantial" in effect_sentence(edge, "mood", "SMD")
    # Lower is better: a negative SMD is a positive (beneficial) effect, and vice versa.
    down = PERSONAL | {"estimate": -0.25, "ci_lb": -0.4, "ci_ub": -0.1}
    assert "a small positive effect on symptoms" in effect_sentence(
        down, "symptoms", "SMD", direction="lower"
    )
    assert "a small negative effect on mood" in effect_sentence(down, "mood", "SMD")
    flat = PERSONAL | {"pval": 0.11}
    assert "there was no significant effect on mood" in effect_sentence(flat, "mood", "SMD")
    one = {"k": 1, "k_studies": 1, "status": "not applicable", "note": "1 comparison"}
    assert effect_sentence(one, "mood", "SMD") == "No pooled effect on mood (1 comparison; k=1)."


def test_ratio_measures_read_as_ratios() -> None:
    row = PERSONAL | {"estimate": math.log(1.5), "ci_lb": math.log(1.1), "ci_ub": math.log(2.0)}
    text = effect_sentence(row | {"pi_lb": math.nan}, "relapse", "OR")
    assert "a positive effect on relapse (OR=1.50, 95% CI=1.10–2.00, p=0.01;" in text
    assert "small" not in text  # Cohen's labels are for standardised mean differences


def test_subgroup_sentence() -> None:
    rows = [
        {"category": "CAU", "estimate": 0.18, "ci_lb": -0.03, "ci_ub": 0.39, "k": 10},
        {"category": "WL", "estimate": 0.2, "ci_lb": 0.06, "ci_ub": 0.34, "k": 7},
        {"category": "Other", "k": 0, "status": "not applicable"},
    ]
    rows = [r | {"status": r.get("status", "pooled")} for r in rows]
    test = {"analysis": "pre-specified", "qm": 14.55, "qm_df": 2, "qm_pval": 0.0007}
    assert subgroup_sentence("comparator", test, rows, "SMD") == (
        "By comparator (pre-specified): SMD=0.18 (95% CI=−0.03 to 0.39; k=10) for CAU; "
        "SMD=0.20 (95% CI=0.06–0.34; k=7) for WL and no comparison for Other; the "
        "subgroups differed significantly (Q=14.55, df=2, p<0.001)."
    )
    untested = subgroup_sentence("format", None, rows[:1], "SMD")
    assert untested.endswith("the subgroups could not be compared (fewer than two pooled).")


# inline SVG --------------------------------------------------------------------------------


def _figure(text: str) -> Figure:
    fig, ax = inch_canvas(1.5, 0.5)
    ax.text(0.1, 0.2, text, gid="label")
    return fig


def test_inline_svg_is_deterministic_and_shares_glyphs() -> None:
    one, two = SvgFigures(), SvgFigures()
    assert one.inline(_figure("Ab"), "a", "A") == two.inline(_figure("Ab"), "a", "A")
    svg = str(one.inline(_figure("Abc"), "b", "B <&>"))
    assert '<title id="b-title">B &lt;&amp;&gt;</title>' in svg
    assert 'id="b-label"' in svg and "xlink:" not in svg and "<!--" not in svg
    used = set(re.findall(r'href="#([^"]+)"', svg))
    assert used <= set(one.glyphs)  # every glyph is defined once, in the shared block
    assert len(one.glyphs) == 3  # A, b, c
    assert str(one.glyph_defs()).count("<path id=") == 3
    with pytest.raises(InputError, match="new lower-case key"):
        one.inline(_figure("x"), "b", "again")


# PRISMA and a per-study risk-of-bias tool: a review screened in metasift -------------------


def _small_review(folder: Path, screened: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "review.toml").write_text(PROTOCOL, encoding="utf-8")
    with Review.open(folder) as review:
        ids = []
        if screened:
            (folder / "pubmed.ris").write_text(RECORDS, encoding="utf-8")
            review.import_records(folder / "pubmed.ris", "PubMed")
            ids = [int(i) for i in review.records()["record_id"]]
            for who in ("ann", "ben"):
                for i, record in enumerate(ids):
                    review.decide(who, record, "include" if i < 4 else "exclude")
            for who in ("ann", "ben"):
                for i, record in enumerate(ids[:4]):
                    decision, reason = ("include", None) if i < 3 else ("exclude", "Not an RCT")
                    review.decide(who, record, decision, "full_text", reason)
        for i, (study, (yi, vi, setting, unclear, high)) in enumerate(TRIALS.items()):
            review.add_study(study, ids[i : i + 1])
            review.extract_effect("ann", study, "mood", yi, vi)
            review.classify("ann", study, {"setting": setting})
            judged = {
                d: "unclear" if d in unclear else ("high" if d in high else "low")
                for d in MODIFIED_COCHRANE
            }
            review.appraise("ann", study, judged)
    return folder


def test_prisma_from_a_review_screened_in_metasift(tmp_path: Path) -> None:
    folder = _small_review(tmp_path / "small")
    with Review.open(folder) as review:
        results = run_analysis(review)
        page = render_report(review, results)
    doc = _doc(page)
    counts = dict(tuple(r) for r in _rows(doc, "table-prisma"))
    # Counted by hand from _small_review: 6 records, 2 excluded at title/abstract, 1 of
    # the 4 full texts excluded; the 3 included studies are all in the meta-analysis.
    assert counts == {
        "Records identified from databases": "6",
        "Records identified from: PubMed": "6",
        "Records identified from registers": "0",
        "Duplicate records removed": "0",
        "Records marked as ineligible by automation tools": "0",
        "Records removed for other reasons": "0",
        "Records screened": "6",
        "Records excluded": "2",
        "Reports sought for retrieval": "4",
        "Reports not retrieved": "0",
        "Reports assessed for eligibility": "4",
        "Reports excluded: Not an RCT": "1",
        "Studies included in review": "3",
        "Reports of included studies": "3",
        "Total studies included in review": "3",
        "Reports of total included studies": "3",
        "Studies included in meta-analysis": "3",
    }
    caption = doc.get_element_by_id("figure-prisma").find("figcaption").text_content()
    assert "derived from the records, decisions and studies in the review's store" in caption
    # The per-study tool: one part, AHRQ ratings counted, worst domain in the figure.
    rob = doc.get_element_by_id("rob")
    assert rob.find("p").text_content() == (
        "Of the 3 studies appraised, 1 was of good quality, 1 was of fair quality and 1 was "
        "of poor quality."
    )
    quality = _rows(doc, "rob-quality")
    assert quality[0] == ["All studies", "1 (33%)", "1 (33%)", "1 (33%)", "3"]
    assert quality[2:] == [["online", "0 (0%)", "0 (0%)", "1 (100%)", "1"],
                           ["in person", "1 (50%)", "1 (50%)", "0 (0%)", "2"]]  # fmt: skip
    light = doc.get_element_by_id("figure-rob-traffic-light").find("figcaption")
    assert "The overall column is the worst domain judgement" in light.text_content()
    # Lower is better for mood: negative SMDs favour the intervention. Q < df here, so
    # tau^2 = 0 and the estimate is the inverse-variance mean of the three trials.
    assert results.outcomes["mood"].main.tau2 == 0
    weights = {study: 1 / vi for study, (_, vi, *_) in TRIALS.items()}
    mean = sum(TRIALS[s][0] * w for s, w in weights.items()) / sum(weights.values())
    sentence = doc.get_element_by_id("outcome-mood").find("p").text_content()
    shown = f"{mean:.2f}".replace("-", "−")
    assert f"the intervention had a small positive effect on mood (SMD={shown}," in sentence
    assert "negative effects do" in doc.get_element_by_id("methods").text_content()


def test_no_counts_no_diagram(tmp_path: Path) -> None:
    folder = _small_review(tmp_path / "bare", screened=False)
    with Review.open(folder) as review:
        section = prisma_section(review, SvgFigures(), 3)
        assert section.figure is None and section.table is None
        assert "no records were imported into the store" in section.notes[0]
        (folder / "prisma.csv").write_text(
            "data,n\nrecords_screened,100\nrecords_excluded,40\ndbr_sought_reports,50\n"
            "unknown_box,3\n",
            encoding="utf-8",
        )
        with pytest.warns(DataWarning) as caught:
            section = prisma_section(review, SvgFigures(), 3)
    messages = [str(w.message) for w in caught]
    assert any("unknown PRISMA variable(s) ['unknown_box']" in m for m in messages)
    assert any(
        "dbr_sought_reports = 50 but the counts it follows from give 60" in m for m in messages
    )
    assert section.figure is not None
    assert any("do not add up" in note for note in section.notes)
    rows = dict(r.cells for r in section.table.rows)
    assert rows["Records excluded"] == "40"
    assert rows["Reports not retrieved"] == "not reported"
    assert rows["Studies included in meta-analysis"] == "3"
