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


def test_derived_status_follows_events_written_by_another_connection(tmp_path: Path) -> None:
    # Item status is derived once and reused until events of its kind change; a write
    # through another Review on the same store (another process, in real use) must show.
    text = (
        '[classification]\ncoders = ["ann"]\n'
        '[classification.facets.setting]\ncategories = ["a", "b"]'
    )
    with Review.create(tmp_path, "Cache") as first:
        toml = tmp_path / "review.toml"
        toml.write_text(toml.read_text().replace("[classification]", text, 1))
    with Review.open(tmp_path) as first, Review.open(tmp_path) as second:
        first.add_study("Lee 2019")
        assert first.classification_table()["setting"].isna().all()
        second.classify("ann", "Lee 2019", {"setting": "b"})
        assert first.classification_table().loc["Lee 2019", "setting"] == "b"
        first.classify("ann", "Lee 2019", {"setting": "a"})
        assert second.classification_table().loc["Lee 2019", "setting"] == "a"
        assert first.classification_table().loc["Lee 2019", "setting"] == "a"
