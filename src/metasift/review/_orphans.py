"""Checks that the protocol still gives a meaning to everything in the store.

A protocol edit must not orphan what was recorded: a reviewer with decisions removed from
the team, a stage with decisions removed, an exclusion reason in use removed from its
stage's list, a database with imported records removed or given another kind, balanced
assignments that the new settings would drop, or an accepted pre-screening exclusion that
the new years or languages no longer propose. Each problem is reported with what to do.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from metasift.errors import InputError
from metasift.review._schema import (
    Assignment,
    Decision,
    DedupReview,
    PrefilterDecision,
    Resolution,
    Retrieval,
    Reviewer,
    Source,
    StageEvent,
)
from metasift.review._state import record_states
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


def check_orphans(conn: Connection, protocol: Protocol, source: str) -> None:
    """Raise an :class:`InputError` listing every recorded item the protocol orphans."""
    problems = _people(conn, protocol) + _stages(conn, protocol) + _sources(conn, protocol)
    problems += _prefilter(conn, protocol)
    if problems:
        raise InputError(
            f"{source} no longer matches what is recorded; nothing was changed:\n  "
            + "\n  ".join(problems)
        )
