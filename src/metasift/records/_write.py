"""``write_records``: RIS (rispy), CSV and BibTeX (bibtexparser) that the readers read back."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from metasift.errors import InputError
from metasift.records._bibtex import write_bibtex
from metasift.records._model import RECORD_COLUMNS, ImportResult
from metasift.records._tagged import RIS_TYPES

__all__ = ["CSV_COLUMNS", "records_to_text", "write_records"]

#: Columns of the CSV written by :func:`write_records` (list fields joined with ``"; "``).
CSV_COLUMNS: tuple[str, ...] = RECORD_COLUMNS[: RECORD_COLUMNS.index("database") + 1]
_FORMATS = {".ris": "ris", ".csv": "csv", ".bib": "bibtex", ".bibtex": "bibtex", ".txt": "ris"}
_TYPE_CODES = {name: code for code, name in reversed(list(RIS_TYPES.items()))}


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    if value is pd.NA:
        return False
    return str(value).strip() != ""


def _one_line(value: Any) -> str:
    # A line break inside a value would start a continuation line, or worse a tag line.
    return " ".join(str(value).split())


def _ris_entry(row: pd.Series) -> dict[str, Any]:
    kind = str(row.get("publication_type") or "")
    entry: dict[str, Any] = {"type_of_reference": _TYPE_CODES.get(kind.lower(), "JOUR")}
    if _present(kind) and kind.lower() not in _TYPE_CODES:
        entry["type_of_work"] = _one_line(kind)
    simple = {
        "title": "title",
        "abstract": "abstract",
        "journal": "secondary_title",
        "volume": "volume",
        "issue": "number",
        "pages_start": "start_page",
        "pages_end": "end_page",
        "doi": "doi",
        "language": "language",
        "database": "name_of_database",
    }
    for column, label in simple.items():
        if _present(row.get(column)):
            entry[label] = _one_line(row[column])
    if _present(row.get("year")):
        entry["year"] = str(int(row["year"]))
    for column, label in (("authors", "authors"), ("keywords", "keywords")):
        values = [_one_line(v) for v in (row.get(column) or []) if _present(v)]
        if values:
            entry[label] = values
    if row.get("issn"):
        entry["issn"] = "; ".join(row["issn"])
    if _present(row.get("pmid")):
        entry["unknown_tag"] = {"PM": [_one_line(row["pmid"])]}
    return entry


def _csv_text(records: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for _, row in records.iterrows():
        cells = []
        for column in CSV_COLUMNS:
            value = row.get(column)
            if isinstance(value, (list, tuple)):
                cells.append("; ".join(str(v) for v in value))
            elif _present(value):
                cells.append(str(int(value)) if column == "year" else str(value))
            else:
                cells.append("")
        writer.writerow(cells)
    return buffer.getvalue()


def records_to_text(records: pd.DataFrame | ImportResult, format: str) -> str:
    """Return the records as RIS, CSV or BibTeX text (see :func:`write_records`)."""
    frame = records.records if isinstance(records, ImportResult) else records
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"records must be a DataFrame or ImportResult, not {type(records).__name__}"
        )
    if format == "ris":
        return str(rispy.dumps([_ris_entry(row) for _, row in frame.iterrows()]))
    if format == "csv":
        return _csv_text(frame)
    if format == "bibtex":
        return write_bibtex(frame)
    raise InputError(f"format = {format!r}; allowed: 'ris', 'csv', 'bibtex'")


def write_records(
    records: pd.DataFrame | ImportResult,
    path: str | os.PathLike[str],
    format: str | None = None,
) -> Path:
    """Write records as RIS, CSV or BibTeX, in UTF-8.

    Parameters
    ----------
    records : DataFrame or ImportResult
        A record table with the columns of ``RECORD_COLUMNS`` (missing ones are left out).
    path : path
        File to write.
    format : {"ris", "csv", "bibtex"}, optional
        Taken from the file extension (``.ris``, ``.csv``, ``.bib``) when omitted.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Each format is read back by :func:`read_records` to the same normalised fields (title,
    abstract, authors, year, journal, volume, issue, pages, DOI, PMID, ISSN, keywords,
    language, publication type, database); line breaks inside values become spaces.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.records import read_records_bytes, read_records
    >>> rec = read_records_bytes(b"TY  - JOUR\\nTI  - Peer support\\nDO  - 10.1000/X\\nER  - ",
    ...                          source_name="a.ris").records
    >>> out = write_records(rec, pathlib.Path(tempfile.mkdtemp()) / "out.bib")
    >>> read_records(out).records[["title", "doi"]].to_dict("records")
    [{'title': 'Peer support', 'doi': '10.1000/x'}]
    """
    target = Path(path)
    chosen = format or _FORMATS.get(target.suffix.lower())
    if chosen is None:
        raise InputError(
            f"format not given and extension {target.suffix!r} unknown; "
            "use format='ris', 'csv' or 'bibtex'"
        )
    target.write_text(records_to_text(records, chosen), encoding="utf-8")
    return target
