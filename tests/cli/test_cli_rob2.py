"""RoB 2 per study and outcome through the command line (SQLite and PostgreSQL): signalling
answers, proposed judgements, a deviation that needs support text, consensus, the table,
agreement, the robvis file and figure of one outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_support import write_protocol
from test_appraisal_rob2 import LOW_ANSWERS, SECTIONS
from typer.testing import CliRunner

from metasift.cli import app
from metasift.plots.robtools import read_rob_table

OUTCOME = ["--outcome", "personal_recovery"]


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _answers(answers: dict[str, str]) -> list[str]:
    return [part for key, value in answers.items() for part in ("-a", f"{key}={value}")]


def test_rob2_through_the_cli(tmp_path: Path, database_url: str) -> None:
    block = "[classification]\n[risk_of_bias]\n[characteristics]\n[outcomes]\n"
    write_protocol(tmp_path, database_url, **{block: SECTIONS})
    folder = ["-C", str(tmp_path)]
    for label in ("S1", "S2"):
        run("study", "add", label, *folder)
    questions = json.loads(run("appraise", "questions", "--json", *folder))
    assert len(questions) == 22 and questions[3]["asked"] == "always"
    assert questions[5] == {
        "domain": "deviations",
        "question": "2.3",
        "text": "Were there deviations from the intended intervention that arose because of "
        "the trial context?",
        "asked": "If Y/PY/NI to 2.1 or 2.2",
        "answers": "NA Y PY PN N NI",
    }
    out = run("appraise", "judge", "S1", "--appraiser", "ann", "randomisation=low", *folder, code=1)
    assert "assessed per outcome" in out
    # S1: low answers but 1.2 NI (domain 1 proposed "some concerns"); S2: every domain low.
    s1 = _answers(LOW_ANSWERS | {"1.2": "NI"})
    for who in ("ann", "ben"):
        run("appraise", "judge", "S1", "--appraiser", who, *s1, *OUTCOME, *folder)
        run(
            "appraise", "judge", "S2", "--appraiser", who, *_answers(LOW_ANSWERS), *OUTCOME, *folder
        )
    out = run(
        "appraise", "judge", "S1", "randomisation=low", "--appraiser", "ann", *OUTCOME, *folder,
        code=1,
    )  # fmt: skip
    assert "differs from 'some concerns'" in out and "study 'S1'" in out
    table = json.loads(run("appraise", "table", *OUTCOME, "--json", *folder))
    assert [(r["study"], r["randomisation"], r["overall"]) for r in table] == [
        ("S1", "some concerns", "some concerns"),
        ("S2", "low", "low"),
    ]
    # The arbiter settles answer 1.2; the proposal follows, the judgement stays until settled.
    run("appraise", "resolve", "S1", "1.2", "Y", "--by", "dana", "--note", "central", *OUTCOME,
        *folder)  # fmt: skip
    run("appraise", "resolve", "S1", "randomisation", "low", "--by", "dana", "--note", "central",
        *OUTCOME, *folder)  # fmt: skip
    row = json.loads(run("appraise", "table", *OUTCOME, "--json", *folder))[0]
    assert (row["randomisation"], row["randomisation_proposed"], row["overall"]) == (
        "low",
        "low",
        "low",
    )
    stats = json.loads(run("appraise", "agreement", *OUTCOME, "--json", *folder))
    percent = next(s for s in stats if s["statistic"] == "percent_agreement")
    assert percent["estimate"] == pytest.approx(1.0)  # 10 units, all agreeing
    run("appraise", "robvis", "--output", str(tmp_path / "rob.csv"), *OUTCOME, *folder)
    rob = read_rob_table(tmp_path / "rob.csv", "ROB2")
    assert rob.studies == ("S1", "S2") and rob.overall == ("Low", "Low")
    figure = tmp_path / "rob.svg"
    run("appraise", "figure", str(figure), *OUTCOME, *folder)
    assert figure.read_text().lstrip().startswith("<?xml")
