"""A review with studies entered directly (no records screened in metasift) still reports
its PRISMA counts and status: zero records, not an error."""

from __future__ import annotations

from pathlib import Path

from metasift.review import Review


def test_prisma_and_status_of_a_store_without_records(tmp_path: Path) -> None:
    with Review.create(tmp_path, "No records") as review:
        review.add_study("Lee 2019")
        flow = review.prisma()
        assert flow.records_screened == 0
        assert flow.duplicates == 0
        assert flow.total_studies == 0
        stage = review.status().stages["title_abstract"]
        assert stage["pool"] == 0 and stage["include"] == 0
