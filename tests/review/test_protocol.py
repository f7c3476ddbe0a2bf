"""review.toml: the template validates, and every error names its line and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metasift.errors import InputError
from metasift.review import ProtocolError, load_protocol, parse_protocol, write_template
from metasift.review._template import TEMPLATE
from metasift.review._toml_lines import key_lines

BASE = TEMPLATE.format(title="Peer support")


def _line(text: str, fragment: str, after: str = "") -> int:
    """1-based number of the first line holding ``fragment`` (after the line ``after``)."""
    start = _line(text, after) if after else 0
    for number, line in enumerate(text.splitlines(), start=1):
        if number > start and fragment in line:
            return number
    raise AssertionError(fragment)


def _errors(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text)
    return caught.value.errors


def test_template_is_a_valid_protocol(tmp_path: Path) -> None:
    protocol = load_protocol(write_template(tmp_path, "Peer support"))
    assert protocol.review.title == "Peer support"
    assert protocol.team.reviewers == ["ann", "ben", "cleo", "dana"]
    assert protocol.screeners("title_abstract") == ["ann", "ben", "cleo"]
    assert protocol.reviewers_per_record("title_abstract") == 3
    assert protocol.stage("full_text").reasons[0] == "Wrong population"
    assert protocol.databases[0].date == dt.date(2024, 1, 31)
    assert protocol.source("pubmed").name == "PubMed"
    assert protocol.source("Citation searching").kind == "citation"
    assert protocol.eligibility.years.start == 1980 and protocol.eligibility.years.end is None
    assert protocol.stages() == ("title_abstract", "full_text")


def test_template_is_commented_and_never_overwritten(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 20
    with pytest.raises(InputError, match="exists already"):
        write_template(tmp_path)
    with pytest.raises(InputError, match="title"):
        write_template(tmp_path / "other", 'a "quoted" title')


def test_schema_errors_name_line_key_and_value() -> None:
    text = (
        BASE.replace('maybe = "include"', 'maybe = "perhaps"')
        .replace('name = "PsycInfo"\nkind = "database"', 'name = "PsycInfo"\nkind = "journal"')
        .replace("reasons = []                           # optional", "reason = []  # typo")
    )
    errors = _errors(text)
    assert errors == [
        (
            _line(text, 'kind = "journal"'),
            "databases[1].kind",
            "Input should be 'database', 'register', 'website', 'organisation' or 'citation' "
            "(found 'journal')",
        ),
        (
            _line(text, 'maybe = "perhaps"'),
            "screening.maybe",
            "Input should be 'include' or 'conflict' (found 'perhaps')",
        ),
        (
            _line(text, "reason = []  # typo"),
            "screening.title_abstract.reason",
            "Extra inputs are not permitted",
        ),
    ]


def test_cross_field_errors_name_line_and_key() -> None:
    text = BASE.replace('arbiter = "dana"\nreasons = []', 'arbiter = "zoe"\nreasons = []')
    text = text.replace("years = { from = 1980 }", "years = { from = 2000, to = 1990 }")
    text = text.replace("reviewers_per_record = 2", "reviewers_per_record = 3")
    errors = _errors(text)
    keys = {key: (line, message) for line, key, message in errors}
    assert keys["screening.title_abstract.arbiter"] == (
        _line(text, 'arbiter = "zoe"'),
        "'zoe' is not in team.reviewers ['ann', 'ben', 'cleo', 'dana']",
    )
    assert keys["eligibility.years"][0] == _line(text, "years = { from = 2000")
    assert "after to = 1990" in keys["eligibility.years"][1]
    line, message = keys["screening.full_text.reviewers_per_record"]
    assert line == _line(text, "reviewers_per_record = 3", after="[screening.full_text]")
    assert "assignment = 'all'" in message and "2" in message


def test_missing_tables_and_full_text_reasons() -> None:
    errors = _errors('[review]\ntitle = "x"\n[team]\nreviewers = ["a", "b"]\n')
    assert errors == [(0, "screening", "Field required")]
    text = (
        '[review]\ntitle = "x"\n[team]\nreviewers = ["a", "b"]\n'
        '[screening.title_abstract]\narbiter = "b"\n[screening.full_text]\narbiter = "b"\n'
    )
    assert _errors(text) == [
        (7, "screening.full_text.reasons", "full-text exclusions need reasons: list at least one")
    ]


def test_names_with_separators_or_twice_are_refused() -> None:
    text = BASE.replace('"Wrong comparator",', '"Wrong comparator, or none",')
    [(line, key, message)] = _errors(text)
    assert key == "screening.full_text.reasons" and "','" in message
    text = BASE.replace(
        'reviewers = ["ann", "ben", "cleo", "dana"]',
        'reviewers = ["ann", "ben", "cleo", "dana", "Ann"]',
    )
    [(line, key, message)] = _errors(text)
    assert key == "team.reviewers" and line == _line(text, "reviewers = [")
    assert message.startswith("reviewer name 'Ann' appears twice (found ['ann',")
    text = BASE.replace('name = "PsycInfo"', 'name = "PubMed"')
    [(line, key, message)] = _errors(text)
    assert (key, message) == ("databases[1].name", "'PubMed' appears twice")


def test_toml_syntax_error_names_the_line() -> None:
    text = BASE.replace("[team]", "[team")
    [(line, key, message)] = _errors(text)
    assert line == _line(text, "[team") and key == "TOML syntax"
    assert "line" in str(ProtocolError("review.toml", [(line, key, message)]))


def test_balanced_assignment_and_defaults() -> None:
    text = BASE.replace(
        'screeners = ["ann", "ben", "cleo"]     # default: the whole team but the arbiter\n'
        'assignment = "all"\nreviewers_per_record = 3',
        'assignment = "balanced"\nreviewers_per_record = 2',
    )
    protocol = parse_protocol(text)
    assert protocol.screeners("title_abstract") == ["ann", "ben", "cleo"]
    assert protocol.reviewers_per_record("title_abstract") == 2
    with pytest.raises(ProtocolError, match="more than the 3 screeners"):
        parse_protocol(text.replace("reviewers_per_record = 2", "reviewers_per_record = 4"))


def test_database_url_default_and_environment(tmp_path: Path, monkeypatch) -> None:
    protocol = parse_protocol(BASE)
    assert protocol.database_url(tmp_path) == f"sqlite:///{(tmp_path / 'metasift.db').resolve()}"
    text = BASE.replace(
        'database_url = ""', 'database_url = "postgresql+psycopg://${PGUSER_X}@h/db"'
    )
    protocol = parse_protocol(text)
    with pytest.raises(InputError, match=r"\$\{PGUSER_X\}, which is not set"):
        protocol.database_url(tmp_path)
    monkeypatch.setenv("PGUSER_X", "team")
    assert protocol.database_url(tmp_path) == "postgresql+psycopg://team@h/db"


def test_unknown_stage_database_and_missing_file(tmp_path: Path) -> None:
    protocol = parse_protocol(BASE)
    with pytest.raises(InputError, match="stage 'abstract' is not a screening stage"):
        protocol.stage("abstract")
    with pytest.raises(InputError, match=r"database 'Embase' is not in review.toml; declared"):
        protocol.source("Embase")
    with pytest.raises(InputError, match="run `metasift init`"):
        load_protocol(tmp_path)


def test_key_lines_follow_tables_arrays_and_multiline_values() -> None:
    text = (
        'a = 1\nb = """\nx = 2\n"""\n[t]\nc = [\n  1,\n  2,\n]\nd = { e = 1 }\n'
        "[[arr]]\nname = 'x'\n[[arr]]\nname = 'y'\n[t.sub]\n\"quoted key\" = 3\n"
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1 and lines[("b",)] == 2 and ("x",) not in lines
    assert lines[("t", "c")] == 6 and lines[("t", "d")] == 10
    assert lines[("arr", 0, "name")] == 12 and lines[("arr", 1, "name")] == 14
    assert lines[("t", "sub", "quoted key")] == 16
