"""Offline extraction: an XLSX workbook per extractor with one tab per table
(characteristics, arms, values, effects, availability), drop-down lists and instructions,
read back with every problem reported by tab and row and nothing written unless the whole
workbook is valid.

Each row carries the review's identifier and the extractor, so that a workbook from
another review or another extractor is refused. Only the extractor's own values are
written into the workbook (extraction stays blind).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from metasift.errors import InputError
from metasift.review import classification, extraction
from metasift.review._sheets import refuse

if TYPE_CHECKING:
    from metasift.review.project import Review

__all__ = ["ExtractionImport", "export_extraction_sheet", "import_extraction_sheet"]

_KEYS = ("review_id", "extractor", "study")
TABS: dict[str, tuple[str, ...]] = {
    "arms": ("arm", *extraction.ARM_FIELDS),
    "values": ("outcome", "arm", *extraction.VALUE_FIELDS, *extraction.OUTCOME_FIELDS),
    "effects": ("outcome", "yi", "vi", "measure"),
    "availability": ("outcome", "status", "requested_on", "reply"),
}


@dataclass(frozen=True)
class ExtractionImport:
    """Outcome of importing an extraction workbook: rows read, fields written, unchanged."""

    rows: int
    written: int
    unchanged: int

    def summary(self) -> str:
        """One line."""
        return f"{self.rows} rows: {self.written} fields recorded, {self.unchanged} unchanged"


def _columns(review: Review) -> dict[str, tuple[str, ...]]:
    return {"characteristics": tuple(review.protocol.characteristics.fields)} | TABS


def _own(review: Review, extractor: str) -> dict[tuple[str, str], Any]:
    with review.store.read() as conn:
        coded = classification.coded_items(conn, "extraction")
    mine = coded[(coded["reviewer"] == extractor) & ~coded["consensus"].astype(bool)]
    return {(s, i): v for s, i, v in zip(mine["study"], mine["item"], mine["value"], strict=True)}


_PREFIX = {
    "characteristics": "characteristics",
    "arms": "arm",
    "values": "value",
    "effects": "effect",
    "availability": "availability",
}


def _rows(review: Review, extractor: str, tab: str, own: dict) -> list[list[Any]]:
    """The extractor's current values of one tab: one row per study and key (arm,
    outcome); outcome-level fields (instrument, ...) are repeated on each value row."""
    names = [n for n in _columns(review)[tab] if n not in ("arm", "outcome")]
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    if tab == "characteristics":
        grouped = {(study,): {} for study in review.studies()["study"]}
    for (study, item), value in own.items():
        parts = item.split("|")
        if parts[0] == _PREFIX[tab]:
            grouped.setdefault((study, *parts[1:-1]), {})[parts[-1]] = value
    if tab == "values":
        for (study, item), value in own.items():
            parts = item.split("|")
            if parts[0] == "outcome":
                for key, fields in grouped.items():
                    if key[:2] == (study, parts[1]):
                        fields[parts[2]] = value
    return [[*key, *[grouped[key].get(n) for n in names]] for key in sorted(grouped)]


def export_extraction_sheet(review: Review, extractor: str, path: str | Path) -> Path:
    """Write ``extractor``'s extraction workbook (XLSX) with their values filled in."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise InputError(f"path {str(target)!r}: an extraction workbook is .xlsx")
    if extractor not in review.protocol.coders("characteristics"):
        raise InputError(f"{extractor!r} is not an extractor of [characteristics]")
    own = _own(review, extractor)
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "instructions"
    for line in _instructions(review, extractor):
        about.append([line])
    lists = book.create_sheet("lists")
    _lists(review, lists)
    for tab, names in _columns(review).items():
        sheet = book.create_sheet(tab)
        header = [*_KEYS, *names]
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in _rows(review, extractor, tab, own):
            sheet.append([review.review_id, extractor, *row])
        _validate(sheet, header)
    lists.sheet_state = "hidden"
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _instructions(review: Review, extractor: str) -> list[str]:
    return [
        f"Extraction workbook of {extractor} for '{review.protocol.review.title}'.",
        "One tab per table; add rows as needed, one row per study (and arm, outcome).",
        "arms: role is intervention or control. values: give n and mean with sd, se or "
        "ci_lb/ci_ub, or median with q1/q3 or minimum/maximum, or events; change = yes for "
        "change scores; direction is the direction of the study's scale (higher/lower is "
        "better).",
        "availability: usable, requested (with requested_on as YYYY-MM-DD and the reply) or "
        "not_obtainable.",
        "Do not edit review_id or extractor. Import with: metasift extract import FILE "
        f"--extractor {extractor}",
    ]


_LISTS: dict[str, Callable[[Review], list[str]]] = {
    "study": lambda r: list(r.studies()["study"]),
    "outcome": lambda r: list(r.protocol.outcomes),
    "role": lambda r: list(extraction.ROLES),
    "status": lambda r: list(extraction.AVAILABILITY),
    "direction": lambda r: ["higher", "lower"],
    "change": lambda r: ["yes", "no"],
}


def _lists(review: Review, sheet: Any) -> None:
    for index, (name, make) in enumerate(_LISTS.items(), start=1):
        sheet.cell(row=1, column=index, value=name)
        for row, value in enumerate(make(review) or [""], start=2):
            sheet.cell(row=row, column=index, value=value)


def _validate(sheet: Any, header: list[str]) -> None:
    names = list(_LISTS)
    for index, name in enumerate(header, start=1):
        if name not in names:
            continue
        column = get_column_letter(names.index(name) + 1)
        target = get_column_letter(index)
        rule = DataValidation(
            type="list", formula1=f"lists!${column}$2:${column}$2000", allow_blank=True
        )
        rule.add(f"{target}2:{target}2000")
        sheet.add_data_validation(rule)


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    if not path.is_file():
        raise InputError(f"workbook {str(path)!r} does not exist")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise InputError(f"{path.name} is not a readable .xlsx workbook: {error}") from None
    tabs = {}
    for tab in ("characteristics", *TABS):
        if tab not in book.sheetnames:
            continue
        table = [[_text(v) for v in row] for row in book[tab].iter_rows(values_only=True)]
        header = [str(h or "").strip().lower() for h in (table[0] if table else [])]
        tabs[tab] = [
            dict(zip(header, row, strict=False))
            for row in table[1:]
            if any(v not in (None, "") for v in row)
        ]
    book.close()
    return tabs


def _items(review: Review, tab: str, row: dict[str, Any]) -> dict[str, Any]:
    given = {k: v for k, v in row.items() if k not in _KEYS and v not in (None, "")}
    protocol = review.protocol
    if tab == "characteristics":
        return extraction.characteristic_items(protocol, given)
    if tab == "arms":
        return extraction.arm_items(str(given.pop("arm", "")), given)
    outcome = str(given.pop("outcome", ""))
    if tab == "values":
        return extraction.value_items(protocol, outcome, str(given.pop("arm", "")), given)
    if tab == "effects":
        return extraction.effect_items(
            protocol, outcome, given.get("yi"), given.get("vi"), given.get("measure", "SMD")
        )
    return extraction.availability_items(
        protocol, outcome, given.get("status", ""), given.get("requested_on"), given.get("reply")
    )


def import_extraction_sheet(review: Review, extractor: str, path: str | Path) -> ExtractionImport:
    """Import a filled workbook: every row of every tab is checked first; one problem means
    nothing is recorded and the error lists the problems by tab and row."""
    target = Path(path)
    if extractor not in review.protocol.coders("characteristics"):
        raise InputError(f"{extractor!r} is not an extractor of [characteristics]")
    known = set(review.studies()["study"])
    errors: list[str] = []
    found: dict[str, dict[str, Any]] = {}
    count = 0
    for tab, rows in _read(target).items():
        for number, row in enumerate(rows, start=2):
            count += 1
            where = f"{tab} row {number}"
            if str(row.get("review_id")) != review.review_id:
                errors.append(f"{where}: review_id is not this review's ({review.review_id})")
            elif row.get("extractor") != extractor:
                errors.append(f"{where}: extractor {row.get('extractor')!r}, not {extractor!r}")
            elif row.get("study") not in known:
                errors.append(f"{where}: study {row.get('study')!r} is not in the review")
            else:
                try:
                    found.setdefault(str(row["study"]), {}).update(_items(review, tab, row))
                except InputError as error:
                    errors.append(f"{where}: {error}")
    if errors:
        refuse(target, errors)
    own = _own(review, extractor)
    written = unchanged = 0
    for study, items in found.items():
        fresh = {i: v for i, v in items.items() if (study, i) not in own or own[study, i] != v}
        unchanged += len(items) - len(fresh)
        if fresh:
            written += review._extract(extractor, study, fresh, "sheet")
    return ExtractionImport(count, written, unchanged)
