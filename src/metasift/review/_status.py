"""The status of a review: counts only, so that it is safe to show to every reviewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from metasift.review._dedup_store import dedup_summary
from metasift.review._schema import Record, Source
from metasift.review._state import latest_decisions, stage_closed, stage_states
from metasift.review.protocol import Protocol

__all__ = ["ReviewStatus", "review_status"]

_STATUSES = ("unassigned", "unscreened", "pending", "agreed", "conflict", "resolved")


@dataclass(frozen=True)
class ReviewStatus:
    """Where a review stands.

    Attributes
    ----------
    title : str
        The review's title.
    sources : pandas.DataFrame
        Imported files: ``file``, ``database``, ``kind``, ``records``.
    dedup : dict
        ``runs``, ``duplicates``, ``possible``, ``pairs_to_review``, ``not_deduplicated``.
    prefilter : dict
        Pre-screening proposals by answer: ``pending``, ``accepted``, ``rejected``.
    stages : dict
        Per stage: ``closed``, ``pool``, counts per status, ``include``, ``exclude`` and
        ``reviewers`` (per reviewer: ``assigned``, ``decided``, ``remaining``).
    """

    title: str
    sources: pd.DataFrame
    dedup: dict[str, int]
    prefilter: dict[str, int]
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON."""
        return {
            "title": self.title,
            "records": int(self.sources["records"].sum()) if len(self.sources) else 0,
            "sources": self.sources.to_dict("records"),
            "dedup": self.dedup,
            "prefilter": self.prefilter,
            "stages": self.stages,
        }

    def summary(self) -> str:
        """A few lines of text."""
        data = self.to_dict()
        lines = [f"{self.title}: {data['records']} records from {len(self.sources)} files"]
        d = self.dedup
        lines.append(
            f"  duplicates: {d['duplicates']} ({d['pairs_to_review']} pairs to review, "
            f"{d['not_deduplicated']} records not deduplicated yet)"
        )
        p = self.prefilter
        lines.append(
            f"  pre-screening proposals: {p['pending']} pending, {p['accepted']} accepted, "
            f"{p['rejected']} rejected"
        )
        for stage, info in self.stages.items():
            counts = ", ".join(f"{s} {info[s]}" for s in _STATUSES if info[s])
            closed = " (closed)" if info["closed"] else ""
            lines.append(f"  {stage}{closed}: {info['pool']} records: {counts or 'none'}")
            for name, prog in info["reviewers"].items():
                lines.append(
                    f"    {name}: {prog['decided']}/{prog['assigned']} decided, "
                    f"{prog['remaining']} to go"
                )
        return "\n".join(lines)


def _stage(conn: Connection, protocol: Protocol, stage: str) -> dict[str, Any]:
    states = stage_states(conn, protocol, stage)
    pool = states[states["in_pool"]]
    info: dict[str, Any] = {"closed": stage_closed(conn, stage) is not None, "pool": len(pool)}
    counts = pool["status"].value_counts()
    info.update({s: int(counts.get(s, 0)) for s in _STATUSES})
    finals = pool["final"].value_counts()
    info.update(include=int(finals.get("include", 0)), exclude=int(finals.get("exclude", 0)))
    votes = latest_decisions(conn, stage)
    votes = votes[votes["record_id"].isin(set(pool["record_id"]))]
    reviewers = {}
    for name in protocol.screeners(stage):
        mine = pool[pool["assigned"].map(lambda names, n=name: n in names).astype(bool)]
        done = set(votes.loc[votes["reviewer"] == name, "record_id"])
        decided = mine["record_id"].isin(done)
        reviewers[name] = {
            "assigned": len(mine),
            "decided": int(decided.sum()),
            "remaining": int((~decided & mine["status"].ne("resolved")).sum()),
        }
    info["reviewers"] = reviewers
    return info


def review_status(conn: Connection, protocol: Protocol) -> ReviewStatus:
    """Counts of records, duplicates, proposals and screening progress."""
    sources = pd.DataFrame(
        [
            tuple(r)
            for r in conn.execute(
                select(Source.file_name, Source.database, Source.kind, Source.n_records).order_by(
                    Source.id
                )
            ).all()
        ],
        columns=["file", "database", "kind", "records"],
    )
    summary = dedup_summary(conn) if len(sources) else None
    states = stage_states(conn, protocol, "title_abstract")
    total = conn.scalar(select(func.count()).select_from(Record)) or 0
    dedup = {
        "duplicates": int(states["dedup"].eq("duplicate").sum()),
        "possible": int(states["dedup"].eq("possible").sum()),
        "pairs_to_review": 0 if summary is None else len(summary.queue),
        "not_deduplicated": int(total - states["deduplicated"].sum()),
    }
    answers = states["prefilter"].value_counts()
    prefilter = {k: int(answers.get(k, 0)) for k in ("pending", "accepted", "rejected")}
    stages = {stage: _stage(conn, protocol, stage) for stage in protocol.stages()}
    return ReviewStatus(protocol.review.title, sources, dedup, prefilter, stages)
