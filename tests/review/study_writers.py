"""Child process of the study concurrency test (importable by name, so that spawned
processes can run it)."""

from __future__ import annotations

SETTINGS = ("added", "established", "independent", "online")
JUDGEMENTS = ("low", "unclear", "high")


def expected_values(index: int, turn: int) -> tuple[str, str, int]:
    """Category, judgement and number of weeks written for study ``index`` at ``turn``."""
    return SETTINGS[(index + turn) % 4], JUDGEMENTS[(index + turn) % 3], 10 * turn + index


def write_study_values(folder: str, coder: str, rounds: int, barrier: object) -> int:
    """``rounds`` passes over the studies, each writing a classification code, a risk-of-bias
    judgement and a characteristics field in three transactions; returns the calls made."""
    from metasift.review import Review

    calls = 0
    with Review.open(folder) as review:
        studies = list(review.studies()["study"])
        barrier.wait()  # type: ignore[attr-defined]
        for turn in range(rounds):
            for index, study in enumerate(studies):
                setting, judgement, weeks = expected_values(index, turn)
                review.classify(coder, study, {"setting": setting})
                review.appraise(coder, study, {"allocation_concealment": judgement})
                review.extract_characteristics(coder, study, {"weeks": weeks})
                calls += 3
    return calls
