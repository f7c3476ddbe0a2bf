"""``read_records``: format detection by content and dispatch to the readers."""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.records._bibtex import iter_bibtex
from metasift.records._model import RECORD_COLUMNS, ImportResult, Problem, finalise
from metasift.records._progress import Steps, progress_steps
from metasift.records._tabular import iter_table, read_table_rows, table_kind
from metasift.records._tagged import (
    iter_medline,
    iter_ris,
    iter_wos,
    medline_draft,
    ris_draft,
    wos_draft,
)
from metasift.records._text import decode, no_gc
from metasift.records._xml import iter_endnote_xml, iter_pubmed_xml

__all__ = ["detect_format", "read_records", "read_records_bytes"]

PathLike = str | os.PathLike[str]
_EXPECTED = (
    "expected a bibliographic export: RIS ('TY  - ' lines), PubMed/MEDLINE text ('PMID- '), "
    "PubMed XML, EndNote XML, BibTeX ('@article{'), Web of Science plain text (FN/PT/ER) or "
    "tab-delimited, Scopus CSV, or a CSV/TSV/XLSX table with a title column"
)
_RIS_START = re.compile(r"^\s{0,2}TY\s{1,3}-", re.M)
_MEDLINE_START = re.compile(r"^PMID- ?\d", re.M)
_WOS_START = re.compile(r"^(?:FN |PT [A-Z]\s*$)", re.M)
_BIBTEX_START = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)
# Formats read from the bytes rather than the decoded text.
_BINARY_FORMATS = ("xlsx", "pubmed_xml", "endnote_xml")


def detect_format(data: bytes, text: str) -> str:
    """Return the format of an export from its content (never from its file name).

    Raises
    ------
    InputError
        When the content is none of the supported formats.

    Examples
    --------
    >>> detect_format(b"", "TY  - JOUR\\nTI  - A title\\nER  - ")
    'ris'
    >>> detect_format(b"", "PMID- 12345\\nTI  - A title")
    'medline'
    """
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("legacy Excel .xls workbooks are not read; save it as .xlsx or .csv")
    head = text[:20000]
    stripped = head.lstrip()
    if stripped.startswith("<"):
        if "<PubmedArticle" in head or "<PubmedBookArticle" in head:
            return "pubmed_xml"
        if "<record>" in head or "<record " in head:
            return "endnote_xml"
        raise InputError(f"an XML file that is neither PubMed XML nor EndNote XML; {_EXPECTED}")
    found = [
        (match.start(), name)
        for name, pattern in (
            ("ris", _RIS_START),
            ("medline", _MEDLINE_START),
            ("wos", _WOS_START),
            ("bibtex", _BIBTEX_START),
        )
        if (match := pattern.search(head)) is not None
    ]
    if found:
        return min(found)[1]
    first_line = head.split("\n", 1)[0]
    if any(d in first_line for d in ("\t", ",", ";")):
        return "table"
    raise InputError(f"not a bibliographic export; {_EXPECTED}")


def _xlsx_rows(data: bytes, source_file: str) -> tuple[list[str], Iterator[list[Any]]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it ignores; irrelevant here.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as error:
        # A damaged workbook fails in zipfile, zlib or the XML layer of openpyxl, which share
        # no exception class; any of them means the same thing to the user.
        raise InputError(f"{source_file}: not a readable XLSX workbook ({error})") from None
    for number, row in enumerate(rows):
        if row and any(cell not in (None, "") for cell in row):
            header = ["" if cell is None else str(cell).strip() for cell in row]
            return header, iter(rows[number + 1 :])
    return [], iter(())


def _drafts(
    fmt: str, data: bytes, text: str, source_file: str, columns: Mapping[str, str] | None
) -> tuple[str, Iterable[dict[str, Any]]]:
    if fmt == "ris":
        return fmt, (ris_draft(r) for r in iter_ris(text))
    if fmt == "medline":
        return fmt, (medline_draft(r) for r in iter_medline(text))
    if fmt == "wos":
        return fmt, (wos_draft(r) for r in iter_wos(text))
    if fmt == "bibtex":
        return fmt, iter_bibtex(text)
    if fmt == "pubmed_xml":
        return fmt, iter_pubmed_xml(data)
    if fmt == "endnote_xml":
        return fmt, iter_endnote_xml(data)
    if fmt == "xlsx":
        header, rows = _xlsx_rows(data, source_file)
        kind = table_kind(header)
    else:
        header, rows = read_table_rows(text)
        kind = table_kind(header)
        fmt = kind
    if not header:
        raise InputError(f"{source_file}: the table has no header row; {_EXPECTED}")
    drafts = iter_table(header, rows, kind=kind, columns=columns, source_file=source_file)
    return fmt, drafts


def _split_broken(
    drafts: Iterable[dict[str, Any]], source_file: str, problems: list[Problem]
) -> Iterator[dict[str, Any]]:
    for draft in drafts:
        if "broken" in draft:
            problems.append(Problem(source_file, draft["position"], "record", draft["broken"]))
            if not draft.get("raw"):
                continue
        yield draft


def read_records_bytes(
    data: bytes,
    *,
    source_name: str,
    database: str | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    progress: bool | None = None,
) -> ImportResult:
    """Read one export given as bytes (an upload, say); see :func:`read_records`.

    Examples
    --------
    >>> result = read_records_bytes(b"TY  - JOUR\\nTI  - A trial\\nPY  - 2020\\nER  - \\n",
    ...                             source_name="pubmed.ris")
    >>> result.records[["record_id", "title", "year"]].to_dict("records")
    [{'record_id': 'pubmed.ris#1', 'title': 'A trial', 'year': 2020}]
    """
    if not isinstance(data, (bytes, bytearray)):
        raise InputError(f"data must be bytes, not {type(data).__name__}")
    return _read_export([bytes(data)], source_name, database, columns, encoding, progress)


def _read_export(
    box: list[bytes],
    source_name: str,
    database: str | None,
    columns: Mapping[str, str] | None,
    encoding: str | None,
    progress: bool | None,
) -> ImportResult:
    """Read the export in ``box`` (taken out of it, so that its bytes can be freed once
    decoded: a large export is then not held twice)."""
    data = box.pop()
    text, used = decode(data, encoding)
    # One line end from here on: exports come with CRLF, LF and (old Mac, Cochrane) CR only.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{source_name}: the file is empty; {_EXPECTED}")
    try:
        fmt = detect_format(data, text)
    except InputError as error:
        raise InputError(f"{source_name}: {error}") from None
    if fmt not in _BINARY_FORMATS:
        data = b""
    fmt, drafts = _drafts(fmt, data, text, source_name, columns)
    if fmt == "xlsx":
        used = "xlsx"
    problems: list[Problem] = []
    # A record of an export takes about 1,500 characters: enough to decide on a bar.
    with no_gc(), progress_steps(progress, len(text) // 1500) as steps:
        steps.start(f"reading {source_name}", total=None)
        frame = finalise(
            _counted(_split_broken(drafts, source_name, problems), steps),
            source_file=source_name,
            source_format=fmt,
            database=database,
            problems=problems,
        )
    problems.sort(key=lambda p: p.record)
    return ImportResult(frame, tuple(problems), {source_name: fmt}, {source_name: used})


def _counted(drafts: Iterable[dict[str, Any]], steps: Steps) -> Iterator[dict[str, Any]]:
    for number, draft in enumerate(drafts, start=1):
        if number % 1000 == 0:
            steps.advance(1000)
        yield draft


def _expand(path: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(path, (str, os.PathLike)):
        paths = [Path(path)]
    elif isinstance(path, Sequence):
        paths = [Path(p) for p in path]
    else:
        raise InputError(f"path must be a file, a folder or a list of files, not {path!r}")
    files: list[Path] = []
    for item in paths:
        if item.is_dir():
            files.extend(
                p for p in sorted(item.iterdir()) if p.is_file() and not p.name.startswith(".")
            )
        elif item.is_file():
            files.append(item)
        else:
            raise InputError(f"path {str(item)!r} does not exist")
    return files


def read_records(
    path: PathLike | Sequence[PathLike],
    database: str | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    progress: bool | None = None,
) -> ImportResult:
    """Read bibliographic exports into one normalised record table.

    Parameters
    ----------
    path : path, folder or list of paths
        Export files; a folder means every visible file in it. The format of each file is
        detected from its content: RIS (any exporter), PubMed/MEDLINE text, PubMed XML,
        EndNote XML, BibTeX, Web of Science plain text and tab-delimited, Scopus CSV, and
        generic CSV/TSV/XLSX tables.
    database : str, optional
        Name of the database searched (``"PubMed"``, ``"CINAHL"``...), stored on every record
        read. Without it, the database named in the record is used, else the file name.
    columns : mapping, optional
        For generic tables: record field -> column header, for headers not recognised
        (see ``COLUMN_ALIASES``), e.g. ``{"title": "Article Name"}``.
    encoding : str, optional
        Text encoding; detected when omitted (BOM, UTF-8, cp1252, latin-1).
    progress : bool, optional
        Show a progress bar on stderr; by default only for large files (about 100,000
        records or more) on an interactive terminal.

    Returns
    -------
    ImportResult
        ``records`` (one row per record, columns of ``RECORD_COLUMNS``) and ``problems``
        (per-record problems; a damaged record never stops the import).

    Raises
    ------
    InputError
        A path that does not exist, or a file that is not a bibliographic export (the
        message says which formats were expected).

    Notes
    -----
    ``record_id`` is ``"<file name>#<position>"``, the position counting records from 1 in
    file order, so that every record can be traced back to its export.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cinahl.ris").write_bytes(
    ...     b"1.\\r\\nTY  - JOUR\\r\\nAU  - Smith, John A\\r\\nTI  - Peer support\\r\\n"
    ...     b"ER  - \\r\\n")
    >>> result = read_records(folder / "cinahl.ris", database="CINAHL")
    >>> row = result.records.iloc[0]
    >>> row["record_id"], row["authors"], row["database"]
    ('cinahl.ris#1', ['Smith, JA'], 'CINAHL')
    """
    files = _expand(path)
    names = [f.name for f in files]
    results = []
    for file in files:
        name = file.name if names.count(file.name) == 1 else str(file)
        results.append(
            _read_export([file.read_bytes()], name, database, columns, encoding, progress)
        )
    return _combine(results)


def _combine(results: Sequence[ImportResult]) -> ImportResult:
    if not results:
        return ImportResult(pd.DataFrame(columns=list(RECORD_COLUMNS)))
    if len(results) == 1:
        return results[0]
    frames = [r.records for r in results if len(r.records)]
    records = pd.concat(frames, ignore_index=True) if frames else results[0].records
    return ImportResult(
        records,
        tuple(p for r in results for p in r.problems),
        {k: v for r in results for k, v in r.formats.items()},
        {k: v for r in results for k, v in r.encodings.items()},
    )
