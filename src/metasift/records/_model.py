"""The normalised record table, per-record problems and the result of an import.

Every reader turns its format into *drafts*: plain dicts whose keys are the field names of
:data:`RECORD_COLUMNS` holding the text the exporter wrote, plus ``raw`` (every field as
read) and ``position`` (1-based order in the file). :func:`finalise` normalises the drafts
in one place, so that every format gets the same rules and the same problem reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from metasift.records._normalise import (
    clean_text,
    find_doi,
    normalise_author,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    normalise_pmid,
    normalise_year,
    split_authors,
)

__all__ = ["RECORD_COLUMNS", "ImportResult", "Problem", "finalise"]

#: Columns of :attr:`ImportResult.records`, in order.
RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages_start",
    "pages_end",
    "doi",
    "pmid",
    "issn",
    "keywords",
    "language",
    "publication_type",
    "database",
    "source_file",
    "source_position",
    "source_format",
    "raw",
)

_TEXT_FIELDS = ("title", "abstract", "journal", "volume", "issue", "language", "publication_type")
_LIST_COLUMNS = ("authors", "issn", "keywords")


@dataclass(frozen=True)
class Problem:
    """One problem met while reading one record; the import goes on.

    Attributes
    ----------
    file : str
        Name of the file read.
    record : int
        1-based position of the record in the file (0 for a problem of the whole file).
    field : str
        Field concerned (a column of the record table, or ``"record"``).
    message : str
        What was wrong and what was done about it.
    """

    file: str
    record: int
    field: str
    message: str


@dataclass(frozen=True)
class ImportResult:
    """Records read from one or more exports, with the problems met.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per record with the columns of :data:`RECORD_COLUMNS`. ``authors``, ``issn``
        and ``keywords`` hold lists; ``year`` is a nullable integer; ``raw`` holds the fields
        exactly as read (a dict per record).
    problems : tuple of Problem
        Per-record problems; never a reason to stop the import.
    formats : dict
        File name -> detected format (``"ris"``, ``"medline"``, ``"pubmed_xml"``,
        ``"endnote_xml"``, ``"bibtex"``, ``"wos"``, ``"wos_tab"``, ``"scopus_csv"``, ``"csv"``,
        ``"xlsx"``).
    encodings : dict
        File name -> text encoding used to decode it.
    """

    records: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    formats: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def to_frame(self) -> pd.DataFrame:
        """Return the record table (a copy)."""
        return self.records.copy()

    def problems_frame(self) -> pd.DataFrame:
        """Return the problems as a table with columns file, record, field, message."""
        return pd.DataFrame(
            [(p.file, p.record, p.field, p.message) for p in self.problems],
            columns=["file", "record", "field", "message"],
        )

    def summary(self) -> str:
        """Return a short text: records and problems per file, with format and encoding."""
        lines = [f"{len(self.records)} records, {len(self.problems)} problems"]
        counts = self.records["source_file"].value_counts(sort=False) if len(self.records) else {}
        for name, fmt in self.formats.items():
            n_problems = sum(p.file == name for p in self.problems)
            lines.append(
                f"  {name}: {int(counts.get(name, 0))} records ({fmt}, "
                f"{self.encodings.get(name, '?')}), {n_problems} problems"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html_escape(self.summary()) + "</pre>"


def html_escape(text: str) -> str:
    """Escape ``text`` for HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


@lru_cache(maxsize=1 << 18)
def _author(name: str) -> str | None:
    return normalise_author(name)  # names repeat from record to record: cached


def _authors(values: Any) -> list[str]:
    names: list[str] = []
    for value in _as_list(values):
        parts = split_authors(value) if isinstance(value, str) and " and " in value else [value]
        for part in parts:
            name = _author(part) if isinstance(part, str) else normalise_author(part)
            if name:
                names.append(name)
    return names


def _keywords(values: Any) -> list[str]:
    words: list[str] = []
    for value in _as_list(values):
        text = clean_text(value)
        if text is None:
            continue
        pieces = text.split(";") if ";" in text else [text]
        words.extend(w.strip() for w in pieces if w.strip())
    return list(dict.fromkeys(words))


def _normalise_draft(draft: dict[str, Any], problems: list[tuple[str, str]]) -> dict[str, Any]:
    row: dict[str, Any] = {name: clean_text(draft.get(name)) for name in _TEXT_FIELDS}
    row["authors"] = _authors(draft.get("authors"))
    raw_year = draft.get("year")
    row["year"] = normalise_year(raw_year)
    if row["year"] is None and clean_text(raw_year):
        problems.append(("year", f"no year between 1500 and 2099 in {clean_text(raw_year)!r}"))
    if "pages" in draft and draft.get("pages_start") is None:
        row["pages_start"], row["pages_end"] = normalise_pages(draft.get("pages"))
    else:
        row["pages_start"], row["pages_end"] = normalise_pages(
            draft.get("pages_start"), draft.get("pages_end")
        )
    doi_values = _as_list(draft.get("doi"))
    row["doi"] = next((d for d in map(normalise_doi, doi_values) if d), None)
    if row["doi"] is None:
        if any(clean_text(v) for v in doi_values):
            problems.append(("doi", f"no DOI (10.xxxx/...) in {clean_text(doi_values[0])!r}"))
        row["doi"] = find_doi(_as_list(draft.get("doi_fallback")))
    raw_pmid = draft.get("pmid")
    row["pmid"] = normalise_pmid(raw_pmid)
    if row["pmid"] is None and clean_text(raw_pmid):
        problems.append(("pmid", f"no PubMed identifier in {clean_text(raw_pmid)!r}"))
    row["issn"] = normalise_issn(_as_list(draft.get("issn")))
    row["keywords"] = _keywords(draft.get("keywords"))
    row["database"] = clean_text(draft.get("database"))
    if row["title"] is None:
        problems.append(("title", "record has no title; kept, but it cannot be screened"))
    return row


def finalise(
    drafts: Iterable[dict[str, Any]],
    *,
    source_file: str,
    source_format: str,
    database: str | None,
    problems: list[Problem],
) -> pd.DataFrame:
    """Normalise reader drafts into the record table; append per-record problems.

    ``database`` (the caller's label) wins over a database named in the record; a record
    naming none gets the file name, so that per-source counts always add up.
    """
    columns: dict[str, list[Any]] = {name: [] for name in RECORD_COLUMNS}
    for draft in drafts:
        position = int(draft.get("position", len(columns["record_id"]) + 1))
        found: list[tuple[str, str]] = list(draft.get("problems", ()))
        row = _normalise_draft(draft, found)
        row["database"] = database or row["database"] or source_file
        row["record_id"] = f"{source_file}#{position}"
        row["source_file"] = source_file
        row["source_position"] = position
        row["source_format"] = source_format
        row["raw"] = draft.get("raw", {})
        problems.extend(Problem(source_file, position, f, m) for f, m in found)
        # Column lists rather than one dict per row: a million rows of dicts would double
        # the memory of a large import.
        for name, values in columns.items():
            values.append(row.get(name))
    return _frame(columns)


def records_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Build the record table with the column order and dtypes of :data:`RECORD_COLUMNS`."""
    return _frame({name: [row.get(name) for row in rows] for name in RECORD_COLUMNS})


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name in RECORD_COLUMNS:
        values = columns[name]
        if name in _LIST_COLUMNS:
            data[name] = pd.Series(
                [v if type(v) is list else list(v or []) for v in values], dtype=object
            )
        elif name == "raw":
            data[name] = pd.Series([v if v is not None else {} for v in values], dtype=object)
        elif name in ("year", "source_position"):
            data[name] = pd.array(values, dtype="Int64")
        else:
            data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=list(RECORD_COLUMNS))
