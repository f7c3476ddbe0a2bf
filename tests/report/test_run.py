"""run_review and ``metasift run``: a review folder to its tables and report, the same bytes
on a rerun, and one-line errors for bad input."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synthesis"))

from synthesis_support import build_smit, set_analysis
from typer.testing import CliRunner

from metasift.cli import app
from metasift.report import run as run_module
from metasift.report.run import RunResult, run_review
from metasift.review import Review
from metasift.synthesis import SynthesisResults

PLAN = '[analysis]\neffects = "reported"\ntest = "knha"\nsubgroups = {comparator = "post hoc"}\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_smit(tmp_path_factory.mktemp("smit") / "review", PLAN)


@pytest.fixture
def report_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """A stand-in report module that records its calls and writes a small file, so that
    these tests do not depend on the HTML report's own work."""
    calls: list[tuple[Any, ...]] = []

    def write_report(review: Review, results: SynthesisResults, path: Path) -> Path:
        calls.append((review, results, path))
        Path(path).write_text(f"<p>{len(results.outcomes)} outcome(s)</p>", encoding="utf-8")
        return Path(path)

    stub = types.ModuleType(run_module.HTML_MODULE)
    stub.__spec__ = importlib.machinery.ModuleSpec(run_module.HTML_MODULE, None)
    stub.write_report = write_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, run_module.HTML_MODULE, stub)
    return calls


def test_run_review_writes_tables_and_report(
    folder: Path, tmp_path: Path, report_calls: list[tuple[Any, ...]]
) -> None:
    done = run_review(folder)
    assert isinstance(done, RunResult) and done.output == folder / "output"
    assert done.report == folder / "output" / "report.html" and done.report.is_file()
    ((review, results, path),) = report_calls
    assert isinstance(review, Review) and results is done.results and path == done.report
    assert done.paths[-1] == done.report and len(done.tables) == 15
    assert all(p.is_file() for p in done.paths)
    main = done.results.pooled_effects().iloc[0]
    assert f"{main['estimate']:.2f} ({main['ci_lb']:.2f} to {main['ci_ub']:.2f})" in (
        (folder / "output" / "tables" / "supplement.csv").read_text("utf-8")
    )
    assert "Report: " in done.summary()
    again = run_review(folder, output=tmp_path / "elsewhere")
    assert again.output == tmp_path / "elsewhere"
    for a, b in zip(done.tables, again.tables, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_without_the_report_module_only_tables(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_module, "HTML_MODULE", "metasift.report._not_installed")
    done = run_review(folder, output=tmp_path)
    assert done.report is None and done.paths == done.tables
    assert "Report" not in done.summary()


def test_command_prints_the_main_results_and_paths(
    folder: Path, report_calls: list[tuple[Any, ...]]
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(folder)])
    assert result.exit_code == 0, result.output
    assert "personal_recovery" in result.output and "0.15 (0.04 to 0.27)" in result.output
    assert "≥2,907" in result.output and "43%" in result.output
    assert str(folder / "output" / "tables") in result.output.replace("\n", "")
    assert "report.html" in result.output
    result = runner.invoke(app, ["run", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [row["category"] for row in data["main"]] == ["All studies"]
    assert data["main"][0]["k"] == 19 and data["paths"][-1].endswith("report.html")


def _fails(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    return result.output


def test_bad_input_gives_a_one_line_error(tmp_path: Path, folder: Path) -> None:
    text = _fails(["run", str(tmp_path / "missing")])
    assert text.startswith("Error: review folder") and text.count("\n") == 1
    (tmp_path / "empty").mkdir()
    text = _fails(["run", str(tmp_path / "empty")])
    assert "review.toml' does not exist" in text and text.count("\n") == 1
    set_analysis(folder, PLAN.replace("comparator =", "control ="))
    lines = (folder / "review.toml").read_text().splitlines()
    line = next(i for i, t in enumerate(lines, start=1) if t.startswith("subgroups ="))
    try:
        text = _fails(["run", str(folder)])
    finally:
        set_analysis(folder, PLAN)
    assert f"line {line}, analysis.subgroups: 'control' is not a facet" in text
    review_toml = (folder / "review.toml").read_text()
    (folder / "review.toml").write_text(
        review_toml.replace("[analysis]", '[outcomes.hope]\ndirection = "higher"\n\n[analysis]')
    )
    try:
        text = _fails(["run", str(folder)])
    finally:
        (folder / "review.toml").write_text(review_toml)
    assert "outcome 'hope' has no analysable data" in text.replace("\n", " ")
