"""RoB 2 per study and outcome on the store (SQLite and PostgreSQL): signalling answers,
the proposals of the domain algorithms, judgements that deviate with support text,
consensus, agreement per outcome (hand-computed), the robvis ROB2 layout per outcome and
the outcome's overall judgement as the quality of the analysable table."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import write_protocol

from metasift.errors import InputError
from metasift.review import Review

#: Agreement values are ratios of small integers: only rounding separates them.
RTOL_EXACT = 1e-12
DOMAINS = ("randomisation", "deviations", "missing_data", "measurement", "selection")
SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "online"]
[risk_of_bias]
tool = "rob2"
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics]
coders = ["ann"]
arbiter = "dana"
[outcomes.personal_recovery]
direction = "higher"
[outcomes.clinical_recovery]
direction = "lower"
"""
_LEVELS = {"l": "low", "s": "some concerns", "h": "high"}
#: Answers that give every domain "low" by the guidance's algorithms.
LOW_ANSWERS = {
    **{"1.1": "Y", "1.2": "Y", "1.3": "N"},
    **{"2.1": "N", "2.2": "N", "2.6": "Y"},
    **{"3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N"},
    **{"5.1": "Y", "5.2": "N", "5.3": "N"},
}


def _open(folder: Path, database_url: str) -> Review:
    block = "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n"
    write_protocol(folder, database_url, **{block: SECTIONS})
    review = Review.open(folder)
    for label in ("S1", "S2"):
        review.add_study(label)
    return review


def _judge(letters: str) -> dict[str, str]:
    return {d: _LEVELS[v] for d, v in zip(DOMAINS, letters, strict=True)}


def test_signalling_answers_proposals_and_deviations(tmp_path: Path, database_url: str) -> None:
    with _open(tmp_path, database_url) as review:
        with pytest.raises(InputError, match="assessed per outcome"):
            review.appraise("ann", "S1", _judge("lllll"))
        with pytest.raises(InputError, match="'mood' is not in \\[outcomes\\]"):
            review.appraise("ann", "S1", _judge("lllll"), outcome="mood")
        # Answers only: the judgements are the algorithms' proposals. Concealment without
        # information and no baseline imbalance: domain 1 "some concerns".
        answers = LOW_ANSWERS | {"1.2": "NI"}
        recorded = review.appraise("ann", "S1", answers=answers, outcome="personal_recovery")
        assert recorded == 13 + 5  # the answers and the five proposed judgements
        # A judgement that departs from the proposal needs support text.
        with pytest.raises(InputError, match="differs from 'some concerns'"):
            review.appraise(
                "ben", "S1", {"randomisation": "low"}, answers=answers, outcome="personal_recovery"
            )
        with pytest.raises(InputError, match=r"2\.3 is answered NA but applies"):
            review.appraise(
                "ben",
                "S1",
                answers={"2.1": "Y", "2.2": "N", "2.3": "NA", "2.6": "Y"},
                outcome="personal_recovery",
            )
        review.appraise(
            "ben",
            "S1",
            {"randomisation": "low"},
            {"randomisation": "central pharmacy allocation, confirmed by the authors"},
            answers=answers,
            outcome="personal_recovery",
        )
        conflicts = review.appraisal_conflicts()
        assert conflicts[["study", "outcome", "domain", "question"]].values.tolist() == [
            ["S1", "personal_recovery", "randomisation", ""]
        ]
        assert conflicts[["by_ann", "by_ben"]].values.tolist() == [["some concerns", "low"]]
        review.resolve_appraisal(
            "S1", "randomisation", "low", "dana", "authors' reply", outcome="personal_recovery"
        )
        table = review.appraisal_table().set_index(["study", "outcome"])
        row = table.loc[("S1", "personal_recovery")]
        # The table shows the proposal from the settled answers next to the judgement.
        assert (row["randomisation"], row["randomisation_proposed"]) == ("low", "some concerns")
        assert row[[f"{d}_proposed" for d in DOMAINS[1:]]].tolist() == ["low"] * 4
        assert (row["overall_proposed"], row["overall"], row["complete"]) == ("low", "low", True)
        # Settling an answer changes the proposal shown.
        review.resolve_appraisal(
            "S1", "1.2", "Y", "dana", "sealed opaque envelopes", outcome="personal_recovery"
        )
        row = review.appraisal_table("personal_recovery").iloc[0]
        assert row["randomisation_proposed"] == "low"
        with pytest.raises(InputError, match=r"answer 'maybe' to signalling question 1\.2"):
            review.resolve_appraisal("S1", "1.2", "maybe", "dana", "x", outcome="personal_recovery")
        with pytest.raises(InputError, match=r"question '9\.9' is not a question"):
            review.appraise("ann", "S1", answers={"9.9": "Y"}, outcome="personal_recovery")


def test_overall_judgement_and_the_rob2_rule(tmp_path: Path) -> None:
    with _open(tmp_path, "") as review:
        outcome = {"outcome": "clinical_recovery"}
        # Two domains with some concerns: "high" follows the rule (several concerns that
        # substantially lower confidence) without support text.
        review.appraise("ann", "S1", _judge("slsll"), overall="high", **outcome)
        # One domain with some concerns: "low" departs from the rule.
        with pytest.raises(InputError, match="departs from the RoB 2 rule"):
            review.appraise("ann", "S2", _judge("lllsl"), overall="low", **outcome)
        review.appraise(
            "ann",
            "S2",
            _judge("lllsl"),
            {"overall": "the concern in measurement cannot change the result"},
            overall="low",
            **outcome,
        )
        # The overall given later is checked against the judgements recorded before.
        with pytest.raises(InputError, match="departs"):
            review.appraise("ann", "S1", overall="low", **outcome)
        for study, letters in (("S1", "slsll"), ("S2", "lllsl")):
            review.appraise("ben", study, _judge(letters), **outcome)
        review.resolve_appraisal("S1", "overall", "high", "dana", "two concerns", **outcome)
        review.resolve_appraisal("S2", "overall", "low", "dana", "agreed", **outcome)
        table = review.appraisal_table("clinical_recovery")
        assert table[["study", "overall_proposed", "overall"]].values.tolist() == [
            ["S1", "some concerns", "high"],
            ["S2", "some concerns", "low"],
        ]


def test_agreement_robvis_quality_per_outcome(tmp_path: Path, database_url: str) -> None:
    with _open(tmp_path, database_url) as review:
        ann = {("S1", "personal_recovery"): "lllll", ("S2", "personal_recovery"): "slhll"}
        ann |= {("S1", "clinical_recovery"): "lllsl", ("S2", "clinical_recovery"): "hlsll"}
        ben = dict(ann) | {("S2", "personal_recovery"): "llhll"}
        ben[("S1", "clinical_recovery")] = "llllh"
        for who, values in (("ann", ann), ("ben", ben)):
            for (study, outcome), letters in values.items():
                review.appraise(who, study, _judge(letters), outcome=outcome)
        # All 20 (study, outcome, domain) units; 3 differ (S2 personal randomisation, S1
        # clinical measurement and selection), 17 agree. ann: 15 low, 3 some concerns, 2 high;
        # ben: 16 low, 1 some concerns, 3 high. pe = (15*16 + 3*1 + 2*3)/400 = 249/400;
        # kappa = (340/400 - 249/400)/(1 - 249/400) = 91/151.
        result = review.appraisal_agreement()
        assert result.percent.estimate == pytest.approx(17 / 20, rel=RTOL_EXACT)
        assert result.pairs[0].kappa.estimate == pytest.approx(91 / 151, rel=RTOL_EXACT)
        # One outcome: 10 units, 9 agree; ann 8 low, 1 sc, 1 high; ben 9 low, 0 sc, 1 high:
        # pe = (72 + 0 + 1)/100; kappa = (90 - 73)/(100 - 73) = 17/27.
        one = review.appraisal_agreement(outcome="personal_recovery")
        assert one.pairs[0].kappa.estimate == pytest.approx(17 / 27, rel=RTOL_EXACT)
        for study, domain, value, outcome in (
            ("S2", "randomisation", "some concerns", "personal_recovery"),
            ("S1", "measurement", "some concerns", "clinical_recovery"),
            ("S1", "selection", "low", "clinical_recovery"),
        ):
            review.resolve_appraisal(study, domain, value, "dana", "table 2", outcome=outcome)
        path = review.write_robvis(tmp_path / "rob-personal.csv", outcome="personal_recovery")
        lines = path.read_text().splitlines()
        assert lines[0] == (
            "Study,Bias arising from the randomization process,Bias due to deviations from "
            "intended interventions,Bias due to missing outcome data,Bias in measurement of "
            "the outcome,Bias in selection of the reported result,Overall,Weight"
        )
        assert lines[1:] == [
            "S1,Low,Low,Low,Low,Low,Low,1",
            "S2,Some concerns,Low,High,Low,Low,High,1",
        ]
        both = review.write_robvis(tmp_path / "rob.csv").read_text().splitlines()
        assert [line.split(",")[0] for line in both[1:]] == [
            "S1 (personal_recovery)",
            "S1 (clinical_recovery)",
            "S2 (personal_recovery)",
            "S2 (clinical_recovery)",
        ]
        for who in ("ann", "ben"):
            review.classify(who, "S1", {"setting": "added"})
            review.classify(who, "S2", {"setting": "online"})
        counts = review.quality_counts("setting", outcome="clinical_recovery")
        assert counts.loc["All", ["low", "some concerns", "high", "n"]].tolist() == [0, 1, 1, 2]
        with pytest.raises(InputError, match="assessed per outcome"):
            review.quality_counts("setting")
        # The analysable table's quality is the outcome's overall judgement.
        for study in ("S1", "S2"):
            review.extract_arm("ann", study, "peer", role="intervention")
            review.extract_arm("ann", study, "tau", role="control")
            for outcome in ("personal_recovery", "clinical_recovery"):
                review.extract_value("ann", study, outcome, "peer", n=30, mean=12.0, sd=3.0)
                review.extract_value("ann", study, outcome, "tau", n=30, mean=10.0, sd=3.0)
        for outcome, expected in (
            ("personal_recovery", ["low", "high"]),
            ("clinical_recovery", ["some concerns", "high"]),
        ):
            data = review.extraction_table(outcome).data
            assert data["quality"].tolist() == expected, outcome
