"""Comparison keys of records for deduplication: folded title, surnames, numbers, codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.records._normalise import (
    clean_text,
    fold,
    normalise_author,
    normalise_doi,
    normalise_pages,
    normalise_pmid,
    normalise_year,
    split_authors,
)

__all__ = ["Features", "prepare"]

_NUMBER = re.compile(r"\d+")
# Records that comment on or correct another record repeat its title; they are never the
# same record as the article itself.
_NOTICE = re.compile(
    r"^(?:erratum|errata|correction|corrigendum|retraction|retracted|reply|response|re|"
    r"comment|commentary|letter|author s reply|in reply|expression of concern)\b"
    r"|\b(?:erratum|corrigendum|correction|retraction notice|a reply|authors reply)$"
)
_KINDS = (
    ("erratum", re.compile(r"errat|correct|corrig|retract")),
    ("conference", re.compile(r"conf|proceed|congress|meeting|abstract|cpaper|inproc")),
    ("thesis", re.compile(r"thes|dissert")),
    ("chapter", re.compile(r"chap|section|incollection|inbook")),
    ("book", re.compile(r"book")),
    ("journal", re.compile(r"jour|article|review|editorial|letter|note|comment|survey")),
)


@dataclass(frozen=True)
class Features:
    """Per-record comparison keys, arrays of length n (``-1`` or ``""`` when missing)."""

    record_id: np.ndarray
    title: list[str]
    title_compact: list[str]
    authors: list[str]
    first_author: list[str]
    n_authors: np.ndarray
    journal: list[str]
    year: np.ndarray
    volume: np.ndarray
    issue: np.ndarray
    pages: np.ndarray
    pages_end: np.ndarray
    doi: np.ndarray
    pmid: np.ndarray
    numbers: np.ndarray
    kind: np.ndarray
    notice: np.ndarray
    database: np.ndarray


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if _missing(v) else v for v in frame[name].tolist()]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _surnames(value: Any) -> list[str]:
    if _missing(value):
        return []
    names = value if isinstance(value, (list, tuple, np.ndarray)) else split_authors(value)
    out = []
    for name in names:
        normal = normalise_author(name)
        if normal:
            surname = fold(normal.split(",")[0])
            out.append(re.sub(r" (?:jr|sr|ii|iii|iv)$", "", surname))
    return [s for s in out if s]


def _first_page(value: Any) -> int:
    text = (clean_text(value) or "").lower()
    # "Suppl-48" (Ovid) hides the first page; an article number ("e12724", BMJ's "a1754")
    # and page 1 are other ways of paging one article. None can confirm or refute a match.
    if text.startswith("suppl") or text in ("1", "i") or re.match(r"[a-rt-z]\d{3,}", text):
        return -1
    return _first_number(text)


def _first_number(value: Any) -> int:
    text = clean_text(value)
    if not text:
        return -1
    match = _NUMBER.search(text)
    return int(match.group(0)) % 10**9 if match else -1


def _codes(values: list[str | None]) -> np.ndarray:
    codes, _ = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def _kind(value: Any) -> str | None:
    text = (clean_text(value) or "").lower()
    for name, pattern in _KINDS:
        if pattern.search(text):
            return name
    return None


# Annotations that Ovid, PubMed and DARE append to titles; they are not part of the title.
_ANNOTATION = re.compile(
    r"\s*(?:\[(?:review|[^\]]*\brefs?|(?:erratum|comment|retraction|corrected|update|see)"
    r"[^\]]*|published erratum[^\]]*)\]?|\((?:provisional|structured) abstract\))\s*\.?\s*$",
    re.I,
)


def _title_key(value: Any) -> str:
    text = clean_text(value) or ""
    for _ in range(3):
        text = _ANNOTATION.sub("", text)
    # MEDLINE puts translated titles in square brackets; the brackets are not part of it.
    if text.startswith("[") and text.rstrip(".").endswith("]"):
        text = text.rstrip(".")[1:-1]
    return fold(text)


def prepare(records: pd.DataFrame) -> Features:
    """Compute the comparison keys of every record.

    Raises
    ------
    InputError
        When ``record_id`` values repeat.
    """
    n = len(records)
    if "record_id" in records.columns:
        ids = np.array([str(v) for v in records["record_id"].tolist()], dtype=object)
        if len(set(ids.tolist())) != n:
            repeated = pd.Series(ids).value_counts()
            first = repeated.index[0]
            raise InputError(
                f"record_id {first!r} appears {repeated.iloc[0]} times; record ids must be unique"
            )
    else:
        ids = np.array([str(i) for i in range(1, n + 1)], dtype=object)
    titles = [_title_key(v) for v in _column(records, "title")]
    surnames = [_surnames(v) for v in _column(records, "authors")]
    if "pages_start" in records.columns:
        pages_col = _column(records, "pages_start")
        ends_col = _column(records, "pages_end")
    else:
        split = [normalise_pages(v) for v in _column(records, "pages")]
        pages_col, ends_col = [p[0] for p in split], [p[1] for p in split]
    numbers = [" ".join(sorted(set(_NUMBER.findall(t.replace(" ", ""))))) or None for t in titles]
    issues = np.array([_first_number(v) for v in _column(records, "issue")], dtype=np.int64)
    given = issues[issues >= 0]
    # Issue numbers repeat (1-12 mostly); a column whose typical value is above 50 holds
    # something else (EndNote writes its record numbers there in some libraries): unused.
    if len(given) and float(np.median(given)) > 50:
        issues = np.full(n, -1, dtype=np.int64)
    kinds = [_kind(v) for v in _column(records, "publication_type")]
    if "ENTRYTYPE" in records.columns and all(k is None for k in kinds):
        kinds = [_kind(v) for v in _column(records, "ENTRYTYPE")]
    return Features(
        record_id=ids,
        title=titles,
        title_compact=[t.replace(" ", "") for t in titles],
        authors=[" ".join(s[:8]) for s in surnames],
        first_author=[s[0] if s else "" for s in surnames],
        n_authors=np.array([len(s) for s in surnames], dtype=np.int64),
        journal=[fold(clean_text(v) or "") for v in _column(records, "journal")],
        year=np.array([normalise_year(v) or -1 for v in _column(records, "year")], dtype=np.int64),
        volume=np.array([_first_number(v) for v in _column(records, "volume")], dtype=np.int64),
        issue=issues,
        pages=np.array([_first_page(v) for v in pages_col], dtype=np.int64),
        pages_end=np.array([_first_page(v) for v in ends_col], dtype=np.int64),
        doi=_codes([normalise_doi(v) for v in _column(records, "doi")]),
        pmid=_codes([normalise_pmid(v) for v in _column(records, "pmid")]),
        numbers=_codes(numbers),
        kind=_codes(kinds),
        notice=np.array([bool(_NOTICE.search(t)) for t in titles], dtype=bool),
        database=np.array(
            [clean_text(v) or "" for v in _column(records, "database")], dtype=object
        ),
    )
