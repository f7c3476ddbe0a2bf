"""Screening in spreadsheets: export a reviewer's records as XLSX or CSV, import the
filled sheet back with validation (every problem of every row reported, nothing written
unless the whole sheet is valid).

Each row carries the review's identifier, the stage and the reviewer, so that a sheet from
another review, another stage or another reviewer is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from metasift.errors import InputError
from metasift.review._screening import Vote, check_vote
from metasift.review.protocol import DECISIONS, Protocol

__all__ = ["SHEET_COLUMNS", "SheetImport", "read_sheet", "validate_rows", "write_sheet"]

#: Columns of a screening sheet, in order.
SHEET_COLUMNS = (
    "review_id",
    "stage",
    "reviewer",
    "record_id",
    "title",
    "authors",
    "year",
    "journal",
    "doi",
    "abstract",
    "flag",
    "decision",
    "reason",
    "note",
)
_REQUIRED = ("review_id", "stage", "reviewer", "record_id", "decision", "reason")
_WIDTHS = {"title": 60, "abstract": 80, "authors": 30, "journal": 25, "reason": 30, "note": 30}
_MAX_LISTED = 25


@dataclass(frozen=True)
class SheetImport:
    """Outcome of importing a screening sheet.

    Attributes
    ----------
    rows : int
        Data rows read.
    written : int
        New decisions recorded.
    unchanged : int
        Rows equal to the reviewer's current decision (not recorded again).
    blank : int
        Rows without a decision (records left for later).
    """

    rows: int
    written: int
    unchanged: int
    blank: int

    def summary(self) -> str:
        """One line."""
        return (
            f"{self.rows} rows: {self.written} decisions recorded, {self.unchanged} unchanged, "
            f"{self.blank} without a decision"
        )


def _instructions(protocol: Protocol, stage: str, reviewer: str) -> list[str]:
    settings = protocol.stage(stage)
    assert settings is not None
    reasons = ", ".join(settings.reasons) or "free text, optional"
    return [
        f"Screening sheet of {reviewer} for stage {stage} of '{protocol.review.title}'.",
        f"Fill the decision column with one of: {', '.join(DECISIONS)}; leave it empty to "
        "decide later.",
        f"An exclusion takes a reason ({reasons})"
        + ("; at full text it is required." if stage == "full_text" else "."),
        "Do not edit review_id, stage, reviewer or record_id: they link each row to the review.",
        "Import the sheet back with: metasift screen --reviewer "
        f"{reviewer} --stage {stage} --import FILE",
    ]


def write_sheet(
    rows: pd.DataFrame, path: Path, protocol: Protocol, stage: str, reviewer: str
) -> Path:
    """Write the rows (columns :data:`SHEET_COLUMNS`) as XLSX or CSV, by the suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InputError(f"path {str(path)!r}: a screening sheet is .xlsx or .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = rows[list(SHEET_COLUMNS)]
    if suffix == ".csv":
        # UTF-8 with a byte-order mark, so that spreadsheet programs read accents right.
        table.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "screening"
    sheet.append(list(SHEET_COLUMNS))
    for values in table.itertuples(index=False):
        sheet.append(["" if v is None or v != v else v for v in values])
    _format(sheet, len(table), protocol, stage, book)
    about = book.create_sheet("about")
    for line in _instructions(protocol, stage, reviewer):
        about.append([line])
    about.append([f"Exported {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"])
    book.save(path)
    return path


def _format(sheet: Any, n: int, protocol: Protocol, stage: str, book: Workbook) -> None:
    sheet.freeze_panes = "E2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, name in enumerate(SHEET_COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, 12)
        if name in ("title", "abstract"):
            for row in range(2, n + 2):
                sheet.cell(row=row, column=index).alignment = Alignment(wrap_text=True)
    last = max(n + 1, 2)
    decision_col = sheet.cell(row=1, column=SHEET_COLUMNS.index("decision") + 1).column_letter
    check = DataValidation(type="list", formula1=f'"{",".join(DECISIONS)}"', allow_blank=True)
    check.add(f"{decision_col}2:{decision_col}{last}")
    sheet.add_data_validation(check)
    settings = protocol.stage(stage)
    assert settings is not None
    if settings.reasons:
        lists = book.create_sheet("lists")
        for reason in settings.reasons:
            lists.append([reason])
        lists.sheet_state = "hidden"
        reason_col = sheet.cell(row=1, column=SHEET_COLUMNS.index("reason") + 1).column_letter
        pick = DataValidation(
            type="list", formula1=f"lists!$A$1:$A${len(settings.reasons)}", allow_blank=True
        )
        pick.add(f"{reason_col}2:{reason_col}{last}")
        sheet.add_data_validation(pick)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheet(path: Path) -> list[dict[str, str]]:
    """Rows of a screening sheet as dicts of stripped text, header names lower-cased."""
    if not path.is_file():
        raise InputError(f"sheet {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table = [list(row) for row in csv.reader(handle)]
    elif suffix == ".xlsx":
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
            raise InputError(
                f"sheet {path.name} is not a readable .xlsx workbook: {error}"
            ) from None
        sheet = book["screening"] if "screening" in book.sheetnames else book.active
        assert sheet is not None
        table = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        raise InputError(f"sheet {str(path)!r}: a screening sheet is .xlsx or .csv")
    if not table:
        raise InputError(f"sheet {str(path)!r} is empty")
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"sheet {path.name}: column(s) {missing} missing; a screening sheet has "
            f"{list(SHEET_COLUMNS)}"
        )
    rows = []
    for values in table[1:]:
        if not any(_cell(v) for v in values):
            continue
        padded = [_cell(v) for v in values] + [""] * (len(header) - len(values))
        rows.append(dict(zip(header, padded, strict=False)))
    return rows


def validate_rows(
    rows: Sequence[dict[str, str]],
    *,
    review_id: str,
    reviewer: str,
    stage: str,
    protocol: Protocol,
) -> tuple[list[tuple[int, Vote]], list[str], int]:
    """Check every row; return (sheet row number, vote) pairs, the errors and blank rows."""
    votes: list[tuple[int, Vote]] = []
    errors: list[str] = []
    blank = 0
    for number, row in enumerate(rows, start=2):
        problem = _row_problem(row, review_id, reviewer, stage)
        if problem:
            errors.append(f"row {number}: {problem}")
            continue
        if not row.get("decision"):
            blank += 1
            continue
        try:
            vote = Vote(
                int(row["record_id"]),
                row["decision"],
                row.get("reason") or None,
                row.get("note", ""),
            )
            votes.append((number, check_vote(protocol, stage, vote)))
        except InputError as error:
            errors.append(f"row {number}: {error}")
    return votes, errors, blank


def _row_problem(row: dict[str, str], review_id: str, reviewer: str, stage: str) -> str:
    if row.get("review_id") != review_id:
        return (
            f"review_id {row.get('review_id')!r} is not this review's ({review_id}): the row "
            "comes from another review"
        )
    if row.get("reviewer") != reviewer:
        return f"reviewer {row.get('reviewer')!r}, but the sheet is imported for {reviewer!r}"
    if row.get("stage") != stage:
        return f"stage {row.get('stage')!r}, but the sheet is imported for {stage!r}"
    if not row.get("record_id", "").isdigit():
        return f"record_id {row.get('record_id')!r} is not a record id"
    return ""


def refuse(path: Path, errors: list[str]) -> None:
    """Raise one :class:`InputError` listing the errors of a sheet."""
    shown = errors[:_MAX_LISTED]
    more = len(errors) - len(shown)
    raise InputError(
        f"sheet {path.name}: {len(errors)} problem(s); nothing was imported:\n  "
        + "\n  ".join(shown)
        + (f"\n  ... and {more} more" if more else "")
    )
