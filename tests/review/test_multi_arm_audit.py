"""The multi-arm audit trail stored in the review (SQLite and PostgreSQL): settled, read
back from a fresh connection, flagged when the arms change, recorded again, and the split
rule's shared control; the combined means and SDs equal the Cochrane Handbook formula."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from review_support import write_protocol
from sqlalchemy import func, select
from test_extraction import RTOL_CLOSED_FORM, STUDIES, _combine
from test_extraction_effects import _BLOCK, ONE_EXTRACTOR

from metasift.errors import InputError
from metasift.review import Review
from metasift.review._schema import MultiArmAudit

HANDBOOK_COMBINE = "Cochrane Handbook 6.5.2.10, Table 6.5.a"
OUTCOME = "personal_recovery"


def _extract(review: Review) -> None:
    for study, spec in STUDIES.items():
        review.add_study(study)
        for arm, role, n in spec["arms"]:
            review.extract_arm("ann", study, arm, role=role, n_randomised=n)
        for arm, fields in spec["values"].items():
            review.extract_value("ann", study, OUTCOME, arm, **fields)


def _count(review: Review) -> int:
    with review.store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(MultiArmAudit)))


def test_multi_arm_trail_is_stored_and_read_back(tmp_path: Path, database_url: str) -> None:
    write_protocol(tmp_path, database_url, **{_BLOCK: ONE_EXTRACTOR})
    with Review.open(tmp_path) as review:
        _extract(review)
        settled = review.settle_multi_arm(OUTCOME, by="dana", note="combined, as planned")
        assert sorted(set(settled["study"])) == ["Multi 2017", "Se 2020"]
        assert _count(review) == 2
        # Settling again without a change records nothing new.
        review.settle_multi_arm(OUTCOME, by="dana")
        assert _count(review) == 2
        with pytest.raises(InputError, match="not in the team"):
            review.settle_multi_arm(OUTCOME, by="zoe")
    with Review.open(tmp_path) as review:  # a fresh connection reads what was stored
        audit = review.multi_arm_audit(OUTCOME).set_index(["study", "group"])
        row = audit.loc[("Multi 2017", "intervention")]
        assert (row["arms"], row["n_arms"], row["method"]) == (
            "group + one-to-one",
            2,
            HANDBOOK_COMBINE,
        )
        assert row["inputs"] == "group: n=28, mean=30, sd=7; one-to-one: n=29, mean=27, sd=8"
        assert (row["how"], row["recorded_by"], row["note"]) == (
            "combine",
            "dana",
            "combined, as planned",
        )
        assert audit.loc[("Multi 2017", "control"), "action"] == "as reported"
        comparisons = review.multi_arm_audit(OUTCOME, "comparisons").set_index("study")
        n, mean, sd = _combine((28, 30.0, 7.0), (29, 27.0, 8.0))
        multi = comparisons.loc["Multi 2017"]
        assert multi["comparison"] == "group + one-to-one vs tau"
        assert multi["n1i"] == n and multi["n2i"] == 30
        assert multi["m1i"] == pytest.approx(mean, rel=RTOL_CLOSED_FORM)
        assert multi["sd1i"] == pytest.approx(sd, rel=RTOL_CLOSED_FORM)
        # Se 2020 reported SEs on a reversed scale: SD = SE sqrt(n), means negated.
        se = _combine((55, -40.0, 1.2 * math.sqrt(55)), (52, -42.0, 1.3 * math.sqrt(52)))
        assert comparisons.loc["Se 2020", "sd1i"] == pytest.approx(se[2], rel=RTOL_CLOSED_FORM)
        assert (
            not review.extraction_table(OUTCOME).checks["check"].eq("multi-arm trail changed").any()
        )
        # A corrected value changes the combination: the table says the trail is stale.
        review.extract_value("ann", "Multi 2017", OUTCOME, "group", n=27)
        checks = review.extraction_table(OUTCOME).checks
        stale = checks[checks["check"] == "multi-arm trail changed"]
        assert stale["study"].tolist() == ["Multi 2017"] and not stale["excluded"].any()
        assert "settled by dana on" in stale["detail"].iloc[0]
        review.settle_multi_arm(OUTCOME, by="ann", note="n corrected")
        assert _count(review) == 3
        assert (
            review.multi_arm_audit(OUTCOME, "comparisons")
            .set_index("study")
            .loc["Multi 2017", "n1i"]
            == 56
        )
        assert review.extraction_table(OUTCOME).checks["check"].ne("multi-arm trail changed").all()


def test_split_rule_stores_the_shared_control(tmp_path: Path) -> None:
    write_protocol(tmp_path, "", **{_BLOCK: ONE_EXTRACTOR})
    with Review.open(tmp_path) as review:
        _extract(review)
        review.settle_multi_arm(OUTCOME, by="dana", multi_arm="split")
        audit = review.multi_arm_audit(OUTCOME)
        multi = audit[audit["study"] == "Multi 2017"]
        split = multi[multi["group"] == "control"].iloc[-1]
        assert split["action"] == "shared control split among 2 comparisons"
        assert split["method"] == "Cochrane Handbook 23.3.4"
        assert split["result"] == "n per comparison: 15, 15"
        comparisons = review.multi_arm_audit(OUTCOME, "comparisons")
        mine = comparisons[comparisons["study"] == "Multi 2017"]
        assert mine["n2i"].tolist() == [15.0, 15.0] and set(mine["how"]) == {"split"}
        assert mine["n1i"].tolist() == [28.0, 29.0]
        # The table computed with the other rule flags both multi-arm studies.
        checks = review.extraction_table(OUTCOME, multi_arm="combine").checks
        assert sorted(checks.loc[checks["check"] == "multi-arm trail changed", "study"]) == [
            "Multi 2017",
            "Se 2020",
        ]
        with pytest.raises(InputError, match="part = 'arms'"):
            review.multi_arm_audit(OUTCOME, "arms")
    # Removing the outcome would orphan the settled trails: refused.
    path = tmp_path / "review.toml"
    text = path.read_text(encoding="utf-8")
    block = '[outcomes.personal_recovery]\ngroup = "personal recovery"\ndirection = "higher"\n'
    assert block in text
    path.write_text(text.replace(block, ""), encoding="utf-8")
    with pytest.raises(InputError, match="'personal_recovery' was removed but has 2 settled"):
        Review.open(tmp_path)
