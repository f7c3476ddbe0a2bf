"""Property-based tests of every reader and writer, and a fuzzing pass over the corpus."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import endnote_xml, medline_text, pubmed_xml, records, scopus_csv, wos_text

from metasift.errors import InputError
from metasift.records import read_records_bytes
from metasift.records._model import records_frame
from metasift.records._write import records_to_text

CORPUS = Path(__file__).resolve().parents[1] / "data" / "records"
FIELDS = ("title", "authors", "year", "journal", "volume", "pages_start", "pages_end", "doi")
WRITTEN = (*FIELDS, "abstract", "issue", "pmid", "keywords")
record_lists = st.lists(records(), min_size=1, max_size=4)


def _value(value: Any) -> Any:
    if isinstance(value, list):
        return value
    return None if pd.isna(value) else value


def _check(got: pd.DataFrame, expected: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    assert len(got) == len(expected)
    for row, record in zip(got.to_dict("records"), expected, strict=True):
        for field in fields:
            assert _value(row[field]) == record[field], (field, row[field], record[field])


@settings(max_examples=40, deadline=None)
@given(record_lists, st.sampled_from(["ris", "csv", "bibtex"]))
def test_writers_round_trip_through_the_readers(recs: list[dict[str, Any]], fmt: str) -> None:
    text = records_to_text(records_frame(recs), fmt)
    result = read_records_bytes(text.encode("utf-8"), source_name=f"out.{fmt}")
    assert result.problems == ()
    _check(result.records, recs, WRITTEN)


@settings(max_examples=30, deadline=None)
@given(record_lists, st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(["utf-8", "cp1252"]))
def test_ris_line_ends_preamble_and_encodings(
    recs: list[dict[str, Any]], end: str, encoding: str
) -> None:
    text = records_to_text(records_frame(recs), "ris").replace("\n", end)
    data = ("Provider: test" + end + "1." + end + text).encode(encoding, errors="replace")
    result = read_records_bytes(data, source_name="x.ris")
    expected = [r["title"].encode(encoding, "replace").decode(encoding) for r in recs]
    assert result.records["title"].tolist() == expected
    assert result.records["doi"].tolist() == [r["doi"] for r in recs]


@settings(max_examples=40, deadline=None)
@given(record_lists)
def test_medline_reader(recs: list[dict[str, Any]]) -> None:
    result = read_records_bytes(medline_text(recs).encode(), source_name="pubmed.nbib")
    assert result.formats == {"pubmed.nbib": "medline"}
    _check(result.records, recs, (*FIELDS, "abstract"))


@settings(max_examples=40, deadline=None)
@given(record_lists)
def test_wos_plain_reader(recs: list[dict[str, Any]]) -> None:
    result = read_records_bytes(wos_text(recs).encode(), source_name="savedrecs.txt")
    assert result.formats == {"savedrecs.txt": "wos"}
    _check(result.records, recs, (*FIELDS, "issue", "pmid"))


@settings(max_examples=40, deadline=None)
@given(record_lists)
def test_endnote_xml_reader(recs: list[dict[str, Any]]) -> None:
    result = read_records_bytes(endnote_xml(recs), source_name="library.xml")
    _check(result.records, recs, FIELDS)


@settings(max_examples=40, deadline=None)
@given(record_lists)
def test_pubmed_xml_reader(recs: list[dict[str, Any]]) -> None:
    result = read_records_bytes(pubmed_xml(recs), source_name="pubmed.xml")
    _check(result.records, recs, FIELDS)


@settings(max_examples=40, deadline=None)
@given(record_lists)
def test_scopus_csv_reader(recs: list[dict[str, Any]]) -> None:
    result = read_records_bytes(scopus_csv(recs).encode("utf-8-sig"), source_name="scopus.csv")
    assert result.formats == {"scopus.csv": "scopus_csv"}
    _check(result.records, recs, (*FIELDS, "issue", "pmid"))


def _read_or_input_error(data: bytes) -> None:
    try:
        result = read_records_bytes(data, source_name="fuzz")
    except InputError:
        return
    assert result.records["record_id"].is_unique
    assert all(p.record >= 0 for p in result.problems)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_raise_only_input_error(data: bytes) -> None:
    _read_or_input_error(data)


_FRAGMENTS = [
    "TY  - JOUR",
    "ER  - ",
    "TI  - x",
    "AU  - ,",
    "PY  - 0",
    "SP  - -",
    "PMID- 1",
    "FAU - ",
    "      more",
    "@article{k,",
    "title={a}",
    "}",
    "<record>",
    "<PubmedArticle>",
    "PT J",
    "ER",
    "EF",
    "FN x",
    "AU a",
    "Title,Authors",
    '"a","b"',
    "\t",
    "DO  - 10.1/",
    "KW  - ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=20), max_size=30))
def test_format_like_text_raises_only_input_error(lines: list[str]) -> None:
    _read_or_input_error("\n".join(lines).encode("utf-8", errors="replace"))


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(buffer[: rng.randrange(len(buffer) + 1)])
    for _ in range(rng.randrange(1, 20)):
        position = rng.randrange(len(buffer) + 1)
        if kind == 1 and buffer:
            buffer[min(position, len(buffer) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 2:
            buffer[position:position] = bytes(
                rng.randrange(256) for _ in range(rng.randrange(1, 8))
            )
        else:
            del buffer[position : position + rng.randrange(1, 40)]
    return bytes(buffer)


def test_fuzzing_pass_over_the_corpus() -> None:
    """Seeded mutations (truncation, bit flips, insertions, deletions) of every small export."""
    rng = random.Random(20240501)
    files = [p for p in sorted(CORPUS.iterdir()) if p.is_file() and p.stat().st_size < 50_000]
    assert len(files) >= 15
    for path in files:
        data = path.read_bytes()
        for _ in range(40):
            _read_or_input_error(_mutate(data, rng))
