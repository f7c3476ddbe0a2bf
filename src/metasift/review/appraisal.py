"""Risk-of-bias appraisal: per-appraiser signalling answers and domain judgements with
support text, the judgements the tool's algorithms propose, consensus, overall ratings by
the tool's rule, the robvis CSV layout and quality counts per category.

Judgements are study events of kind ``appraisal`` (see
:mod:`metasift.review.classification`). The item is ``SCOPE:DOMAIN`` for a domain
judgement, ``SCOPE:DOMAIN:QUESTION`` for the answer to a signalling question,
``SCOPE:limitation`` for the known important limitation of the AHRQ conversion (and the
"substantially lowers confidence" case of RoB 2) and ``SCOPE:overall`` for an overall
judgement recorded by the appraiser. ``SCOPE`` is the tool's key (so that a change of tool
never mixes judgements), followed by ``|OUTCOME`` for tools assessed per outcome (RoB 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from metasift.errors import InputError
from metasift.review.appraisal_tools import (
    AppraisalTool,
    appraisal_tool,
    custom_tool,
    worst_overall,
)
from metasift.review.protocol import Protocol

__all__ = [
    "LIMITATION",
    "OVERALL",
    "AppraisalItem",
    "appraisal_items",
    "judgement_table",
    "parse_item",
    "protocol_tool",
    "quality_counts",
    "robvis_frame",
    "scope",
    "write_robvis",
]

LIMITATION = "limitation"
OVERALL = "overall"
PROPOSED_NOTE = "proposed by the tool's algorithm from the signalling answers"


class AppraisalItem(NamedTuple):
    """The parts of an appraisal item path."""

    tool: str
    outcome: str
    domain: str
    question: str


def parse_item(item: str) -> AppraisalItem:
    """Split ``TOOL[|OUTCOME]:DOMAIN[:QUESTION]``.

    Examples
    --------
    >>> parse_item("rob2|mood:randomisation:1.2")
    AppraisalItem(tool='rob2', outcome='mood', domain='randomisation', question='1.2')
    """
    head, _, rest = str(item).partition(":")
    tool, _, outcome = head.partition("|")
    domain, _, question = rest.partition(":")
    return AppraisalItem(tool, outcome, domain, question)


def scope(tool: AppraisalTool, outcome: str | None, outcomes: Sequence[str] = ()) -> str:
    """The item prefix of an appraisal: the tool's key, with ``|OUTCOME`` for tools
    assessed per outcome; an :class:`InputError` when the outcome is missing, unknown or
    given to a tool assessed per study."""
    name = str(outcome or "").strip()
    if tool.per_outcome and not name:
        raise InputError(
            f"the {tool.name} tool is assessed per outcome: give the outcome (one of "
            f"{list(outcomes)})"
        )
    if not tool.per_outcome and name:
        raise InputError(f"the {tool.name} tool is assessed per study; leave out the outcome")
    if name and outcomes and name not in outcomes:
        raise InputError(f"outcome {name!r} is not in [outcomes]; outcomes are {list(outcomes)}")
    return f"{tool.key}|{name}" if name else tool.key


def protocol_tool(protocol: Protocol) -> AppraisalTool:
    """The tool named by ``[risk_of_bias] tool``, built-in or defined in the protocol."""
    own = {
        name: custom_tool(
            name,
            spec.domains,
            spec.judgements,
            spec.overall,
            name,
            spec.reference,
            spec.per_outcome,
        )
        for name, spec in protocol.risk_of_bias.tools.items()
    }
    return appraisal_tool(protocol.risk_of_bias.tool, own)


def _answers(tool: AppraisalTool, answers: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Question key -> (domain key, answer code), each checked against the tool."""
    checked = {}
    for key, value in answers.items():
        domain, question = tool.question(str(key))
        checked[question.key] = (domain.key, question.check(value))
    return checked


def _overall(
    tool: AppraisalTool, value: Any, domains: Mapping[str, str], limitation: bool, why: str
) -> str:
    """The recorded overall judgement, checked against the tool's rule when every domain is
    judged: a deviation needs support text."""
    allowed = tool.ratings or tool.judgements
    found = str(value).strip().lower()
    if found not in allowed:
        raise InputError(f"overall {value!r} is not allowed by the {tool.name} tool; use {allowed}")
    if tool.overall is None or any(d.key not in domains for d in tool.domains):
        return found
    follows = tool.allowed_overall(domains, limitation)
    if found not in follows and not why.strip():
        raise InputError(
            f"overall {found!r} departs from the {tool.name} rule, which gives "
            f"{' or '.join(map(repr, follows))} for these domain judgements; give support "
            "text for 'overall' saying why"
        )
    return found


def appraisal_items(
    tool: AppraisalTool,
    judgements: Mapping[str, str] | None = None,
    support: Mapping[str, str] | None = None,
    important_limitation: bool | None = None,
    *,
    prefix: str | None = None,
    answers: Mapping[str, Any] | None = None,
    overall: str | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> dict[str, tuple[Any, str]]:
    """Validated events (item -> (value, support text)) of one appraisal.

    Parameters
    ----------
    tool : AppraisalTool
    judgements : mapping, optional
        Domain -> judgement. A domain with signalling answers but no judgement gets the
        judgement the tool's algorithm proposes; a judgement that differs from the proposal
        needs support text for its domain.
    support : mapping, optional
        Support text by domain, question key, ``"limitation"`` or ``"overall"``.
    important_limitation : bool, optional
    prefix : str, optional
        The scope (see :func:`scope`); the tool's key by default.
    answers : mapping, optional
        Signalling question key (``"1.1"``) -> answer (``Y``, ``PY``, ``PN``, ``N``, ``NI``,
        ``NA``).
    overall : str, optional
        The appraiser's overall judgement; one that departs from the tool's rule (given
        every domain's judgement) needs support text for ``"overall"``.
    recorded : mapping, optional
        The appraiser's current values in this scope (item without the scope -> value), so
        that answers and judgements given before count.

    Examples
    --------
    >>> from metasift.review.appraisal_tools import appraisal_tool
    >>> items = appraisal_items(appraisal_tool("rob2"), prefix="rob2|mood",
    ...                         answers={"1.1": "y", "1.2": "NI", "1.3": "PN"})
    >>> items["rob2|mood:randomisation"][0], items["rob2|mood:randomisation:1.2"][0]
    ('some concerns', 'NI')
    """
    support = {str(k).strip(): str(v or "") for k, v in (support or {}).items()}
    head = f"{prefix or tool.key}:"
    given = _answers(tool, answers or {})
    checked = {d: tool.check_judgement(d, v) for d, v in (judgements or {}).items()}
    extra = sorted(set(support) - set(checked) - set(given) - {LIMITATION, OVERALL})
    if extra:
        raise InputError(f"support given for {extra}, which are not judged or answered here")
    before = dict(recorded or {})
    known = {k.split(":")[1]: v for k, v in before.items() if k.count(":") == 1}
    known |= {q: a for q, (_, a) in given.items()}
    items: dict[str, tuple[Any, str]] = {
        f"{head}{d}:{q}": (a, support.get(q, "")) for q, (d, a) in given.items()
    }
    for domain in dict.fromkeys([*checked, *(d for d, _ in given.values())]):
        items |= _domain_item(tool, head, domain, checked.get(domain), known, support)
    limitation = bool(before.get(LIMITATION, False))
    if important_limitation is not None:
        limitation = bool(important_limitation)
        items[f"{head}{LIMITATION}"] = (limitation, support.get(LIMITATION, ""))
    if overall is not None:
        keys = {d.key for d in tool.domains}
        domains = {k: v for k, v in before.items() if k in keys and v is not None}
        domains |= {k: v for k, (v, _) in _unscoped(items, head).items() if k in keys}
        why = support.get(OVERALL, "")
        items[f"{head}{OVERALL}"] = (_overall(tool, overall, domains, limitation, why), why)
    return items


def _domain_item(
    tool: AppraisalTool,
    head: str,
    domain: str,
    judgement: str | None,
    answers: Mapping[str, str],
    support: Mapping[str, str],
) -> dict[str, tuple[Any, str]]:
    proposal = tool.propose(domain, answers)
    why = support.get(domain, "")
    if judgement is None:
        return {} if proposal is None else {f"{head}{domain}": (proposal, why or PROPOSED_NOTE)}
    if proposal is not None and judgement != proposal and not why.strip():
        raise InputError(
            f"domain {domain!r}: the judgement {judgement!r} differs from {proposal!r}, which "
            "the signalling answers give by the tool's algorithm; give support text for "
            f"{domain!r} saying why"
        )
    return {f"{head}{domain}": (judgement, why)}


def _unscoped(items: Mapping[str, tuple[Any, str]], head: str) -> dict[str, tuple[Any, str]]:
    return {item.removeprefix(head): value for item, value in items.items()}


def _long(status: pd.DataFrame, tool: AppraisalTool) -> pd.DataFrame:
    """The tool's final values, one row per item: study, outcome, domain, question, final."""
    parts = pd.DataFrame(
        [parse_item(i) for i in status["item"]],
        columns=list(AppraisalItem._fields),
        index=status.index,
    )
    long = pd.concat([status[["study", "final"]], parts], axis=1)
    return long[long["tool"] == tool.key].drop(columns="tool")


def _row(tool: AppraisalTool, block: pd.DataFrame) -> dict[str, Any]:
    """One appraisal (study, or study and outcome): judgements, proposals, overall."""
    cells = zip(block["domain"], block["question"], block["final"], strict=True)
    values = {(d, q): v for d, q, v in cells}
    answers = {q: v for (_, q), v in values.items() if q and v is not None}
    keys = [d.key for d in tool.domains]
    row: dict[str, Any] = {d: values.get((d, "")) for d in keys}
    for domain in tool.domains:
        if domain.algorithm is not None:
            try:
                row[f"{domain.key}_proposed"] = tool.propose(domain.key, answers)
            except InputError:  # settled answers that contradict each other: no proposal
                row[f"{domain.key}_proposed"] = None
    limitation = values.get((LIMITATION, ""))
    row[LIMITATION] = bool(limitation) if isinstance(limitation, bool) else False
    complete = all(row[d] is not None and row[d] == row[d] for d in keys)
    proposed = None
    if complete and tool.overall is not None:
        proposed = tool.rate({d: row[d] for d in keys}, row[LIMITATION])
    recorded = values.get((OVERALL, ""))
    return row | {
        "overall_proposed": proposed,
        "overall": recorded if recorded is not None else proposed,
        "complete": complete,
    }


def judgement_table(
    status: pd.DataFrame,
    tool: AppraisalTool,
    studies: list[str],
    outcomes: Sequence[str] = (),
) -> pd.DataFrame:
    """Final values, one row per study (per study and outcome for tools assessed per
    outcome, for the pairs appraised): study, [outcome], a column per domain (the
    judgement), ``DOMAIN_proposed`` for domains with an algorithm (the judgement the
    settled answers give), ``limitation``, ``overall_proposed`` (the tool's rule, empty
    while a domain is unsettled), ``overall`` (the recorded overall judgement, else the
    proposal) and ``complete``."""
    long = _long(status, tool) if len(status) else pd.DataFrame()
    keys = ["study", "outcome"] if tool.per_outcome else ["study"]
    rows = []
    pairs: list[tuple[Any, ...]]
    if tool.per_outcome:
        pairs = sorted(
            set(zip(long.get("study", []), long.get("outcome", []), strict=True)),
            key=lambda p: (studies.index(p[0]), _position(outcomes, p[1])),
        )
    else:
        pairs = [(s,) for s in studies]
    groups = dict(list(long.groupby(keys, sort=False))) if len(long) else {}
    empty = pd.DataFrame(columns=["domain", "question", "final"])
    for pair in pairs:
        block = groups.get(pair, empty)
        rows.append(dict(zip(keys, pair, strict=True)) | _row(tool, block))
    columns = [*keys, *_row(tool, empty)]
    return pd.DataFrame(rows, columns=columns)


def _position(outcomes: Sequence[str], outcome: str) -> int:
    return list(outcomes).index(outcome) if outcome in outcomes else len(outcomes)


def robvis_frame(
    table: pd.DataFrame, tool: AppraisalTool, outcome: str | None = None
) -> pd.DataFrame:
    """The robvis layout: ``Study``, one column per domain (full names), ``Overall`` and
    ``Weight``. For a tool assessed per outcome (RoB 2), the rows of ``outcome`` with the
    study labels, or, without an outcome, one row per study and outcome labelled
    ``"STUDY (OUTCOME)"``. ``Overall`` is the overall judgement (the worst domain for tools
    whose rule is not a risk level, such as the AHRQ conversion)."""
    if outcome is not None and "outcome" in table.columns:
        table = table[table["outcome"] == outcome]
    if table.empty:
        raise InputError(
            "robvis table: no study is appraised" + (f" for {outcome!r}" if outcome else "")
        )
    pending = table.loc[~table["complete"].astype(bool), "study"].tolist()
    if pending:
        raise InputError(f"robvis table: studies {pending} have domains without a judgement")
    label = table["study"]
    if "outcome" in table.columns and outcome is None:
        label = table["study"] + " (" + table["outcome"] + ")"
    out = pd.DataFrame({"Study": label.to_numpy()})
    domains = [d.key for d in tool.domains]
    for domain in tool.domains:
        out[domain.name] = table[domain.key].map(_robvis_label).to_numpy()
    if tool.ratings and tool.ratings[0] == "low":
        overall = table["overall"]
    else:
        overall = table[domains].apply(lambda r: worst_overall(r.to_dict()), axis=1)
    out["Overall"] = overall.map(_robvis_label).to_numpy()
    out["Weight"] = 1
    return out


def _robvis_label(value: str) -> str:
    text = str(value)
    return "Some concerns" if text == "some concerns" else text[:1].upper() + text[1:]


def write_robvis(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a robvis-layout table as CSV."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return target


def quality_counts(ratings: pd.Series, codes: pd.Series, levels: tuple[str, ...]) -> pd.DataFrame:
    """Counts of each overall rating per category: rows are categories plus ``All``.

    Parameters
    ----------
    ratings : Series
        Overall rating by study (NaN for studies not yet rated, left out).
    codes : Series
        Category by study.
    levels : tuple of str
        Ratings in order (columns).

    Examples
    --------
    >>> r = pd.Series({"a": "good", "b": "poor", "c": "fair"})
    >>> c = pd.Series({"a": "online", "b": "online", "c": "added"})
    >>> quality_counts(r, c, ("good", "fair", "poor")).loc["online"].tolist()
    [1, 0, 1, 2]
    """
    frame = pd.DataFrame({"rating": ratings, "category": codes.reindex(ratings.index)})
    frame = frame.dropna()
    table = pd.crosstab(frame["category"], frame["rating"]).reindex(columns=list(levels))
    table = table.fillna(0).astype(int)
    table.loc["All"] = table.sum()
    table["n"] = table.sum(axis=1)
    table.index.name = "category"
    return table
