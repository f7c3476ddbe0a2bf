"""Readers of tables: Web of Science tab-delimited, Scopus CSV, generic CSV/TSV/XLSX."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from metasift.errors import InputError
from metasift.records._tagged import wos_draft

__all__ = ["COLUMN_ALIASES", "iter_table", "read_table_rows", "sniff_delimiter", "table_kind"]

# Header names used by the exporters for each field (compared after lower-casing and
# removing punctuation): Scopus CSV, Web of Science, Zotero, Mendeley, Rayyan, Covidence,
# EndNote tab-delimited, ASReview, and the record table written by ``write_records``.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "primary title", "ti", "t1"),
    "abstract": ("abstract", "abstract note", "ab", "n2", "summary"),
    "authors": ("authors", "author", "au", "author s", "author names"),
    "year": ("year", "publication year", "published year", "py", "pub year", "date", "pubyear"),
    "journal": (
        "journal",
        "source title",
        "publication title",
        "journal title",
        "secondary title",
        "journal book",
        "so",
        "t2",
        "jo",
        "jf",
    ),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "number", "is", "issue number", "ip"),
    "pages": ("pages", "pg", "page range", "page"),
    "pages_start": ("pages start", "page start", "start page", "bp", "sp", "first page"),
    "pages_end": ("pages end", "page end", "end page", "ep", "last page"),
    "doi": ("doi", "di", "digital object identifier"),
    "pmid": ("pmid", "pubmed id", "pm", "pubmed"),
    "issn": ("issn", "sn", "eissn", "ei"),
    "keywords": ("keywords", "author keywords", "index keywords", "kw", "de", "manual tags"),
    "language": ("language", "language of original document", "la"),
    "publication_type": ("publication type", "document type", "item type", "type", "dt", "ty"),
    "database": ("database", "db", "source"),
}
_MULTI = ("keywords", "issn")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", header.lower()).strip()


def sniff_delimiter(first_line: str) -> str:
    """Return the delimiter (tab, comma or semicolon) most frequent in the header line."""
    counts = {d: first_line.count(d) for d in ("\t", ",", ";")}
    return max(counts, key=lambda d: counts[d])


def table_kind(header: Sequence[str]) -> str:
    """Return ``"wos_tab"``, ``"scopus_csv"`` or ``"csv"`` from a header row."""
    names = {h.strip().lstrip("\ufeff") for h in header}
    if {"PT", "AU", "TI"} <= names or {"PT", "TI", "SO"} <= names:
        return "wos_tab"
    if "Source title" in names and ("EID" in names or "Link" in names):
        return "scopus_csv"
    return "csv"


def read_table_rows(text: str) -> tuple[list[str], Iterator[list[str]]]:
    """Split delimited text into a header and an iterator of rows (csv module)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first))
    try:
        header = next(reader)
    except StopIteration:
        return [], iter(())
    return [h.strip().lstrip("\ufeff") for h in header], reader


def _resolve_columns(
    header: Sequence[str], columns: Mapping[str, str] | None
) -> dict[str, list[int]]:
    """Map each record field to the header positions that feed it."""
    by_key: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        by_key.setdefault(_key(name), []).append(index)
    chosen: dict[str, list[int]] = {}
    for field, given in (columns or {}).items():
        if field not in COLUMN_ALIASES:
            allowed = ", ".join(COLUMN_ALIASES)
            raise InputError(f"columns: unknown record field {field!r}; allowed: {allowed}")
        if given not in header:
            raise InputError(
                f"columns[{field!r}] = {given!r} is not a column of the file; "
                f"its columns are {list(header)}"
            )
        chosen[field] = [header.index(given)]
    for field, aliases in COLUMN_ALIASES.items():
        if field in chosen:
            continue
        hits = [i for alias in aliases for i in by_key.get(alias, [])]
        if hits:
            chosen[field] = hits if field in _MULTI else hits[:1]
    return chosen


def iter_table(
    header: Sequence[str],
    rows: Iterator[Sequence[Any]],
    *,
    kind: str,
    columns: Mapping[str, str] | None,
    source_file: str,
) -> Iterator[dict[str, Any]]:
    """Yield drafts of the rows of a table whose header has been read.

    Raises
    ------
    InputError
        When no column can serve as the title, so that the table is not a record export.
    """
    if kind == "wos_tab":
        yield from _iter_wos_rows(header, rows)
        return
    chosen = _resolve_columns(header, columns)
    if "title" not in chosen:
        raise InputError(
            f"{source_file}: a table of records needs a title column (one of "
            f"{', '.join(repr(a) for a in COLUMN_ALIASES['title'][:4])}, ...) or "
            f"columns={{'title': ...}}; its columns are {list(header)[:12]}"
        )
    for position, row in enumerate(rows, start=1):
        values = ["" if v is None else str(v) for v in row]
        if not any(v.strip() for v in values):
            continue
        draft: dict[str, Any] = {"position": position, "problems": []}
        if len(values) != len(header):
            draft["problems"].append(
                ("record", f"row has {len(values)} cells, the header {len(header)}")
            )
        for field, indexes in chosen.items():
            cells = [values[i] for i in indexes if i < len(values) and values[i].strip()]
            draft[field] = cells if field in _MULTI else (cells[0] if cells else None)
        if isinstance(draft.get("authors"), str):
            draft["authors"] = _split_cell_authors(draft["authors"], kind)
        draft["doi"] = [draft["doi"]] if draft.get("doi") else []
        if kind == "scopus_csv":
            draft["database"] = draft.get("database") or "Scopus"
        draft["raw"] = {h: values[i] for i, h in enumerate(header) if i < len(values) and h}
        yield draft


def _split_cell_authors(value: str, kind: str) -> list[str]:
    from metasift.records._normalise import split_authors

    if kind == "scopus_csv" and ";" not in value:
        # Scopus before 2023 wrote "Last F., Last F.A."; later exports use semicolons.
        return [a.strip() for a in re.split(r"(?<=\.),\s*", value) if a.strip()]
    return split_authors(value)


def _iter_wos_rows(
    header: Sequence[str], rows: Iterator[Sequence[Any]]
) -> Iterator[dict[str, Any]]:
    for position, row in enumerate(rows, start=1):
        values = ["" if v is None else str(v) for v in row]
        if not any(v.strip() for v in values):
            continue
        fields = {
            tag: [values[i]]
            for i, tag in enumerate(header)
            if tag and i < len(values) and values[i].strip()
        }
        for tag in ("AU", "AF", "DE", "ID", "SN", "EI"):
            if tag in fields:
                fields[tag] = [v.strip() for v in fields[tag][0].split(";") if v.strip()]
        yield wos_draft({"position": position, "fields": fields, "problems": []})
