"""Screening rules: blindness, assignment, conflicts, arbiter, closed stages, pre-screening,
protocol edits that would orphan decisions, and the records of an import."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_support import DATA, write_protocol
from sqlalchemy import func, select

from metasift.errors import InputError
from metasift.review import Review
from metasift.review._schema import Decision, Resolution

REASON = "Wrong population"


@pytest.fixture
def review(tmp_path: Path) -> Review:
    """PsycInfo (160 records) and citation searching (6), deduplicated."""
    write_protocol(tmp_path)
    opened = Review.open(tmp_path)
    opened.import_records(DATA / "psycinfo.ris", "PsycInfo")
    opened.import_records(DATA / "citations.ris", "Citation searching")
    opened.deduplicate()
    yield opened
    opened.close()


def _pool(review: Review, stage: str = "title_abstract") -> list[int]:
    return [int(r) for r in review.stage_table(stage)["record_id"]]


def _count(review: Review, table: type) -> int:
    with review.store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)))


def _to_full_text(review: Review, record: int) -> None:
    for who in ("ann", "ben", "cleo"):
        review.decide(who, record, "include")


def test_imports_keep_file_and_database_and_refuse_repeats(review: Review) -> None:
    records = review.records()
    assert len(records) == 166
    first = records.iloc[0]
    assert (first["source_file"], first["database"], first["kind"]) == (
        "psycinfo.ris",
        "PsycInfo",
        "database",
    )
    assert first["source_key"] == "psycinfo.ris#1"
    assert review.record_id("psycinfo.ris#1") == first["record_id"]
    with pytest.raises(InputError, match="imported already"):
        review.import_records(DATA / "psycinfo.ris", "PsycInfo")
    with pytest.raises(InputError, match=r"database 'Embase' is not in review\.toml"):
        review.import_records(DATA / "pubmed.nbib", "Embase")
    with pytest.raises(InputError, match="does not exist"):
        review.import_records(DATA / "nothing.ris", "PubMed")
    assert len(review.records()) == 166
    assert (review.folder / "records" / "psycinfo.ris").is_file()


def test_blind_until_every_assigned_reviewer_decided(review: Review) -> None:
    record = _pool(review)[0]
    review.decide("ann", record, "include", note="looks relevant")
    assert review.conflicts().empty
    assert record not in set(review.decisions("ben")["record_id"])
    assert record in set(review.queue("ben")["record_id"])
    assert not {"decision", "reviewer", "note"} & set(review.queue("ben").columns)
    row = review.stage_table().set_index("record_id").loc[record]
    assert (row["status"], row["final"]) == ("pending", None)
    assert record not in review.ratings().index
    sheet = review.export_sheet("ben", review.folder / "ben.csv")
    assert "looks relevant" not in sheet.read_text(encoding="utf-8-sig")
    review.decide("ben", record, "exclude")
    assert review.conflicts().empty  # cleo has not decided yet
    review.decide("cleo", record, "include")
    conflict = review.conflicts()
    assert list(conflict["reviewer"]) == ["ann", "ben", "cleo"]
    assert list(conflict["note"]) == ["looks relevant", "", ""]
    assert list(review.ratings().loc[record]) == ["include", "exclude", "include"]


def test_decisions_are_events_and_the_latest_counts(review: Review) -> None:
    record = _pool(review)[1]
    review.decide("ann", record, "exclude")
    review.decide("ann", record, "maybe")
    review.decide("ann", record, "include")
    assert _count(review, Decision) == 3
    assert review.decisions("ann").set_index("record_id").loc[record, "decision"] == "include"


def test_unknown_people_records_and_values_are_refused(review: Review) -> None:
    record = _pool(review)[0]
    with pytest.raises(InputError, match=r"reviewer 'zoe' is not in the team"):
        review.decide("zoe", record, "include")
    with pytest.raises(InputError, match="'dana' does not screen at title_abstract"):
        review.queue("dana")
    with pytest.raises(InputError, match="record 99999 is not in this review"):
        review.decide("ann", 99999, "include")
    with pytest.raises(InputError, match=r"record 'pubmed\.nbib#4' is not in this review"):
        review.decide("ann", "pubmed.nbib#4", "include")
    with pytest.raises(InputError, match="decision 'perhaps' is not allowed"):
        review.decide("ann", record, "perhaps")
    with pytest.raises(InputError, match=r"a reason .* goes with an exclusion only"):
        review.decide("ann", record, "include", reason=REASON)
    citation = review.record_id("citations.ris#1")
    with pytest.raises(InputError, match="assessed at full text only"):
        review.decide("ann", citation, "include")
    duplicate = review.record_id("citations.ris#6")
    with pytest.raises(InputError, match="is a duplicate of record"):
        review.decide("ann", duplicate, "exclude", "full_text", REASON)
    assert _count(review, Decision) == 0


def test_full_text_needs_a_reason_from_the_list(review: Review) -> None:
    record = _pool(review)[0]
    with pytest.raises(InputError, match="not included at title_abstract"):
        review.decide("ann", record, "include", "full_text")
    _to_full_text(review, record)
    with pytest.raises(InputError, match="needs a reason, one of"):
        review.decide("ann", record, "exclude", "full_text")
    with pytest.raises(InputError, match="reason 'Too small' is not in the protocol"):
        review.decide("ann", record, "exclude", "full_text", "Too small")
    with pytest.raises(InputError, match="'cleo' does not screen at full_text"):
        review.decisions("cleo", "full_text")
    review.decide("ann", record, "exclude", "full_text", REASON)
    review.decide("ben", record, "exclude", "full_text", "Wrong comparator")
    assert review.stage_table("full_text").set_index("record_id").loc[record, "status"] == (
        "conflict"
    )


def test_arbiter_rules(review: Review) -> None:
    agreed, conflict = _pool(review)[:2]
    _to_full_text(review, agreed)
    for who, decision in (("ann", "include"), ("ben", "exclude"), ("cleo", "exclude")):
        review.decide(who, conflict, decision)
    with pytest.raises(InputError, match="'ann' is not the arbiter of title_abstract"):
        review.resolve(conflict, "include", "ann", "note")
    with pytest.raises(InputError, match=r"not in conflict .*status: agreed"):
        review.resolve(agreed, "exclude", "dana", "note")
    with pytest.raises(InputError, match="the arbiter decides include or exclude"):
        review.resolve(conflict, "maybe", "dana", "note")
    with pytest.raises(InputError, match="needs a note"):
        review.resolve(conflict, "include", "dana", "  ")
    with pytest.raises(InputError, match="no arbiter decision to amend"):
        review.resolve(conflict, "include", "dana", "note", amend=True)
    review.resolve(conflict, "include", "dana", "population fits")
    with pytest.raises(InputError, match="a second arbiter decision is refused"):
        review.resolve(conflict, "exclude", "dana", "changed my mind")
    with pytest.raises(InputError, match="was resolved by the arbiter"):
        review.decide("ben", conflict, "include")
    review.resolve(conflict, "exclude", "dana", "misread the abstract", amend=True)
    table = review.stage_table().set_index("record_id")
    assert (table.loc[conflict, "status"], table.loc[conflict, "final"]) == ("resolved", "exclude")
    assert _count(review, Resolution) == 2


def test_amending_cannot_orphan_full_text_decisions(review: Review) -> None:
    record = _pool(review)[0]
    for who, decision in (("ann", "include"), ("ben", "exclude"), ("cleo", "include")):
        review.decide(who, record, decision)
    review.resolve(record, "include", "dana", "fits")
    review.decide("ann", record, "include", "full_text")
    with pytest.raises(InputError, match="would orphan them"):
        review.resolve(record, "exclude", "dana", "oops", amend=True)


def test_closed_stage_refuses_decisions_until_reopened(review: Review) -> None:
    record = _pool(review)[0]
    with pytest.raises(InputError, match="cannot close: 160 records have no final decision"):
        review.close_stage("title_abstract", "dana")
    for rec in _pool(review):
        for who in ("ann", "ben", "cleo"):
            review.decide(who, rec, "exclude")
    with pytest.raises(InputError, match="only the arbiter"):
        review.close_stage("title_abstract", "ann")
    review.close_stage("title_abstract", "dana", "done")
    with pytest.raises(InputError, match="stage title_abstract was closed by dana"):
        review.decide("ann", record, "include")
    assert review.queue("ann").empty
    with pytest.raises(InputError, match="needs a note"):
        review.reopen_stage("title_abstract", "dana", "")
    review.reopen_stage("title_abstract", "dana", "one more look")
    review.decide("ann", record, "include")


def test_maybe_can_send_records_to_the_arbiter(tmp_path: Path) -> None:
    write_protocol(tmp_path, **{'maybe = "include"': 'maybe = "conflict"'})
    with Review.open(tmp_path) as review:
        review.import_records(DATA / "psycinfo.ris", "PsycInfo")
        first, second = _pool(review)[:2]
        for who in ("ann", "ben", "cleo"):
            review.decide(who, first, "maybe")
            review.decide(who, second, "include")
        table = review.stage_table().set_index("record_id")
        assert table.loc[first, "status"] == "conflict"
        assert table.loc[second, "status"] == "agreed"
        assert review.agreement().categories == ("include", "maybe")


def test_balanced_assignment(tmp_path: Path) -> None:
    write_protocol(
        tmp_path,
        **{
            'screeners = ["ann", "ben", "cleo"]     # default: the whole team but the arbiter\n'
            'assignment = "all"\nreviewers_per_record = 3': 'assignment = "balanced"\n'
            "reviewers_per_record = 2"
        },
    )
    with Review.open(tmp_path) as review:
        review.import_records(DATA / "psycinfo.ris", "PsycInfo")
        queues = {who: set(review.queue(who)["record_id"]) for who in ("ann", "ben", "cleo")}
        assert sorted(len(q) for q in queues.values()) == [106, 107, 107]
        pool = set(_pool(review))
        for record in pool:
            assert sum(record in q for q in queues.values()) == 2
        assert {w: set(review.queue(w)["record_id"]) for w in queues} == queues
        outsider = next(r for r in pool if r not in queues["ann"])
        with pytest.raises(InputError, match="is not assigned to ann"):
            review.decide("ann", outsider, "include")
        status = review.status().to_dict()["stages"]["title_abstract"]
        assert status["unscreened"] == 160 and status["unassigned"] == 0


def test_prefilter_proposes_and_people_decide(review: Review) -> None:
    proposals = review.prefilter()
    assert list(proposals["year"]) == [1983]
    assert proposals["answer"].tolist() == ["pending"]
    assert "outside the protocol years 1990-" in proposals["proposal"].iloc[0]
    record = int(proposals["record_id"].iloc[0])
    assert record in _pool(review)
    assert review.queue("ann").set_index("record_id").loc[record, "flag"].startswith("published")
    with pytest.raises(InputError, match="has no pre-screening proposal"):
        review.answer_prefilter([_pool(review)[5]], True, "dana")
    assert review.answer_prefilter(None, True, "dana", "before 1990") == 1
    assert record not in _pool(review)
    assert review.prisma().excluded_other == 1
    with pytest.raises(InputError, match="excluded before screening"):
        review.decide("ann", record, "include")
    review.answer_prefilter([record], False, "dana", "keep it after all")
    assert record in _pool(review)


def test_language_filter_needs_a_known_language(tmp_path: Path) -> None:
    write_protocol(tmp_path, **{"languages = []": 'languages = ["English"]'})
    export = tmp_path / "lang.ris"
    export.write_text(
        "".join(
            f"TY  - JOUR\nTI  - Trial {i}\nPY  - 2015\n{la}ER  - \n\n"
            for i, la in enumerate(["LA  - eng\n", "LA  - French\n", "", "LA  - English; German\n"])
        ),
        encoding="utf-8",
    )
    with Review.open(tmp_path) as review:
        review.import_records(export, "PubMed")
        proposals = review.prefilter()
        assert proposals["title"].tolist() == ["Trial 1"]
        assert "language 'French' is not among" in proposals["proposal"].iloc[0]


def test_protocol_edits_that_orphan_decisions_are_refused(review: Review) -> None:
    record = _pool(review)[0]
    _to_full_text(review, record)
    review.decide("ann", record, "exclude", "full_text", REASON)
    review.answer_prefilter(None, True, "dana")
    review.close()
    path = review.folder / "review.toml"
    original = path.read_text(encoding="utf-8")
    without_cleo = original.replace(
        'reviewers = ["ann", "ben", "cleo", "dana"]', 'reviewers = ["ann", "ben", "dana"]'
    ).replace('screeners = ["ann", "ben", "cleo"]', 'screeners = ["ann", "ben"]')
    without_cleo = without_cleo.replace("reviewers_per_record = 3", "reviewers_per_record = 2")
    edits = {
        "'cleo' was removed but has 1 screening decisions": without_cleo,
        "'Wrong population' is used by 1 decisions": original.replace(
            '  "Wrong population",\n', ""
        ),
        "'PsycInfo' was removed but 160 records": original.replace(
            'name = "PsycInfo"', 'name = "Scopus"'
        ),
        "kind of 'PsycInfo' changed": original.replace(
            'name = "PsycInfo"\nkind = "database"', 'name = "PsycInfo"\nkind = "register"'
        ),
        "1 records excluded before screening": original.replace(
            "years = { from = 1990 }", "years = {}"
        ),
    }
    for message, edited in edits.items():
        assert edited != original
        path.write_text(edited, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            Review.open(review.folder)
    path.write_text(original, encoding="utf-8")
    with Review.open(review.folder) as again:
        assert _count(again, Decision) == 4


def test_person_duplicate_decisions_and_canonical_preference(review: Review) -> None:
    first, second = _pool(review)[:2]
    review.decide("ann", second, "include")
    review.resolve_duplicate(first, second, True, by="ann", note="same trial")
    table = review.stage_table()
    assert second not in set(table["record_id"])  # merged into the group of `first`
    assert review.prisma().duplicates == 1
    review.deduplicate()  # a new run keeps the decision and prefers the decided record
    pool = set(_pool(review))
    assert second in pool and first not in pool
    review.resolve_duplicate(first, second, False, by="ann", note="two reports after all")
    assert {first, second} <= set(_pool(review))
    with pytest.raises(InputError, match="cannot be a duplicate of itself"):
        review.resolve_duplicate(first, first, True, by="ann")


def test_retrieval_rules(review: Review) -> None:
    record = _pool(review)[0]
    with pytest.raises(InputError, match="is not sought at full text"):
        review.mark_retrieval([record], False, "dana")
    _to_full_text(review, record)
    review.mark_retrieval([record], False, "dana", "not in any library")
    assert record not in _pool(review, "full_text")
    assert review.prisma().dbr_notretrieved_reports == 1
    review.mark_retrieval([record], True, "dana", "found it")
    review.decide("ann", record, "include", "full_text")
    with pytest.raises(InputError, match="has full-text decisions"):
        review.mark_retrieval([record], False, "dana")
