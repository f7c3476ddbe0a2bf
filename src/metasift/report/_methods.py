"""The methods section of the report, written from the protocol and the analysis plan.

Every sentence states a setting of ``review.toml`` (or a rule of metasift that the
settings select), so the text changes when the protocol does and never claims a step the
protocol does not describe. Software versions close the section.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metasift.review.analysis_plan import OUTCOME_SUBGROUPS, AnalysisOptions, AnalysisPlan
from metasift.review.appraisal_tools import AppraisalTool, ahrq_quality, rob2_overall
from metasift.review.protocol import Protocol
from metasift.stats._format import METHOD_NAMES

__all__ = ["Paragraph", "methods_paragraphs", "software_versions"]

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_KIND_WORDS = {
    "website": "websites",
    "organisation": "organisations",
    "citation": "citation searching",
}
_TESTS = {
    "z": "Wald-type confidence intervals (normal distribution)",
    "knha": "Hartung-Knapp-Sidik-Jonkman confidence intervals (t distribution, k − 1 df)",
    "adhoc": "Hartung-Knapp-Sidik-Jonkman confidence intervals with the ad hoc correction "
    "(never narrower than the Wald-type interval)",
}
_CONVENTIONS = {
    "metafor": "Hedges' g with the exact small-sample correction and the large-sample "
    "variance, as metafor computes it",
    "revman5": "Hedges' g with the approximate small-sample correction and RevMan 5's variance",
    "cma": "Hedges' g with the approximate small-sample correction and the variance of "
    "Comprehensive Meta-Analysis",
}
_MEASURES = {
    "SMD": "the standardised mean difference",
    "MD": "the mean difference",
    "ROM": "the ratio of means (analysed on the log scale)",
    "OR": "the odds ratio (analysed on the log scale)",
    "RR": "the risk ratio (analysed on the log scale)",
    "RD": "the risk difference",
}
_BIAS_TESTS = {
    "egger": "Egger's regression test",
    "begg": "Begg's rank correlation test",
    "trim_and_fill": "trim-and-fill",
}
#: How the methods name a subgroup analysis by an outcome-level extraction field.
_OUTCOME_FIELD_WORDS = {
    "instrument": "instrument used",
    "construct": "construct measured",
}
#: Software named in the report, by distribution name.
SOFTWARE = ("metasift", "numpy", "scipy", "pandas", "matplotlib")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the methods: a heading and its sentences (plain text)."""

    heading: str
    text: str


def number_word(n: int) -> str:
    """``2`` -> ``"two"`` up to ten, digits above.

    Examples
    --------
    >>> number_word(3), number_word(12)
    ('three', '12')
    """
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def join_words(items: Sequence[str], last: str = "and") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``.

    Examples
    --------
    >>> join_words(["PubMed", "Embase", "PsycINFO"]), join_words(["x"]), join_words([])
    ('PubMed, Embase and PsycINFO', 'x', '')
    """
    items = [str(i) for i in items]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _date(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value is not None else "date not recorded"


def _search(protocol: Protocol) -> str:
    main = [s for s in protocol.databases if s.kind in ("database", "register")]
    other = [s for s in protocol.databases if s.kind not in ("database", "register")]
    if not protocol.databases:
        return "The protocol lists no searched sources ([[databases]] in review.toml)."
    dates = {s.date for s in main}
    if main and len(dates) == 1:
        text = f"We searched {join_words([s.name for s in main])} on {_date(main[0].date)}."
    elif main:
        text = (
            "We searched "
            + join_words([f"{s.name} ({_date(s.date)})" for s in main])
            + "; each search is stored with its query in review.toml."
        )
    else:
        text = ""
    if other:
        found = [f"{s.name} ({_KIND_WORDS[s.kind]}, {_date(s.date)})" for s in other]
        text += f" Records also came from {join_words(found)}."
    return text.strip()


def _eligibility(protocol: Protocol) -> str:
    e = protocol.eligibility
    parts = [
        f"{label}: {value.rstrip('.')}"
        for label, value in (
            ("Population", e.population),
            ("Intervention", e.intervention),
            ("Comparator", e.comparator),
            ("Outcomes", e.outcomes),
            ("Study designs", e.study_designs),
        )
        if value
    ]
    if e.languages:
        parts.append(f"Languages: {join_words(e.languages, 'or')}")
    if e.years.start is not None or e.years.end is not None:
        years = {
            (True, True): f"{e.years.start} to {e.years.end}",
            (True, False): f"from {e.years.start}",
            (False, True): f"until {e.years.end}",
        }[(e.years.start is not None, e.years.end is not None)]
        parts.append(f"Publication years: {years}")
    return ". ".join(parts) + "." if parts else "The protocol states no eligibility criteria."


def _stage_sentence(protocol: Protocol, stage: str, what: str) -> str:
    settings = protocol.stage(stage)
    assert settings is not None  # stage() raises for a missing required stage
    n, pool = protocol.reviewers_per_record(stage), len(protocol.screeners(stage))
    if n == 1:
        who = "one reviewer" if pool == 1 else f"one of {number_word(pool)} reviewers"
        text = f"{what} were screened by {who}, with an arbiter for doubtful records"
    else:
        text = f"{what} were screened by {number_word(n)} reviewers independently"
        if pool > n:
            text += f" (each record by {number_word(n)} of {number_word(pool)})"
        text += "; disagreements were settled by an arbiter"
    if stage == "full_text" and settings.reasons:
        text += f". Reasons for exclusion were: {join_words(settings.reasons, 'or')}"
    return text + "."


def _selection(protocol: Protocol) -> str:
    text = _stage_sentence(protocol, "title_abstract", "Titles and abstracts")
    if protocol.screening.maybe == "include":
        text += " A record marked 'maybe' counted as an inclusion."
    else:
        text += " A record marked 'maybe' counted as a disagreement."
    if protocol.stage("full_text", required=False) is not None:
        text += " " + _stage_sentence(protocol, "full_text", "Full texts")
    return text


def _direction(protocol: Protocol) -> str:
    lower = [spec.group or name for name, spec in protocol.outcomes.items()
             if spec.direction == "lower"]  # fmt: skip
    text = (
        "Study scales running the other way from the outcome's were reversed, so that "
        "positive effects favour the intervention"
    )
    if lower:
        text += f" (for {join_words(lower)}, where lower is better, negative effects do)"
    return text


def _coders(protocol: Protocol, section: str, noun: str) -> str:
    n = len(protocol.coders(section))
    if n == 1:
        return f"by one {noun}"
    return f"by {number_word(n)} {noun}s independently, disagreements settled by an arbiter"


def _coding(protocol: Protocol) -> str:
    facets = protocol.classification.facets
    parts = []
    if facets:
        named = [f"{name} ({', '.join(spec.categories)})" for name, spec in facets.items()]
        parts.append(
            f"Studies were classified {_coders(protocol, 'classification', 'coder')}, by "
            f"{join_words(named)}."
        )
    fields = [name.replace("_", " ") for name in protocol.characteristics.fields]
    what = f"study characteristics ({join_words(fields)}) and outcome data" if fields else "data"
    parts.append(
        f"The {what} were extracted {_coders(protocol, 'characteristics', 'extractor')} "
        "and compared field by field. Standard deviations missing from a report were "
        "derived from standard errors or confidence intervals, and means and SDs from "
        "medians with quartiles or ranges (Luo et al. 2018; Wan et al. 2014)."
    )
    return " ".join(parts)


def _overall_rule(tool: AppraisalTool) -> str:
    if tool.overall is ahrq_quality:
        return (
            "Overall quality was rated by the AHRQ conversion: good when every domain was "
            "at low risk; fair when one domain was at high risk, or one or two were "
            "unclear, without a known important limitation; poor otherwise."
        )
    if tool.overall is rob2_overall:
        return (
            "The overall judgement followed the RoB 2 algorithm: low risk when every domain "
            "was at low risk; some concerns when a domain raised some concerns and none "
            "was at high risk; high risk when a domain was at high risk (or several "
            "concerns together lowered confidence substantially)."
        )
    if tool.overall is None:
        return "The overall judgement was agreed by consensus."
    return "The overall judgement was the worst judgement of any domain."


def _risk_of_bias(protocol: Protocol, tool: AppraisalTool) -> str:
    domains = join_words([d.name.lower() for d in tool.domains])
    text = (
        f"Risk of bias was assessed {_coders(protocol, 'risk_of_bias', 'appraiser')} "
        f"with {_tool_name(tool)} ({domains}). {_overall_rule(tool)}"
    )
    return text + (f" Reference: {tool.reference}" if tool.reference else "")


def _tool_name(tool: AppraisalTool) -> str:
    name = tool.name
    return f"the {name[0].lower()}{name[1:]}" if "tool" in name.lower() else name


def _model(options: AnalysisOptions) -> str:
    if options.method in ("EE", "FE"):
        model = "a common-effect (equal-effects) model with inverse-variance weights"
    else:
        name = METHOD_NAMES.get(options.method, options.method)
        model = f"random-effects models with the {name} estimator of τ²"
    parts = [f"{100 * options.level:g}% {_TESTS[options.test]}"]
    if options.prediction_interval and options.method not in ("EE", "FE"):
        parts.append(f"{100 * options.level:g}% prediction intervals")
    i2 = "from Q, (Q − df)/Q" if options.i2 == "q" else "from τ²"
    return f"Effects were pooled with {model}, {join_words(parts)}; I² was computed {i2}."


def _measure(options: AnalysisOptions) -> str:
    text = f"The effect measure was {_MEASURES.get(options.measure, options.measure)}"
    if options.measure == "SMD":
        text += f" ({_CONVENTIONS[options.smd_convention]})"
    source = (
        "computed from the arms' means and SDs (a study's own effect estimate only where "
        "no arm values were reported)"
        if options.effects == "arms"
        else "as reported by the studies where they reported one, else computed from the "
        "arms' values"
    )
    return f"{text}, {source}."


def _subgroups(protocol: Protocol, options: AnalysisOptions) -> str:
    chosen = options.subgroups
    if chosen is None:
        chosen = {facet: "pre-specified" for facet in protocol.classification.facets}
    if not chosen:
        return "No subgroup analyses were planned."
    facets = protocol.classification.facets
    fields = [f for f in chosen if f in OUTCOME_SUBGROUPS and f not in facets]
    kinds = []
    for kind in ("pre-specified", "post hoc"):
        names = [
            _OUTCOME_FIELD_WORDS[f] if f in fields else f for f, k in chosen.items() if k == kind
        ]
        if names:
            kinds.append(f"{join_words(names)} ({kind})")
    tau2 = (
        "a separate τ² in each subgroup"
        if options.subgroup_tau2 == "separate"
        else ("one τ² shared by the subgroups")
    )
    text = (
        f"Subgroups were analysed by {join_words(kinds)}, with {tau2}; differences between "
        "subgroups were tested with Cochran's Q between subgroups."
    )
    if fields:
        named = join_words([_OUTCOME_FIELD_WORDS[f] for f in fields], "or")
        text += (
            f" The {named} was extracted for each study and outcome; its categories were the "
            "values recorded, and comparisons without one were left out of that analysis."
        )
    return text


def _sensitivity(options: AnalysisOptions) -> str:
    sets = []
    for name, spec in options.sensitivity.sets.items():
        rule = "; ".join(
            f"{key} = {join_words([str(v) or '(none)' for v in values], 'or')}"
            for key, values in spec.exclude.items()
        )
        sets.append(f"{name} ({spec.description or 'excluding studies with ' + rule})")
    if options.sensitivity.leave_one_out:
        sets.append("leaving out one comparison at a time")
    if not sets:
        return "No sensitivity analyses were planned."
    return f"Sensitivity analyses: {join_words(sets)}."


def _bias(options: AnalysisOptions) -> str:
    rule = options.publication_bias
    tests = [_BIAS_TESTS[t] for t in rule.tests]
    checks = ["funnel plots", *tests]
    return (
        f"Publication bias was examined with {join_words(checks)} in analyses of at least "
        f"{rule.min_studies} comparisons."
    )


def _analysis(protocol: Protocol, plan: AnalysisPlan) -> str:
    options: AnalysisOptions = plan
    arm = (
        "intervention arms of multi-arm trials were combined (Cochrane Handbook 23.3.4)"
        if options.multi_arm == "combine"
        else "the shared control group of multi-arm trials was split between comparisons"
    )
    comparators = (
        "All comparators were analysed together"
        if options.comparators == "together"
        else f"Each comparator (facet {options.comparator_facet}) was analysed apart"
    )
    parts = [
        _measure(options),
        f"{_direction(protocol)}; {arm}.",
        _model(options),
        "Heterogeneity was called substantial when I² > 50% and the Q test's p < 0.1; "
        "standardised effects were labelled small (0.2), medium (0.5) or large (0.8) by "
        "Cohen's thresholds.",
        f"An analysis with fewer than {number_word(options.min_studies)} comparisons was "
        "not pooled (shown as not applicable).",
        f"{comparators}.",
        _subgroups(protocol, options),
        _sensitivity(options),
        _bias(options),
    ]
    parts += _overrides(protocol, plan)
    return " ".join(parts)


def _overrides(protocol: Protocol, plan: AnalysisPlan) -> list[str]:
    base = AnalysisOptions.model_validate(
        {name: getattr(plan, name) for name in AnalysisOptions.model_fields}
    )
    out = []
    for outcome, spec in protocol.outcomes.items():
        own = plan.settings(outcome, spec.group)
        changed = [
            f"{name} = {_setting_text(getattr(own, name))}"
            for name in AnalysisOptions.model_fields
            if getattr(own, name) != getattr(base, name)
        ]
        if changed:
            out.append(f"For {spec.group or outcome}: {'; '.join(changed)}.")
    return out


def _setting_text(value: Any) -> str:
    if hasattr(value, "model_dump"):
        return str(value.model_dump())
    return str(value)


def software_versions() -> list[tuple[str, str]]:
    """(name, version) of Python and the packages that computed and drew the results.

    Examples
    --------
    >>> [name for name, _ in software_versions()]
    ['metasift', 'Python', 'numpy', 'scipy', 'pandas', 'matplotlib']
    """
    found = [("Python", platform.python_version())]
    for name in SOFTWARE:
        try:
            found.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            found.append((name, "not installed as a distribution"))
    return [found[1], found[0], *found[2:]]


def methods_paragraphs(protocol: Protocol, tool: AppraisalTool, plan: AnalysisPlan) -> list:
    """The methods, paragraph by paragraph (see the module docstring).

    Examples
    --------
    >>> from metasift.review.protocol import parse_protocol
    >>> from metasift.review.appraisal_tools import appraisal_tool
    >>> p = parse_protocol('''
    ... [review]
    ... title = "Peer support"
    ... [team]
    ... reviewers = ["ann", "ben", "dana"]
    ... [[databases]]
    ... name = "PubMed"
    ... date = 2020-12-18
    ... [screening.title_abstract]
    ... arbiter = "dana"
    ... ''')
    >>> parts = methods_paragraphs(p, appraisal_tool("rob2"), p.analysis)
    >>> [part.heading for part in parts][:3]
    ['Eligibility criteria', 'Searches', 'Study selection']
    >>> parts[1].text
    'We searched PubMed on 18 December 2020.'
    >>> parts[2].text.split(";")[0]
    'Titles and abstracts were screened by two reviewers independently'
    """
    return [
        Paragraph("Eligibility criteria", _eligibility(protocol)),
        Paragraph("Searches", _search(protocol)),
        Paragraph("Study selection", _selection(protocol)),
        Paragraph("Data extraction and coding", _coding(protocol)),
        Paragraph("Risk of bias", _risk_of_bias(protocol, tool)),
        Paragraph("Synthesis", _analysis(protocol, plan)),
    ]
