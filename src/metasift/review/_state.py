"""Current state derived from the events: pools, assignments and the status of every
record at a stage.

Status of a record at a stage:

``unassigned``  balanced assignment has not given it to anyone yet;
``unscreened``  no assigned reviewer has decided; ``pending``: some have;
``agreed``      every assigned reviewer decided and they agree: the decision is final;
``conflict``    every assigned reviewer decided and they disagree (or a "maybe" when the
                protocol sends maybes to the arbiter, or full-text exclusions with different
                reasons): waiting for the arbiter;
``resolved``    the arbiter decided: that decision is final;
``outside``     the record is not in the stage's pool (``why_not`` says why).

A record's decisions become visible only once every assigned reviewer has decided it
(agreed, conflict or resolved); before that only each reviewer's own decision is shown.

The derivation is plain Python over a few indexed queries, so that checking one record
before writing a decision costs a few milliseconds; :func:`stage_states` runs the same code
over every record and returns a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, select

from metasift.review._dedup_store import link_map
from metasift.review._prefilter import proposal
from metasift.review._records import Query
from metasift.review._schema import (
    Assignment,
    Decision,
    PrefilterDecision,
    Record,
    Resolution,
    Retrieval,
    Reviewer,
    Source,
    StageEvent,
)
from metasift.review.protocol import DBR_KINDS, Protocol

__all__ = [
    "COMPLETE",
    "RecordState",
    "derive",
    "latest_decisions",
    "record_states",
    "stage_closed",
    "stage_states",
]

COMPLETE = ("agreed", "conflict", "resolved")
Vote = tuple[str, str | None]


@dataclass
class RecordState:
    """Everything known about one record at one stage (see the module notes)."""

    record_id: int
    year: int | None
    language: str | None
    kind: str
    database: str
    dbr: bool
    dedup: str = "unique"
    canonical_id: int = 0
    study_id: int = 0
    deduplicated: bool = False
    proposal: str | None = None
    prefilter: str | None = None
    retrieved: bool | None = None
    why_not: str | None = None
    in_pool: bool = False
    sought: bool = False
    assigned: tuple[str, ...] = ()
    n_decided: int = 0
    status: str = "outside"
    final: str | None = None
    reason: str | None = None


_RECORDS = Query(
    select(Record.id, Record.year, Record.language, Source.kind, Source.database).join(
        Source, Source.id == Record.source_id
    ),
    Record.id,
)
_ANSWERS = Query(
    select(PrefilterDecision.record_id, PrefilterDecision.accepted).order_by(PrefilterDecision.id),
    PrefilterDecision.record_id,
)
_VOTES = Query(
    select(
        Decision.record_id,
        Reviewer.name,
        Decision.decision,
        Decision.reason,
        Decision.note,
        Decision.id,
        Decision.created_at,
    )
    .join(Reviewer, Reviewer.id == Decision.reviewer_id)
    .where(Decision.stage == bindparam("stage"))
    .order_by(Decision.id),
    Decision.record_id,
)
_RESOLUTIONS = Query(
    select(Resolution.record_id, Resolution.decision, Resolution.reason)
    .where(Resolution.stage == bindparam("stage"))
    .order_by(Resolution.id),
    Resolution.record_id,
)
_ASSIGNED = Query(
    select(Assignment.record_id, Reviewer.name)
    .join(Reviewer, Reviewer.id == Assignment.reviewer_id)
    .where(Assignment.stage == bindparam("stage"))
    .order_by(Assignment.id),
    Assignment.record_id,
)
_RETRIEVALS = Query(
    select(Retrieval.record_id, Retrieval.retrieved).order_by(Retrieval.id),
    Retrieval.record_id,
)
_CLOSED = (
    select(StageEvent.closed, StageEvent.created_at, Reviewer.name, StageEvent.note)
    .join(Reviewer, Reviewer.id == StageEvent.reviewer_id)
    .where(StageEvent.stage == bindparam("stage"))
    .order_by(StageEvent.id.desc())
    .limit(1)
)


def _base(conn: Connection, protocol: Protocol, only: Sequence[int] | None) -> dict[int, Any]:
    links = link_map(conn, only)
    latest = {int(r): bool(a) for r, a in _ANSWERS.rows(conn, only)}
    states = {}
    for rid, year, language, kind, database in _RECORDS.rows(conn, only):
        rid = int(rid)
        state = RecordState(rid, year, language, kind, database, kind in DBR_KINDS)
        state.canonical_id, state.dedup, state.study_id = links.get(rid, (rid, "unique", rid))
        state.deduplicated = rid in links
        if state.dbr and state.dedup != "duplicate":
            state.proposal = proposal(year, language, protocol.eligibility)
        if rid in latest:
            state.prefilter = "accepted" if latest[rid] else "rejected"
        elif state.proposal:
            state.prefilter = "pending"
        states[rid] = state
    return states


def latest_votes(
    conn: Connection, stage: str, only: Sequence[int] | None
) -> dict[int, dict[str, tuple[str, str | None, str, int, Any]]]:
    """record -> reviewer -> (decision, reason, note, decision id, time), latest only."""
    found: dict[int, dict[str, tuple[str, str | None, str, int, Any]]] = {}
    for rid, name, decision, reason, note, did, when in _VOTES.rows(conn, only, stage=stage):
        found.setdefault(int(rid), {})[name] = (decision, reason, note, int(did), when)
    return found


def latest_decisions(
    conn: Connection, stage: str, only: Sequence[int] | None = None
) -> pd.DataFrame:
    """The latest decision of each reviewer on each record at ``stage``, as a table."""
    votes = latest_votes(conn, stage, only)
    columns = ["record_id", "reviewer", "decision", "reason", "note", "decision_id", "created_at"]
    rows = [
        dict(zip(columns, (rid, who, *values), strict=True))
        for rid, by in sorted(votes.items())
        for who, values in by.items()
    ]
    return _frame(rows, columns)


def _resolutions(conn: Connection, stage: str, only: Sequence[int] | None) -> dict[int, Vote]:
    rows = _RESOLUTIONS.rows(conn, only, stage=stage)
    return {int(r): (d, reason) for r, d, reason in rows}


def assignees(
    conn: Connection, protocol: Protocol, stage: str, record_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """Screeners of each record: every screener, or the balanced assignment."""
    settings = protocol.stage(stage)
    assert settings is not None
    if settings.assignment == "all":
        everyone = tuple(protocol.screeners(stage))
        return {int(r): everyone for r in record_ids}
    found: dict[int, list[str]] = {int(r): [] for r in record_ids}
    for record_id, name in _ASSIGNED.rows(conn, record_ids, stage=stage):
        found[int(record_id)].append(name)
    return {r: tuple(names) for r, names in found.items()}


def derive(
    assigned: Sequence[str],
    decided: dict[str, Vote],
    resolution: Vote | None,
    maybe: str,
    stage: str,
) -> tuple[str, str | None, str | None]:
    """Status, final decision and reason of one record at one stage (see module notes).

    Examples
    --------
    >>> derive(["ann", "ben"], {"ann": ("include", None)}, None, "include", "title_abstract")
    ('pending', None, None)
    >>> derive(["ann", "ben"], {"ann": ("maybe", None), "ben": ("include", None)}, None,
    ...        "include", "title_abstract")
    ('agreed', 'include', None)
    >>> derive(["ann", "ben"], {"ann": ("exclude", "Wrong population"),
    ...        "ben": ("exclude", "Wrong comparator")}, None, "include", "full_text")
    ('conflict', None, None)
    """
    if resolution is not None:
        return "resolved", resolution[0], resolution[1]
    if not assigned:
        return "unassigned", None, None
    votes = [decided[r] for r in assigned if r in decided]
    if not votes:
        return "unscreened", None, None
    if len(votes) < len(assigned):
        return "pending", None, None
    if maybe == "conflict" and any(d == "maybe" for d, _ in votes):
        return "conflict", None, None
    effective = {"include" if d == "maybe" else d for d, _ in votes}
    if len(effective) > 1:
        return "conflict", None, None
    final = effective.pop()
    reasons = {r for d, r in votes if d == "exclude" and r}
    if final == "exclude" and stage == "full_text" and len(reasons) > 1:
        return "conflict", None, None
    return "agreed", final, (reasons.pop() if reasons else None)


def _pool_reason(state: RecordState, stage: str, tiab: dict[int, RecordState]) -> str | None:
    """Why a record is not in the stage's pool, or None when it is."""
    if state.dedup == "duplicate":
        return f"it is a duplicate of record {state.canonical_id}"
    if stage == "title_abstract":
        if not state.dbr:
            return f"it comes from {state.database} ({state.kind}): assessed at full text only"
        if state.prefilter == "accepted":
            return f"it was excluded before screening ({state.proposal})"
        return None
    if state.dbr:
        first = tiab[state.record_id]
        if first.final != "include":
            shown = f"excluded ({first.status})" if first.final == "exclude" else first.status
            return f"it is not included at title_abstract (status: {shown})"
    if state.retrieved is False:
        return "its full text was not retrieved"
    return None


def record_states(
    conn: Connection, protocol: Protocol, stage: str, only: Sequence[int] | None = None
) -> dict[int, RecordState]:
    """The state of every record (or those in ``only``) at ``stage``, by record id."""
    states = _base(conn, protocol, only)
    tiab: dict[int, RecordState] = {}
    if stage == "full_text":
        tiab = record_states(conn, protocol, "title_abstract", only)
        for rid, retrieved in _RETRIEVALS.rows(conn, only):
            if int(rid) in states:
                states[int(rid)].retrieved = bool(retrieved)
    for state in states.values():
        state.why_not = _pool_reason(state, stage, tiab)
        state.in_pool = state.why_not is None
        state.sought = state.in_pool or state.why_not == "its full text was not retrieved"
    pool = [r for r, s in states.items() if s.in_pool]
    assigned = assignees(conn, protocol, stage, pool)
    votes = latest_votes(conn, stage, only)
    resolved = _resolutions(conn, stage, only)
    for rid in pool:
        state = states[rid]
        state.assigned = assigned[rid]
        mine = {who: (v[0], v[1]) for who, v in votes.get(rid, {}).items()}
        state.n_decided = sum(name in mine for name in state.assigned)
        state.status, state.final, state.reason = derive(
            state.assigned, mine, resolved.get(rid), protocol.screening.maybe, stage
        )
    return states


def stage_states(
    conn: Connection, protocol: Protocol, stage: str, only: Sequence[int] | None = None
) -> pd.DataFrame:
    """:func:`record_states` as a table, one row per record, in record order."""
    states = record_states(conn, protocol, stage, only)
    rows = [asdict(states[r]) for r in sorted(states)]
    frame = _frame(rows, list(RecordState.__dataclass_fields__))
    # An empty table must still hold bool flags: pandas reads an empty object Series used
    # as a mask as a list of column labels and would drop every column.
    return frame.astype({name: bool for name in _FLAGS})


_FLAGS = ("dbr", "deduplicated", "in_pool", "sought")


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A table whose text columns keep None (pandas would turn None into NaN in strings)."""
    data = {}
    for name in columns:
        values = [row[name] for row in rows]
        if any(isinstance(v, (str, tuple)) or v is None for v in values):
            data[name] = pd.Series(values, dtype=object)
        else:
            data[name] = pd.Series(values)
    return pd.DataFrame(data, columns=columns)


def stage_closed(conn: Connection, stage: str) -> Any:
    """The latest close/reopen event of ``stage`` when it closed the stage, else None."""
    row = conn.execute(_CLOSED, {"stage": stage}).first()
    return row if row is not None and row.closed else None
