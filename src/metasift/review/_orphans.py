"""Checks that the protocol still gives a meaning to everything in the store.

A protocol edit must not orphan what was recorded: a reviewer with decisions removed from
the team, a stage with decisions removed, an exclusion reason in use removed from its
stage's list, a database with imported records removed or given another kind, balanced
assignments that the new settings would drop, or an accepted pre-screening exclusion that
the new years or languages no longer propose. The same holds for the study-level values of
classification, risk of bias and extraction: a coder with values removed from the coders, a
facet, category, risk-of-bias tool or domain, characteristics field, choice or outcome with
values removed. Each problem is reported with what to do.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from metasift.errors import InputError
from metasift.review._schema import (
    Assignment,
    Decision,
    DedupReview,
    MultiArmAudit,
    PrefilterDecision,
    Resolution,
    Retrieval,
    Reviewer,
    Source,
    StageEvent,
    StudyEvent,
)
from metasift.review._state import record_states
from metasift.review.appraisal import LIMITATION, OVERALL, parse_item
from metasift.review.appraisal_tools import BUILTIN_TOOLS, custom_tool
from metasift.review.protocol import STAGES, Protocol

__all__ = ["check_orphans"]


def _people(conn: Connection, protocol: Protocol) -> list[str]:
    problems = []
    team = set(protocol.team.reviewers)
    tables = (
        (Decision.reviewer_id, "screening decisions"),
        (Resolution.arbiter_id, "arbiter decisions"),
        (Assignment.reviewer_id, "assignments"),
        (PrefilterDecision.reviewer_id, "pre-screening answers"),
        (Retrieval.reviewer_id, "retrieval notes"),
        (StageEvent.reviewer_id, "stage closings"),
        (DedupReview.reviewer_id, "duplicate decisions"),
        (StudyEvent.reviewer_id, "study values (classification, risk of bias, extraction)"),
    )
    for column, what in tables:
        query = (
            select(Reviewer.name, func.count())
            .select_from(column.class_)
            .join(Reviewer, Reviewer.id == column)
            .group_by(Reviewer.name)
        )
        for name, n in conn.execute(query).all():
            if name not in team:
                problems.append(
                    f"team.reviewers: {name!r} was removed but has {n} {what}; put the name back"
                )
    return problems


def _stages(conn: Connection, protocol: Protocol) -> list[str]:
    problems = []
    for stage in STAGES:
        settings = protocol.stage(stage, required=False)
        n = conn.scalar(select(func.count()).select_from(Decision).where(Decision.stage == stage))
        if settings is None:
            if n:
                problems.append(
                    f"screening.{stage}: the stage was removed but has {n} decisions; put "
                    "the table back"
                )
            continue
        screeners = set(protocol.screeners(stage))
        query = (
            select(Reviewer.name, func.count())
            .select_from(Decision)
            .join(Reviewer, Reviewer.id == Decision.reviewer_id)
            .where(Decision.stage == stage)
            .group_by(Reviewer.name)
        )
        for name, count in conn.execute(query).all():
            if name not in screeners:
                problems.append(
                    f"screening.{stage}.screeners: {name!r} has {count} decisions at this "
                    "stage but is no longer a screener; add the name back"
                )
        problems += _reasons(conn, stage, settings.reasons)
        problems += _assignments(conn, protocol, stage)
    return problems


def _reasons(conn: Connection, stage: str, allowed: list[str]) -> list[str]:
    if not allowed and stage != "full_text":
        return []
    problems = []
    for table in (Decision, Resolution):
        query = (
            select(table.reason, func.count())
            .where(table.stage == stage, table.reason.is_not(None))
            .group_by(table.reason)
        )
        for reason, n in conn.execute(query).all():
            if reason not in allowed:
                problems.append(
                    f"screening.{stage}.reasons: {reason!r} is used by {n} decisions but is "
                    "no longer listed; put it back"
                )
    return problems


def _assignments(conn: Connection, protocol: Protocol, stage: str) -> list[str]:
    settings = protocol.stage(stage)
    assert settings is not None
    counts = conn.execute(
        select(Assignment.record_id, func.count())
        .where(Assignment.stage == stage)
        .group_by(Assignment.record_id)
    ).all()
    if not counts:
        return []
    if settings.assignment != "balanced":
        return [
            f"screening.{stage}.assignment: records were assigned with 'balanced'; changing "
            "it would drop those assignments; set it back to 'balanced'"
        ]
    most = max(n for _, n in counts)
    if most > protocol.reviewers_per_record(stage):
        return [
            f"screening.{stage}.reviewers_per_record: records have {most} assigned screeners; "
            f"lowering it to {protocol.reviewers_per_record(stage)} would drop assignments"
        ]
    return []


def _sources(conn: Connection, protocol: Protocol) -> list[str]:
    problems = []
    declared = {s.name: s.kind for s in protocol.databases}
    query = select(Source.database, Source.kind, func.sum(Source.n_records)).group_by(
        Source.database, Source.kind
    )
    for name, kind, n in conn.execute(query).all():
        if name not in declared:
            problems.append(
                f"databases: {name!r} was removed but {n} records were imported from it; "
                "put its [[databases]] table back"
            )
        elif declared[name] != kind:
            problems.append(
                f"databases: the kind of {name!r} changed from {kind!r} to "
                f"{declared[name]!r} after {n} records were imported; set it back"
            )
    return problems


def _prefilter(conn: Connection, protocol: Protocol) -> list[str]:
    accepted = conn.scalars(select(PrefilterDecision.record_id).distinct()).all()
    if not accepted:
        return []
    states = record_states(conn, protocol, "title_abstract", list(accepted))
    stale = [
        r
        for r, s in states.items()
        if s.prefilter == "accepted" and s.proposal is None and s.dedup != "duplicate"
    ]
    if not stale:
        return []
    ids = ", ".join(str(r) for r in stale[:10])
    return [
        f"eligibility: {len(stale)} records excluded before screening (e.g. {ids}) are no "
        "longer outside the protocol's years or languages; restore the previous years and "
        "languages, answer those proposals with `metasift prefilter --reject`, then edit"
    ]


_SECTIONS = {
    "classification": "classification",
    "appraisal": "risk_of_bias",
    "extraction": "characteristics",
}
_OUTCOME_TABLES = ("outcome", "value", "effect", "availability")


def _study_coders(conn: Connection, protocol: Protocol) -> list[str]:
    """Team members whose own (not consensus) values would no longer be shown."""
    problems = []
    query = (
        select(StudyEvent.kind, Reviewer.name, func.count())
        .join(Reviewer, Reviewer.id == StudyEvent.reviewer_id)
        .where(StudyEvent.consensus.is_(False))
        .group_by(StudyEvent.kind, Reviewer.name)
    )
    for kind, name, n in conn.execute(query).all():
        section = _SECTIONS[kind]
        if name in protocol.team.reviewers and name not in protocol.coders(section):
            problems.append(
                f"{section}.coders: {name!r} has {n} {kind} values but is no longer a coder; "
                "add the name back"
            )
    return problems


def _appraisal_item(protocol: Protocol, item: str) -> tuple[str, str] | None:
    tool_key, outcome, domain, _ = parse_item(item)
    spec = protocol.risk_of_bias.tools.get(tool_key)
    if spec is None and tool_key not in BUILTIN_TOOLS:
        return f"risk_of_bias.tools: the tool {tool_key!r} was removed", "put its table back"
    # A change of tool is allowed (items carry the tool's key, so they never mix); what
    # must stay is the definition of every tool, domain and outcome that was judged.
    tool = custom_tool(tool_key, spec.domains) if spec else BUILTIN_TOOLS[tool_key]
    if domain not in (LIMITATION, OVERALL) and domain not in {d.key for d in tool.domains}:
        return f"risk_of_bias: the domain {domain!r} of the tool {tool_key!r} was removed", (
            "put it back"
        )
    if outcome and outcome not in protocol.outcomes:
        return f"outcomes: {outcome!r} was removed", "put its [outcomes] table back"
    if spec is not None and bool(outcome) != spec.per_outcome:
        how = "per outcome" if outcome else "per study"
        return f"risk_of_bias.tools.{tool_key}.per_outcome: it was appraised {how}", (
            "set per_outcome back"
        )
    return None


def _study_item(protocol: Protocol, kind: str, item: str) -> tuple[str, str] | None:
    """What removed the meaning of an item and what to do, or None while it has one."""
    if kind == "classification":
        if item not in protocol.classification.facets:
            return f"classification.facets: {item!r} was removed", "put its table back"
        return None
    if kind == "appraisal":
        return _appraisal_item(protocol, item)
    parts = item.split("|")
    if parts[0] == "characteristics" and parts[-1] not in protocol.characteristics.fields:
        return f"characteristics.fields: {parts[-1]!r} was removed", "put its table back"
    if parts[0] in _OUTCOME_TABLES and parts[1] not in protocol.outcomes:
        return f"outcomes: {parts[1]!r} was removed", "put its [outcomes] table back"
    return None


def _study_items(conn: Connection, protocol: Protocol) -> list[str]:
    """Facets, tools, domains, form fields and outcomes removed although they have values."""
    counts: dict[tuple[str, str], list[int]] = {}
    query = select(
        StudyEvent.kind, StudyEvent.item, func.count(), func.count(StudyEvent.study_id.distinct())
    ).group_by(StudyEvent.kind, StudyEvent.item)
    for kind, item, n, studies in conn.execute(query).all():
        cause = _study_item(protocol, kind, item)
        if cause is not None:
            # The fields and arms of one outcome share one cause: report it once.
            total = counts.setdefault(cause, [0, 0])
            total[0] += n
            total[1] = max(total[1], studies)
    return [
        f"{what} but has {n} recorded values in {s} or more studies; {fix}"
        for (what, fix), (n, s) in counts.items()
    ]


def _study_choices(conn: Connection, protocol: Protocol) -> list[str]:
    """Categories of a facet and choices of a form field in use but no longer listed."""
    listed = {
        ("classification", f): (f"classification.facets.{f}.categories", spec.categories)
        for f, spec in protocol.classification.facets.items()
    }
    listed |= {
        ("extraction", f"characteristics|{f}"): (
            f"characteristics.fields.{f}.choices",
            spec.choices,
        )
        for f, spec in protocol.characteristics.fields.items()
        if spec.type == "choice"
    }
    query = (
        select(StudyEvent.kind, StudyEvent.item, StudyEvent.value, func.count())
        .where(StudyEvent.item.in_([item for _, item in listed]))
        .group_by(StudyEvent.kind, StudyEvent.item, StudyEvent.value)
    )
    problems = []
    for kind, item, raw, n in conn.execute(query).all():
        if (kind, item) not in listed:
            continue
        where, allowed = listed[kind, item]
        value = json.loads(raw)
        if value is not None and value not in allowed:
            problems.append(
                f"{where}: {value!r} is used by {n} values but is no longer listed; put it back"
            )
    return problems


def _multi_arm(conn: Connection, protocol: Protocol) -> list[str]:
    """Settled multi-arm trails of an outcome removed from the protocol."""
    query = select(MultiArmAudit.outcome, func.count()).group_by(MultiArmAudit.outcome)
    return [
        f"outcomes: {outcome!r} was removed but has {n} settled multi-arm trails; put its "
        "[outcomes] table back"
        for outcome, n in conn.execute(query).all()
        if outcome not in protocol.outcomes
    ]


def check_orphans(conn: Connection, protocol: Protocol, source: str) -> None:
    """Raise an :class:`InputError` listing every recorded item the protocol orphans."""
    problems = _people(conn, protocol) + _stages(conn, protocol) + _sources(conn, protocol)
    problems += _prefilter(conn, protocol)
    problems += _study_coders(conn, protocol) + _study_items(conn, protocol)
    problems += _study_choices(conn, protocol) + _multi_arm(conn, protocol)
    if problems:
        raise InputError(
            f"{source} no longer matches what is recorded; nothing was changed:\n  "
            + "\n  ".join(problems)
        )
