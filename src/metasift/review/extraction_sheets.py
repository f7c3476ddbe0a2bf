"""Offline extraction: an XLSX workbook per extractor with one tab per table
(characteristics, arms, values, effects, availability), drop-down lists and instructions,
or a folder with one CSV file per table and a README.txt, read back with every problem
reported by table and row and nothing written unless the whole sheet is valid.

Each row carries the review's identifier and the extractor, so that a workbook from
another review or another extractor is refused. Only the extractor's own values are
written into the workbook (extraction stays blind).
"""

from __future__ import annotations

import csv
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
    "effects": ("outcome", "comparison", *extraction.EFFECT_FIELDS),
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


def _rows(
    review: Review, extractor: str, tab: str, own: dict[tuple[str, str], Any]
) -> list[list[Any]]:
    """The extractor's current values of one tab: one row per study and key (arm,
    outcome); outcome-level fields (instrument, ...) are repeated on each value row, or
    make a row without an arm when the study has no values of the outcome (a study that
    reports effects only)."""
    names = [n for n in _columns(review)[tab] if n not in ("arm", "outcome", "comparison")]
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    if tab == "characteristics":
        grouped = {(study,): {} for study in review.studies()["study"]}
    for (study, item), value in own.items():
        parts = item.split("|")
        if parts[0] == _PREFIX[tab]:
            key = (study, *parts[1:-1])
            if tab == "effects" and len(parts) == 3:
                key = (*key, "")  # the unlabelled effect: an empty comparison cell
            grouped.setdefault(key, {})[parts[-1]] = value
    if tab == "values":
        for (study, item), value in own.items():
            parts = item.split("|")
            if parts[0] == "outcome":
                mine = [key for key in grouped if key[:2] == (study, parts[1])]
                for key in mine or [(study, parts[1], "")]:
                    grouped.setdefault(key, {})[parts[2]] = value
    return [[*key, *[grouped[key].get(n) for n in names]] for key in sorted(grouped)]


def export_extraction_sheet(review: Review, extractor: str, path: str | Path) -> Path:
    """Write ``extractor``'s extraction sheet with their values filled in: an XLSX workbook
    (``path`` ending in .xlsx) or a folder with one CSV file per table (``path`` without a
    suffix)."""
    target = Path(path)
    if target.suffix.lower() not in (".xlsx", ""):
        raise InputError(
            f"path {str(target)!r}: an extraction sheet is a .xlsx workbook or a folder "
            "(a path without a suffix) for one CSV file per table"
        )
    if extractor not in review.protocol.coders("characteristics"):
        raise InputError(f"{extractor!r} is not an extractor of [characteristics]")
    own = _own(review, extractor)
    if not target.suffix:
        return _export_csv(review, extractor, target, own)
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


def _csv_cell(value: Any) -> Any:
    # Flags are written as the words the import reads back, not Python's True / False.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def _export_csv(
    review: Review, extractor: str, folder: Path, own: dict[tuple[str, str], Any]
) -> Path:
    """One CSV file per table (UTF-8 with a byte-order mark, which spreadsheets need to
    read it as UTF-8) and README.txt with the instructions and the allowed values."""
    folder.mkdir(parents=True, exist_ok=True)
    lists = [f"{name}: {', '.join(make(review))}" for name, make in _LISTS.items()]
    text = [*_instructions(review, extractor), "", "Allowed values:", *lists]
    (folder / "README.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    for tab, names in _columns(review).items():
        with (folder / f"{tab}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*_KEYS, *names])
            for row in _rows(review, extractor, tab, own):
                writer.writerow([review.review_id, extractor, *map(_csv_cell, row)])
    return folder


def _instructions(review: Review, extractor: str) -> list[str]:
    return [
        f"Extraction sheet of {extractor} for '{review.protocol.review.title}'.",
        "One tab (or CSV file) per table; add rows as needed, one row per study (and arm, "
        "outcome).",
        "arms: role is intervention or control. values: give n and mean with sd, se or "
        "ci_lb/ci_ub, or median with q1/q3 or minimum/maximum, or events; change = yes for "
        "change scores; unit is the unit of the values as reported (converted to the "
        "outcome's unit of review.toml); direction is the direction of the study's scale "
        "(higher/lower is better); instrument, timepoint, direction and construct belong "
        "to the study's outcome (construct: the finer construct or instrument family the "
        "instrument measures, e.g. Depression); a row without an arm holds only these, "
        "for a study that reports effects only.",
        "effects: a study that reports only an effect gives yi with vi or sei (not both), "
        "the measure (SMD, MD, OR, ...) and n1i/n2i; several effects of one outcome each "
        "get a comparison label.",
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


def _table(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Rows as dicts by lower-case header, blank rows left out."""
    header = [str(h or "").strip().lower() for h in (rows[0] if rows else [])]
    return [
        dict(zip(header, row, strict=False))
        for row in rows[1:]
        if any(v not in (None, "") for v in row)
    ]


def _read_csv(folder: Path) -> dict[str, list[dict[str, Any]]]:
    tabs = {}
    for tab in ("characteristics", *TABS):
        path = folder / f"{tab}.csv"
        if path.is_file():
            try:
                with path.open(encoding="utf-8-sig", newline="") as handle:
                    rows = [[_text(v) for v in row] for row in csv.reader(handle)]
            except (UnicodeDecodeError, csv.Error) as error:
                raise InputError(f"{path.name} is not a readable UTF-8 CSV file: {error}") from None
            tabs[tab] = _table(rows)
    if not tabs:
        names = ", ".join(f"{t}.csv" for t in ("characteristics", *TABS))
        raise InputError(f"folder {str(folder)!r} holds none of the sheet's files ({names})")
    return tabs


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    if path.is_dir():
        return _read_csv(path)
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
        tabs[tab] = _table(
            [[_text(v) for v in row] for row in book[tab].iter_rows(values_only=True)]
        )
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
        arm = str(given.pop("arm", ""))
        if not arm:  # the outcome fields of a study without values of the outcome
            other = [f for f in given if f not in extraction.OUTCOME_FIELDS]
            if other:
                raise InputError(
                    f"arm is empty but {', '.join(other)} given: a value needs its arm (a row "
                    f"without one holds only {', '.join(extraction.OUTCOME_FIELDS)})"
                )
            return extraction.outcome_items(protocol, outcome, given)
        return extraction.value_items(protocol, outcome, arm, given)
    if tab == "effects":
        return extraction.effect_items(
            protocol,
            outcome,
            given.get("yi"),
            given.get("vi"),
            given.get("measure", "SMD"),
            sei=given.get("sei"),
            comparison=str(given.get("comparison", "")),
            n1i=given.get("n1i"),
            n2i=given.get("n2i"),
            unit=str(given.get("unit") or ""),
        )
    return extraction.availability_items(
        protocol,
        outcome,
        given.get("status", ""),
        given.get("requested_on"),
        given.get("reply") or "",
    )


def import_extraction_sheet(review: Review, extractor: str, path: str | Path) -> ExtractionImport:
    """Import a filled workbook (.xlsx) or CSV folder: every row of every table is checked
    first; one problem means nothing is recorded and the error lists the problems by table
    and row."""
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
