"""The issue's done-when in one pass through the API (SQLite and PostgreSQL): included
studies (two multi-arm, one with median/IQR, one reporting SEs, one with only an effect)
are classified, appraised and double-extracted, and the analysable table carries the
hand-computed effects, categories and AHRQ ratings; agreement equals hand-computed values
and the multi-arm trail is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import write_protocol
from test_extraction import RTOL_CLOSED_FORM, SECTIONS, STUDIES, _extract, expected

from metasift.review import Review
from metasift.review.appraisal_tools import appraisal_tool

#: Agreement values are ratios of small integers.
RTOL_EXACT = 1e-12
_DOMAINS = [d.key for d in appraisal_tool("modified_cochrane").domains]
_NAMES = {"l": "low", "u": "unclear", "h": "high"}
#: ann's judgements and, by the AHRQ rule, the rating of each study.
APPRAISALS = {
    "Two 2015": ("lllllll", "good"),  # every domain low
    "Multi 2017": ("hllllll", "fair"),  # one high, nothing unclear
    "Median 2019": ("ullllll", "fair"),  # one unclear: less doubt than the two allowed
    "Se 2020": ("hulllll", "poor"),  # a high with an unclear
    "Effect 2021": ("uuullll", "poor"),  # three unclear
}
SETTINGS = {"Two 2015": "added", "Multi 2017": "added", "Median 2019": "online"}
SETTINGS |= {"Se 2020": "independent", "Effect 2021": "online"}


def _judge(letters: str) -> dict[str, str]:
    return {d: _NAMES[v] for d, v in zip(_DOMAINS, letters, strict=True)}


def test_included_studies_to_the_analysable_table(tmp_path: Path, database_url: str) -> None:
    block = "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n"
    write_protocol(tmp_path, database_url, **{block: SECTIONS})
    with Review.open(tmp_path) as review:
        for label in [*STUDIES, "Effect 2021", "Asked 2018"]:
            review.add_study(label)
        _extract(review, "ann")
        _extract(review, "ben")
        assert review.extraction_conflicts().empty
        for study, (letters, _) in APPRAISALS.items():
            review.appraise("ann", study, _judge(letters))
            ben = "llllllu" if study == "Two 2015" else letters
            review.appraise("ben", study, _judge(ben))
            for coder in ("ann", "ben"):
                review.classify(coder, study, {"setting": SETTINGS[study]})
        # 35 (study, domain) units, 34 agree. ann: 28 low, 5 unclear, 2 high; ben: 27 low,
        # 6 unclear, 2 high. pe = (28*27 + 5*6 + 2*2)/35^2 = 790/1225;
        # kappa = (1190 - 790)/(1225 - 790) = 80/87.
        result = review.appraisal_agreement()
        assert result.percent.estimate == pytest.approx(34 / 35, rel=RTOL_EXACT)
        assert result.pairs[0].kappa.estimate == pytest.approx(80 / 87, rel=RTOL_EXACT)
        review.resolve_appraisal("Two 2015", "intention_to_treat", "low", "dana", "ITT, p. 6")
        data = review.extraction_table("personal_recovery").data.set_index("study")
        for study, (yi, vi) in expected().items():
            assert data.loc[study, "yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM), study
            assert data.loc[study, "vi"] == pytest.approx(vi, rel=RTOL_CLOSED_FORM), study
        assert data["quality"].to_dict() == {s: rating for s, (_, rating) in APPRAISALS.items()}
        assert data["setting"].to_dict() == SETTINGS
        assert data.loc["Effect 2021", ["source", "yi", "vi"]].tolist() == [
            "precomputed",
            0.31,
            0.02,
        ]
        counts = review.quality_counts("setting")
        assert counts.loc["All", ["good", "fair", "poor", "n"]].tolist() == [1, 2, 2, 5]
        assert counts.loc["online", ["good", "fair", "poor"]].tolist() == [0, 1, 1]
        stored = review.settle_multi_arm("personal_recovery", by="dana", note="as planned")
        assert sorted(set(stored["study"])) == ["Multi 2017", "Se 2020"]
