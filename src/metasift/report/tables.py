"""The tables of a synthesis as files: CSV and JSON per table and one XLSX workbook.

Every file is a function of the results alone: numbers at full precision (the shortest
text that reads back as the same double), no timestamps, fixed dates inside the XLSX
archive, so that a rerun on the same review writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from metasift.synthesis import SynthesisResults

__all__ = ["FIXED_DATE", "supplement_table", "write_tables"]

#: The date written into the XLSX workbook's properties and zip entries: fixed, so that
#: a rerun gives the same bytes (the earliest date a zip archive can hold).
FIXED_DATE = dt.datetime(1980, 1, 1)


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _two(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "NA"


def _supplement_row(row: pd.Series, level: int) -> dict[str, Any]:
    pooled = row["status"] == "pooled"
    n = "" if not math.isfinite(row["n"]) else f"{row['n']:.0f}"
    if n and row["n_unknown"]:
        n = f"≥{n}"  # some comparisons have no group sizes
    found: dict[str, Any] = {
        "Outcome": row["outcome"],
        "Comparator": "" if row["stratum"] == "all" else row["stratum"],
        "Subgroup": "" if row["facet"] == "all" else row["facet"],
        "Category": row["category"],
        "Analysis": row["analysis"],
        "k": int(row["k"]),
        "N": n,
    }
    if not pooled:
        empty = ("p", "I2 (%)", "p (Q)", f"{level}% PI", "Interpretation")
        return found | {f"Effect ({level}% CI)": "not applicable"} | dict.fromkeys(empty, "")
    pi = ""
    if math.isfinite(row["pi_lb"]):
        pi = f"{_two(row['pi_lb'])} to {_two(row['pi_ub'])}"
    return found | {
        f"Effect ({level}% CI)": (
            f"{_two(row['estimate'])} ({_two(row['ci_lb'])} to {_two(row['ci_ub'])})"
        ),
        "p": _p_text(row["pval"]),
        "I2 (%)": f"{100 * row['i2']:.0f}" if math.isfinite(row["i2"]) else "",
        "p (Q)": _p_text(row["qe_pval"]),
        f"{level}% PI": pi,
        "Interpretation": row["interpretation"],
    }


def supplement_table(results: SynthesisResults) -> pd.DataFrame:
    """Pooled effect sizes by outcome and category as a review's supplement shows them:
    effects to two decimals with their CI, p, I^2 in percent, the p of the Q test, the
    prediction interval and Cohen's label; "not applicable" where a cell was not pooled.

    The columns are for reading; the tidy ``pooled_effects`` table keeps full precision.
    """
    frame = results.pooled_effects()
    level = round(100 * results.plan.level)
    rows = [_supplement_row(row, level) for _, row in frame.iterrows()]
    return pd.DataFrame(rows)


def _plain(value: Any) -> Any:
    """A cell as a JSON/XLSX value: NaN as None, NumPy scalars as Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _plain(v) for k, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    # pandas writes floats with repr(): the shortest text that reads back exactly
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    path.write_bytes(text.encode("utf-8"))
    return path


def _write_json(frame: pd.DataFrame, path: Path) -> Path:
    text = json.dumps(_records(frame), indent=1, ensure_ascii=False, allow_nan=False)
    path.write_bytes((text + "\n").encode("utf-8"))
    return path


def _workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.remove(book.active)
    for name, frame in tables.items():
        sheet = book.create_sheet(name[:31])
        sheet.append([str(c) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_plain(v) for v in row])
        sheet.freeze_panes = "A2"
    book.properties.creator = "metasift"
    book.properties.created = book.properties.modified = FIXED_DATE
    buffer = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps the time of saving
    ExcelWriter(book, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_dates(buffer.getvalue())


def _fixed_dates(archive: bytes) -> bytes:
    """The zip archive again, every entry dated :data:`FIXED_DATE`."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def write_tables(results: SynthesisResults, folder: str | Path) -> list[Path]:
    """Write the tables of ``results`` into ``folder/tables``; return the paths written.

    Parameters
    ----------
    results : SynthesisResults
        The result of :func:`metasift.synthesis.run_analysis`.
    folder : str or Path
        The output folder of the review (``output/`` of the review folder by default of
        ``metasift run``); the files go to its ``tables`` folder, which is created.

    Returns
    -------
    list of Path
        ``supplement``, ``pooled_effects``, ``subgroup_tests``, ``sensitivity``,
        ``publication_bias``, ``studies`` and ``notes``, each as ``.csv`` and ``.json``,
        then ``tables.xlsx`` with a sheet per table.

    Notes
    -----
    CSV: UTF-8, ``\\n`` line ends, empty cells for missing values, floats at full
    precision. JSON: a list of records, ``null`` for missing values. XLSX: numbers with
    16 significant digits (openpyxl's format; Excel shows 15), the workbook's created and
    modified dates and its zip entries' dates are :data:`FIXED_DATE`. Two runs on the
    same results give files with the same bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.review import Review
    >>> from metasift.synthesis import run_analysis
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Review.create(folder).close()
    >>> text = (folder / "review.toml").read_text()
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> text = text.replace("[outcomes]\\n", '[outcomes.mood]\\ndirection = "higher"\\n')
    >>> _ = (folder / "review.toml").write_text(text)
    >>> with Review.open(folder) as review:
    ...     for study, yi, vi in [("A", 0.1, 0.02), ("B", 0.3, 0.03), ("C", 0.6, 0.04)]:
    ...         _ = review.add_study(study)
    ...         _ = review.extract_effect("ann", study, "mood", yi, vi)
    ...     results = run_analysis(review)
    >>> paths = write_tables(results, folder / "output")
    >>> [p.name for p in paths][:3], paths[-1].name
    (['supplement.csv', 'supplement.json', 'pooled_effects.csv'], 'tables.xlsx')
    >>> print((folder / "output" / "tables" / "supplement.csv").read_text().splitlines()[1])
    mood,,,All studies,main,3,,0.31 (0.03 to 0.59),0.031,52,0.123,-0.14 to 0.75,small
    """
    target = Path(folder) / "tables"
    target.mkdir(parents=True, exist_ok=True)
    tables = {"supplement": supplement_table(results), **results.tables()}
    paths: list[Path] = []
    for name, frame in tables.items():
        paths.append(_write_csv(frame, target / f"{name}.csv"))
        paths.append(_write_json(frame, target / f"{name}.json"))
    book = target / "tables.xlsx"
    book.write_bytes(_workbook_bytes(tables))
    return [*paths, book]
