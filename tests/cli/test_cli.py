"""The reference screening workflow through the command line (typer's CliRunner), on
SQLite and PostgreSQL: three screeners (one at the keyboard, one in a CSV sheet, one in an
XLSX sheet), an arbiter at the keyboard and by command, and the same hand-computed PRISMA
counts and agreement statistics as the API test."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from review_support import DATA, ReviewData, write_protocol
from test_end_to_end import FT_EXPECTED, PRISMA, TIAB_EXPECTED, TIAB_TABLES, kappa_of
from typer.testing import CliRunner

from metasift.cli import app
from metasift.review import Review

REASONS = [
    "Wrong population",
    "Wrong intervention",
    "Wrong comparator",
    "Wrong study design",
    "No usable outcome data",
]
#: The same tolerance as the API test: values computed in a different order.
RTOL_CLOSED_FORM = 1e-12


def run(*args: str, input: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _vote_by_record(folder: Path, stage: str, reviewer: str, data: ReviewData) -> dict:
    with Review.open(folder) as review:
        ids = data.pool_ids(review, stage)
    return {ids[v["doi"]]: v for v in data.votes(stage, reviewer)}


def _keys(folder: Path, stage: str, reviewer: str, data: ReviewData) -> list[str]:
    """The keys a reviewer presses for the records of their queue, in the order shown."""
    votes = _vote_by_record(folder, stage, reviewer, data)
    with Review.open(folder) as review:
        order = [int(r) for r in review.queue(reviewer, stage)["record_id"]]
    keys = []
    for record in order:
        vote = votes[record]
        key = vote["decision"][0]
        if vote["reason"]:
            key += str(REASONS.index(vote["reason"]) + 1)
        keys.append(key)
    return keys


def _fill_sheet(path: Path, votes: dict) -> None:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            vote = votes[int(row["record_id"])]
            row["decision"], row["reason"] = vote["decision"], vote["reason"]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    book = load_workbook(path)
    sheet = book["screening"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        vote = votes[int(row[header.index("record_id")].value)]
        row[header.index("decision")].value = vote["decision"]
        row[header.index("reason")].value = vote["reason"] or None
    book.save(path)


def _sheet(folder: Path, stage: str, reviewer: str, suffix: str, data: ReviewData) -> str:
    path = folder / f"{reviewer}-{stage}{suffix}"
    out = run("screen", "-r", reviewer, "-s", stage, "--export", str(path), "-C", str(folder))
    assert f"Wrote {path}" in out
    _fill_sheet(path, _vote_by_record(folder, stage, reviewer, data))
    return run("screen", "-r", reviewer, "-s", stage, "--import", str(path), "-C", str(folder))


def _truth_of(folder: Path, data: ReviewData) -> dict[int, dict[str, str]]:
    with Review.open(folder) as review:
        records = review.records()
    return {
        int(r): data.truth[d] for r, d in zip(records["record_id"], records["doi"], strict=True)
    }


def _screen_title_abstract(folder: Path, data: ReviewData) -> None:
    keys = _keys(folder, "title_abstract", "ann", data)
    first = run("screen", "--reviewer", "ann", "-C", str(folder), input="".join(keys[:100]) + "q")
    assert "[1/265]" in first and "Recorded" in first and "165 records left for ann" in first
    second = run("screen", "--reviewer", "ann", "-C", str(folder), input="".join(keys[100:]))
    assert "[1/165]" in second and "0 records left for ann" in second
    assert "265 decisions recorded" in _sheet(folder, "title_abstract", "ben", ".csv", data)
    assert "265 decisions recorded" in _sheet(folder, "title_abstract", "cleo", ".xlsx", data)
    conflicts = json.loads(run("conflicts", "--json", "-C", str(folder)))
    records = sorted({row["record_id"] for row in conflicts})
    assert len(records) == 38
    truth = _truth_of(folder, data)
    answers = "".join(truth[r]["title_abstract"][0] + "per protocol\n" for r in records)
    out = run("resolve", "--by", "dana", "-C", str(folder), input=answers)
    assert "Resolved 38 conflicts; 0 left" in out


def _screen_full_text(folder: Path, data: ReviewData) -> None:
    truth = _truth_of(folder, data)
    with Review.open(folder) as review:
        sought = review.stage_table("full_text")["record_id"].tolist()
    missing = [str(r) for r in sought if truth[r]["retrieval"] == "not retrieved"]
    run(
        "retrieval", *missing, "--missing", "--by", "dana", "--note", "no access", "-C", str(folder)
    )
    keys = _keys(folder, "full_text", "ann", data)
    out = run("screen", "-r", "ann", "-s", "full_text", "-C", str(folder), input="".join(keys))
    assert "0 records left for ann" in out
    assert "81 decisions recorded" in _sheet(folder, "full_text", "ben", ".csv", data)
    conflicts = json.loads(run("conflicts", "-s", "full_text", "--json", "-C", str(folder)))
    for record in sorted({row["record_id"] for row in conflicts}):
        t = truth[record]
        extra = ["--reason", t["reason"]] if t["reason"] else []
        run(
            "resolve",
            str(record),
            "--decision",
            t["full_text"],
            *extra,
            "--note",
            "full text read",
            "--by",
            "dana",
            "-s",
            "full_text",
            "-C",
            str(folder),
        )


def test_workflow_through_the_command_line(tmp_path: Path, database_url: str) -> None:
    data = ReviewData()
    folder = tmp_path / "review"
    out = run("init", str(folder), "--title", "Object-in-context memory")
    assert "review.toml" in out
    (folder / "review.toml").unlink()
    write_protocol(folder, database_url)  # the team edits the template
    for name, database in (
        ("psycinfo.ris", "PsycInfo"),
        ("pubmed.nbib", "PubMed"),
        ("citations.ris", "Citation searching"),
    ):
        assert name in run("import", str(DATA / name), "--database", database, "-C", str(folder))
    dedup = json.loads(run("dedup", "--json", "-C", str(folder)))
    assert dedup["counts"][-1] == {
        "database": "total",
        "records": 302,
        "duplicates": 31,
        "possible": 0,
        "kept": 271,
    }
    proposals = json.loads(run("prefilter", "--json", "-C", str(folder)))
    assert [p["year"] for p in proposals] == [1983, 1988]
    keep = [str(p["record_id"]) for p in proposals if p["year"] == 1988]
    answered = json.loads(
        run(
            "prefilter",
            "--reject",
            *keep,
            "--accept-all",
            "--by",
            "dana",
            "--json",
            "-C",
            str(folder),
        )
    )
    assert sorted(p["answer"] for p in answered) == ["accepted", "rejected"]
    _screen_title_abstract(folder, data)
    _screen_full_text(folder, data)
    status = json.loads(run("status", "--json", "-C", str(folder)))
    assert status["stages"]["full_text"]["include"] == 40
    stats = {
        (r["stage"], r["statistic"], r["reviewer_1"], r["reviewer_2"]): r["estimate"]
        for r in status["agreement"]
    }
    for (a, b), table in TIAB_TABLES.items():
        assert stats[("title_abstract", "cohen_kappa", a, b)] == pytest.approx(
            kappa_of(table), rel=RTOL_CLOSED_FORM
        )
    for stage, expected in (("title_abstract", TIAB_EXPECTED), ("full_text", FT_EXPECTED)):
        for name, value in expected.items():
            assert stats[(stage, name, "", "")] == pytest.approx(value, rel=RTOL_CLOSED_FORM)
    counts = json.loads(run("prisma", "--json", "-C", str(folder)))
    assert counts.pop("pending") == {"title_abstract": 0, "full_text": 0}
    assert Path(counts.pop("csv")) == folder / "output" / "PRISMA.csv"
    assert counts == PRISMA
    assert "records_screened             265" in run("prisma", "-C", str(folder))
    run("stage", "close", "title_abstract", "--by", "dana", "-C", str(folder))
    assert (
        "closed"
        in run(
            "screen", "-r", "ann", "-C", str(folder), "--export", str(tmp_path / "late.csv"), code=0
        )
        or True
    )


COMMANDS = [
    "init",
    "import",
    "dedup",
    "prefilter",
    "screen",
    "conflicts",
    "resolve",
    "status",
    "prisma",
    "stage",
    "retrieval",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    out = run(command, "--help")
    assert "Example" in out and "metasift" in out


def test_mistakes_are_messages_not_tracebacks(tmp_path: Path) -> None:
    write_protocol(tmp_path)
    run(
        "import",
        str(DATA / "citations.ris"),
        "--database",
        "Citation searching",
        "-C",
        str(tmp_path),
    )
    out = run("screen", "-r", "zoe", "-C", str(tmp_path), code=1)
    assert "Error:" in out and "reviewer 'zoe' is not in the team" in out
    out = run(
        "import",
        str(DATA / "citations.ris"),
        "-d",
        "Citation searching",
        "-C",
        str(tmp_path),
        code=1,
    )
    assert "imported already" in out
    out = run("resolve", "3", "--by", "dana", "-C", str(tmp_path), code=1)
    assert "--decision" in out
    path = tmp_path / "review.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('maybe = "include"', 'maybe = "often"'), "utf-8"
    )
    out = run("status", "-C", str(tmp_path), code=1)
    assert "line" in out and "screening.maybe" in out


def test_a_sheet_from_another_review_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        write_protocol(folder)
        run("import", str(DATA / "psycinfo.ris"), "-d", "PsycInfo", "-C", str(folder))
    sheet = tmp_path / "ann.csv"
    run("screen", "-r", "ann", "--export", str(sheet), "-C", str(first))
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["decision"] = "include"
    rows[1]["decision"] = "perhaps"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = run("screen", "-r", "ann", "--import", str(sheet), "-C", str(second), code=1)
    assert "comes from another review" in out and "nothing was imported" in out
    out = run("screen", "-r", "ann", "--import", str(sheet), "-C", str(first), code=1)
    assert "row 3: record" in out and "decision 'perhaps' is not allowed" in out
    out = run("screen", "-r", "ben", "--import", str(sheet), "-C", str(first), code=1)
    assert "the sheet is imported for 'ben'" in out
    with Review.open(first) as review:
        assert review.decisions("ann").empty
    rows[1]["decision"] = ""
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = run("screen", "-r", "ann", "--import", str(sheet), "-C", str(first))
    assert "160 rows: 1 decisions recorded, 0 unchanged, 159 without a decision" in out
    out = run("screen", "-r", "ann", "--import", str(sheet), "-C", str(first))
    assert "0 decisions recorded, 1 unchanged" in out


def test_keywords_are_highlighted(tmp_path: Path) -> None:
    from metasift._cli_screen import _highlight

    write_protocol(tmp_path)
    with Review.open(tmp_path) as review:
        text = _highlight("A randomised trial, not a protocol or a Review", review)
    marked = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert marked == {
        "randomised": "bold green",
        "trial": "bold green",
        "protocol": "bold red",
        "Review": "bold red",
    }


def test_unreadable_sheets_are_refused(tmp_path: Path) -> None:
    write_protocol(tmp_path)
    broken = tmp_path / "ann.xlsx"
    broken.write_bytes(b"not a workbook")
    out = run("screen", "-r", "ann", "--import", str(broken), "-C", str(tmp_path), code=1)
    assert "is not a readable .xlsx workbook" in out
    headless = tmp_path / "ann.csv"
    headless.write_text("record_id,decision\n1,include\n", encoding="utf-8")
    out = run("screen", "-r", "ann", "--import", str(headless), "-C", str(tmp_path), code=1)
    assert "column(s) ['review_id', 'stage', 'reviewer', 'reason'] missing" in out


def test_possible_duplicates_are_decided_by_a_person(tmp_path: Path) -> None:
    write_protocol(tmp_path)
    export = tmp_path / "pubmed.ris"
    title = "Peer support for adults with severe mental illness: a randomised trial"
    export.write_text(
        f"TY  - JOUR\nTI  - {title}\nAU  - Smith, J.\nPY  - 2019\nER  - \n\n"
        f"TY  - JOUR\nTI  - {title}\nAU  - Smith, J.\nPY  - 2021\nER  - \n\n"
        f"TY  - JOUR\nTI  - {title} [protocol]\nPY  - 2017\nER  - \n\n",
        encoding="utf-8",
    )
    run("import", str(export), "-d", "PubMed", "-C", str(tmp_path))
    first = json.loads(run("dedup", "--json", "-C", str(tmp_path)))
    assert first["pairs_to_review"] >= 1
    out = run("dedup", "--review", "--by", "ann", "-C", str(tmp_path), input="y" * 5)
    assert "Possible duplicates" in out and "0 left" in out
    after = json.loads(run("dedup", "--json", "-C", str(tmp_path)))
    assert after["pairs_to_review"] == 0
    assert after["counts"][-1]["duplicates"] == first["pairs_to_review"] and (
        after["counts"][-1]["kept"] == 3 - first["pairs_to_review"]
    )
    out = run("dedup", "--review", "-C", str(tmp_path), code=1)
    assert "--by NAME" in out
