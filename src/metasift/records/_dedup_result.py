"""``DedupResult``: every input record with where it points; PRISMA counts; undo, resolve."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.records._model import html_escape

__all__ = ["COLUMNS", "STATUSES", "DedupResult"]

STATUSES = ("unique", "duplicate", "possible")
#: Leading columns of :meth:`DedupResult.to_frame`, in this order.
COLUMNS = ("record_id", "canonical_id", "status", "score", "reason")


@dataclass(frozen=True)
class DedupResult:
    """Outcome of :func:`deduplicate`: every input record, with where it points.

    Attributes
    ----------
    decisions : pandas.DataFrame
        One row per input record, in input order: ``record_id``, ``canonical_id`` (equal to
        ``record_id`` for a kept record), ``status`` ("unique" | "duplicate" | "possible"),
        ``score`` (of the match to the canonical record, or of the best queued pair of a
        "possible" record; NaN when none), ``reason`` (rule and fields that matched),
        ``database`` and, with ``group_reports=True``, ``study_id``.
    queue : pandas.DataFrame
        Possible duplicate pairs for a person, best score first: ``record_id_1``,
        ``record_id_2``, ``score``, ``reason``.
    n_candidate_pairs : int
        Pairs compared after blocking.
    seconds : float
        Time taken.
    history : tuple of str
        Decisions of people applied since (``undo``, ``resolve``), oldest first.
    records : pandas.DataFrame or None
        The input records (not copied), for :meth:`merged_records`.

    Examples
    --------
    >>> import pandas as pd
    >>> from metasift.records import deduplicate
    >>> result = deduplicate(pd.DataFrame({
    ...     "record_id": ["pubmed#1", "embase#1"], "database": ["PubMed", "Embase"],
    ...     "title": ["Peer support in psychosis: a randomised trial"] * 2,
    ...     "authors": ["Smith, J."] * 2, "year": [2019, 2019], "volume": ["12", "12"],
    ...     "doi": [None, "10.1000/xyz"]}))
    >>> result.counts()
      database  records  duplicates  possible  kept
    0   Embase        1           0         0     1
    1   PubMed        1           1         0     0
    2    total        2           1         0     1
    >>> result.merged_records()[["record_id", "doi", "duplicate_ids"]]
      record_id          doi duplicate_ids
    0  embase#1  10.1000/xyz    [pubmed#1]
    """

    decisions: pd.DataFrame
    queue: pd.DataFrame
    n_candidate_pairs: int = 0
    seconds: float = 0.0
    history: tuple[str, ...] = field(default=())
    records: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Return record_id, canonical_id, status, score, reason, then database (and
        study_id), one row per input record."""
        extra = [c for c in self.decisions.columns if c not in COLUMNS]
        return self.decisions[[*COLUMNS, *extra]].copy()

    def counts(self) -> pd.DataFrame:
        """Per-database counts for PRISMA, before and after deduplication.

        Columns: ``database``; ``records`` (identified, before); ``duplicates`` (removed
        as duplicates); ``possible`` (kept, with a pair in the queue); ``kept`` (left
        after: ``records - duplicates``). The last row, ``"total"``, adds them up. A
        duplicate group spanning databases is kept in the database of its canonical
        record.
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

    def prisma_counts(self) -> dict[str, Any]:
        """Return the PRISMA 2020 variables this step gives, for ``PrismaCounts.from_mapping``:
        ``database_results``, ``database_specific_results`` (database -> n),
        ``duplicates`` and ``records_screened``."""
        counts = self.counts().set_index("database")
        per_database = counts.drop(index="total")["records"]
        return {
            "database_results": int(counts.loc["total", "records"]),
            "database_specific_results": {str(k): int(v) for k, v in per_database.items()},
            "duplicates": int(counts.loc["total", "duplicates"]),
            "records_screened": int(counts.loc["total", "kept"]),
        }

    def summary(self) -> str:
        """Return a text summary: counts per status and per database."""
        status = self.decisions["status"].value_counts()
        lines = [
            f"{len(self.decisions)} records: "
            + ", ".join(f"{int(status.get(s, 0))} {s}" for s in STATUSES)
            + f"; {len(self.queue)} pairs to review; "
            f"{self.n_candidate_pairs} pairs compared in {self.seconds:.2f} s",
            self.counts().to_string(index=False),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html_escape(self.summary()) + "</pre>"

    def merged_records(self) -> pd.DataFrame:
        """Return the deduplicated record set: one row per kept record (unique or possible).

        Each row holds the fields of the canonical record; a field it lacks is taken from
        the most complete duplicate that has it (a DOI found only in the Embase copy, say).
        ``duplicate_ids`` lists the records merged into it and ``databases`` the databases
        the group was found in. The input records are not changed.
        """
        if self.records is None:
            raise InputError("this result holds no records; run deduplicate() on them")
        frame = self.records.reset_index(drop=True)
        if "record_id" not in frame.columns:
            frame = frame.assign(record_id=self.decisions["record_id"].to_numpy())
        canonical = self.decisions["canonical_id"].to_numpy()
        is_canonical = canonical == self.decisions["record_id"].to_numpy()
        # Canonical rows first, so that their own values win in ``first``.
        order = sorted(range(len(frame)), key=lambda k: (not is_canonical[k], k))
        values = frame.iloc[order].map(_or_none).assign(_group=canonical[order])
        merged = values.groupby("_group", sort=False).first()
        duplicates: dict[str, list[str]] = {c: [] for c in merged.index}
        databases: dict[str, set[str]] = {c: set() for c in merged.index}
        for record_id, group, database in zip(
            self.decisions["record_id"], canonical, self.decisions["database"], strict=True
        ):
            if record_id != group:
                duplicates[group].append(record_id)
            if database:
                databases[group].add(database)
        merged["duplicate_ids"] = pd.Series(duplicates, dtype=object)
        merged["databases"] = pd.Series({k: sorted(v) for k, v in databases.items()}, dtype=object)
        kept = self.decisions.loc[is_canonical, "record_id"]
        out = merged.loc[kept.to_numpy()].reset_index(drop=True)
        for name in out.columns:
            if name in frame.columns and frame[name].dtype != object:
                out[name] = out[name].astype(frame[name].dtype)
        return out

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
            table.at[others[0], "score"] = float("nan")
            table.at[others[0], "reason"] = f"canonical after {record_id} was separated"
        table.at[row, "canonical_id"] = record_id
        table.at[row, "status"] = "unique"
        table.at[row, "score"] = float("nan")
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


def _or_none(value: Any) -> Any:
    """Missing, empty text and empty lists become None, so that ``first`` skips them."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, (list, tuple, dict)) and not value:
        return None
    return value


def _row(table: pd.DataFrame, record_id: str) -> Any:
    hits = table.index[table["record_id"] == record_id]
    if len(hits) == 0:
        raise InputError(f"record_id {record_id!r} is not among the deduplicated records")
    return hits[0]
