"""Risk-of-bias tools as data: domains, signalling questions, judgement levels and the rule
from domain judgements to an overall rating.

Three tools are built in:

- ``"modified_cochrane"``: the reference review's modification of the Cochrane tool
  (seven domains judged low / unclear / high) with its conversion to the AHRQ quality
  rating good / fair / poor (:func:`ahrq_quality`);
- ``"rob2"``: Cochrane RoB 2 for randomised trials, per study and outcome, with the
  signalling questions and domain algorithms of :mod:`metasift.review.rob2` and its
  overall algorithm (:func:`rob2_overall`);
- ``"generic"``: robvis' generic template, whose domains the team names.

A team defines its own tool in ``review.toml`` (``[risk_of_bias.tools.NAME]``); it is
turned into an :class:`AppraisalTool` by :func:`custom_tool`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from metasift.errors import InputError
from metasift.review.rob2 import ROB2_QUESTIONS, SignallingQuestion, propose_judgement

__all__ = [
    "BUILTIN_TOOLS",
    "AppraisalTool",
    "ToolDomain",
    "ahrq_quality",
    "appraisal_tool",
    "custom_tool",
    "rob2_overall",
    "worst_overall",
]

#: AHRQ quality ratings, best first.
QUALITY: tuple[str, ...] = ("good", "fair", "poor")


@dataclass(frozen=True)
class ToolDomain:
    """One domain of a tool.

    Attributes
    ----------
    key : str
        Identifier used in the store and in sheets (``"allocation_concealment"``).
    name : str
        Full name shown in tables and figures.
    questions : tuple of SignallingQuestion
        Signalling questions with their allowed answers, empty when the tool has none.
    algorithm : callable or None
        ``answers (question key -> answer) -> proposed judgement or None`` (None while
        answers are missing); None when the tool proposes nothing from answers.
    """

    key: str
    name: str
    questions: tuple[SignallingQuestion, ...] = ()
    algorithm: Callable[[Mapping[str, str]], str | None] | None = None


@dataclass(frozen=True)
class AppraisalTool:
    """A risk-of-bias tool.

    Attributes
    ----------
    key : str
        Name used in ``review.toml`` (``"modified_cochrane"``, ``"rob2"``, ``"generic"``).
    name : str
        Display name.
    domains : tuple of ToolDomain
        The domains, in order.
    judgements : tuple of str
        Allowed domain judgements, best first (lower case).
    overall : callable or None
        Rule ``(judgements by domain key, important_limitation) -> overall rating``;
        None when the tool has no rule (the consensus overall is then typed in).
    ratings : tuple of str
        Values the overall rule returns, best first.
    reference : str
        Where the tool and its rule are published.
    per_outcome : bool
        Whether a study is appraised per outcome (RoB 2 assesses a result), so that its
        judgements are keyed by outcome.

    Examples
    --------
    >>> tool = appraisal_tool("modified_cochrane")
    >>> len(tool.domains), tool.judgements
    (7, ('low', 'unclear', 'high'))
    """

    key: str
    name: str
    domains: tuple[ToolDomain, ...]
    judgements: tuple[str, ...]
    overall: Callable[[Mapping[str, str], bool], str] | None
    ratings: tuple[str, ...]
    reference: str = ""
    per_outcome: bool = False

    def question(self, key: str) -> tuple[ToolDomain, SignallingQuestion]:
        """The domain and signalling question numbered ``key`` (``"1.2"``)."""
        for domain in self.domains:
            for question in domain.questions:
                if question.key == str(key).strip():
                    return domain, question
        known = [q.key for d in self.domains for q in d.questions]
        raise InputError(
            f"signalling question {key!r} is not a question of the {self.name} tool; "
            + (f"questions are {known}" if known else "it has no signalling questions")
        )

    def propose(self, domain: str, answers: Mapping[str, str]) -> str | None:
        """The judgement the tool's algorithm proposes for ``domain`` from the answers
        (None without an algorithm or while answers are missing)."""
        found = self.domain(domain)
        if found.algorithm is None:
            return None
        mine = {q.key: answers[q.key] for q in found.questions if q.key in answers}
        return found.algorithm(mine)

    def allowed_overall(
        self, judgements: Mapping[str, str], important_limitation: bool = False
    ) -> tuple[str, ...]:
        """Overall ratings that follow the tool's rule from complete domain judgements:
        the rule's rating, and for RoB 2 also "high" when two or more domains raise some
        concerns (the paper's "in a way that substantially lowers confidence")."""
        if self.overall is None:
            return self.judgements
        rated = self.rate(judgements, important_limitation)
        values = [str(v).strip().lower() for v in judgements.values()]
        if self.key == "rob2" and rated == "some concerns" and values.count(rated) >= 2:
            return (rated, "high")
        return (rated,)

    def domain(self, key: str) -> ToolDomain:
        """The domain called ``key``; an :class:`InputError` lists the domains otherwise."""
        for domain in self.domains:
            if domain.key == key:
                return domain
        raise InputError(
            f"domain {key!r} is not a domain of the {self.name} tool; domains are "
            f"{[d.key for d in self.domains]}"
        )

    def check_judgement(self, domain: str, value: str) -> str:
        """``value`` normalised (lower case); an :class:`InputError` if not allowed."""
        self.domain(domain)
        found = str(value).strip().lower()
        if found not in self.judgements:
            raise InputError(
                f"judgement {value!r} for domain {domain!r} is not allowed by the {self.name} "
                f"tool; use one of {list(self.judgements)}"
            )
        return found

    def rate(self, judgements: Mapping[str, str], important_limitation: bool = False) -> str:
        """The overall rating of complete domain judgements (every domain judged)."""
        missing = [d.key for d in self.domains if not judgements.get(d.key)]
        if missing:
            raise InputError(f"no overall rating: domains {missing} are not judged")
        if self.overall is None:
            raise InputError(f"the {self.name} tool has no rule for the overall rating")
        values = {d.key: self.check_judgement(d.key, judgements[d.key]) for d in self.domains}
        return self.overall(values, important_limitation)


def ahrq_quality(judgements: Mapping[str, str], important_limitation: bool = False) -> str:
    """AHRQ quality (good / fair / poor) from low / unclear / high domain judgements.

    Parameters
    ----------
    judgements : mapping
        Domain -> ``"low"``, ``"unclear"`` or ``"high"``.
    important_limitation : bool, default False
        Whether the appraisers found a known important limitation that could invalidate
        the results (it makes an otherwise fair study poor).

    Returns
    -------
    str
        ``"good"``, ``"fair"`` or ``"poor"``.

    Notes
    -----
    The reference review converts its modified Cochrane judgements to the AHRQ standard:
    *good* when every domain is at low risk; *fair* when one domain is at high risk, or two
    are unclear, and there is no known important limitation; *poor* otherwise. With ``h``
    high and ``u`` unclear domains this reads: good if ``h = u = 0``; fair if
    (``h = 1`` and ``u = 0``) or (``h = 0`` and ``1 <= u <= 2``), without an important
    limitation; poor in every other case (two or more high, a high together with an
    unclear, three or more unclear, or an important limitation). One unclear domain is
    read as fair, since it is less doubt than the two unclear domains that the rule
    allows. The AHRQ wording is that of Viswanathan M et al., Assessing the risk of bias of
    individual studies in systematic reviews of health care interventions, AHRQ Methods
    Guide for Comparative Effectiveness Reviews, 2012 (and its 2017 update).

    Examples
    --------
    >>> ahrq_quality({"a": "low", "b": "unclear", "c": "unclear"})
    'fair'
    >>> ahrq_quality({"a": "high", "b": "unclear"})
    'poor'
    """
    values = [str(v).strip().lower() for v in judgements.values()]
    unknown = sorted(set(values) - {"low", "unclear", "high"})
    if unknown:
        raise InputError(f"judgements {unknown}: AHRQ conversion needs low, unclear or high")
    high, unclear = values.count("high"), values.count("unclear")
    if high == 0 and unclear == 0 and not important_limitation:
        return "good"
    fair = (high == 1 and unclear == 0) or (high == 0 and 1 <= unclear <= 2)
    return "fair" if fair and not important_limitation else "poor"


def rob2_overall(judgements: Mapping[str, str], important_limitation: bool = False) -> str:
    """Overall RoB 2 judgement from the five domain judgements.

    Notes
    -----
    Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias
    in randomised trials. BMJ 2019;366:l4898, Table 2: *low* when every domain is at low
    risk; *some concerns* when at least one domain raises some concerns and none is at high
    risk; *high* when at least one domain is at high risk, or when several domains raise
    some concerns in a way that substantially lowers confidence in the result. That last
    case is a judgement, not a count: the rule proposes *some concerns* and the consensus
    overall can raise it to *high* (``important_limitation=True`` does so here).

    Examples
    --------
    >>> rob2_overall({"d1": "low", "d2": "some concerns", "d3": "low"})
    'some concerns'
    """
    values = {str(v).strip().lower() for v in judgements.values()}
    if "high" in values or ("some concerns" in values and important_limitation):
        return "high"
    if "some concerns" in values:
        return "some concerns"
    return "low"


def worst_overall(judgements: Mapping[str, str], important_limitation: bool = False) -> str:
    """The worst domain judgement (levels ``low`` < ``unclear`` < ``high`` < ``critical``).

    Examples
    --------
    >>> worst_overall({"a": "low", "b": "high", "c": "unclear"})
    'high'
    """
    order = ("low", "unclear", "some concerns", "moderate", "high", "serious", "critical")
    values = [str(v).strip().lower() for v in judgements.values()]
    ranked = sorted(values, key=lambda v: order.index(v) if v in order else len(order))
    return ranked[-1] if ranked else "low"


_MODIFIED_COCHRANE = AppraisalTool(
    "modified_cochrane",
    "Modified Cochrane risk-of-bias tool",
    (
        ToolDomain("random_sequence_generation", "Random sequence generation"),
        ToolDomain("allocation_concealment", "Allocation concealment"),
        ToolDomain("blinding_outcome_assessment", "Blinding of outcome assessment"),
        ToolDomain("incomplete_outcome_data", "Incomplete outcome data"),
        ToolDomain("selective_outcome_reporting", "Selective outcome reporting"),
        ToolDomain("power_calculation", "Power calculation"),
        ToolDomain("intention_to_treat", "Intention-to-treat analysis"),
    ),
    ("low", "unclear", "high"),
    ahrq_quality,
    QUALITY,
    "Higgins JPT et al. BMJ 2011;343:d5928, modified with power calculation and "
    "intention-to-treat domains; overall rating converted to AHRQ good/fair/poor "
    "(Viswanathan M et al., AHRQ Methods Guide, 2012).",
)

_ROB2_NAMES = {
    "randomisation": "Bias arising from the randomization process",
    "deviations": "Bias due to deviations from intended interventions",
    "missing_data": "Bias due to missing outcome data",
    "measurement": "Bias in measurement of the outcome",
    "selection": "Bias in selection of the reported result",
}

_ROB2 = AppraisalTool(
    "rob2",
    "RoB 2",
    tuple(
        ToolDomain(key, name, ROB2_QUESTIONS[key], partial(propose_judgement, key))
        for key, name in _ROB2_NAMES.items()
    ),
    ("low", "some concerns", "high"),
    rob2_overall,
    ("low", "some concerns", "high"),
    "Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised "
    "trials. BMJ 2019;366:l4898; algorithms of the guidance document of 22 August 2019 "
    "(effect of assignment to intervention).",
    per_outcome=True,
)

BUILTIN_TOOLS: Mapping[str, AppraisalTool] = {
    tool.key: tool for tool in (_MODIFIED_COCHRANE, _ROB2)
}
"""Built-in tools with fixed domains, by key; ``"generic"`` is made by :func:`custom_tool`."""


def _key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def custom_tool(
    key: str,
    domains: Sequence[str],
    judgements: Sequence[str] = ("low", "unclear", "high"),
    overall: str = "worst",
    name: str = "",
    reference: str = "",
    per_outcome: bool = False,
) -> AppraisalTool:
    """A tool from names: robvis' generic template or a team's own tool.

    Parameters
    ----------
    key : str
        Identifier of the tool.
    domains : sequence of str
        Domain names; their keys are the names in lower case with ``_`` for spaces.
    judgements : sequence of str
        Allowed judgements, best first.
    overall : {"worst", "ahrq", "none"}
        Rule for the overall rating: the worst domain, the AHRQ conversion (needs
        low / unclear / high) or none.
    per_outcome : bool, default False
        Whether each study is appraised per outcome (judgements keyed by outcome).

    Examples
    --------
    >>> tool = custom_tool("generic", ["Selection", "Blinding of assessors"])
    >>> [d.key for d in tool.domains], tool.rate({"selection": "low",
    ...                                            "blinding_of_assessors": "unclear"})
    (['selection', 'blinding_of_assessors'], 'unclear')
    """
    levels = tuple(str(j).strip().lower() for j in judgements)
    rules: dict[str, tuple[Callable[[Mapping[str, str], bool], str] | None, tuple[str, ...]]]
    rules = {"worst": (worst_overall, levels), "ahrq": (ahrq_quality, QUALITY), "none": (None, ())}
    if overall not in rules:
        raise InputError(f"overall = {overall!r}: use one of {list(rules)}")
    if overall == "ahrq" and set(levels) != {"low", "unclear", "high"}:
        raise InputError("overall = 'ahrq' needs the judgements low, unclear and high")
    parts = tuple(ToolDomain(_key(d), d.strip()) for d in domains)
    if not parts or len({d.key for d in parts}) != len(parts):
        raise InputError(f"tool {key!r}: domains must be given once each, got {list(domains)}")
    rule, ratings = rules[overall]
    return AppraisalTool(key, name or key, parts, levels, rule, ratings, reference, per_outcome)


def appraisal_tool(key: str, custom: Mapping[str, AppraisalTool] | None = None) -> AppraisalTool:
    """A built-in tool by key, or one of ``custom`` (the protocol's own tools)."""
    if custom and key in custom:
        return custom[key]
    if key in BUILTIN_TOOLS:
        return BUILTIN_TOOLS[key]
    known = [*BUILTIN_TOOLS, *(custom or {})]
    raise InputError(
        f"risk-of-bias tool {key!r} is not known; use one of {known} or define it under "
        f"[risk_of_bias.tools.{key}] in review.toml (the robvis generic template is "
        "a tool with your own domains)"
    )
