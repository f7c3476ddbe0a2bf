"""Cochrane RoB 2 as data: the signalling questions of its five domains for the effect of
assignment to intervention, the answers each allows, and the algorithms that propose a
domain judgement from the answers.

Source: Higgins JPT, Savović J, Page MJ, Sterne JAC (eds). Revised Cochrane risk-of-bias
tool for randomized trials (RoB 2), guidance document of 22 August 2019 (riskofbias.info),
the boxes of signalling questions and the tables and figures mapping answers to proposed
judgements for domains 1 to 5 (domain 2: effect of assignment to intervention); Sterne
JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised trials. BMJ
2019;366:l4898.

Answers are ``Y`` (yes), ``PY`` (probably yes), ``PN`` (probably no), ``N`` (no), ``NI``
(no information) and, for a question asked only after certain answers to another, ``NA``
(not applicable). The proposal is what the guidance's algorithm suggests; the appraiser
records the judgement and may deviate from the proposal, saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from metasift.errors import InputError

__all__ = [
    "ANSWERS",
    "ROB2_ALGORITHMS",
    "ROB2_QUESTIONS",
    "SignallingQuestion",
    "propose_judgement",
]

#: Answers to a signalling question, in the guidance's order.
ANSWERS: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI")
_YES, _NO = frozenset({"Y", "PY"}), frozenset({"N", "PN"})
LOW, SOME, HIGH = "low", "some concerns", "high"


@dataclass(frozen=True)
class SignallingQuestion:
    """One signalling question of a domain.

    Attributes
    ----------
    key : str
        Its number in the tool (``"1.2"``), used in the store and on the command line.
    text : str
        The question.
    condition : str
        When it is asked (``"If N/PN/NI to 3.1"``); empty when always asked. A conditional
        question also allows the answer ``NA``.
    answers : tuple of str
        Allowed answers.
    """

    key: str
    text: str
    condition: str = ""
    answers: tuple[str, ...] = ANSWERS

    def check(self, value: object) -> str:
        """``value`` as an answer code (upper case); an :class:`InputError` otherwise."""
        found = str(value).strip().upper()
        if found not in self.answers:
            raise InputError(
                f"answer {value!r} to signalling question {self.key} is not allowed; use one "
                f"of {list(self.answers)}"
            )
        return found


def _q(key: str, text: str, condition: str = "", no_ni: bool = False) -> SignallingQuestion:
    answers = ANSWERS[:4] if no_ni else ANSWERS
    return SignallingQuestion(key, text, condition, ("NA", *answers) if condition else answers)


ROB2_QUESTIONS: Mapping[str, tuple[SignallingQuestion, ...]] = {
    "randomisation": (
        _q("1.1", "Was the allocation sequence random?"),
        _q(
            "1.2",
            "Was the allocation sequence concealed until participants were enrolled and "
            "assigned to interventions?",
        ),
        _q(
            "1.3",
            "Did baseline differences between intervention groups suggest a problem with the "
            "randomization process?",
        ),
    ),
    "deviations": (
        _q("2.1", "Were participants aware of their assigned intervention during the trial?"),
        _q(
            "2.2",
            "Were carers and people delivering the interventions aware of participants' "
            "assigned intervention during the trial?",
        ),
        _q(
            "2.3",
            "Were there deviations from the intended intervention that arose because of the "
            "trial context?",
            "If Y/PY/NI to 2.1 or 2.2",
        ),
        _q("2.4", "Were these deviations likely to have affected the outcome?", "If Y/PY to 2.3"),
        _q(
            "2.5",
            "Were these deviations from intended intervention balanced between groups?",
            "If Y/PY/NI to 2.4",
        ),
        _q(
            "2.6",
            "Was an appropriate analysis used to estimate the effect of assignment to "
            "intervention?",
        ),
        _q(
            "2.7",
            "Was there potential for a substantial impact (on the result) of the failure to "
            "analyse participants in the group to which they were randomized?",
            "If N/PN/NI to 2.6",
        ),
    ),
    "missing_data": (
        _q(
            "3.1",
            "Were data for this outcome available for all, or nearly all, participants randomized?",
        ),
        _q(
            "3.2",
            "Is there evidence that the result was not biased by missing outcome data?",
            "If N/PN/NI to 3.1",
            no_ni=True,
        ),
        _q("3.3", "Could missingness in the outcome depend on its true value?", "If N/PN to 3.2"),
        _q(
            "3.4",
            "Is it likely that missingness in the outcome depended on its true value?",
            "If Y/PY/NI to 3.3",
        ),
    ),
    "measurement": (
        _q("4.1", "Was the method of measuring the outcome inappropriate?"),
        _q(
            "4.2",
            "Could measurement or ascertainment of the outcome have differed between "
            "intervention groups?",
        ),
        _q(
            "4.3",
            "Were outcome assessors aware of the intervention received by study participants?",
            "If N/PN/NI to 4.1 and 4.2",
        ),
        _q(
            "4.4",
            "Could assessment of the outcome have been influenced by knowledge of "
            "intervention received?",
            "If Y/PY/NI to 4.3",
        ),
        _q(
            "4.5",
            "Is it likely that assessment of the outcome was influenced by knowledge of "
            "intervention received?",
            "If Y/PY/NI to 4.4",
        ),
    ),
    "selection": (
        _q(
            "5.1",
            "Were the data that produced this result analysed in accordance with a "
            "pre-specified analysis plan that was finalized before unblinded outcome data "
            "were available for analysis?",
        ),
        _q(
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible outcome measurements (e.g. scales, "
            "definitions, time points) within the outcome domain?",
        ),
        _q(
            "5.3",
            "Is the numerical result being assessed likely to have been selected, on the basis "
            "of the results, from multiple eligible analyses of the data?",
        ),
    ),
}
"""The signalling questions of each RoB 2 domain (effect of assignment to intervention)."""


class _Missing(Exception):
    """An answer the algorithm needs has not been given yet."""


class _Answers:
    """The answers of one domain, read as the algorithm reaches each question."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self.answers = answers

    def __call__(self, key: str, because: str = "") -> str:
        if key not in self.answers:
            raise _Missing(key)
        value = self.answers[key]
        if value == "NA":
            reason = f" ({because})" if because else ""
            raise InputError(
                f"signalling question {key} is answered NA but applies here{reason}; answer "
                f"it with one of {list(ANSWERS)}"
            )
        return value


def _randomisation(a: _Answers) -> str:
    concealed = a("1.2")
    if concealed in _NO:
        return HIGH
    if concealed == "NI":
        return HIGH if a("1.3") in _YES else SOME
    if a("1.1") in _NO:
        return SOME
    return SOME if a("1.3") in _YES else LOW


def _deviations_part1(a: _Answers) -> str:
    aware = (a("2.1"), a("2.2"))
    if aware[0] in _NO and aware[1] in _NO:
        return LOW
    deviated = a("2.3", f"2.1 = {aware[0]}, 2.2 = {aware[1]}")
    if deviated in _NO:
        return LOW
    if deviated == "NI":
        return SOME
    if a("2.4", f"2.3 = {deviated}") in _NO:
        return SOME
    return SOME if a("2.5", "2.4 is not N/PN") in _YES else HIGH


def _deviations_part2(a: _Answers) -> str:
    analysis = a("2.6")
    if analysis in _YES:
        return LOW
    return SOME if a("2.7", f"2.6 = {analysis}") in _NO else HIGH


def _deviations(a: _Answers) -> str:
    parts = (_deviations_part1(a), _deviations_part2(a))
    return HIGH if HIGH in parts else (SOME if SOME in parts else LOW)


def _missing_data(a: _Answers) -> str:
    available = a("3.1")
    if available in _YES:
        return LOW
    if a("3.2", f"3.1 = {available}") in _YES:
        return LOW
    could = a("3.3", "3.2 is N/PN")
    if could in _NO:
        return LOW
    return SOME if a("3.4", f"3.3 = {could}") in _NO else HIGH


def _measurement(a: _Answers) -> str:
    if a("4.1") in _YES:
        return HIGH
    differed = a("4.2")
    if differed in _YES:
        return HIGH
    # Without information on 4.2 the domain is at best "some concerns".
    best = LOW if differed in _NO else SOME
    aware = a("4.3", "4.1 and 4.2 are N/PN/NI")
    if aware in _NO:
        return best
    if a("4.4", f"4.3 = {aware}") in _NO:
        return best
    return SOME if a("4.5", "4.4 is Y/PY/NI") in _NO else HIGH


def _selection(a: _Answers) -> str:
    selected = {a("5.2"), a("5.3")}
    if selected & _YES:
        return HIGH
    if "NI" in selected:
        return SOME
    return LOW if a("5.1") in _YES else SOME


ROB2_ALGORITHMS: Mapping[str, Callable[[_Answers], str]] = {
    "randomisation": _randomisation,
    "deviations": _deviations,
    "missing_data": _missing_data,
    "measurement": _measurement,
    "selection": _selection,
}
"""The guidance's algorithm of each domain (domain 2: effect of assignment)."""


def propose_judgement(domain: str, answers: Mapping[str, str]) -> str | None:
    """The RoB 2 judgement the guidance's algorithm proposes for a domain.

    Parameters
    ----------
    domain : str
        ``"randomisation"``, ``"deviations"``, ``"missing_data"``, ``"measurement"`` or
        ``"selection"``.
    answers : mapping
        Question key (``"1.1"``) -> answer (``Y``, ``PY``, ``PN``, ``N``, ``NI``, ``NA``);
        answers to other domains' questions are ignored.

    Returns
    -------
    str or None
        ``"low"``, ``"some concerns"`` or ``"high"``; None while a question the algorithm
        reaches (or one asked unconditionally) is unanswered.

    Raises
    ------
    InputError
        An answer that is not allowed, or ``NA`` for a question that applies.

    Notes
    -----
    Domain 1: concealment N/PN gives high; concealment NI gives high with baseline
    imbalance (1.3 Y/PY), else some concerns; with concealment Y/PY a non-random sequence
    (1.1 N/PN) or baseline imbalance gives some concerns, else low. Domain 2 (effect of
    assignment): part 1 (2.1-2.5: awareness, deviations arising from the trial context,
    their effect and balance) and part 2 (2.6-2.7: the analysis) are judged apart and the
    worse is the domain's. Domain 3: low when data are (nearly) complete, when there is
    evidence of no bias, or when missingness could not depend on the true value; else
    some concerns when it is unlikely to, high otherwise. Domain 4: high for an
    inappropriate method or measurement that could differ between groups; otherwise
    assessors' awareness and its likely influence lead to low (some concerns when 4.2 is
    NI), some concerns or high. Domain 5: high when the result was likely selected from
    several measurements or analyses; some concerns when that is unknown or the plan was
    not pre-specified; low otherwise. Guidance of 22 August 2019, tables mapping the
    signalling questions to proposed judgements.

    Examples
    --------
    >>> propose_judgement("randomisation", {"1.1": "Y", "1.2": "NI", "1.3": "N"})
    'some concerns'
    >>> propose_judgement("missing_data", {"3.1": "N", "3.2": "N", "3.3": "PY", "3.4": "PN"})
    'some concerns'
    >>> propose_judgement("deviations", {"2.1": "Y", "2.2": "Y"}) is None
    True
    """
    if domain not in ROB2_QUESTIONS:
        raise InputError(f"domain {domain!r} is not a RoB 2 domain; use {list(ROB2_QUESTIONS)}")
    questions = ROB2_QUESTIONS[domain]
    mine = {q.key: q.check(answers[q.key]) for q in questions if q.key in answers}
    if any(not q.condition and q.key not in mine for q in questions):
        return None
    try:
        return ROB2_ALGORITHMS[domain](_Answers(mine))
    except _Missing:
        return None
