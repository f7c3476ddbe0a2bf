"""Deduplication: labelled benchmark sets, no record lost, undo/resolve, PRISMA counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import records

from metasift.errors import InputError
from metasift.records import deduplicate, read_records

DATA = Path(__file__).resolve().parents[1] / "data" / "records" / "dedup"
RENAME = {
    "ID": "record_id",
    "author": "authors",
    "number": "issue",
    "ENTRYTYPE": "publication_type",
}
# Sensitivity of bib-dedupe on each set (its output/current_results.md, 2024-09-08, copied
# in ../shared/benchmarks/dedup_bib-dedupe_sra_colrev/published_results/): the goal is to
# exceed it with no false removal.
BIB_DEDUPE_SENSITIVITY = {
    "cytology_screening": 0.9922,
    "respiratory": 0.9358,
    "special_cases": 0.3333,
}


def _load(name: str) -> tuple[pd.DataFrame, list[list[str]]]:
    frame = pd.read_csv(DATA / name / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(DATA / name / "merged_record_ids.csv", dtype=str)
    return frame.rename(columns=RENAME).replace("", None), [
        r.split(";") for r in truth["merged_ids"]
    ]


def _confusion(decisions: pd.DataFrame, clusters: list[list[str]]) -> dict[str, int]:
    """bib-dedupe's record-level metric (SOURCE.md of the benchmark folder)."""
    removed = set(decisions.loc[decisions["status"] == "duplicate", "record_id"])
    counts = dict.fromkeys(("TP", "FP", "FN", "TN"), 0)
    clustered = {r for c in clusters for r in c}
    for cluster in clusters:
        kept = sum(r not in removed for r in cluster)
        if kept == 0:
            counts["FP"] += 1
            counts["TP"] += len(cluster) - 1
        else:
            counts["TN"] += 1
            counts["FN"] += kept - 1
            counts["TP"] += len(cluster) - kept
    for record_id in set(decisions["record_id"]) - clustered:
        counts["FP" if record_id in removed else "TN"] += 1
    return counts


@pytest.mark.parametrize("name", sorted(BIB_DEDUPE_SENSITIVITY))
def test_benchmark_no_false_removal_and_better_sensitivity(name: str) -> None:
    frame, clusters = _load(name)
    decisions = deduplicate(frame).decisions
    counts = _confusion(decisions, clusters)
    assert sum(counts.values()) == len(frame)
    assert counts["FP"] == 0
    assert counts["TP"] / (counts["TP"] + counts["FN"]) > BIB_DEDUPE_SENSITIVITY[name]
    label = {r: k for k, c in enumerate(clusters) for r in c}
    for record_id, canonical in zip(decisions["record_id"], decisions["canonical_id"], strict=True):
        assert label.get(record_id, record_id) == label.get(canonical, canonical)


def test_special_cases_exactly() -> None:
    frame, _ = _load("special_cases")
    table = deduplicate(frame).decisions.set_index("record_id")
    assert table.loc["id_0000002", "canonical_id"] == "id_0000001"
    assert table.loc["id_0000006", "canonical_id"] == "id_0000005"
    # 11 has the DOI that 7 lacks, so 11 is the more complete record and becomes canonical.
    assert table.loc["id_0000007", "canonical_id"] == "id_0000011"
    # Same title, other year and DOI (3/4); conference 2011 vs journal 2014 (9/10);
    # conference 2003 vs article 2004 (12 vs 7): never merged.
    for record_id in ("id_0000003", "id_0000004", "id_0000009", "id_0000010", "id_0000012"):
        assert table.loc[record_id, "canonical_id"] == record_id


def test_endnote_export_deduplicates_like_its_csv() -> None:
    result = deduplicate(read_records(DATA.parent / "endnote_respiratory.xml"))
    assert result.decisions["status"].eq("duplicate").sum() == 421
    counts = result.counts()
    assert counts["records"].iloc[-1] == 1988
    assert counts["kept"].iloc[-1] == 1988 - 421


@settings(max_examples=40, deadline=None)
@given(st.lists(records(), min_size=1, max_size=12), st.data())
def test_no_record_is_lost(recs: list[dict[str, object]], data: st.DataObject) -> None:
    copies = data.draw(st.lists(st.integers(0, len(recs) - 1), max_size=6))
    rows = recs + [dict(recs[k], title=str(recs[k]["title"]).upper()) for k in copies]
    frame = pd.DataFrame(rows).assign(record_id=[f"r{k}" for k in range(len(rows))])
    result = deduplicate(frame)
    table = result.to_frame()
    assert table["record_id"].tolist() == frame["record_id"].tolist()
    assert set(table["status"]) <= {"unique", "duplicate", "possible"}
    kept = table.set_index("record_id")
    for _, row in table.iterrows():
        assert kept.loc[row["canonical_id"], "canonical_id"] == row["canonical_id"]
        assert (row["status"] == "duplicate") == (row["canonical_id"] != row["record_id"])


def _pair() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "title": ["Peer support for adults with serious mental illness"] * 2
            + ["Recovery colleges in England"],
            "authors": ["Smith, J. and Jones, A."] * 2 + ["Lee, K."],
            "year": [2018, 2018, 2016],
            "volume": ["69", "69", None],
            "pages": ["400-408", "400", None],
            "database": ["PubMed", "Embase", "Embase"],
        }
    )


def test_merge_can_be_undone_and_counts_follow() -> None:
    result = deduplicate(_pair())
    assert result.to_frame()["status"].tolist() == ["unique", "duplicate", "unique"]
    assert "pages" in result.decisions.loc[1, "reason"]
    undone = result.undo("b")
    assert undone.to_frame()["status"].tolist() == ["unique", "unique", "unique"]
    assert undone.to_frame()["canonical_id"].tolist() == ["a", "b", "c"]
    counts = result.counts().set_index("database")
    assert counts.loc["Embase", "duplicates"] == 1
    assert counts.loc["total", "kept"] == 2
    with pytest.raises(InputError, match="not in a duplicate group"):
        undone.undo("b")


def test_undo_of_a_canonical_record_keeps_the_rest_together() -> None:
    frame = pd.concat([_pair().iloc[:2], _pair().iloc[:1].assign(record_id="d")], ignore_index=True)
    result = deduplicate(frame)
    assert result.to_frame()["canonical_id"].tolist() == ["a", "a", "a"]
    undone = result.undo("a").to_frame()
    assert undone["canonical_id"].tolist() == ["a", "b", "b"]


def test_queue_resolution_by_a_person() -> None:
    frame = pd.DataFrame(
        {
            "record_id": ["x", "y"],
            "title": ["Recovery colleges in England: a survey", "Recovery colleges in England"],
            "authors": ["Lee, K.", "Lee, K."],
            "year": [2020, 2020],
        }
    )
    result = deduplicate(frame)
    assert result.to_frame()["status"].tolist() == ["possible", "possible"]
    assert result.queue[["record_id_1", "record_id_2"]].values.tolist() == [["x", "y"]]
    merged = result.resolve("x", "y", duplicate=True).to_frame()
    assert merged["canonical_id"].tolist() == ["x", "x"]
    assert merged["status"].tolist() == ["unique", "duplicate"]
    distinct = result.resolve("x", "y", duplicate=False)
    assert distinct.to_frame()["status"].tolist() == ["unique", "unique"]
    assert len(distinct.queue) == 0


def test_group_reports_links_a_conference_abstract_to_its_article() -> None:
    frame = _pair().assign(publication_type=["article", "article", "conference abstract"])
    frame.loc[2, ["title", "authors"]] = frame.loc[0, ["title", "authors"]]
    result = deduplicate(frame, group_reports=True)
    table = result.to_frame()
    assert table["canonical_id"].tolist() == ["a", "a", "c"]
    assert table["study_id"].tolist() == ["a", "a", "a"]


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="record_id 'a' appears 2 times"):
        deduplicate(pd.DataFrame({"record_id": ["a", "a"], "title": ["x", "y"]}))
    with pytest.raises(InputError, match="'title' column"):
        deduplicate(pd.DataFrame({"record_id": ["a"]}))
    with pytest.raises(InputError, match="DataFrame or ImportResult"):
        deduplicate([1, 2])  # type: ignore[arg-type]
