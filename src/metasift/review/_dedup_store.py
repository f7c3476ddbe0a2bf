"""Deduplication in the store: runs of :func:`metasift.records.deduplicate` kept as
snapshots, a person's pair decisions kept as events, and the current links derived from
the latest run plus the decisions made since.

A record is never deleted: a duplicate points to its canonical record. Within a group the
canonical record is, in order of preference, one that already has screening decisions (so
that no decision loses its record), one from a database or register (so that the PRISMA
left column keeps it), then the most complete record as ``deduplicate`` chose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, insert, select

from metasift.errors import InputError
from metasift.records import deduplicate
from metasift.review._records import Query, chunks, records_frame
from metasift.review._schema import Decision, DedupLink, DedupPair, DedupReview, DedupRun
from metasift.review.protocol import DBR_KINDS
from metasift.review.store import Store

__all__ = [
    "DedupSummary",
    "current_links",
    "link_map",
    "pending_pairs",
    "review_pair",
    "run_dedup",
]


class _Groups:
    """Canonical record and status per record, with the members of each group."""

    def __init__(self, canonical: dict[int, int], status: dict[int, str]) -> None:
        self.canonical = canonical
        self.status = status
        self.members: dict[int, set[int]] = {}
        for record, root in canonical.items():
            self.members.setdefault(root, set()).add(record)

    def merge(self, a: int, b: int) -> None:
        keep, gone = self.canonical[a], self.canonical[b]
        if keep == gone:
            return
        for record in self.members.pop(gone):
            self.canonical[record] = keep
            self.status[record] = "duplicate"
            self.members[keep].add(record)

    def separate(self, record: int) -> None:
        root = self.canonical[record]
        group = self.members[root]
        if len(group) < 2:
            return
        group.discard(record)
        if root == record:
            new_root = min(group)
            self.members[new_root] = self.members.pop(root)
            for other in self.members[new_root]:
                self.canonical[other] = new_root
            self.status[new_root] = "unique"
        self.canonical[record] = record
        self.members[record] = {record}
        self.status[record] = "unique"


def _apply_reviews(groups: _Groups, queue: set[frozenset[int]], reviews: Sequence[Any]) -> None:
    """Apply pair decisions in order; the latest decision on a pair wins."""
    latest: dict[frozenset[int], Any] = {}
    for review in reviews:
        latest[frozenset((review.record_id_1, review.record_id_2))] = review
    for pair, review in sorted(latest.items(), key=lambda item: item[1].id):
        a, b = review.record_id_1, review.record_id_2
        if a not in groups.canonical or b not in groups.canonical:
            continue
        if review.duplicate:
            groups.merge(a, b)
        elif groups.canonical[a] == groups.canonical[b]:
            groups.separate(b)
        queue.discard(pair)
    queued = {r for pair in queue for r in pair}
    for record, status in groups.status.items():
        if status == "possible" and record not in queued:
            groups.status[record] = "unique"


def _prefer(groups: _Groups, decided: set[int], dbr: set[int]) -> None:
    """Move each group's canonical role to a record with decisions, else a DBR record."""
    for root in list(groups.members):
        members = groups.members[root]
        if len(members) < 2:
            continue
        best = min(members, key=lambda r: (r not in decided, r not in dbr, r != root, r))
        if best == root:
            continue
        groups.members[best] = groups.members.pop(root)
        for record in members:
            groups.canonical[record] = best
        groups.status[best], groups.status[root] = groups.status[root], "duplicate"


@dataclass(frozen=True)
class DedupSummary:
    """Current deduplication state of the review.

    Attributes
    ----------
    counts : pandas.DataFrame
        Per database: ``records``, ``duplicates``, ``possible``, ``kept``; last row "total".
    queue : pandas.DataFrame
        Possible duplicate pairs awaiting a person: ``record_id_1``, ``record_id_2``,
        ``score``, ``reason``.
    n_candidate_pairs : int
        Pairs compared by the latest run (0 when no run).
    """

    counts: pd.DataFrame
    queue: pd.DataFrame
    n_candidate_pairs: int = 0

    def to_frame(self) -> pd.DataFrame:
        """The per-database counts (a copy)."""
        return self.counts.copy()

    def summary(self) -> str:
        """Counts per database and the number of pairs waiting for a person."""
        return f"{len(self.queue)} possible duplicate pairs to review\n" + self.counts.to_string(
            index=False
        )


def _latest_run(conn: Connection) -> Any:
    return conn.execute(_LATEST_RUN).first()


def _link_rows(run_id: int, table: pd.DataFrame, groups: _Groups) -> list[dict[str, Any]]:
    rows = []
    for r, score, reason, study in table[["record_id", "score", "reason", "study_id"]].itertuples(
        index=False
    ):
        record = int(r)
        rows.append(
            {
                "run_id": run_id,
                "record_id": record,
                "canonical_id": groups.canonical[record],
                "status": groups.status[record],
                "score": None if pd.isna(score) else float(score),
                "reason": str(reason or ""),
                "study_id": int(study),
            }
        )
    return rows


def run_dedup(store: Store) -> DedupSummary:
    """Deduplicate every record, re-apply the pair decisions, store the run."""
    with store.read() as conn:
        records = records_frame(conn)
    if records.empty:
        raise InputError("there are no records to deduplicate: import exports first")
    frame = records.assign(record_id=records["record_id"].astype(str))
    result = deduplicate(frame, group_reports=True)
    table = result.decisions
    ids = table["record_id"].astype(int).tolist()
    groups = _Groups(
        dict(zip(ids, table["canonical_id"].astype(int), strict=True)),
        dict(zip(ids, table["status"], strict=True)),
    )
    queue_rows = {
        frozenset((int(a), int(b))): (int(a), int(b), float(s), str(r))
        for a, b, s, r in result.queue[
            ["record_id_1", "record_id_2", "score", "reason"]
        ].itertuples(index=False)
    }
    queue = set(queue_rows)
    with store.write() as conn:
        reviews = conn.execute(select(DedupReview).order_by(DedupReview.id)).all()
        _apply_reviews(groups, queue, reviews)
        decided = set(conn.scalars(select(Decision.record_id).distinct()).all())
        dbr = set(records.loc[records["kind"].isin(DBR_KINDS), "record_id"].astype(int))
        _prefer(groups, decided, dbr)
        run_id = conn.execute(
            insert(DedupRun).returning(DedupRun.id),
            {
                "n_records": len(ids),
                "n_candidate_pairs": result.n_candidate_pairs,
                "seconds": result.seconds,
                "last_review_id": max((r.id for r in reviews), default=0),
            },
        ).scalar_one()
        links = _link_rows(run_id, table, groups)
        for part in chunks(links, 2000):
            conn.execute(insert(DedupLink), list(part))
        pairs = [
            dict(
                zip(("record_id_1", "record_id_2", "score", "reason"), queue_rows[p], strict=True),
                run_id=run_id,
            )
            for p in queue
        ]
        for part in chunks(pairs, 2000):
            conn.execute(insert(DedupPair), list(part))
        return dedup_summary(conn)


_LINKS = Query(
    select(DedupLink.record_id, DedupLink.canonical_id, DedupLink.status, DedupLink.study_id).where(
        DedupLink.run_id == bindparam("run")
    ),
    DedupLink.record_id,
)
_LATEST_RUN = select(DedupRun).order_by(DedupRun.id.desc()).limit(1)
_LATER_REVIEWS = (
    select(DedupReview).where(DedupReview.id > bindparam("after")).order_by(DedupReview.id)
)


def link_map(
    conn: Connection, only: Sequence[int] | None = None
) -> dict[int, tuple[int, str, int]]:
    """Record id -> (canonical id, status, study id) in the current state.

    Records absent from the latest run (imported after it) are absent from the map.
    """
    run = _latest_run(conn)
    if run is None:
        return {}
    later = conn.execute(_LATER_REVIEWS, {"after": run.last_review_id}).all()
    wanted = None if only is None else set(only)
    if later and wanted is not None:
        # The groups touched by later decisions are needed whole to apply them.
        touched = sorted({r.record_id_1 for r in later} | {r.record_id_2 for r in later})
        roots = conn.scalars(
            select(DedupLink.canonical_id).where(
                DedupLink.run_id == run.id, DedupLink.record_id.in_(touched)
            )
        ).all()
        members = conn.scalars(
            select(DedupLink.record_id).where(
                DedupLink.run_id == run.id, DedupLink.canonical_id.in_(set(roots))
            )
        ).all()
        wanted |= set(touched) | set(members)
    rows = _LINKS.rows(conn, None if wanted is None else sorted(wanted), run=run.id)
    found = {int(r): (int(c), str(s), int(st)) for r, c, s, st in rows}
    if later:
        groups = _Groups({r: v[0] for r, v in found.items()}, {r: v[1] for r, v in found.items()})
        queue = {frozenset(p) for p in _queue_pairs(conn, run.id)}
        _apply_reviews(groups, queue, later)
        found = {r: (groups.canonical[r], groups.status[r], v[2]) for r, v in found.items()}
    if only is not None:
        keep = set(only)
        found = {r: v for r, v in found.items() if r in keep}
    return found


def current_links(conn: Connection, only: Sequence[int] | None = None) -> pd.DataFrame:
    """Current ``canonical_id``, ``status``, ``study_id`` and ``deduplicated`` per record
    of the latest run (records imported after it are not in the table)."""
    found = link_map(conn, only)
    return pd.DataFrame(
        [(r, c, s, st, True) for r, (c, s, st) in sorted(found.items())],
        columns=["record_id", "canonical_id", "status", "study_id", "deduplicated"],
    )


def _queue_pairs(conn: Connection, run_id: int) -> list[tuple[int, int]]:
    rows = conn.execute(
        select(DedupPair.record_id_1, DedupPair.record_id_2).where(DedupPair.run_id == run_id)
    ).all()
    return [(int(a), int(b)) for a, b in rows]


def pending_pairs(conn: Connection) -> pd.DataFrame:
    """Possible duplicate pairs of the latest run that no person has decided since."""
    columns = ["record_id_1", "record_id_2", "score", "reason"]
    run = _latest_run(conn)
    if run is None:
        return pd.DataFrame(columns=columns)
    rows = conn.execute(
        select(DedupPair.record_id_1, DedupPair.record_id_2, DedupPair.score, DedupPair.reason)
        .where(DedupPair.run_id == run.id)
        .order_by(DedupPair.score.desc(), DedupPair.id)
    ).all()
    done = {
        frozenset((a, b))
        for a, b in conn.execute(
            select(DedupReview.record_id_1, DedupReview.record_id_2).where(
                DedupReview.id > run.last_review_id
            )
        ).all()
    }
    kept = [tuple(r) for r in rows if frozenset((r[0], r[1])) not in done]
    return pd.DataFrame(kept, columns=columns)


def review_pair(store: Store, a: int, b: int, duplicate: bool, reviewer_id: int, note: str) -> None:
    """Record a person's decision that records ``a`` and ``b`` are (not) duplicates."""
    if a == b:
        raise InputError(f"record {a} cannot be a duplicate of itself")
    with store.write() as conn:
        conn.execute(
            insert(DedupReview),
            {
                "record_id_1": a,
                "record_id_2": b,
                "duplicate": bool(duplicate),
                "reviewer_id": reviewer_id,
                "note": note,
            },
        )


def dedup_summary(conn: Connection) -> DedupSummary:
    """Per-database counts and the pending queue, from the current links."""
    records = records_frame(conn)[["record_id", "database"]]
    links = current_links(conn)
    merged = records.merge(links, on="record_id", how="left")
    merged["status"] = merged["status"].fillna("unique")
    table = merged.assign(
        duplicate=merged["status"].eq("duplicate"), possible=merged["status"].eq("possible")
    )
    counts = table.groupby("database", sort=True).agg(
        records=("record_id", "size"),
        duplicates=("duplicate", "sum"),
        possible=("possible", "sum"),
    )
    counts["kept"] = counts["records"] - counts["duplicates"]
    counts.loc["total"] = counts.sum(numeric_only=True)
    run = _latest_run(conn)
    n_pairs = int(run.n_candidate_pairs) if run is not None else 0
    return DedupSummary(
        counts.astype("int64").reset_index(names="database"), pending_pairs(conn), n_pairs
    )
