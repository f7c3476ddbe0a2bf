"""The multi-arm audit trail in the store.

:func:`~metasift.review.extraction_table.extraction_table` recomputes, every time, how the
arms of each multi-arm study become an outcome's comparisons (combined, or the shared
control split; Cochrane Handbook 6.5.2.10 and 23.3.4). Settling an outcome
(:meth:`Review.settle_multi_arm`) records that trail for every multi-arm study: the rule,
the audit rows (which arms, what was done and by which Handbook formula, the input values
and the result) and the comparisons with the combined or split group sizes, means and SDs
(or events). Records are appended, never changed; the latest per outcome and study counts.
The analysable table then flags a study whose current trail differs from the settled one.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, insert, select

from metasift.review._schema import MultiArmAudit, Reviewer, Study
from metasift.review._screening import reviewer_id
from metasift.review.classification import study_ids

if TYPE_CHECKING:
    from metasift.review.extraction_table import ExtractionTable
    from metasift.review.protocol import Protocol
    from metasift.review.store import Store

__all__ = [
    "AUDIT_COLUMNS",
    "audit_frame",
    "current_trails",
    "record_trails",
    "stale_checks",
    "stored_trails",
]

#: Columns of an audit row (as :func:`metasift.stats.arms_to_comparisons` writes them).
AUDIT_COLUMNS = ("group", "arms", "n_arms", "action", "method", "inputs", "result")
_GROUP_COLUMNS = ("n1i", "m1i", "sd1i", "ai", "bi", "n2i", "m2i", "sd2i", "ci", "di")


def _plain(value: Any) -> Any:
    """A JSON-safe Python value: NaN becomes None, NumPy scalars become numbers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def current_trails(table: ExtractionTable) -> dict[str, dict[str, Any]]:
    """Study -> trail (how, audit rows, comparisons) of every study of ``table`` whose
    arms were combined or split."""
    audit = table.audit
    if "group" not in audit.columns:
        return {}
    multi = audit[audit["group"].notna()]
    acted = multi.loc[multi["action"] != "as reported", "study"].drop_duplicates()
    columns = ["comparison", *(c for c in _GROUP_COLUMNS if c in table.data.columns)]
    trails = {}
    for study in acted:
        rows = multi.loc[multi["study"] == study, list(AUDIT_COLUMNS)]
        mine = table.data[(table.data["study"] == study) & (table.data["source"] == "arms")]
        trails[str(study)] = {
            "how": table.multi_arm,
            "audit": _rows(rows),
            "comparisons": _rows(mine[columns]),
        }
    # The same normalisation as a round trip through the store's JSON.
    normalised: dict[str, dict[str, Any]] = json.loads(json.dumps(trails))
    return normalised


def record_trails(
    store: Store,
    protocol: Protocol,
    outcome: str,
    measure: str,
    trails: dict[str, dict[str, Any]],
    by: str,
    note: str,
) -> int:
    """Append the trails that differ from the latest stored ones; returns how many."""
    with store.write() as conn:
        who = reviewer_id(conn, protocol, by)
        before = stored_trails(conn, outcome)
        fresh = {s: t for s, t in trails.items() if _core(before.get(s)) != t}
        ids = study_ids(conn, list(fresh))
        rows = [
            {"outcome": outcome, "study_id": i, "how": t["how"], "measure": measure}
            | {"audit": t["audit"], "comparisons": t["comparisons"]}
            | {"reviewer_id": who, "note": note}
            for i, t in zip(ids, fresh.values(), strict=True)
        ]
        if rows:
            conn.execute(insert(MultiArmAudit), rows)
    return len(rows)


def _core(trail: dict[str, Any] | None) -> dict[str, Any] | None:
    if trail is None:
        return None
    return {k: trail[k] for k in ("how", "audit", "comparisons")}


def stored_trails(conn: Connection, outcome: str) -> dict[str, dict[str, Any]]:
    """Study -> the latest stored trail of ``outcome``, with measure, recorded_by,
    recorded_at and note."""
    query = (
        select(
            Study.label,
            MultiArmAudit.how,
            MultiArmAudit.audit,
            MultiArmAudit.comparisons,
            MultiArmAudit.measure,
            Reviewer.name,
            MultiArmAudit.created_at,
            MultiArmAudit.note,
        )
        .join(Study, Study.id == MultiArmAudit.study_id)
        .join(Reviewer, Reviewer.id == MultiArmAudit.reviewer_id)
        .where(MultiArmAudit.outcome == outcome)
        .order_by(MultiArmAudit.id)
    )
    keys = ("how", "audit", "comparisons", "measure", "recorded_by", "recorded_at", "note")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in conn.execute(query).all()}


def stale_checks(
    current: dict[str, dict[str, Any]], stored: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str, str, bool]]:
    """A check per study whose settled trail no longer matches the arms' values or rule."""
    problems = []
    for study, trail in current.items():
        before = stored.get(study)
        if before is not None and _core(before) != trail:
            when = f"{before['recorded_at']:%Y-%m-%d}"
            detail = (
                f"settled by {before['recorded_by']} on {when} ({before['how']}); the arms' "
                "values or the multi-arm rule changed since: settle the outcome again"
            )
            problems.append((study, "", "multi-arm trail changed", detail, False))
    return problems


def audit_frame(stored: dict[str, dict[str, Any]], outcome: str, part: str) -> pd.DataFrame:
    """The stored trails as one table: ``part`` "audit" (one row per audit row) or
    "comparisons" (one row per comparison), with outcome, study, how and who settled."""
    rows = []
    for study, trail in stored.items():
        meta = {"outcome": outcome, "study": study, "how": trail["how"]}
        after = {k: trail[k] for k in ("measure", "recorded_by", "recorded_at", "note")}
        rows += [meta | row | after for row in trail[part]]
    first = ["outcome", "study", "how"]
    middle = list(AUDIT_COLUMNS) if part == "audit" else ["comparison", *_GROUP_COLUMNS]
    frame = pd.DataFrame(rows)
    columns = [*first, *middle, "measure", "recorded_by", "recorded_at", "note"]
    return frame.reindex(columns=[c for c in columns if c in frame.columns] if rows else columns)
