"""Records in the store: import of exports and the helpers that read them back."""

from __future__ import annotations

import hashlib
import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, func, insert, select

from metasift.errors import InputError
from metasift.records import RECORD_COLUMNS, read_records_bytes
from metasift.review._schema import ImportProblem, Record, Source
from metasift.review.protocol import Protocol
from metasift.review.store import Store

__all__ = ["ImportSummary", "Query", "chunks", "import_files", "record_ids", "records_frame"]

_CHUNK = 500
#: The bibliographic fields of a normalised record (records layer), stored one column each.
_FIELDS = RECORD_COLUMNS[RECORD_COLUMNS.index("title") : RECORD_COLUMNS.index("database")]


def chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    """``values`` in slices of ``size`` (for ``IN`` lists and bulk inserts)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Query:
    """A statement built once and run for every record or for some of them.

    Building SQLAlchemy statements costs more than running them on small tables; a
    statement kept at module level with an expanding ``IN`` parameter is compiled once.
    """

    def __init__(self, statement: Any, column: Any) -> None:
        self.every = statement
        self.some = statement.where(column.in_(bindparam("ids", expanding=True)))

    def rows(self, conn: Connection, only: Sequence[int] | None, **params: Any) -> list[Any]:
        """Rows for every record (``only`` None) or for the records in ``only``."""
        if only is None:
            return list(conn.execute(self.every, params).all())
        out: list[Any] = []
        for part in chunks(sorted(set(only))):
            out += conn.execute(self.some, {**params, "ids": list(part)}).all()
        return out


@dataclass(frozen=True)
class ImportSummary:
    """What an import added: one row per file.

    Attributes
    ----------
    files : pandas.DataFrame
        ``file``, ``database``, ``kind``, ``format``, ``encoding``, ``records``,
        ``problems``, ``source_id``.
    problems : pandas.DataFrame
        ``file``, ``record``, ``field``, ``message`` of every problem met.
    """

    files: pd.DataFrame
    problems: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The per-file table (a copy)."""
        return self.files.copy()

    def summary(self) -> str:
        """Records and problems per file."""
        lines = [f"{int(self.files['records'].sum())} records imported"]
        for row in self.files.itertuples():
            lines.append(
                f"  {row.file}: {row.records} records from {row.database} ({row.kind}, "
                f"{row.format}), {row.problems} problems"
            )
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value


def _rows(records: pd.DataFrame, source_id: int) -> list[dict[str, Any]]:
    rows = []
    for item in records.to_dict("records"):
        row = {name: _clean(item.get(name)) for name in _FIELDS}
        for name in ("authors", "issn", "keywords"):
            row[name] = row[name] or []
        row["year"] = None if row["year"] is None else int(row["year"])
        row["raw"] = {str(k): _clean(v) for k, v in (item.get("raw") or {}).items()}
        row.update(
            source_id=source_id,
            position=int(item["source_position"]),
            source_key=str(item["record_id"]),
        )
        rows.append(row)
    return rows


def _check_new(conn: Connection, files: list[tuple[Path, bytes, str]]) -> None:
    seen: dict[str, Path] = {}
    for path, _data, digest in files:
        if digest in seen:
            raise InputError(f"{path.name} and {seen[digest].name} have the same content")
        seen[digest] = path
        old = conn.execute(
            select(Source.file_name, Source.database, Source.imported_at).where(
                Source.sha256 == digest
            )
        ).first()
        if old is not None:
            raise InputError(
                f"{path.name}: this file was imported already ({old.file_name}, database "
                f"{old.database}, {old.imported_at:%Y-%m-%d %H:%M}); nothing was imported"
            )


def _keep_copy(folder: Path, path: Path, digest: str) -> None:
    """Copy the export into ``records/`` of the review (never modified afterwards)."""
    target_dir = folder / "records"
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists() and target.resolve() == path.resolve():
        return
    if target.exists():
        target = target_dir / f"{digest[:8]}-{path.name}"
    if not target.exists():
        shutil.copyfile(path, target)


_SUMMARY = ["file", "database", "kind", "format", "encoding", "records", "problems", "source_id"]


def _read_files(paths: Sequence[str | Path]) -> list[tuple[Path, bytes, str]]:
    if not paths:
        raise InputError("paths: give at least one export file")
    files = []
    for item in paths:
        path = Path(item)
        if not path.is_file():
            raise InputError(f"path {str(path)!r} does not exist or is not a file")
        data = path.read_bytes()
        files.append((path, data, hashlib.sha256(data).hexdigest()))
    return files


def _store_file(
    conn: Connection, path: Path, digest: str, result: Any, source: Any
) -> tuple[Any, ...]:
    """Insert one export's source row, records and problems; return its summary row."""
    values = {
        "file_name": path.name,
        "database": source.name,
        "kind": source.kind,
        "sha256": digest,
        "format": result.formats[path.name],
        "encoding": result.encodings[path.name],
        "n_records": len(result.records),
    }
    source_id = conn.execute(insert(Source).returning(Source.id), values).scalar_one()
    rows = _rows(result.records, source_id)
    for part in chunks(rows):
        conn.execute(insert(Record), list(part))
    problems = [
        {"source_id": source_id, "position": p.record, "field": p.field[:40], "message": p.message}
        for p in result.problems
    ]
    for part in chunks(problems):
        conn.execute(insert(ImportProblem), list(part))
    return (
        path.name,
        source.name,
        source.kind,
        values["format"],
        values["encoding"],
        len(rows),
        len(problems),
        source_id,
    )


def import_files(
    store: Store,
    protocol: Protocol,
    folder: Path,
    paths: Sequence[str | Path],
    database: str,
    *,
    columns: dict[str, str] | None = None,
    encoding: str | None = None,
) -> ImportSummary:
    """Read the exports and store their records in one transaction (all or nothing)."""
    source = protocol.source(database)
    files = _read_files(paths)
    read = [
        read_records_bytes(
            data, source_name=path.name, database=source.name, columns=columns, encoding=encoding
        )
        for path, data, _ in files
    ]
    with store.write() as conn:
        _check_new(conn, files)
        summary = [
            _store_file(conn, path, digest, result, source)
            for (path, _data, digest), result in zip(files, read, strict=True)
        ]
    for path, _data, digest in files:
        _keep_copy(folder, path, digest)
    problems = [
        (path.name, p.record, p.field, p.message)
        for (path, _data, _digest), result in zip(files, read, strict=True)
        for p in result.problems
    ]
    return ImportSummary(
        pd.DataFrame(summary, columns=_SUMMARY),
        pd.DataFrame(problems, columns=["file", "record", "field", "message"]),
    )


def records_frame(conn: Connection, only: Sequence[int] | None = None) -> pd.DataFrame:
    """Records with their source: ``record_id``, the record fields, ``database``, ``kind``,
    ``source_file``, ``source_key``; every record, or those in ``only``, by id."""
    columns = [Record.id.label("record_id"), *(getattr(Record, f) for f in _FIELDS)]
    columns += [
        Source.database,
        Source.kind,
        Source.file_name.label("source_file"),
        Record.source_key,
    ]
    query = select(*columns).join(Source, Source.id == Record.source_id).order_by(Record.id)
    names = ["record_id", *_FIELDS, "database", "kind", "source_file", "source_key"]
    if only is None:
        rows = conn.execute(query).all()
    else:
        rows = []
        for part in chunks(sorted(set(only))):
            rows += conn.execute(query.where(Record.id.in_(part))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=names)


def record_ids(conn: Connection, refs: Sequence[int | str]) -> list[int]:
    """Store ids of records named by id (``17``, ``"17"``) or source key (``"file.ris#3"``).

    Raises
    ------
    InputError
        A record that is not in the store; the message names it.
    """
    out = []
    for ref in refs:
        text = str(ref).strip()
        if text.isdigit():
            hits = conn.scalars(select(Record.id).where(Record.id == int(text))).all()
        else:
            hits = conn.scalars(select(Record.id).where(Record.source_key == text)).all()
        if len(hits) > 1:
            raise InputError(
                f"record {ref!r} names {len(hits)} records (files of the same name); use one "
                f"of the record ids {list(hits)}"
            )
        found = hits[0] if hits else None
        if found is None:
            total = conn.scalar(select(func.count()).select_from(Record)) or 0
            raise InputError(
                f"record {ref!r} is not in this review ({total} records; give a record id "
                "such as 17 or a source key such as 'pubmed.ris#3')"
            )
        out.append(int(found))
    return out
