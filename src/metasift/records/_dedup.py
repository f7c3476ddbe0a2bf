"""``deduplicate``: sure duplicates merged, possible ones queued, no record ever deleted."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.records._dedup_blocks import candidate_pairs
from metasift.records._dedup_pairs import PairTable, compare
from metasift.records._dedup_prepare import Features, prepare
from metasift.records._dedup_result import DedupResult
from metasift.records._dedup_rules import (
    Verdicts,
    classify,
    pair_conflict,
    reasons,
    report_pairs,
)
from metasift.records._model import ImportResult
from metasift.records._progress import Steps, progress_steps
from metasift.records._text import no_gc

__all__ = ["CHUNK_PAIRS", "DedupResult", "deduplicate"]

#: Candidate pairs compared at once; only pairs that may be duplicates are kept, so the
#: memory of the comparison is bounded by this number, not by the number of records.
CHUNK_PAIRS = 500_000


def _roots(parent: np.ndarray) -> np.ndarray:
    """Root of every element of a union-find forest (pointer jumping, vectorised)."""
    roots = parent.copy()
    while True:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            return roots
        roots = nxt


def _find(parent: np.ndarray, k: int) -> int:
    root = k
    while parent[root] != root:
        root = parent[root]
    while parent[k] != root:
        parent[k], k = root, parent[k]
    return root


def _filled(column: pd.Series) -> np.ndarray:
    values = column.tolist()
    return np.fromiter(
        (
            v is not None
            and v is not pd.NA
            and not (isinstance(v, float) and v != v)
            and (not isinstance(v, str) or bool(v.strip()))
            for v in values
        ),
        dtype=bool,
        count=len(values),
    )


def _completeness(records: pd.DataFrame) -> np.ndarray:
    """Number of filled fields per record: the most complete record becomes canonical."""
    score = np.zeros(len(records))
    names = ("title", "abstract", "doi", "pmid", "journal", "volume", "issue", "pages_start")
    for name in names if "pages_start" in records.columns else (*names[:-1], "pages"):
        if name in records.columns:
            score += _filled(records[name])
    return score


def _merge_groups(features: Features, pairs: PairTable, verdicts: Verdicts) -> np.ndarray:
    """Union sure pairs, best score first, refusing a union that joins conflicting records.
    Returns the root of every record; a refused pair becomes "possible"."""
    n = len(features.record_id)
    parent = np.arange(n)
    members: dict[int, list[int]] = {}
    status, score = verdicts.status, verdicts.score
    order = np.flatnonzero(status == 2)
    order = order[np.argsort(-score[order], kind="stable")]
    for k in order.tolist():
        a, b = _find(parent, int(pairs.i[k])), _find(parent, int(pairs.j[k]))
        if a == b:
            continue
        group_a, group_b = members.get(a, [a]), members.get(b, [b])
        by_place = bool(verdicts.rule[k] == 7)
        if any(pair_conflict(features, x, y, by_place) for x in group_a for y in group_b):
            status[k] = 1
            continue
        parent[b] = a
        members[a] = group_a + group_b
        members.pop(b, None)
    return _roots(parent)


def _as_frame(records: Any) -> pd.DataFrame:
    if isinstance(records, ImportResult):
        return records.records
    if isinstance(records, pd.DataFrame):
        return records
    raise InputError(f"records must be a DataFrame or ImportResult, not {type(records).__name__}")


def _compare_all(
    features: Features, i: np.ndarray, j: np.ndarray, group_reports: bool, steps: Steps
) -> tuple[PairTable, Verdicts]:
    """Compare and classify the candidate pairs chunk by chunk; keep the pairs that matter."""
    tables, verdicts = [], []
    steps.start("comparing pairs", total=len(i))
    for start in range(0, max(len(i), 1), CHUNK_PAIRS):
        stop = min(start + CHUNK_PAIRS, len(i))
        table = compare(features, i[start:stop], j[start:stop])
        verdict = classify(features, table)
        keep = verdict.status > 0
        if group_reports:
            keep |= report_pairs(table, verdict)
        index = np.flatnonzero(keep)
        tables.append(table.take(index))
        verdicts.append(verdict.take(index))
        steps.advance(stop - start)
    return PairTable.concat(tables), Verdicts.concat(verdicts)


def deduplicate(
    records: pd.DataFrame | ImportResult,
    *,
    group_reports: bool = False,
    progress: bool | None = None,
) -> DedupResult:
    """Find duplicate records: merge the sure ones, queue the possible ones for a person.

    Parameters
    ----------
    records : DataFrame or ImportResult
        Columns among record_id, title, abstract, authors (list, or a "Last, F. and Last, F."
        string), year, journal (or booktitle), volume, issue, pages (or pages_start and
        pages_end), doi, pmid, publication_type, database. Without record_id, rows are
        numbered from 1.
    group_reports : bool
        Second pass: records that are not duplicates but report one study (a conference
        abstract, a preprint and the article: near-equal titles, agreeing authors, years
        at most three apart) get a common ``study_id``.
    progress : bool, optional
        Show a progress bar on stderr; by default only for 100,000 records or more on an
        interactive terminal.

    Returns
    -------
    DedupResult
        Every input record with its canonical record, status, score and reason; the queue
        of possible pairs; PRISMA counts per database with :meth:`DedupResult.counts`; the
        deduplicated records with :meth:`DedupResult.merged_records`.

    Notes
    -----
    Blocking is described in ``metasift.records._dedup_blocks``, comparison in
    ``_dedup_pairs`` and the rules in :func:`metasift.records._dedup_rules.classify`. The
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
    with no_gc(), progress_steps(progress, len(frame)) as steps:
        steps.start("preparing keys", total=None)
        features = prepare(frame)
        steps.start("blocking", total=None)
        i, j = candidate_pairs(features)
        pairs, verdicts = _compare_all(features, i, j, group_reports, steps)
        steps.start("grouping", total=None)
        roots = _merge_groups(features, pairs, verdicts)
        texts = reasons(features, pairs, verdicts)
        decisions = _decisions(frame, features, pairs, verdicts, texts, roots)
        queue = _queue(features, pairs, verdicts, texts, roots)
        _mark_possible(decisions, queue)
        if group_reports:
            study = _study_roots(pairs, verdicts, roots)
            # A study is named after the canonical record of its first group.
            decisions["study_id"] = decisions["canonical_id"].to_numpy()[study]
    seconds = time.perf_counter() - start
    return DedupResult(decisions, queue, len(i), seconds, records=frame)


def _canonical(roots: np.ndarray, completeness: np.ndarray) -> np.ndarray:
    """Index of the canonical record of every record: the most complete of its group,
    the earliest when tied."""
    n = len(roots)
    order = np.lexsort((np.arange(n), -completeness, roots))
    first = np.r_[True, roots[order][1:] != roots[order][:-1]]
    best = np.empty(n, dtype=np.int64)
    best[roots[order][first]] = order[first]
    return best[roots]


def _decisions(
    frame: pd.DataFrame,
    features: Features,
    pairs: PairTable,
    verdicts: Verdicts,
    texts: list[str],
    roots: np.ndarray,
) -> pd.DataFrame:
    n = len(roots)
    canonical_index = _canonical(roots, _completeness(frame))
    out_score = np.full(n, np.nan)
    out_reason = np.full(n, "", dtype=object)
    for k in np.flatnonzero(verdicts.status == 2).tolist():
        a, b = int(pairs.i[k]), int(pairs.j[k])
        for x, y in ((a, b), (b, a)):
            if canonical_index[x] == y:
                out_score[x], out_reason[x] = verdicts.score[k], texts[k]
    kept = canonical_index == np.arange(n)
    out_reason[~kept & (out_reason == "")] = "same group as canonical through another duplicate"
    ids = features.record_id
    return pd.DataFrame(
        {
            "record_id": ids,
            "canonical_id": ids[canonical_index],
            "status": np.where(kept, "unique", "duplicate").astype(object),
            "score": out_score,
            "reason": out_reason,
            "database": features.database,
        }
    )


def _queue(
    features: Features,
    pairs: PairTable,
    verdicts: Verdicts,
    texts: list[str],
    roots: np.ndarray,
) -> pd.DataFrame:
    keep = np.flatnonzero((verdicts.status == 1) & (roots[pairs.i] != roots[pairs.j]))
    keep = keep[np.argsort(-verdicts.score[keep], kind="stable")]
    ids = features.record_id
    queue = pd.DataFrame(
        {
            "record_id_1": ids[pairs.i[keep]],
            "record_id_2": ids[pairs.j[keep]],
            "score": verdicts.score[keep],
            "reason": [texts[k] for k in keep.tolist()],
        }
    )
    return queue.reset_index(drop=True)


def _mark_possible(decisions: pd.DataFrame, queue: pd.DataFrame) -> None:
    """Kept records with a queued pair become "possible", with the score and reason of
    their best queued pair."""
    both = pd.concat(
        [
            queue.rename(columns={"record_id_1": "record_id", "record_id_2": "other"}),
            queue.rename(columns={"record_id_2": "record_id", "record_id_1": "other"}),
        ]
    ).sort_values("score", ascending=False, kind="stable")
    best = both.drop_duplicates("record_id").set_index("record_id")
    rows = decisions["status"].eq("unique") & decisions["record_id"].isin(best.index)
    matched = best.loc[decisions.loc[rows, "record_id"]]
    decisions.loc[rows, "status"] = "possible"
    decisions.loc[rows, "score"] = matched["score"].to_numpy()
    decisions.loc[rows, "reason"] = (
        "possible duplicate of " + matched["other"] + " (" + matched["reason"] + ")"
    ).to_numpy()


def _study_roots(pairs: PairTable, verdicts: Verdicts, roots: np.ndarray) -> np.ndarray:
    """Second pass: join duplicate groups whose records report one study."""
    parent = roots.copy()
    for k in np.flatnonzero(report_pairs(pairs, verdicts)).tolist():
        a, b = _find(parent, int(pairs.i[k])), _find(parent, int(pairs.j[k]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return _roots(parent)
