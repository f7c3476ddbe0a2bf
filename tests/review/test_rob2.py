"""The RoB 2 domain algorithms against the guidance's tables (tests/data/rob2, see
SOURCE.md) on every combination of allowed answers, and hand-worked trials."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from metasift.errors import InputError
from metasift.review.rob2 import ROB2_QUESTIONS, propose_judgement

TABLES = json.loads(
    (Path(__file__).parents[1] / "data" / "rob2" / "guidance_tables.json").read_text("utf-8")
)
_ORDER = ("low", "some concerns", "high")


def _cell_matches(cell: Any, answers: dict[str, str], key: str) -> bool:
    if cell in ("any", "NA"):
        return True
    if key == "2.1|2.2":
        ((how, allowed),) = cell.items()
        inside = [answers[k] in allowed for k in ("2.1", "2.2")]
        return all(inside) if how == "both" else any(inside)
    return answers[key] in cell


def _expected(table: str, answers: dict[str, str]) -> str | None:
    """The judgement of the table's rows matching the answers, None when none matches (a
    question the path reaches is answered NA)."""
    found = {
        row["judgement"]
        for row in TABLES[table]
        if all(_cell_matches(v, answers, k) for k, v in row.items() if k != "judgement")
    }
    assert len(found) <= 1, (table, answers, found)  # the rows never contradict each other
    return found.pop() if found else None


def _combinations(domain: str) -> list[dict[str, str]]:
    questions = ROB2_QUESTIONS[domain]
    return [
        dict(zip([q.key for q in questions], values, strict=True))
        for values in itertools.product(*(q.answers for q in questions))
    ]


def _check(domain: str, answers: dict[str, str], expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InputError, match="answered NA but applies"):
            propose_judgement(domain, answers)
    else:
        assert propose_judgement(domain, answers) == expected, answers


@pytest.mark.parametrize(
    ("domain", "count"),
    [("randomisation", 125), ("missing_data", 900), ("measurement", 5400), ("selection", 125)],
)
def test_domain_algorithm_equals_the_guidance_table(domain: str, count: int) -> None:
    combinations = _combinations(domain)
    assert len(combinations) == count
    used = set()
    for answers in combinations:
        expected = _expected(domain, answers)
        _check(domain, answers, expected)
        used |= {i for i, row in enumerate(TABLES[domain]) if expected == row["judgement"]}
    assert used == set(range(len(TABLES[domain])))


def test_deviations_equal_the_worse_of_the_two_parts() -> None:
    combinations = _combinations("deviations")
    assert len(combinations) == 5**3 * 6**4
    judged = {"low": 0, "some concerns": 0, "high": 0, None: 0}
    for answers in combinations:
        parts = (_expected("deviations_part1", answers), _expected("deviations_part2", answers))
        expected = None if None in parts else max(parts, key=_ORDER.index)
        _check("deviations", answers, expected)
        judged[expected] += 1
    assert min(judged.values()) > 0


def test_questions_and_their_answers() -> None:
    keys = [q.key for qs in ROB2_QUESTIONS.values() for q in qs]
    assert keys == [
        *("1.1", "1.2", "1.3"),
        *("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"),
        *("3.1", "3.2", "3.3", "3.4"),
        *("4.1", "4.2", "4.3", "4.4", "4.5"),
        *("5.1", "5.2", "5.3"),
    ]
    by_key = {q.key: q for qs in ROB2_QUESTIONS.values() for q in qs}
    # NA only where a question depends on another; 3.2 has no "no information".
    assert [k for k, q in by_key.items() if "NA" in q.answers] == [
        *("2.3", "2.4", "2.5", "2.7", "3.2", "3.3", "3.4", "4.3", "4.4", "4.5")
    ]
    assert by_key["3.2"].answers == ("NA", "Y", "PY", "PN", "N")
    assert by_key["1.1"].answers == ("Y", "PY", "PN", "N", "NI")


@pytest.mark.parametrize(
    ("domain", "answers", "expected"),
    [
        # Computer-generated sequence, "sealed envelopes" without saying opaque or numbered,
        # similar groups at baseline: no information on concealment, imbalance compatible
        # with chance -> some concerns (criterion ii of "some concerns").
        ("randomisation", {"1.1": "Y", "1.2": "NI", "1.3": "N"}, "some concerns"),
        # Central web randomisation, clear baseline imbalance in severity: some concerns.
        ("randomisation", {"1.1": "Y", "1.2": "Y", "1.3": "PY"}, "some concerns"),
        # Alternation by the recruiting clinician: sequence not random and not concealed.
        ("randomisation", {"1.1": "N", "1.2": "N", "1.3": "NI"}, "high"),
        # Open-label peer support, no deviations from the trial context, ITT analysis: low.
        ("deviations", {"2.1": "Y", "2.2": "Y", "2.3": "PN", "2.6": "Y"}, "low"),
        # Same trial analysed per protocol, 20% excluded for non-attendance, which could
        # change the result: part 2 high, so the domain is high.
        ("deviations", {"2.1": "Y", "2.2": "Y", "2.3": "PN", "2.6": "N", "2.7": "PY"}, "high"),
        # Double-blind trial, modified ITT whose exclusions could not matter: some concerns.
        ("deviations", {"2.1": "N", "2.2": "N", "2.6": "PN", "2.7": "N"}, "some concerns"),
        # 30% lost, no sensitivity analysis, drop-outs because of worsening symptoms: high.
        ("missing_data", {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "PY"}, "high"),
        # 4% lost: nearly all data available -> low whatever else.
        ("missing_data", {"3.1": "PY"}, "low"),
        # Self-rated recovery scale, unblinded participants are the assessors, influence
        # possible but judged unlikely: some concerns.
        (
            "measurement",
            {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "PY", "4.5": "PN"},
            "some concerns",
        ),
        # Blinded assessors but no information on whether groups were assessed alike.
        ("measurement", {"4.1": "N", "4.2": "NI", "4.3": "N"}, "some concerns"),
        # Registered plan, one pre-specified scale and analysis: low.
        ("selection", {"5.1": "Y", "5.2": "N", "5.3": "N"}, "low"),
        # No plan available, one of three recovery scales reported: high.
        ("selection", {"5.1": "NI", "5.2": "PY", "5.3": "NI"}, "high"),
    ],
)
def test_hand_worked_trials(domain: str, answers: dict[str, str], expected: str) -> None:
    assert propose_judgement(domain, answers) == expected


def test_incomplete_answers_and_bad_input() -> None:
    # 1.1 is asked unconditionally: no proposal until it is answered, even when 1.2 = N.
    assert propose_judgement("randomisation", {"1.2": "N", "1.3": "N"}) is None
    # 2.3 applies when a participant is aware: no proposal without it.
    assert propose_judgement("deviations", {"2.1": "Y", "2.2": "N", "2.6": "Y"}) is None
    with pytest.raises(InputError, match=r"2.3 is answered NA but applies here \(2.1 = Y"):
        propose_judgement("deviations", {"2.1": "Y", "2.2": "N", "2.3": "NA", "2.6": "Y"})
    with pytest.raises(InputError, match=r"answer 'maybe' to signalling question 1\.1"):
        propose_judgement("randomisation", {"1.1": "maybe", "1.2": "Y", "1.3": "N"})
    with pytest.raises(InputError, match=r"answer 'NI' to signalling question 3\.2"):
        propose_judgement("missing_data", {"3.1": "N", "3.2": "NI"})
    with pytest.raises(InputError, match="not a RoB 2 domain"):
        propose_judgement("blinding", {})
