"""Studies, classification and risk of bias through the command line (SQLite and
PostgreSQL): the same hand-computed AHRQ ratings and agreement as the API test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_support import write_protocol
from test_extraction import RTOL_CLOSED_FORM, SECTIONS, STUDIES, expected
from typer.testing import CliRunner

from metasift.cli import app
from metasift.plots.robtools import read_rob_table

#: Agreement values are ratios of small integers.
RTOL_EXACT = 1e-12
_ROB_SECTIONS = """[classification]
coders = ["ann", "ben"]
arbiter = "dana"
[classification.facets.setting]
categories = ["added", "established", "independent", "online"]
[risk_of_bias]
coders = ["ann", "ben"]
arbiter = "dana"
"""
_DOMAINS = (
    "random_sequence_generation",
    "allocation_concealment",
    "blinding_outcome_assessment",
    "incomplete_outcome_data",
    "selective_outcome_reporting",
    "power_calculation",
    "intention_to_treat",
)


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _judge(values: str) -> list[str]:
    names = {"l": "low", "u": "unclear", "h": "high"}
    return [f"{d}={names[v]}" for d, v in zip(_DOMAINS, values, strict=True)]


@pytest.mark.parametrize("group", ["study", "classify", "appraise", "extract"])
def test_help_has_examples(group: str) -> None:
    assert "Example" in run(group, "--help")


def test_classify_and_appraise_through_the_cli(tmp_path: Path, database_url: str) -> None:
    write_protocol(tmp_path, database_url, **{"[classification]\n[risk_of_bias]\n": _ROB_SECTIONS})
    folder = ["-C", str(tmp_path)]
    for label in ("S1", "S2", "S3"):
        run("study", "add", label, *folder)
    assert [s["study"] for s in json.loads(run("study", "list", "--json", *folder))] == [
        "S1",
        "S2",
        "S3",
    ]
    codes = {"ann": ["added", "online", "online"], "ben": ["added", "online", "added"]}
    for coder, values in codes.items():
        for study, value in zip(("S1", "S2", "S3"), values, strict=True):
            run("classify", "code", study, f"setting={value}", "--coder", coder, *folder)
    conflicts = json.loads(run("classify", "conflicts", "--json", *folder))
    assert [(c["study"], c["by_ann"], c["by_ben"]) for c in conflicts] == [
        ("S3", "online", "added")
    ]
    # po = 2/3; ann: added 1, online 2; ben: added 2, online 1; pe = (2 + 2)/9 = 4/9;
    # kappa = (2/3 - 4/9)/(1 - 4/9) = 2/5.
    stats = json.loads(run("classify", "agreement", "setting", "--json", *folder))
    kappa = next(s for s in stats if s["statistic"] == "cohen_kappa")
    assert kappa["estimate"] == pytest.approx(0.4, rel=RTOL_EXACT)
    out = run("classify", "resolve", "S3", "setting", "online", "--by", "dana", *folder, code=1)
    assert "note" in out
    run("classify", "resolve", "S3", "setting", "online", "--by", "dana", "--note", "p4", *folder)
    for study, values in {"S1": "lllllll", "S2": "luullll", "S3": "hlllllu"}.items():
        for who in ("ann", "ben"):
            run("appraise", "judge", study, *_judge(values), "--appraiser", who, *folder)
    table = json.loads(run("appraise", "table", "--json", *folder))
    assert [row["overall"] for row in table] == ["good", "fair", "poor"]
    quality = json.loads(run("appraise", "quality", "setting", "--json", *folder))
    by_category = {row["category"]: (row["good"], row["fair"], row["poor"]) for row in quality}
    assert by_category == {"added": (1, 0, 0), "online": (0, 1, 1), "All": (1, 1, 1)}
    run("appraise", "robvis", "--output", str(tmp_path / "rob.csv"), *folder)
    assert (tmp_path / "rob.csv").read_text().splitlines()[3].startswith("S3,High,Low")
    # The figures read the file as robvis' generic template.
    rob = read_rob_table(tmp_path / "rob.csv", "Generic").to_frame()
    assert rob.shape == (3, 10) and rob.iloc[2]["Overall"] == "High"
    for kind in ("traffic", "summary"):
        figure = tmp_path / f"rob-{kind}.svg"
        run("appraise", "figure", str(figure), "--kind", kind, *folder)
        assert figure.read_text().lstrip().startswith("<?xml")
    out = run(
        "appraise", "judge", "S1", "power_calculation=maybe", "--appraiser", "ann", *folder, code=1
    )
    assert "not allowed" in out


def _fill(path: Path, extractor: str) -> None:
    """Fill an exported workbook with the test review's arms, values and availability."""
    book = load_workbook(path)
    review_id = book["characteristics"]["A2"].value
    for tab, rows in _workbook_rows().items():
        sheet = book[tab]
        header = [c.value for c in sheet[1]]
        for fields in rows:
            base = {"review_id": review_id, "extractor": extractor}
            sheet.append([(base | fields).get(name) for name in header])
    book.save(path)


def _workbook_rows() -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {"arms": [], "values": [], "effects": [], "availability": []}
    for study, spec in STUDIES.items():
        for arm, role, n in spec["arms"]:
            rows["arms"].append({"study": study, "arm": arm, "role": role, "n_randomised": n})
        for arm, fields in spec["values"].items():
            rows["values"].append(
                {"study": study, "outcome": "personal_recovery", "arm": arm} | fields
            )
        rows["availability"].append(
            {"study": study, "outcome": "personal_recovery", "status": "usable"}
        )
    rows["effects"].append(
        {"study": "Effect 2021", "outcome": "personal_recovery", "yi": 0.31, "vi": 0.02}
    )
    return rows


def test_extraction_through_the_cli(tmp_path: Path, database_url: str) -> None:
    changes = {"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS}
    write_protocol(tmp_path, database_url, **changes)
    folder = ["-C", str(tmp_path)]
    for label in [*STUDIES, "Effect 2021"]:
        run("study", "add", label, *folder)
    for who in ("ann", "ben"):
        path = tmp_path / f"{who}.xlsx"
        run("extract", "export", str(path), "--extractor", who, *folder)
        _fill(path, who)
        if who == "ben":  # one slip: the control SD of the first study
            book = load_workbook(path)
            header = [c.value for c in book["values"][1]]
            book["values"].cell(row=3, column=header.index("sd") + 1, value=6.5)
            book.save(path)
        assert "fields recorded" in run("extract", "import", str(path), "--extractor", who, *folder)
    conflicts = json.loads(run("extract", "conflicts", "--json", *folder))
    assert [(c["study"], c["item"], c["by_ann"], c["by_ben"]) for c in conflicts] == [
        ("Two 2015", "value|personal_recovery|tau|sd", 6.0, 6.5)
    ]
    item = "value|personal_recovery|tau|sd"
    run("extract", "resolve", "Two 2015", item, "6", "--by", "dana", "--note", "t2", *folder)
    table = json.loads(run("extract", "table", "personal_recovery", "--json", *folder))
    found = {row["study"]: row for row in table}
    for study, (yi, vi) in expected().items():
        assert found[study]["yi"] == pytest.approx(yi, rel=RTOL_CLOSED_FORM), study
        assert found[study]["vi"] == pytest.approx(vi, rel=RTOL_CLOSED_FORM), study
    assert found["Effect 2021"]["yi"] == 0.31
    availability = json.loads(run("extract", "availability", "--json", *folder))
    assert {row["status"] for row in availability} == {"usable"} and len(availability) == 4
    out = run(
        "extract", "import", str(tmp_path / "nope.xlsx"), "--extractor", "ann", *folder, code=1
    )
    assert "does not exist" in out


def test_extraction_csv_folder_through_the_cli(tmp_path: Path) -> None:
    changes = {"[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n": SECTIONS}
    write_protocol(tmp_path, "", **changes)
    folder = ["-C", str(tmp_path)]
    run("study", "add", "Two 2015", *folder)
    sheet = tmp_path / "ann"
    run("extract", "export", str(sheet), "--extractor", "ann", *folder)
    # The exported characteristics file has a row for the study, with the review's id.
    review_id = (sheet / "characteristics.csv").read_text("utf-8-sig").splitlines()[1].split(",")[0]
    rows = [f"{review_id},ann,Two 2015,{a},{r},{n}" for a, r, n in STUDIES["Two 2015"]["arms"]]
    arms = "\n".join(["review_id,extractor,study,arm,role,n_randomised", *rows]) + "\n"
    (sheet / "arms.csv").write_text(arms, encoding="utf-8")
    out = run("extract", "import", str(sheet), "--extractor", "ann", *folder)
    assert "3 rows: 4 fields recorded, 0 unchanged" in out
    (sheet / "arms.csv").write_text(arms.replace("control", "placebo"), encoding="utf-8")
    out = run("extract", "import", str(sheet), "--extractor", "ann", *folder, code=1)
    assert "arms row 3" in out and "nothing was imported" in out
