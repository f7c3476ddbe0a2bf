"""Comparison keys of records for deduplication: folded title, surnames, numbers, codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.records._normalise import (
    clean_text,
    fold,
    normalise_author,
    normalise_doi,
    normalise_pmid,
    normalise_year,
    split_authors,
    undo_spreadsheet_date,
)

__all__ = ["KINDS", "Features", "page_span", "prepare"]

_NUMBER = re.compile(r"\d+")
# Records that comment on or correct another record repeat its title; they are never the
# same record as the article itself.
_NOTICE = re.compile(
    r"^(?:erratum|errata|correction|corrigendum|retraction|retracted|reply|response|re|"
    r"comment|commentary|letter|author s reply|in reply|expression of concern)\b"
    r"|\b(?:erratum|corrigendum|correction|retraction notice|a reply|authors reply)$"
)
#: Kinds of publication, in the order their patterns are tried; a record's kind is the
#: index in this tuple (-1 when unknown).
KINDS = (
    ("erratum", re.compile(r"errat|correct|corrig|retract")),
    ("conference", re.compile(r"conf|proceed|congress|meeting|abstract|cpaper|inproc")),
    ("thesis", re.compile(r"thes|dissert")),
    ("chapter", re.compile(r"chap|section|incollection|inbook")),
    ("book", re.compile(r"book")),
    ("journal", re.compile(r"jour|article|review|editorial|letter|note|comment|survey")),
)
_RANGE_SEPARATOR = re.compile(r"\s*(?:--|-|–|—)\s*")
_RANGES = re.compile(r"\s*[,;+]\s*")


@dataclass(frozen=True)
class Features:
    """Per-record comparison keys, arrays of length n (``-1`` or ``""`` when missing)."""

    record_id: np.ndarray
    title_compact: np.ndarray
    title_length: np.ndarray
    authors: np.ndarray
    authors_sorted: np.ndarray
    given: np.ndarray
    first_author: np.ndarray
    n_authors: np.ndarray
    journal: np.ndarray
    journal_parts: list[tuple[str, ...]]
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


_SUFFIX = re.compile(r" (?:jr|sr|ii|iii|iv)$")


@lru_cache(maxsize=1 << 18)
def _name_keys(name: str) -> tuple[str, str]:
    """(folded surname without suffix, folded first given name when written in full)."""
    if "," in name and "&" not in name:
        # "Last, Given": the surname is what precedes the comma (as normalise_author does,
        # without its work on the other layouts).
        last, _, rest = name.partition(",")
        surname = fold(last)
    else:
        normal = normalise_author(name)
        if not normal:
            return "", ""
        surname, rest = fold(normal.split(",")[0]), ""
    surname = _SUFFIX.sub("", surname)
    given = ""
    words = fold(rest).split() if rest else []
    # A given name written in full (not initials) is what exporters that swap the name
    # parts put first: "Andrea, C." for "Carignani, Andrea".
    if words and len(words[0]) > 1 and not rest.strip().isupper():
        given = words[0]
    return surname, given


def _author_keys(value: Any) -> tuple[str, str, str, str, int]:
    """Surnames of the first 8 authors in order and sorted, their given names when all are
    written in full (sorted), the first surname, and the number of authors."""
    if _missing(value):
        return "", "", "", "", 0
    names = value if isinstance(value, (list, tuple, np.ndarray)) else split_authors(value)
    keys = [k for k in map(_name_keys, map(str, names)) if k[0]]
    if not keys:
        return "", "", "", "", 0
    surnames = [k[0] for k in keys[:8]]
    given = sorted(k[1] for k in keys[:8] if k[1])
    return (
        " ".join(surnames),
        " ".join(sorted(surnames)),
        " ".join(given) if len(given) == len(surnames) else "",
        surnames[0],
        len(keys),
    )


def _first_number(value: Any) -> int:
    if isinstance(value, int):
        return value % 10**9 if value >= 0 else -1
    text = clean_text(value)
    if not text:
        return -1
    if text.isdigit():
        return int(text) % 10**9
    match = _NUMBER.search(text)
    return int(match.group(0)) % 10**9 if match else -1


def _span(text: str) -> tuple[int, int]:
    parts = _RANGE_SEPARATOR.split(text, maxsplit=1)
    # An article number ("e12724", BMJ's "a1754") is another way of paging one article;
    # it can neither confirm nor refute a match ("S" is kept: supplement pages).
    if re.match(r"[a-rt-z]\d{3,}", parts[0]):
        return -1, -1
    first = _first_number(parts[0])
    last = _first_number(parts[1]) if len(parts) > 1 else -1
    if 0 <= last < first and len(str(last)) < len(str(first)):  # "349-69" is 349-369
        last = int(str(first)[: len(str(first)) - len(str(last))] + str(last))
    return first, (last if last >= first else -1)


def page_span(start: Any, end: Any = None) -> tuple[int, int]:
    """Return (first page, last page) as integers, ``-1`` when unknown.

    Notes
    -----
    Several ranges ("230-5, 246-51, 233-8": one article printed in three languages) give
    the earliest. A spreadsheet date ("01-Jun" for 1-6) is turned back into the range.
    A lone page 1 is left unknown (exporters write it for "no pages" and for article
    numbers), and so are pages in a supplement ("Suppl-48").

    Examples
    --------
    >>> page_span("233-238+230-235+246-251"), page_span("01-Jun"), page_span("349-69")
    ((230, 235), (1, 6), (349, 369))
    >>> page_span("1"), page_span("e43268"), page_span("S33-38")
    ((-1, -1), (-1, -1), (33, 38))
    """
    text = (clean_text(start) or "").lower()
    tail = (clean_text(end) or "").lower()
    if tail:
        text = f"{text}-{tail}"
    if not text or text.startswith("suppl"):
        return -1, -1
    text = undo_spreadsheet_date(text)
    spans = [_span(part) for part in _RANGES.split(text) if part]
    spans = [s for s in spans if s[0] >= 0]
    if not spans:
        return -1, -1
    first, last = min(spans)
    return (-1, -1) if first == 0 or (first == 1 and last < 0) else (first, last)


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7"}
_ROMAN_AFTER = re.compile(
    r"\b(?:part|phase|stage|study|trial|series|type|grade|section|chapter|class) "
    r"(i|ii|iii|iv|v|vi|vii)\b"
)


def _title_numbers(title: str) -> str | None:
    """The numbers of a folded title, repeats kept, as one sorted key ("2 2" for "type 2
    diabetes ... part 2"); roman numerals after "part", "phase"... count as numbers.

    Examples
    --------
    >>> _title_numbers("phase ii trial of drug x in type 2 diabetes part 2")
    '2 2 2'
    """
    if not title:
        return None
    found = _NUMBER.findall(title.replace(" ", ""))
    if " i" in title or " v" in title:
        found += [_ROMAN[m] for m in _ROMAN_AFTER.findall(title)]
    return " ".join(sorted(found)) or None


def _mapped(values: list[Any], function: Any) -> list[Any]:
    """``function`` applied to each value, once per distinct value (fields such as year,
    volume, journal and database repeat a lot)."""
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        try:
            result = cache[value]
        except KeyError:
            result = cache[value] = function(value)
        except TypeError:  # unhashable (a list)
            result = function(value)
        out.append(result)
    return out


def _objects(values: list[str]) -> np.ndarray:
    """A NumPy object array of strings (indexing it by pair indices is fast)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _codes(values: list[str | None]) -> np.ndarray:
    codes, _ = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def _kind(value: Any) -> int:
    text = (clean_text(value) or "").lower()
    for number, (_, pattern) in enumerate(KINDS):
        if pattern.search(text):
            return number
    return -1


# Annotations that Ovid, PubMed and DARE append to titles; they are not part of the title.
_ANNOTATION = re.compile(
    r"\s*(?:\[(?:review|[^\]]*\brefs?|(?:erratum|comment|retraction|corrected|update|see)"
    r"[^\]]*|published erratum[^\]]*)\]?|\((?:provisional|structured) abstract\))\s*\.?\s*$",
    re.I,
)
# MEDLINE notes of linked records, to the end of the title (they may nest brackets).
_NOTE_TAIL = re.compile(
    r"\s*\[(?:erratum appears|comment (?:in|on)|retraction (?:in|of)|update (?:in|of)|"
    r"republished (?:in|from)|corrected and republished|published erratum)\b.*$",
    re.I | re.S,
)
# "[abstract no: 134]": the number is the abstract's number in a congress book, not a
# number of the title; the word "abstract" stays (a conference abstract is its own kind).
_ABSTRACT_NUMBER = re.compile(r"\[abstract no\b[^\]]*\]", re.I)


def _title_key(value: Any) -> str:
    text = clean_text(value) or ""
    if "[" in text:
        text = _ABSTRACT_NUMBER.sub("[abstract]", _NOTE_TAIL.sub("", text))
        for _ in range(3):
            text = _ANNOTATION.sub("", text)
    # MEDLINE puts translated titles in square brackets; the brackets are not part of it.
    if text.startswith("[") and text.rstrip(".").endswith("]"):
        text = text.rstrip(".")[1:-1]
    return fold(text)


_JOURNAL_SPLIT = re.compile(r"\s+[=:]\s+|\s*=\s*|\s*\[|\]\s*")


@lru_cache(maxsize=1 << 16)
def _journal_parts(name: str) -> tuple[str, ...]:
    """Folded forms of a journal name: whole, and each parallel title or subtitle.

    MEDLINE writes parallel titles ("Ai zheng = Chinese journal of cancer"), subtitles
    after " : " and translations in brackets; Ovid adds "[Electronic Resource]".
    """
    pieces = [fold(p) for p in _JOURNAL_SPLIT.split(name)]
    pieces = [p for p in pieces if p and p != "electronic resource"]
    whole = fold(name.replace("[Electronic Resource]", ""))
    return tuple(dict.fromkeys([whole, *pieces]))


def _journals(records: pd.DataFrame) -> list[str | None]:
    journals = _mapped(_column(records, "journal"), clean_text)
    # Conference papers carry their venue in booktitle (BibTeX) rather than journal.
    if "booktitle" in records.columns:
        venues = _mapped(_column(records, "booktitle"), clean_text)
        journals = [j or b for j, b in zip(journals, venues, strict=True)]
    return journals


def _record_ids(records: pd.DataFrame) -> np.ndarray:
    n = len(records)
    if "record_id" not in records.columns:
        return np.array([str(i) for i in range(1, n + 1)], dtype=object)
    ids = np.array([str(v) for v in records["record_id"].tolist()], dtype=object)
    if len(set(ids.tolist())) != n:
        repeated = pd.Series(ids).value_counts()
        first = repeated.index[0]
        raise InputError(
            f"record_id {first!r} appears {repeated.iloc[0]} times; record ids must be unique"
        )
    return ids


def _pages(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "pages_start" in records.columns:
        pairs = zip(_column(records, "pages_start"), _column(records, "pages_end"), strict=True)
        spans = _mapped(list(pairs), lambda pair: page_span(*pair))
    else:
        spans = _mapped(_column(records, "pages"), page_span)
    array = np.array(spans, dtype=np.int64).reshape(len(spans), 2)
    return array[:, 0].copy(), array[:, 1].copy()


def _issues(records: pd.DataFrame) -> np.ndarray:
    issues = np.array(_mapped(_column(records, "issue"), _first_number), dtype=np.int64)
    given = issues[issues >= 0]
    # Issue numbers repeat (1-12 mostly); a column whose typical value is above 50 holds
    # something else (EndNote writes its record numbers there in some libraries): unused.
    if len(given) and float(np.median(given)) > 50:
        issues[:] = -1
    return issues


def prepare(records: pd.DataFrame) -> Features:
    """Compute the comparison keys of every record.

    Raises
    ------
    InputError
        When ``record_id`` values repeat.
    """
    ids = _record_ids(records)
    titles = [_title_key(v) for v in _column(records, "title")]
    authors, authors_sorted, given, first, count = (
        zip(*_mapped(_column(records, "authors"), _author_keys), strict=True)
        if len(records)
        else ((), (), (), (), ())
    )
    years = _mapped(_column(records, "year"), normalise_year)
    year = np.array([y or -1 for y in years], dtype=np.int64)
    volume = np.array(_mapped(_column(records, "volume"), _first_number), dtype=np.int64)
    # A volume equal to the year is the year written in the volume field (magazines).
    volume[(volume == year) & (year > 0)] = -1
    pages, pages_end = _pages(records)
    numbers = [_title_numbers(t) for t in titles]
    kinds = _mapped(_column(records, "publication_type"), _kind)
    if "ENTRYTYPE" in records.columns and all(k < 0 for k in kinds):
        kinds = _mapped(_column(records, "ENTRYTYPE"), _kind)
    parts = _mapped(_journals(records), lambda j: _journal_parts(j) if j else ())
    compact = [t.replace(" ", "") for t in titles]
    return Features(
        record_id=ids,
        title_compact=_objects(compact),
        title_length=np.fromiter(map(len, compact), dtype=np.int64, count=len(compact)),
        authors=_objects(list(authors)),
        authors_sorted=_objects(list(authors_sorted)),
        given=_objects(list(given)),
        first_author=_objects(list(first)),
        n_authors=np.array(count, dtype=np.int64),
        journal=_objects([p[0] if p else "" for p in parts]),
        journal_parts=parts,
        year=year,
        volume=volume,
        issue=_issues(records),
        pages=pages,
        pages_end=pages_end,
        doi=_codes([normalise_doi(v) for v in _column(records, "doi")]),
        pmid=_codes([normalise_pmid(v) for v in _column(records, "pmid")]),
        numbers=_codes(numbers),
        kind=np.array(kinds, dtype=np.int64),
        notice=np.array([bool(_NOTICE.search(t)) for t in titles], dtype=bool),
        database=_objects(_mapped(_column(records, "database"), lambda v: clean_text(v) or "")),
    )
