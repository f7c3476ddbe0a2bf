"""The outcome-level field ``construct`` (with ``instrument``): recorded through the API,
carried by the analysable table for arm-based and precomputed rows alike, compared
between extractors, and carried both ways by the workbook and the CSV folder, also for a
study that reports effects only (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_support import write_protocol
from test_extraction import SECTIONS, _extract, _fill_for

from metasift.errors import InputError
from metasift.review import Review

_BLOCK = "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n"
OUTCOME = "personal_recovery"
#: study -> outcome fields recorded by the first extractor ("Effect 2021" reports an
#: effect only; "Median 2019" and "Se 2020" record none).
FIELDS = {
    "Two 2015": {"construct": "Recovery - global", "instrument": "RAS - total"},
    "Multi 2017": {"construct": "Hope"},
    "Effect 2021": {"construct": "Empowerment/Self-efficacy", "instrument": "Empowerment Scale"},
}


def _setup(folder: Path, database_url: str) -> Review:
    write_protocol(folder, database_url, **{_BLOCK: SECTIONS})
    review = Review.open(folder)
    for label in ("Two 2015", "Multi 2017", "Median 2019", "Se 2020", "Effect 2021", "Asked 2018"):
        review.add_study(label)
    return review


def _record(review: Review, who: str) -> None:
    _extract(review, who)
    for study, fields in FIELDS.items():
        review.extract_value(who, study, OUTCOME, "peer", **fields)


def _check_table(review: Review) -> None:
    data = review.extraction_table(OUTCOME).data
    columns = list(data.columns)
    assert columns[columns.index("setting") + 1 :][:3] == ["instrument", "construct", "quality"]
    by_study = data.groupby("study")
    for study, rows in by_study:
        for field in ("instrument", "construct"):
            expected = FIELDS.get(str(study), {}).get(field)
            for value in rows[field]:
                assert value == expected if expected else math.isnan(value), (study, field)
    sources = dict(zip(data["study"], data["source"], strict=True))
    assert sources["Effect 2021"] == "precomputed" and sources["Two 2015"] == "arms"


def test_construct_is_recorded_and_compared(tmp_path: Path, database_url: str) -> None:
    with _setup(tmp_path, database_url) as review:
        _record(review, "ann")
        _record(review, "ben")
        item = f"outcome|{OUTCOME}|construct"
        review.extract_value("ben", "Multi 2017", OUTCOME, "tau", construct="Hope (HHI)")
        conflicts = review.extraction_conflicts()
        assert conflicts[["study", "item", "by_ann", "by_ben"]].values.tolist() == [
            ["Multi 2017", item, "Hope", "Hope (HHI)"]
        ]
        review.resolve_extraction("Multi 2017", item, "Hope", "dana", "table 1")
        _check_table(review)
        with pytest.raises(InputError, match=r"direction = 'up': use higher or lower"):
            review.extract_value("ann", "Two 2015", OUTCOME, "peer", direction="up")


def test_workbook_round_trip_carries_construct(tmp_path: Path, database_url: str) -> None:
    with _setup(tmp_path / "review", database_url) as review:
        _record(review, "ann")
        sheet = review.export_extraction_sheet("ann", tmp_path / "ann.xlsx")
        values = list(load_workbook(sheet)["values"].iter_rows(values_only=True))
        header = list(values[0])
        assert header[-4:] == ["instrument", "timepoint", "direction", "construct"]
        rows = [dict(zip(header, row, strict=True)) for row in values[1:]]
        effect_only = [r for r in rows if r["study"] == "Effect 2021"]
        # a study without values of the outcome gets one row without an arm
        assert [(r["arm"], r["construct"]) for r in effect_only] == [
            (None, "Empowerment/Self-efficacy")
        ]
        two = {r["construct"] for r in rows if r["study"] == "Two 2015"}
        assert two == {"Recovery - global"}  # repeated on each arm's row
        again = review.import_extraction_sheet("ann", sheet)
        assert again.written == 0 and again.unchanged > 0
        _fill_for(sheet, tmp_path / "ben.xlsx", "ben")
        result = review.import_extraction_sheet("ben", tmp_path / "ben.xlsx")
        assert result.written == again.unchanged
        assert review.extraction_conflicts().empty
        _check_table(review)
        # an armless row holds only outcome fields
        bad = load_workbook(tmp_path / "ben.xlsx")
        column = header.index("n") + 1
        target = 2 + next(i for i, r in enumerate(rows) if r["study"] == "Effect 2021")
        bad["values"].cell(row=target, column=column, value=40)
        bad.save(tmp_path / "bad.xlsx")
        with pytest.raises(InputError, match=r"arm is empty but n given"):
            review.import_extraction_sheet("ben", tmp_path / "bad.xlsx")


def test_csv_folder_round_trip_carries_construct(tmp_path: Path) -> None:
    with _setup(tmp_path / "review", "") as review:
        _record(review, "ann")
        folder = review.export_extraction_sheet("ann", tmp_path / "ann")
        with (folder / "values.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {r["construct"] for r in rows if r["study"] == "Multi 2017"} == {"Hope"}
        assert "construct" in (folder / "README.txt").read_text("utf-8")
        ben = tmp_path / "ben"
        ben.mkdir()
        for path in folder.glob("*.csv"):
            with path.open(encoding="utf-8-sig", newline="") as handle:
                table = list(csv.reader(handle))
            with (ben / path.name).open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(
                    [table[0], *[[r[0], "ben", *r[2:]] for r in table[1:]]]
                )
        review.import_extraction_sheet("ben", ben)
        assert review.extraction_conflicts().empty
        _check_table(review)
