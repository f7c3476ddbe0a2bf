"""The table files of a synthesis: full precision in CSV and JSON, one XLSX workbook, the
supplement table with "not applicable" cells, and the same bytes on a rerun."""

from __future__ import annotations

import json
import math
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synthesis"))

from openpyxl import load_workbook
from synthesis_support import bcg_rows, build_bcg

from metasift.report.tables import FIXED_DATE, supplement_table, write_tables
from metasift.review import Review
from metasift.synthesis import TABLES, SynthesisResults, run_analysis

PLAN = """[analysis]
measure = "RR"
method = "DL"
min_studies = 3
subgroups = {alloc = "pre-specified", era = "post hoc"}
[analysis.sensitivity.without_poor]
exclude = {quality = ["poor"]}
"""
NAMES = ["supplement", *TABLES]
#: openpyxl writes numbers with 16 significant digits ("%.16g"; Excel shows 15), so a
#: double that needs 17 comes back within half a unit of the 16th digit.
RTOL_XLSX = 1e-15


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rob = {r["study"]: "lllllll" if i % 3 == 0 else "hhlllll" for i, r in enumerate(bcg_rows())}
    return build_bcg(tmp_path_factory.mktemp("bcg") / "review", PLAN, rob=rob)


def _results(folder: Path) -> SynthesisResults:
    with Review.open(folder) as review:
        return run_analysis(review)


def test_files_and_bytes_are_the_same_on_a_rerun(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_tables(_results(folder), tmp_path / "one")
    assert [p.name for p in first] == [
        *[f"{name}.{ext}" for name in NAMES for ext in ("csv", "json")],
        "tables.xlsx",
    ]
    assert {p.parent for p in first} == {tmp_path / "one" / "tables"}
    # a day later by the clock: nothing written may depend on it
    later = time.time() + 86_400
    monkeypatch.setattr(time, "time", lambda: later)
    second = write_tables(_results(folder), tmp_path / "two")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    with zipfile.ZipFile(first[-1]) as archive:
        dates = {info.date_time for info in archive.infolist()}
        core = archive.read("docProps/core.xml").decode()
    assert dates == {FIXED_DATE.timetuple()[:6]}
    assert core.count("1980-01-01T00:00:00Z") == 2  # created and modified


def test_csv_and_json_keep_full_precision(folder: Path, tmp_path: Path) -> None:
    results = _results(folder)
    write_tables(results, tmp_path)
    for name, frame in results.tables().items():
        if frame.empty:
            continue
        back = pd.read_csv(tmp_path / "tables" / f"{name}.csv", keep_default_na=False)
        assert list(back.columns) == list(frame.columns), name
        for column in frame.columns:
            if pd.api.types.is_float_dtype(frame[column]):
                read = pd.to_numeric(back[column].replace("", np.nan))
                np.testing.assert_array_equal(read.to_numpy(float), frame[column].to_numpy())
        records = json.loads((tmp_path / "tables" / f"{name}.json").read_text("utf-8"))
        assert len(records) == len(frame)
        for record, (_, row) in zip(records, frame.iterrows(), strict=True):
            for column, value in row.items():
                if isinstance(value, float) and math.isnan(value):
                    assert record[column] is None
                elif isinstance(value, float):
                    assert record[column] == value  # the same double, not a rounded one
    main = results.pooled_effects().iloc[0]
    text = (tmp_path / "tables" / "pooled_effects.csv").read_text("utf-8").splitlines()[1]
    assert repr(float(main["estimate"])) in text and "\r" not in text


def test_workbook_has_a_sheet_per_table(folder: Path, tmp_path: Path) -> None:
    results = _results(folder)
    path = write_tables(results, tmp_path)[-1]
    book = load_workbook(path)
    assert book.sheetnames == NAMES
    sheet = book["pooled_effects"]
    frame = results.pooled_effects()
    header = [cell.value for cell in sheet[1]]
    assert header == list(frame.columns)
    estimates = [row[header.index("estimate")] for row in sheet.iter_rows(2, values_only=True)]
    assert [e is None for e in estimates] == frame["estimate"].isna().tolist()
    found = np.array([np.nan if e is None else e for e in estimates])
    np.testing.assert_allclose(found, frame["estimate"], rtol=RTOL_XLSX)
    assert book.properties.created == FIXED_DATE


def test_supplement_table_shows_not_applicable_cells(folder: Path) -> None:
    results = _results(folder)
    table = supplement_table(results)
    pooled = results.pooled_effects()
    assert len(table) == len(pooled) == 7
    assert list(table.columns) == [
        "Outcome", "Comparator", "Subgroup", "Category", "Analysis", "k", "N",
        "Effect (95% CI)", "p", "I2 (%)", "p (Q)", "95% PI", "Interpretation",
    ]  # fmt: skip
    rows = table.set_index("Category")
    for category in ("alternate", "cluster"):  # k = 2 and k = 0, below min_studies = 3
        assert rows.loc[category, "Effect (95% CI)"] == "not applicable"
        assert rows.loc[category, "p"] == ""
    main = pooled.iloc[0]
    assert rows.loc["All studies", "Effect (95% CI)"] == (
        f"{main['estimate']:.2f} ({main['ci_lb']:.2f} to {main['ci_ub']:.2f})"
    )
    assert rows.loc["All studies", "p"] == "<0.001"
    assert rows.loc["All studies", "I2 (%)"] == f"{100 * main['i2']:.0f}"
    assert rows.loc["All studies", "N"] == f"{main['n']:.0f}"
    assert rows.loc["1960 on", "Analysis"] == "post hoc"
