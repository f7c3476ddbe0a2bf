"""The analysable table's options and the stored multi-arm trail through the command line
(SQLite and PostgreSQL): --effects, settle, audit, and a stale trail flagged by `extract
table`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_support import write_protocol
from test_extraction import RTOL_CLOSED_FORM, _combine, _hedges
from test_extraction_effects import _BLOCK, ONE_EXTRACTOR
from test_multi_arm_audit import HANDBOOK_COMBINE, _extract
from typer.testing import CliRunner

from metasift.cli import app
from metasift.review import Review

OUTCOME = "personal_recovery"


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_settle_audit_and_effects_through_the_cli(tmp_path: Path, database_url: str) -> None:
    write_protocol(tmp_path, database_url, **{_BLOCK: ONE_EXTRACTOR})
    with Review.open(tmp_path) as review:
        _extract(review)
        review.extract_effect("ann", "Two 2015", OUTCOME, 0.5, sei=0.2, n1i=38, n2i=36)
    folder = ["-C", str(tmp_path)]
    settled = json.loads(run("extract", "settle", OUTCOME, "--by", "dana", "--json", *folder))
    assert {row["study"] for row in settled} == {"Multi 2017", "Se 2020"}
    audit = json.loads(run("extract", "audit", OUTCOME, "--json", *folder))
    combined = [r for r in audit if r["study"] == "Multi 2017" and r["group"] == "intervention"]
    assert combined[0]["method"] == HANDBOOK_COMBINE and combined[0]["recorded_by"] == "dana"
    rows = json.loads(run("extract", "audit", OUTCOME, "--comparisons", "--json", *folder))
    multi = next(r for r in rows if r["study"] == "Multi 2017")
    n, mean, sd = _combine((28, 30.0, 7.0), (29, 27.0, 8.0))
    assert multi["n1i"] == n and multi["m1i"] == pytest.approx(mean, rel=RTOL_CLOSED_FORM)
    assert multi["sd1i"] == pytest.approx(sd, rel=RTOL_CLOSED_FORM)
    # --effects: the arms' effect by default, the reported one with "reported".
    arms = json.loads(run("extract", "table", OUTCOME, "--json", *folder))
    two = next(r for r in arms if r["study"] == "Two 2015")
    assert two["source"] == "arms"
    assert two["yi"] == pytest.approx(
        _hedges(22.0, 5.0, 38, 20.0, 6.0, 36)[0], rel=RTOL_CLOSED_FORM
    )
    reported = json.loads(
        run("extract", "table", OUTCOME, "--effects", "reported", "--json", *folder)
    )
    two = next(r for r in reported if r["study"] == "Two 2015")
    assert (two["source"], two["comparison"], two["yi"], two["n2i"]) == (
        "precomputed",
        "as reported",
        0.5,
        36,
    )
    # The split rule differs from the settled trail: the table says so.
    out = run("extract", "table", OUTCOME, "--multi-arm", "split", *folder)
    assert "multi-arm trail changed" in out
    out = run("extract", "table", OUTCOME, "--effects", "both", *folder, code=1)
    assert "use one of ['arms', 'reported']" in out
