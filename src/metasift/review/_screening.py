"""Writing screening events: decisions, arbitration, assignment, stage closing, retrieval
and pre-screening answers. Every check runs inside the write transaction that appends the
event, so two processes cannot both pass a check that only one of them should pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from metasift.errors import InputError
from metasift.review._schema import (
    Assignment,
    Decision,
    PrefilterDecision,
    Resolution,
    Retrieval,
    Reviewer,
    StageEvent,
)
from metasift.review._state import RecordState, record_states, stage_closed, stage_states
from metasift.review.protocol import DECISIONS, Protocol
from metasift.review.store import Store

__all__ = [
    "Vote",
    "assign_balanced",
    "check_vote",
    "decide_many",
    "resolve",
    "reviewer_id",
    "set_stage",
    "sync_reviewers",
]


@dataclass(frozen=True)
class Vote:
    """One screening decision to record."""

    record_id: int
    decision: str
    reason: str | None = None
    note: str = ""


def sync_reviewers(store: Store, protocol: Protocol) -> None:
    """Add the protocol's team members that the store does not know yet."""
    with store.read() as conn:
        known = set(conn.scalars(select(Reviewer.name)).all())
    missing = [name for name in protocol.team.reviewers if name not in known]
    if missing:
        with store.write() as conn:
            known = set(conn.scalars(select(Reviewer.name)).all())
            rows = [{"name": n} for n in missing if n not in known]
            if rows:
                conn.execute(insert(Reviewer), rows)


_REVIEWER_ID = select(Reviewer.id).where(Reviewer.name == bindparam("name"))


def reviewer_id(conn: Connection, protocol: Protocol, name: str) -> int:
    """Store id of a team member; an :class:`InputError` names unknown reviewers."""
    if name not in protocol.team.reviewers:
        raise InputError(
            f"reviewer {name!r} is not in the team of review.toml {protocol.team.reviewers}"
        )
    found = conn.scalar(_REVIEWER_ID, {"name": name})
    if found is None:  # pragma: no cover - sync_reviewers runs when a review opens
        raise InputError(f"reviewer {name!r} is not in the store; reopen the review")
    return int(found)


def check_vote(protocol: Protocol, stage: str, vote: Vote) -> Vote:
    """Validate a decision and its reason against the protocol (no store access)."""
    decision = str(vote.decision).strip().lower()
    if decision not in DECISIONS:
        raise InputError(
            f"record {vote.record_id}: decision {vote.decision!r} is not allowed; use one of "
            f"{DECISIONS}"
        )
    settings = protocol.stage(stage)
    assert settings is not None
    reason = (vote.reason or "").strip() or None
    if decision != "exclude" and reason:
        raise InputError(
            f"record {vote.record_id}: a reason ({reason!r}) goes with an exclusion only"
        )
    if decision == "exclude" and stage == "full_text" and not reason:
        raise InputError(
            f"record {vote.record_id}: a full-text exclusion needs a reason, one of "
            f"{settings.reasons}"
        )
    if reason and settings.reasons and reason not in settings.reasons:
        raise InputError(
            f"record {vote.record_id}: reason {reason!r} is not in the protocol's "
            f"{stage} reasons {settings.reasons}"
        )
    return Vote(vote.record_id, decision, reason, (vote.note or "").strip())


def _check_open(conn: Connection, stage: str) -> None:
    closed = stage_closed(conn, stage)
    if closed is not None:
        raise InputError(
            f"stage {stage} was closed by {closed.name} on {closed.created_at:%Y-%m-%d}; "
            "no decision can be recorded until it is reopened"
        )


def decide_many(
    store: Store,
    protocol: Protocol,
    reviewer: str,
    stage: str,
    votes: Sequence[Vote],
    origin: str = "api",
) -> int:
    """Append the decisions of one reviewer in one transaction (all or none).

    Returns the number of decisions written.
    """
    checked = [check_vote(protocol, stage, v) for v in votes]
    if not checked:
        return 0
    with store.write() as conn:
        who = reviewer_id(conn, protocol, reviewer)
        _check_open(conn, stage)
        states = record_states(conn, protocol, stage, [v.record_id for v in checked])
        for vote in checked:
            _check_record(states.get(vote.record_id), vote.record_id, reviewer, stage)
        rows = [
            {
                "stage": stage,
                "record_id": v.record_id,
                "reviewer_id": who,
                "decision": v.decision,
                "reason": v.reason,
                "note": v.note,
                "origin": origin,
            }
            for v in checked
        ]
        conn.execute(insert(Decision), rows)
    return len(rows)


def _check_record(state: RecordState | None, record_id: int, reviewer: str, stage: str) -> None:
    if state is None:
        raise InputError(f"record {record_id} is not in this review")
    if not state.in_pool:
        raise InputError(f"record {record_id} cannot be screened at {stage}: {state.why_not}")
    if reviewer not in state.assigned:
        who = ", ".join(state.assigned) or "nobody yet"
        raise InputError(
            f"record {record_id} is not assigned to {reviewer} at {stage} (assigned: {who})"
        )
    if state.status == "resolved":
        raise InputError(
            f"record {record_id} was resolved by the arbiter at {stage}; its screening "
            "decisions are closed"
        )


def resolve(
    store: Store,
    protocol: Protocol,
    stage: str,
    record_id: int,
    decision: str,
    arbiter: str,
    note: str,
    reason: str | None = None,
    amend: bool = False,
) -> None:
    """The arbiter's decision on a record in conflict (or an amendment of it)."""
    settings = protocol.stage(stage)
    assert settings is not None
    if arbiter != settings.arbiter:
        raise InputError(
            f"{arbiter!r} is not the arbiter of {stage}; review.toml names {settings.arbiter!r}"
        )
    vote = check_vote(protocol, stage, Vote(record_id, decision, reason, note))
    if vote.decision == "maybe":
        raise InputError(f"record {record_id}: the arbiter decides include or exclude")
    if not vote.note:
        raise InputError(f"record {record_id}: the arbiter's decision needs a note saying why")
    with store.write() as conn:
        who = reviewer_id(conn, protocol, arbiter)
        _check_open(conn, stage)
        state = record_states(conn, protocol, stage, [record_id]).get(record_id)
        if state is None:
            raise InputError(f"record {record_id} is not in this review")
        status = state.status if state.in_pool else f"outside the stage: {state.why_not}"
        amends = _amended(conn, stage, record_id, status, amend)
        if amends is not None and stage == "title_abstract" and vote.decision == "exclude":
            _refuse_orphans(conn, record_id)
        try:
            conn.execute(
                insert(Resolution),
                {
                    "stage": stage,
                    "record_id": record_id,
                    "arbiter_id": who,
                    "decision": vote.decision,
                    "reason": vote.reason,
                    "note": vote.note,
                    "amends_id": amends,
                },
            )
        except IntegrityError:
            raise InputError(
                f"record {record_id} was resolved at {stage} meanwhile; a second arbiter "
                "decision is refused (use amend with a note to correct it)"
            ) from None


def _amended(conn: Connection, stage: str, record_id: int, status: str, amend: bool) -> int | None:
    if status == "conflict":
        if amend:
            raise InputError(f"record {record_id} has no arbiter decision to amend")
        return None
    if status != "resolved":
        raise InputError(
            f"record {record_id} is not in conflict at {stage} (status: {status}); only "
            "conflicts go to the arbiter"
        )
    last = conn.execute(
        select(Resolution.id, Resolution.decision, Resolution.created_at)
        .where(Resolution.stage == stage, Resolution.record_id == record_id)
        .order_by(Resolution.id.desc())
        .limit(1)
    ).one()
    if not amend:
        raise InputError(
            f"record {record_id} was resolved at {stage} on {last.created_at:%Y-%m-%d} "
            f"({last.decision}); a second arbiter decision is refused: amend it with a note"
        )
    return int(last.id)


def _refuse_orphans(conn: Connection, record_id: int) -> None:
    n = conn.scalar(
        select(func.count())
        .select_from(Decision)
        .where(Decision.stage == "full_text", Decision.record_id == record_id)
    )
    if n:
        raise InputError(
            f"record {record_id} has {n} full-text decision(s); excluding it at "
            "title_abstract would orphan them"
        )


def assign_balanced(store: Store, protocol: Protocol, stage: str) -> int:
    """Give every unassigned pool record to the screeners with the fewest records.

    Returns the number of assignments written. A no-op with ``assignment = "all"``.
    """
    settings = protocol.stage(stage)
    assert settings is not None
    if settings.assignment != "balanced":
        return 0
    n = protocol.reviewers_per_record(stage)
    screeners = protocol.screeners(stage)
    with store.write() as conn:
        states = stage_states(conn, protocol, stage)
        pool = states[states["in_pool"]]
        load = {name: 0 for name in screeners}
        for names in pool["assigned"]:
            for name in names:
                if name in load:
                    load[name] += 1
        ids = {name: reviewer_id(conn, protocol, name) for name in screeners}
        rows = []
        for record_id, names in zip(pool["record_id"], pool["assigned"], strict=True):
            have = set(names)
            for _ in range(n - len(have)):
                order = sorted(
                    (s for s in screeners if s not in have),
                    key=lambda s: (load[s], screeners.index(s)),
                )
                pick = order[0]
                have.add(pick)
                load[pick] += 1
                rows.append({"stage": stage, "record_id": int(record_id), "reviewer_id": ids[pick]})
        if rows:
            conn.execute(insert(Assignment), rows)
    return len(rows)


def set_stage(
    store: Store, protocol: Protocol, stage: str, closed: bool, by: str, note: str
) -> None:
    """Close a stage (every pool record decided) or reopen it; by the stage's arbiter."""
    settings = protocol.stage(stage)
    assert settings is not None
    if by != settings.arbiter:
        raise InputError(f"only the arbiter of {stage} ({settings.arbiter}) closes or reopens it")
    with store.write() as conn:
        who = reviewer_id(conn, protocol, by)
        is_closed = stage_closed(conn, stage) is not None
        if closed == is_closed:
            raise InputError(f"stage {stage} is {'closed' if closed else 'open'} already")
        if closed:
            states = stage_states(conn, protocol, stage)
            open_ = states[states["in_pool"] & ~states["status"].isin(["agreed", "resolved"])]
            if len(open_):
                counts = open_["status"].value_counts().to_dict()
                raise InputError(
                    f"stage {stage} cannot close: {len(open_)} records have no final decision "
                    f"({counts})"
                )
        conn.execute(
            insert(StageEvent),
            {"stage": stage, "closed": closed, "reviewer_id": who, "note": note},
        )


def mark_retrieval(
    store: Store,
    protocol: Protocol,
    record_ids: Sequence[int],
    retrieved: bool,
    by: str,
    note: str,
) -> None:
    """Record whether the full texts of records could be obtained."""
    with store.write() as conn:
        who = reviewer_id(conn, protocol, by)
        states = record_states(conn, protocol, "full_text", record_ids)
        for record_id in record_ids:
            if not states[record_id].sought:
                raise InputError(
                    f"record {record_id} is not sought at full text: {states[record_id].why_not}"
                )
            if not retrieved and states[record_id].n_decided > 0:
                raise InputError(
                    f"record {record_id} has full-text decisions; it cannot be marked as not "
                    "retrieved"
                )
        conn.execute(
            insert(Retrieval),
            [
                {"record_id": r, "retrieved": retrieved, "reviewer_id": who, "note": note}
                for r in record_ids
            ],
        )


def answer_prefilter(
    store: Store,
    protocol: Protocol,
    record_ids: Sequence[int] | None,
    accept: bool,
    by: str,
    note: str,
) -> int:
    """Accept (exclude before screening) or reject pre-screening proposals.

    ``record_ids`` None answers every proposal still pending. Returns the number answered.
    """
    with store.write() as conn:
        who = reviewer_id(conn, protocol, by)
        states = record_states(conn, protocol, "title_abstract", record_ids)
        if record_ids is None:
            targets = [r for r, s in states.items() if s.prefilter == "pending"]
        else:
            targets = list(record_ids)
            for record_id in targets:
                if record_id not in states or states[record_id].proposal is None:
                    raise InputError(
                        f"record {record_id} has no pre-screening proposal (its year and "
                        "language are within the protocol, unknown, or it is not from a "
                        "database or register)"
                    )
        rows = [
            {
                "record_id": int(r),
                "accepted": accept,
                "reason": states[r].proposal,
                "reviewer_id": who,
                "note": note,
            }
            for r in targets
        ]
        if rows:
            conn.execute(insert(PrefilterDecision), rows)
    return len(rows)
