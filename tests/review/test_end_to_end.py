"""The reference screening workflow end to end, on SQLite and on PostgreSQL.

The test review (tests/data/review, see SOURCE.md) has 302 real records from three exports,
30 records found in both databases and one citation record that repeats a database record;
three screeners with known decisions at title/abstract, two at full text, and an arbiter.
The expected values below were counted by hand from decisions.csv and truth.csv
(make_review_data.py prints the same tables by plain counting): no value comes from
metasift itself.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from review_support import BACKENDS, DATA, ReviewData, write_protocol

from metasift.errors import DataWarning
from metasift.review import Review

#: Hand-counted agreement tables (rows ann include/exclude, columns other include/exclude),
#: "maybe" read as include as the protocol says.
TIAB_TABLES = {
    ("ann", "ben"): [[74, 12], [12, 167]],
    ("ann", "cleo"): [[75, 11], [16, 163]],
    ("ben", "cleo"): [[76, 10], [15, 164]],
}
FT_TABLES = {("ann", "ben"): [[35, 0], [5, 41]]}
#: Hand-computed from the tables (and, for Fleiss and Krippendorff, from the counts of
#: includes per record): see make_review_data.py.
TIAB_EXPECTED = {
    "percent_agreement": 227 / 265,
    "fleiss_kappa": 0.7840847365562205,
    "krippendorff_alpha": 0.7843563280825638,
}
FT_EXPECTED = {
    "percent_agreement": 76 / 81,
    "fleiss_kappa": 0.8758620689655171,
    "krippendorff_alpha": 0.8766283524904215,
}
PRISMA = {
    "previous_studies": 0,
    "previous_reports": 0,
    "database_results": 296,
    "database_specific_results": {"PubMed": 136, "PsycInfo": 160},
    "register_results": 0,
    "register_specific_results": {},
    "website_results": 0,
    "organisation_results": 0,
    "citations_results": 6,
    "duplicates": 30,
    "excluded_automatic": 0,
    "excluded_other": 1,
    "records_screened": 265,
    "records_excluded": 187,
    "dbr_sought_reports": 78,
    "dbr_notretrieved_reports": 2,
    "other_sought_reports": 5,
    "other_notretrieved_reports": 0,
    "dbr_assessed": 76,
    "dbr_excluded": {
        "Wrong population": 8,
        "Wrong intervention": 6,
        "Wrong comparator": 7,
        "Wrong study design": 7,
        "No usable outcome data": 9,
    },
    "other_assessed": 5,
    "other_excluded": {"Wrong population": 1, "Wrong intervention": 1, "Wrong study design": 2},
    "new_studies": 40,
    "new_reports": 40,
    "total_studies": 40,
    "total_reports": 40,
    "total_studies_ma": None,
    "total_reports_ma": None,
}
#: Sums of exact fractions computed in a different order: equal to rounding error.
RTOL_CLOSED_FORM = 1e-12


def kappa_of(table: list[list[int]]) -> float:
    """Cohen's kappa of a 2 x 2 table, from its definition."""
    (a, b), (c, d) = table
    n = a + b + c + d
    po = (a + d) / n
    pe = ((a + b) * (a + c) + (c + d) * (b + d)) / n**2
    return (po - pe) / (1 - pe)


def run_workflow(folder: Path, database_url: str) -> Review:
    """Import, deduplicate, pre-screen, screen, arbitrate, retrieve: the whole workflow."""
    data = ReviewData()
    write_protocol(folder, database_url)
    review = Review.open(folder)
    review.import_records(DATA / "psycinfo.ris", "PsycInfo")
    review.import_records(DATA / "pubmed.nbib", "PubMed")
    review.import_records(DATA / "citations.ris", "Citation searching")
    review.deduplicate()
    for row in review.prefilter().itertuples():
        doi = review.records([row.record_id])["doi"].iloc[0]
        accept = data.truth[doi]["prescreen"] == "accept"
        review.answer_prefilter([row.record_id], accept, by="dana", note="years")
    ids = data.pool_ids(review, "title_abstract")
    for who in ("ann", "ben", "cleo"):
        for vote in data.votes("title_abstract", who):
            review.decide(who, ids[vote["doi"]], vote["decision"])
    _arbitrate(review, data, "title_abstract")
    ft_ids = data.pool_ids(review, "full_text")
    missing = [ft_ids[d] for d, t in data.truth.items() if t["retrieval"] == "not retrieved"]
    review.mark_retrieval(missing, retrieved=False, by="dana", note="no library access")
    ft_ids = data.pool_ids(review, "full_text")
    for who in ("ann", "ben"):
        for vote in data.votes("full_text", who):
            review.decide(
                who, ft_ids[vote["doi"]], vote["decision"], "full_text", vote["reason"] or None
            )
    _arbitrate(review, data, "full_text")
    return review


def _arbitrate(review: Review, data: ReviewData, stage: str) -> None:
    conflicts = review.conflicts(stage)
    dois = review.records(sorted(set(conflicts["record_id"])))
    for record_id, doi in zip(dois["record_id"], dois["doi"], strict=True):
        truth = data.truth[doi]
        reason = truth["reason"] if stage == "full_text" else None
        review.resolve(
            record_id, truth[stage], "dana", "settled per protocol", stage, reason or None
        )


@pytest.fixture(scope="module", params=BACKENDS)
def finished(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Review:
    """The finished test review, once per backend (the tests below only read it)."""
    url = ""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    review = run_workflow(tmp_path_factory.mktemp(request.param), url)
    yield review
    review.close()


def test_prisma_counts_equal_hand_counts(finished: Review) -> None:
    flow = finished.prisma()
    assert flow.as_dict() == PRISMA
    assert flow.pending == {"title_abstract": 0, "full_text": 0}


def test_prisma_csv_has_the_template_layout(finished: Review, tmp_path: Path) -> None:
    path = finished.write_prisma(tmp_path / "out" / "PRISMA.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        written = list(csv.reader(handle))
    with (DATA / "PRISMA_template.csv").open(encoding="utf-8", newline="") as handle:
        template = list(csv.reader(handle))
    assert [row[:7] for row in written] == [row[:7] for row in template]
    values = {row[0]: row[7] for row in written[1:]}
    assert values["records_screened"] == "265"
    assert values["database_specific_results"] == "PubMed, 136; PsycInfo, 160"
    assert values["dbr_excluded"].startswith("Wrong population, 8; Wrong intervention, 6")
    assert values["total_studies_ma"] == "NA"


@pytest.mark.parametrize(
    ("stage", "tables", "expected"),
    [
        ("title_abstract", TIAB_TABLES, TIAB_EXPECTED),
        ("full_text", FT_TABLES, FT_EXPECTED),
    ],
)
def test_agreement_equals_hand_computation(
    finished: Review, stage: str, tables: dict, expected: dict
) -> None:
    result = finished.agreement(stage)
    for pair in result.pairs:
        table = tables[(pair.reviewer_1, pair.reviewer_2)]
        n = sum(map(sum, table))
        assert pair.kappa.n == n
        assert pair.kappa.estimate == pytest.approx(kappa_of(table), rel=RTOL_CLOSED_FORM)
        agree = (table[0][0] + table[1][1]) / n
        assert pair.percent.estimate == pytest.approx(agree, rel=RTOL_CLOSED_FORM)
    assert len(result.pairs) == len(tables)
    assert result.percent.estimate == pytest.approx(
        expected["percent_agreement"], rel=RTOL_CLOSED_FORM
    )
    assert result.fleiss.estimate == pytest.approx(expected["fleiss_kappa"], rel=RTOL_CLOSED_FORM)
    assert result.krippendorff.estimate == pytest.approx(
        expected["krippendorff_alpha"], rel=RTOL_CLOSED_FORM
    )
    assert result.fleiss.ci_lb < result.fleiss.estimate < result.fleiss.ci_ub


def test_status_and_stage_states(finished: Review) -> None:
    status = finished.status().to_dict()
    assert status["records"] == 302
    assert status["dedup"] == {
        "duplicates": 31,
        "possible": 0,
        "pairs_to_review": 0,
        "not_deduplicated": 0,
    }
    assert status["prefilter"] == {"pending": 0, "accepted": 1, "rejected": 1}
    tiab = status["stages"]["title_abstract"]
    assert (tiab["pool"], tiab["agreed"], tiab["resolved"], tiab["conflict"]) == (265, 227, 38, 0)
    assert tiab["reviewers"]["ann"] == {"assigned": 265, "decided": 265, "remaining": 0}
    ft = status["stages"]["full_text"]
    assert (ft["pool"], ft["agreed"], ft["resolved"], ft["include"]) == (81, 75, 6, 40)


def test_incomplete_review_warns_when_writing_prisma(tmp_path: Path) -> None:
    write_protocol(tmp_path)
    with Review.open(tmp_path) as review:
        review.import_records(DATA / "citations.ris", "Citation searching")
        review.import_records(DATA / "psycinfo.ris", "PsycInfo")
        flow = review.prisma()
        assert flow.pending["title_abstract"] == 160
        assert flow.records_screened == 160 and flow.citations_results == 6
        with pytest.warns(DataWarning, match="in progress"):
            review.write_prisma()
        assert (tmp_path / "output" / "PRISMA.csv").is_file()
