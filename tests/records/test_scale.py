"""The record-set generator and the pieces that make large imports and deduplications fast:
each fast path is checked against the plain computation it replaces."""

from __future__ import annotations

import gc
import html
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metasift.errors import InputError
from metasift.records import deduplicate, read_records_bytes, simulate_records
from metasift.records._dedup_blocks import MAX_BLOCK, candidate_pairs
from metasift.records._dedup_prepare import page_span, prepare
from metasift.records._normalise import clean_text, fold, normalise_pages
from metasift.records._tagged import _RIS, _ris_tag, _tokenize, iter_ris
from metasift.records._text import iter_lines, no_gc, split_lines

_TAG = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|sc|span|mml:[a-z]+|scp)\b[^>]*>", re.I)
# Any character a title may hold, spaces of every kind and control characters included.
_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


def _fold_reference(text: str) -> str:
    """fold() as first written: accents stripped one character at a time, regexes."""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", _TAG.sub("", text))
        if not unicodedata.combining(ch)
    ).lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]|_", " ", text)).strip()


def _clean_reference(text: str) -> str | None:
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip() or None


@settings(max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_fold_fast_path_equals_the_reference(text: str) -> None:
    assert fold(text) == _fold_reference(text)


@settings(max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_clean_text_equals_the_regex_reference(text: str) -> None:
    assert clean_text(text) == _clean_reference(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n ", max_size=60), st.integers(1, 8))
def test_iter_lines_in_chunks_equals_split_lines(text: str, chunk: int) -> None:
    assert list(iter_lines(text, chunk=chunk)) == split_lines(text)


def test_no_gc_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with no_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with no_gc():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_ris_fast_tag_lines_read_like_the_line_reader() -> None:
    text = (
        "1.\nTY  - JOUR\nTI  - A long\n  title continued\nAU  - Smith, J\n\nKW  - a\nb\n"
        "ER  - \n\nTY  - JOUR\nT1 -  loose spacing\nER  - \nTY  - JOUR\nTI  - no end"
    )
    records = list(iter_ris(text))
    assert records == list(_tokenize(text, _RIS, _ris_tag))
    assert records[0]["fields"] == {
        "TY": ["JOUR"],
        "TI": ["A long title continued"],
        "AU": ["Smith, J"],
        "KW": ["a", "b"],
    }
    assert records[1]["fields"]["T1"] == ["loose spacing"]
    assert records[2]["problems"] == [("record", "file ends before the ER line")]


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("01-Sep", ("1", "9")),  # a spreadsheet's date for 1-9
        ("Jun-12", ("6", "12")),
        ("12-19", ("12", "19")),
        ("349-69", ("349", "369")),
    ],
)
def test_pages_turned_into_dates_are_recovered(pages: str, expected: tuple[str, str]) -> None:
    assert normalise_pages(pages) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("233-238+230-235+246-251", None, (230, 235)),
        ("230-5, 246-51, 233-8", None, (230, 235)),
        ("280-284; discussion 285", None, (280, 284)),
        ("448+", None, (448, -1)),
        ("1", None, (-1, -1)),
        ("1", "6", (1, 6)),
        ("Suppl-48", None, (-1, -1)),
        ("e0212345", None, (-1, -1)),
        (None, None, (-1, -1)),
    ],
)
def test_page_span(start: str | None, end: str | None, expected: tuple[int, int]) -> None:
    assert page_span(start, end) == expected


def test_a_block_larger_than_max_block_keeps_its_close_pairs() -> None:
    # 3 * MAX_BLOCK records share the last title characters, one first author and one
    # year; windows over their sorted titles still pair each with its neighbour.
    n = 3 * MAX_BLOCK
    titles = [f"{k:05d} x" + " in adults: a randomised controlled trial" for k in range(n)]
    frame = pd.DataFrame({"title": titles, "authors": ["Wang, L."] * n, "year": [2020] * n})
    i, j = candidate_pairs(prepare(frame))
    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert all((k, k + 1) in pairs for k in range(n - 1))
    assert len(pairs) < n * (n - 1) // 2 // 2  # not every pair of the block


def test_simulated_records_are_reproducible_and_labelled() -> None:
    first = simulate_records(500, seed=3)
    assert first.equals(simulate_records(500, seed=3))
    assert not first.equals(simulate_records(500, seed=4))
    assert first.columns.tolist() == [
        "record_id",
        "title",
        "abstract",
        "authors",
        "year",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "publication_type",
        "database",
        "work_id",
    ]
    assert first["record_id"].is_unique
    share = 1 - first["work_id"].nunique() / len(first)
    assert 0.25 < share < 0.45  # duplicate_share=0.35 by default
    with_abstracts = simulate_records(50, seed=3, abstract_words=120)
    assert with_abstracts["abstract"].dropna().str.split().str.len().min() >= 120


def test_simulated_duplicates_are_found_without_false_removal() -> None:
    records = simulate_records(3000, seed=5)
    result = deduplicate(records)
    work = dict(zip(records["record_id"], records["work_id"], strict=True))
    table = result.to_frame()
    # A record merged into a record of another work would be a false removal.
    assert all(
        work[r] == work[c] for r, c in zip(table["record_id"], table["canonical_id"], strict=True)
    )
    kept_per_work = (
        table.loc[table["status"] != "duplicate"]
        .groupby(table["record_id"].map(work))["record_id"]
        .size()
    )
    assert (kept_per_work == 1).mean() > 0.99  # nearly every work is left once


def test_simulate_records_rejects_bad_arguments() -> None:
    with pytest.raises(InputError, match="n = 0"):
        simulate_records(0)
    with pytest.raises(InputError, match=r"duplicate_share = 0\.9"):
        simulate_records(10, duplicate_share=0.9)
    with pytest.raises(InputError, match="hard_negatives = -1"):
        simulate_records(10, hard_negatives=-1)


def test_reading_shows_a_progress_bar_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    data = b"TY  - JOUR\nTI  - A trial\nER  - \n" * 3
    result = read_records_bytes(data, source_name="a.ris", progress=True)
    assert len(result.records) == 3
    assert "reading a.ris" in capsys.readouterr().err


def test_prepare_keys_are_arrays_indexed_by_pair() -> None:
    features = prepare(simulate_records(50, seed=1))
    assert isinstance(features.title_compact, np.ndarray)
    assert features.title_length.tolist() == [len(t) for t in features.title_compact]
