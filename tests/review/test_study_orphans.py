"""Protocol edits that would orphan classification, risk-of-bias or extraction values are
refused with a message naming what to put back, and nothing recorded is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import write_protocol
from sqlalchemy import func, select

from metasift.errors import InputError
from metasift.review import Review
from metasift.review._schema import StudyEvent

SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "online"]
[classification.facets.provider]
categories = ["peer-led", "co-led"]
[risk_of_bias]
tool = "short"
coders = ["ann", "ben"]
arbiter = "dana"
[risk_of_bias.tools.short]
domains = ["Selection", "Attrition"]
[characteristics]
coders = ["ann", "ben"]
arbiter = "dana"
[characteristics.fields.country]
type = "text"
[characteristics.fields.design]
type = "choice"
choices = ["rct", "cluster"]
[outcomes.personal]
direction = "higher"
[outcomes.clinical]
direction = "lower"
"""

TEAM = 'reviewers = ["ann", "ben", "cleo", "dana"]'


def _count(review: Review) -> int:
    with review.store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(StudyEvent)))


def _record(review: Review) -> None:
    review.add_study("S1")
    for coder in ("ann", "ben"):
        review.classify(coder, "S1", {"setting": "online", "provider": "peer-led"})
        review.appraise(coder, "S1", {"selection": "low", "attrition": "high"})
        review.extract_characteristics(coder, "S1", {"country": "UK", "design": "rct"})
        review.extract_arm(coder, "S1", "peer", role="intervention", n_randomised=40)
        review.extract_value(coder, "S1", "clinical", "peer", n=38, mean=10.0, sd=2.0)
    review.resolve_appraisal("S1", "attrition", "high", "dana", "40% lost, p. 5")


def _edits(original: str) -> dict[str, str]:
    def edit(old: str, new: str) -> str:
        assert old in original, old
        return original.replace(old, new)

    return {
        "facets: 'provider' was removed but has 2 recorded values in 1 or more": edit(
            '[classification.facets.provider]\ncategories = ["peer-led", "co-led"]\n', ""
        ),
        "setting.categories: 'online' is used by 2 values": edit(
            '["added", "online"]', '["added", "independent"]'
        ),
        "classification.coders: 'ben' has 2 classification values": edit(
            'coders = ["ann", "ben"]\narbiter = "dana"\n[classification.facets',
            'coders = ["ann", "cleo"]\narbiter = "dana"\n[classification.facets',
        ),
        "'ben' was removed but has 11 study values": edit(TEAM, TEAM.replace('"ben", ', ""))
        .replace('["ann", "ben"]', '["ann", "cleo"]')
        .replace('screeners = ["ann", "ben", "cleo"]', 'screeners = ["ann", "cleo"]')
        .replace("reviewers_per_record = 3", "reviewers_per_record = 2"),
        "domain 'attrition' of the tool 'short' was removed but has 3 recorded": edit(
            '["Selection", "Attrition"]', '["Selection"]'
        ),
        "tools.short.per_outcome: it was appraised per study but has 5 recorded": edit(
            'domains = ["Selection", "Attrition"]\n',
            'domains = ["Selection", "Attrition"]\nper_outcome = true\n',
        ),
        "the tool 'short' was removed but has 5 recorded values": edit(
            'tool = "short"', 'tool = "modified_cochrane"'
        ).replace('[risk_of_bias.tools.short]\ndomains = ["Selection", "Attrition"]\n', ""),
        "characteristics.fields: 'design' was removed but has 2": edit(
            '[characteristics.fields.design]\ntype = "choice"\nchoices = ["rct", "cluster"]\n', ""
        ),
        "design.choices: 'rct' is used by 2 values": edit(
            '["rct", "cluster"]', '["randomised", "cluster"]'
        ),
        # n, mean and sd of one arm, from each of the two extractors.
        "outcomes: 'clinical' was removed but has 6 recorded values in 1 or more": edit(
            '[outcomes.clinical]\ndirection = "lower"\n', ""
        ),
    }


def test_edits_that_orphan_study_values_are_refused(tmp_path: Path, database_url: str) -> None:
    path = write_protocol(
        tmp_path,
        database_url,
        **{"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS},
    )
    with Review.open(tmp_path) as review:
        _record(review)
        before = _count(review)
        table = review.appraisal_table()
    original = path.read_text(encoding="utf-8")
    for message, edited in _edits(original).items():
        assert edited != original
        path.write_text(edited, encoding="utf-8")
        with pytest.raises(InputError, match="nothing was changed") as caught:
            Review.open(tmp_path)
        assert message in str(caught.value)
    # A change of tool keeps the old tool's judgements apart and orphans nothing.
    path.write_text(original.replace('tool = "short"', 'tool = "rob2"'), encoding="utf-8")
    with Review.open(tmp_path) as review:
        assert review.appraisal_table()["overall"].isna().all()
    path.write_text(original, encoding="utf-8")
    with Review.open(tmp_path) as review:
        assert _count(review) == before
        assert review.appraisal_table().equals(table)
        assert review.classification_table().loc["S1"].tolist() == ["online", "peer-led"]
        assert (review.extraction_status()["status"] == "agreed").all()
