"""Classification and risk of bias on the store (SQLite and PostgreSQL): independent coding,
blind comparison, consensus, agreement and AHRQ ratings equal to hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import write_protocol

from metasift.errors import InputError
from metasift.review import Review
from metasift.review.appraisal_tools import ahrq_quality, appraisal_tool, rob2_overall

#: Agreement values are ratios of small integers: only rounding separates them.
RTOL_EXACT = 1e-12

_SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "established", "independent", "online"]
[risk_of_bias]
tool = "modified_cochrane"
coders = ["ann", "ben"]
arbiter = "dana"
"""
_DOMAINS = [d.key for d in appraisal_tool("modified_cochrane").domains]


def _open(folder: Path, database_url: str) -> Review:
    write_protocol(folder, database_url, **{"[classification]\n[risk_of_bias]\n": _SECTIONS})
    review = Review.open(folder)
    for label in ("S1", "S2", "S3", "S4"):
        review.add_study(label)
    return review


def _judge(values: str) -> dict[str, str]:
    names = {"l": "low", "u": "unclear", "h": "high"}
    return {d: names[v] for d, v in zip(_DOMAINS, values, strict=True)}


@pytest.mark.parametrize(
    ("values", "limitation", "expected"),
    [
        ("lllllll", False, "good"),
        ("lllllll", True, "poor"),
        ("hllllll", False, "fair"),
        ("hllllll", True, "poor"),
        ("ullllll", False, "fair"),
        ("uulllll", False, "fair"),
        ("uulllll", True, "poor"),
        ("uuullll", False, "poor"),
        ("hhlllll", False, "poor"),
        ("hulllll", False, "poor"),
    ],
)
def test_ahrq_conversion_every_branch(values: str, limitation: bool, expected: str) -> None:
    assert ahrq_quality(_judge(values), limitation) == expected


def test_exactly_one_unclear_domain_is_fair() -> None:
    """The rule reads "fair: one domain high, or two unclear, and no known important
    limitation"; it does not name a single unclear domain. metasift rates it fair, as
    docs/review.md states: one unclear domain is less doubt than the two the rule allows
    for fair, and rating it poor would make a study with less doubt rank below one with
    more. With a high domain, or a known important limitation, it is poor."""
    for position in range(len(_DOMAINS)):
        one = "l" * position + "u" + "l" * (len(_DOMAINS) - position - 1)
        assert ahrq_quality(_judge(one)) == "fair", one
        assert ahrq_quality(_judge(one), important_limitation=True) == "poor", one
    assert ahrq_quality(_judge("uhlllll")) == "poor"
    assert ahrq_quality(_judge("uulllll")) == "fair"  # the rule's "two unclear"


def test_rob2_overall_algorithm() -> None:
    low = {f"d{i}": "low" for i in range(5)}
    assert rob2_overall(low) == "low"
    assert rob2_overall(low | {"d2": "some concerns"}) == "some concerns"
    assert rob2_overall(low | {"d2": "some concerns"}, True) == "high"
    assert rob2_overall(low | {"d4": "high"}) == "high"


def test_classification_blind_conflicts_consensus_agreement(
    tmp_path: Path, database_url: str
) -> None:
    with _open(tmp_path, database_url) as review:
        codes_ann = {"S1": "added", "S2": "online", "S3": "established", "S4": "added"}
        codes_ben = {"S1": "added", "S2": "Online", "S3": "independent", "S4": "added"}
        for study, value in codes_ann.items():
            review.classify("ann", study, {"setting": value})
        # Blind: ben has not coded, so ann's codes are not shown to anyone yet.
        status = review.classification_status()
        assert status["status"].eq("pending").all() and status["by_ann"].isna().all()
        for study, value in codes_ben.items():
            review.classify("ben", study, {"setting": value})
        conflicts = review.classification_conflicts()
        assert conflicts["study"].tolist() == ["S3"]
        assert conflicts[["by_ann", "by_ben"]].iloc[0].tolist() == ["established", "independent"]
        # Hand-computed: po = 3/4, pe = (2*2 + 1*1)/16 = 5/16, kappa = 7/11.
        result = review.classification_agreement("setting")
        assert result.percent.estimate == pytest.approx(0.75, rel=RTOL_EXACT)
        assert result.pairs[0].kappa.estimate == pytest.approx(7 / 11, rel=RTOL_EXACT)
        with pytest.raises(InputError, match="note"):
            review.resolve_classification("S3", "setting", "independent", by="dana", note="")
        with pytest.raises(InputError, match="arbiter"):
            review.resolve_classification("S3", "setting", "independent", by="ann", note="x")
        review.resolve_classification("S3", "setting", "independent", by="dana", note="peer-run")
        table = review.classification_table()
        assert table["setting"].tolist() == ["added", "online", "independent", "added"]
        assert review.classification_conflicts().empty
        with pytest.raises(InputError, match="not one of"):
            review.classify("ann", "S1", {"setting": "hospital"})
        with pytest.raises(InputError, match="not in the review"):
            review.classify("ann", "S9", {"setting": "added"})


def test_appraisal_ahrq_agreement_robvis_and_counts(tmp_path: Path, database_url: str) -> None:
    with _open(tmp_path, database_url) as review:
        ann = {"S1": "lllllll", "S2": "lhlllll", "S3": "lllluul", "S4": "hulllll"}
        ben = {"S1": "llllllu", "S2": "uhlllll", "S3": "lllluul", "S4": "hulllll"}
        for study in ann:
            review.appraise("ann", study, _judge(ann[study]), {"allocation_concealment": "p. 3"})
            review.appraise("ben", study, _judge(ben[study]))
        conflicts = review.appraisal_conflicts()
        assert sorted(zip(conflicts["study"], conflicts["domain"], strict=True)) == [
            ("S1", "intention_to_treat"),
            ("S2", "random_sequence_generation"),
        ]
        # Hand-computed over 28 (study, domain) units, 26 agreeing: ann has 23 low, 3 unclear
        # and 2 high, ben 21 low, 5 unclear and 2 high; pe = (23*21 + 3*5 + 2*2)/28^2 =
        # 502/784 and kappa = (728 - 502)/(784 - 502) = 226/282.
        ratings = {"ann": "".join(ann.values()), "ben": "".join(ben.values())}
        n = 28
        po = sum(a == b for a, b in zip(ratings["ann"], ratings["ben"], strict=True)) / n
        pe = sum(ratings["ann"].count(c) * ratings["ben"].count(c) for c in "luh") / n**2
        assert (po, ratings["ann"].count("l"), ratings["ben"].count("l")) == (26 / 28, 23, 21)
        assert pe == pytest.approx(502 / 784, rel=RTOL_EXACT)
        result = review.appraisal_agreement()
        assert result.percent.estimate == pytest.approx(26 / 28, rel=RTOL_EXACT)
        assert result.pairs[0].kappa.estimate == pytest.approx(226 / 282, rel=RTOL_EXACT)
        assert review.appraisal_table()["overall"].tolist()[2:] == ["fair", "poor"]
        review.resolve_appraisal("S1", "intention_to_treat", "low", by="dana", note="ITT p. 5")
        review.resolve_appraisal("S2", "random_sequence_generation", "low", "dana", "table 1")
        table = review.appraisal_table()
        assert table["overall"].tolist() == ["good", "fair", "fair", "poor"]
        review.resolve_appraisal("S2", "limitation", True, by="dana", note="50% attrition")
        assert review.appraisal_table()["overall"].tolist()[1] == "poor"
        for study, value in {"S1": "added", "S2": "added", "S3": "online", "S4": "online"}.items():
            review.classify("ann", study, {"setting": value})
            review.classify("ben", study, {"setting": value})
        counts = review.quality_counts("setting")
        assert counts.loc["added", ["good", "fair", "poor", "n"]].tolist() == [1, 0, 1, 2]
        assert counts.loc["All", ["good", "fair", "poor", "n"]].tolist() == [1, 1, 2, 4]
        path = review.write_robvis(tmp_path / "rob.csv")
        lines = path.read_text().splitlines()
        assert lines[0].startswith("Study,Random sequence generation,Allocation concealment")
        assert lines[0].endswith(",Overall,Weight")
        assert lines[4] == "S4,High,Unclear,Low,Low,Low,Low,Low,High,1"
        with pytest.raises(InputError, match="not allowed"):
            review.appraise("ann", "S1", {"power_calculation": "some concerns"})
        with pytest.raises(InputError, match="not a domain"):
            review.appraise("ann", "S1", {"blinding_of_participants": "low"})
