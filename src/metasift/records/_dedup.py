"""``deduplicate``: sure duplicates merged, possible ones queued, no record ever deleted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.records._dedup_pairs import (
    PairTable,
    candidate_pairs,
    classify,
    compare,
    pair_conflict,
)
from metasift.records._dedup_prepare import Features, prepare
from metasift.records._model import ImportResult, html_escape

__all__ = ["DedupResult", "deduplicate"]

_STATUSES = ("unique", "duplicate", "possible")


@dataclass(frozen=True)
class DedupResult:
    """Outcome of :func:`deduplicate`: every input record, with where it points.

    Attributes
    ----------
    decisions : pandas.DataFrame
        One row per input record, in input order: ``record_id``, ``canonical_id`` (equal to
        ``record_id`` for a kept record), ``status`` ("unique" | "duplicate" | "possible"),
        ``score`` (of the match to the canonical record or best possible match, NaN when
        none), ``reason`` (rule and fields that matched), ``database`` and, with
        ``group_reports=True``, ``study_id``.
    queue : pandas.DataFrame
        Possible duplicate pairs for a person, best score first: ``record_id_1``,
        ``record_id_2``, ``score``, ``reason``.
    n_candidate_pairs : int
        Pairs compared after blocking.
    seconds : float
        Time taken.
    """

    decisions: pd.DataFrame
    queue: pd.DataFrame
    n_candidate_pairs: int = 0
    seconds: float = 0.0
    history: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """Return record_id, canonical_id, status, score, reason (and study_id) per record."""
        columns = ["record_id", "canonical_id", "status", "score", "reason"]
        if "study_id" in self.decisions.columns:
            columns.append("study_id")
        return self.decisions[columns].copy()

    def counts(self) -> pd.DataFrame:
        """Per-database counts for PRISMA: records, duplicates removed, possible, kept.

        The last row, ``"total"``, adds them up; ``kept`` counts unique and possible records.
        """
        table = self.decisions.assign(
            duplicate=self.decisions["status"].eq("duplicate"),
            possible=self.decisions["status"].eq("possible"),
        )
        grouped = table.groupby("database", sort=True, dropna=False).agg(
            records=("record_id", "size"),
            duplicates=("duplicate", "sum"),
            possible=("possible", "sum"),
        )
        grouped["kept"] = grouped["records"] - grouped["duplicates"]
        grouped.loc["total"] = grouped.sum(numeric_only=True)
        return grouped.astype("int64").reset_index(names="database")

    def summary(self) -> str:
        """Return a text summary: counts per status and per database."""
        status = self.decisions["status"].value_counts()
        lines = [
            f"{len(self.decisions)} records: "
            + ", ".join(f"{int(status.get(s, 0))} {s}" for s in _STATUSES)
            + f"; {len(self.queue)} pairs to review; "
            f"{self.n_candidate_pairs} pairs compared in {self.seconds:.2f} s",
            self.counts().to_string(index=False),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html_escape(self.summary()) + "</pre>"

    def undo(self, record_id: str) -> DedupResult:
        """Return a result in which ``record_id`` is taken out of its duplicate group.

        The record becomes a kept record again. When it was the canonical record of its
        group, the next member becomes canonical for the others.
        """
        table = self.decisions.copy()
        row = _row(table, record_id)
        group = table.index[table["canonical_id"] == table.at[row, "canonical_id"]].tolist()
        if len(group) < 2:
            raise InputError(
                f"record_id {record_id!r} is not in a duplicate group; nothing to undo"
            )
        if table.at[row, "canonical_id"] == record_id:
            others = [k for k in group if k != row]
            new_canonical = table.at[others[0], "record_id"]
            table.loc[others, "canonical_id"] = new_canonical
            table.at[others[0], "status"] = "unique"
            table.at[others[0], "reason"] = f"canonical after {record_id} was separated"
        table.at[row, "canonical_id"] = record_id
        table.at[row, "status"] = "unique"
        table.at[row, "reason"] = "merge undone"
        return replace(self, decisions=table, history=(*self.history, f"undo {record_id}"))

    def resolve(self, record_id_1: str, record_id_2: str, duplicate: bool) -> DedupResult:
        """Return a result with a person's decision on a queued pair applied.

        With ``duplicate=True`` the group of ``record_id_2`` joins that of ``record_id_1``;
        with ``False`` the pair leaves the queue. A record left with no queued pair becomes
        "unique".
        """
        table = self.decisions.copy()
        a, b = _row(table, record_id_1), _row(table, record_id_2)
        if duplicate:
            canonical = table.at[a, "canonical_id"]
            moved = table["canonical_id"] == table.at[b, "canonical_id"]
            table.loc[moved, "canonical_id"] = canonical
            table.loc[moved, "status"] = "duplicate"
            table.loc[moved, "reason"] = f"reviewer: duplicate of {record_id_1}"
        in_pair = (self.queue["record_id_1"].isin([record_id_1, record_id_2])) & (
            self.queue["record_id_2"].isin([record_id_1, record_id_2])
        )
        queue = self.queue.loc[~in_pair].reset_index(drop=True)
        still = set(queue["record_id_1"]) | set(queue["record_id_2"])
        for k in (a, b):
            if table.at[k, "status"] == "possible" and table.at[k, "record_id"] not in still:
                table.at[k, "status"] = "unique"
        note = f"resolve {record_id_1} {record_id_2} {'duplicate' if duplicate else 'distinct'}"
        return replace(self, decisions=table, queue=queue, history=(*self.history, note))


def _row(table: pd.DataFrame, record_id: str) -> Any:
    hits = table.index[table["record_id"] == record_id]
    if len(hits) == 0:
        raise InputError(f"record_id {record_id!r} is not among the deduplicated records")
    return hits[0]


def _find(parent: np.ndarray, k: int) -> int:
    root = k
    while parent[root] != root:
        root = parent[root]
    while parent[k] != root:
        parent[k], k = root, parent[k]
    return root


def _completeness(records: pd.DataFrame) -> np.ndarray:
    """Number of filled fields per record: the most complete record becomes canonical."""
    score = np.zeros(len(records))
    for name in ("title", "abstract", "doi", "pmid", "journal", "volume", "issue", "pages_start"):
        if name in records.columns:
            column = records[name]
            score += (column.notna() & column.astype(str).str.strip().ne("")).to_numpy()
    return score


def _merge_groups(
    features: Features, pairs: PairTable, status: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """Union sure pairs, best score first, refusing a union that joins conflicting records."""
    n = len(features.title)
    parent = np.arange(n)
    members: dict[int, list[int]] = {}
    order = np.flatnonzero(status == 2)
    order = order[np.argsort(-score[order], kind="stable")]
    for k in order.tolist():
        a, b = _find(parent, int(pairs.i[k])), _find(parent, int(pairs.j[k]))
        if a == b:
            continue
        group_a, group_b = members.get(a, [a]), members.get(b, [b])
        if any(pair_conflict(features, x, y) for x in group_a for y in group_b):
            status[k] = 1
            continue
        parent[b] = a
        members[a] = group_a + group_b
        members.pop(b, None)
    return np.array([_find(parent, k) for k in range(n)])


def _as_frame(records: Any) -> pd.DataFrame:
    if isinstance(records, ImportResult):
        return records.records
    if isinstance(records, pd.DataFrame):
        return records
    raise InputError(f"records must be a DataFrame or ImportResult, not {type(records).__name__}")


def deduplicate(
    records: pd.DataFrame | ImportResult, *, group_reports: bool = False
) -> DedupResult:
    """Find duplicate records: merge the sure ones, queue the possible ones for a person.

    Parameters
    ----------
    records : DataFrame or ImportResult
        Columns among record_id, title, abstract, authors (list, or a "Last, F. and Last, F."
        string), year, journal, volume, issue, pages (or pages_start), doi, pmid,
        publication_type, database. Without record_id, rows are numbered from 1.
    group_reports : bool
        Second pass: records that are not duplicates but report one study (a conference
        abstract, a preprint and the article: near-equal titles, agreeing authors, years
        at most three apart) get a common ``study_id``.

    Returns
    -------
    DedupResult
        Every input record with its canonical record, status, score and reason; the queue
        of possible pairs; PRISMA counts per database with :meth:`DedupResult.counts`.

    Notes
    -----
    Blocking, comparison and rules are described in ``metasift.records._dedup_pairs``. The
    rules never decide "duplicate" for a pair with any conflicting field, and a group is
    never joined to another when any two of their members conflict, so that chains of
    near matches cannot merge distinct studies. The canonical record of a group is its
    most complete record (the earliest when tied). Nothing is deleted.

    Examples
    --------
    >>> import pandas as pd
    >>> records = pd.DataFrame({
    ...     "record_id": ["pubmed#1", "embase#7", "embase#8"],
    ...     "title": ["Peer support for adults with mental illness: a randomised trial",
    ...               "Peer support for adults with mental illness - a randomised trial.",
    ...               "Peer support for adults with psychosis"],
    ...     "authors": ["Smith, J. and Jones, A.", "Smith J., Jones A.", "Smith, J."],
    ...     "year": [2019, 2019, 2020], "volume": ["12", "12", "3"], "pages": ["1-9", "1", "5"]})
    >>> deduplicate(records).to_frame()[["record_id", "canonical_id", "status"]]
      record_id canonical_id     status
    0  pubmed#1     pubmed#1     unique
    1  embase#7     pubmed#1  duplicate
    2  embase#8     embase#8     unique
    """
    start = time.perf_counter()
    frame = _as_frame(records)
    if "title" not in frame.columns:
        raise InputError(f"records need a 'title' column; columns are {list(frame.columns)}")
    features = prepare(frame)
    i, j = candidate_pairs(features)
    pairs = compare(features, i, j)
    status, score, reasons = classify(features, pairs)
    roots = _merge_groups(features, pairs, status, score)
    decisions = _decisions(frame, features, pairs, status, score, reasons, roots)
    queue = _queue(features, pairs, status, score, reasons, roots)
    decisions.loc[
        decisions["status"].eq("unique")
        & decisions["record_id"].isin(set(queue["record_id_1"]) | set(queue["record_id_2"])),
        "status",
    ] = "possible"
    if group_reports:
        decisions["study_id"] = _study_ids(features, pairs, roots)
    return DedupResult(decisions, queue, len(i), time.perf_counter() - start)


def _decisions(
    frame: pd.DataFrame,
    features: Features,
    pairs: PairTable,
    status: np.ndarray,
    score: np.ndarray,
    reasons: list[str],
    roots: np.ndarray,
) -> pd.DataFrame:
    n = len(roots)
    completeness = _completeness(frame)
    best: dict[int, int] = {}
    for k in range(n):
        root = int(roots[k])
        current = best.get(root)
        if current is None or completeness[k] > completeness[current]:
            best[root] = k
    canonical_index = np.array([best[int(r)] for r in roots])
    ids = features.record_id
    out_score = np.full(n, np.nan)
    out_reason = np.array([""] * n, dtype=object)
    for k in np.flatnonzero(status == 2).tolist():
        a, b = int(pairs.i[k]), int(pairs.j[k])
        for x, y in ((a, b), (b, a)):
            if canonical_index[x] == y and roots[x] == roots[y]:
                out_score[x], out_reason[x] = score[k], reasons[k]
    for k in range(n):
        if canonical_index[k] != k and not out_reason[k]:
            out_reason[k] = "same group as canonical through another duplicate"
    return pd.DataFrame(
        {
            "record_id": ids,
            "canonical_id": ids[canonical_index],
            "status": np.where(canonical_index == np.arange(n), "unique", "duplicate"),
            "score": out_score,
            "reason": out_reason,
            "database": features.database,
        }
    )


def _queue(
    features: Features,
    pairs: PairTable,
    status: np.ndarray,
    score: np.ndarray,
    reasons: list[str],
    roots: np.ndarray,
) -> pd.DataFrame:
    keep = np.flatnonzero((status == 1) & (roots[pairs.i] != roots[pairs.j]))
    keep = keep[np.argsort(-score[keep], kind="stable")]
    ids = features.record_id
    queue = pd.DataFrame(
        {
            "record_id_1": ids[pairs.i[keep]],
            "record_id_2": ids[pairs.j[keep]],
            "score": score[keep],
            "reason": [reasons[k] for k in keep.tolist()],
        }
    )
    return queue.reset_index(drop=True)


def _study_ids(features: Features, pairs: PairTable, roots: np.ndarray) -> np.ndarray:
    authors_ok = (np.nan_to_num(pairs.first_author) >= 0.9) | (np.nan_to_num(pairs.authors) >= 0.8)
    gap = pairs.year_gap
    report = (pairs.title >= 0.93) & authors_ok & (gap >= 0) & (gap <= 3)
    parent = roots.copy()
    for k in np.flatnonzero(report).tolist():
        a, b = _find(parent, int(pairs.i[k])), _find(parent, int(pairs.j[k]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    study_roots = np.array([_find(parent, k) for k in range(len(roots))])
    return features.record_id[study_roots]
