"""A review project: a folder with ``review.toml`` and a store, and what a team does in it.

Every method that shows decisions respects blind screening: a reviewer sees only their
own decisions until every reviewer assigned to a record has decided it; only then do the
record's decisions appear (in :meth:`Review.conflicts` when they disagree).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from metasift.errors import InputError
from metasift.review import _dedup_store, _screening, _sheets
from metasift.review._orphans import check_orphans
from metasift.review._records import ImportSummary, import_files, record_ids, records_frame
from metasift.review._state import COMPLETE, latest_decisions, stage_closed, stage_states
from metasift.review._status import ReviewStatus, review_status
from metasift.review._template import write_template
from metasift.review.agreement import AgreementResult, agreement
from metasift.review.classification_mixin import StudyWork
from metasift.review.extraction_mixin import ExtractionWork
from metasift.review.prisma import PrismaFlow, prisma_flow
from metasift.review.protocol import Protocol, load_protocol
from metasift.review.store import Store, open_store

__all__ = ["Review"]

RecordRef = int | str
_SHOWN = [
    "record_id",
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "doi",
    "keywords",
    "database",
]


class Review(StudyWork, ExtractionWork):
    """An open review: its folder, validated protocol and store.

    Use :meth:`Review.create` for a new folder and :meth:`Review.open` for an existing one;
    close it with :meth:`close` (or use it in a ``with`` block).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with Review.create(folder, title="Peer support") as review:
    ...     print(review.protocol.review.title, review.protocol.screeners("title_abstract"))
    Peer support ['ann', 'ben', 'cleo']
    """

    def __init__(self, folder: Path, protocol: Protocol, store: Store) -> None:
        self.folder = folder
        self.protocol = protocol
        self.store = store
        self.review_id = store.review_id()
        #: kind -> (events version, item status): derived state reused until events change
        self._status_cache: dict[str, tuple[tuple[int, int], pd.DataFrame]] = {}

    @classmethod
    def create(cls, folder: str | Path, title: str = "Untitled review") -> Review:
        """Write the protocol template into ``folder`` (unless one exists) and open it."""
        path = Path(folder)
        if not (path / "review.toml").exists():
            write_template(path, title)
        (path / "records").mkdir(exist_ok=True)
        return cls.open(path)

    @classmethod
    def open(cls, folder: str | Path) -> Review:
        """Open the review in ``folder``: validate the protocol, open and upgrade the store,
        check that the protocol orphans nothing recorded, add new team members."""
        path = Path(folder)
        protocol = load_protocol(path)
        store = open_store(protocol.database_url(path))
        try:
            with store.read() as conn:
                check_orphans(conn, protocol, str(path / "review.toml"))
            _screening.sync_reviewers(store, protocol)
        except BaseException:
            store.close()
            raise
        return cls(path, protocol, store)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # records ---------------------------------------------------------------------------

    def import_records(
        self,
        paths: str | Path | Sequence[str | Path],
        database: str,
        *,
        columns: dict[str, str] | None = None,
        encoding: str | None = None,
    ) -> ImportSummary:
        """Import exports of one database (declared in ``[[databases]]``), all or nothing.

        Each file keeps its name, database and content hash; a file imported before is
        refused. A copy goes to ``records/`` in the review folder.
        """
        items = [paths] if isinstance(paths, (str, Path)) else list(paths)
        return import_files(
            self.store,
            self.protocol,
            self.folder,
            items,
            database,
            columns=columns,
            encoding=encoding,
        )

    def records(self, only: Sequence[RecordRef] | None = None) -> pd.DataFrame:
        """The stored records with their database, kind and source file."""
        with self.store.read() as conn:
            ids = None if only is None else record_ids(conn, list(only))
            return records_frame(conn, ids)

    def record_id(self, ref: RecordRef) -> int:
        """Store id of a record given by id or source key (``"pubmed.ris#12"``)."""
        with self.store.read() as conn:
            return record_ids(conn, [ref])[0]

    def deduplicate(self) -> _dedup_store.DedupSummary:
        """Run deduplication over every record and store the result (nothing is deleted)."""
        return _dedup_store.run_dedup(self.store)

    def dedup_summary(self) -> _dedup_store.DedupSummary:
        """Current per-database duplicate counts and the pairs waiting for a person."""
        with self.store.read() as conn:
            return _dedup_store.dedup_summary(conn)

    def dedup_queue(self) -> pd.DataFrame:
        """Possible duplicate pairs with both titles, best score first."""
        with self.store.read() as conn:
            pairs = _dedup_store.pending_pairs(conn)
            titles = records_frame(conn).set_index("record_id")["title"]
        return pairs.assign(
            title_1=pairs["record_id_1"].map(titles), title_2=pairs["record_id_2"].map(titles)
        )

    def resolve_duplicate(
        self, record_1: RecordRef, record_2: RecordRef, duplicate: bool, by: str, note: str = ""
    ) -> None:
        """A person's decision on a pair: the same record (``duplicate``) or two records."""
        with self.store.read() as conn:
            a, b = record_ids(conn, [record_1, record_2])
            who = _screening.reviewer_id(conn, self.protocol, by)
        _dedup_store.review_pair(self.store, a, b, duplicate, who, note)

    # pre-screening ---------------------------------------------------------------------

    def prefilter(self) -> pd.DataFrame:
        """Records the protocol's years or languages propose to exclude, with the answer
        (``pending``, ``accepted`` or ``rejected``)."""
        with self.store.read() as conn:
            base = stage_states(conn, self.protocol, "title_abstract")
            base = base[base["proposal"].notna()]
            titles = records_frame(conn, base["record_id"].tolist())
        table = base[["record_id", "year", "language", "database", "proposal", "prefilter"]]
        return table.merge(titles[["record_id", "title"]], on="record_id").rename(
            columns={"prefilter": "answer"}
        )

    def answer_prefilter(
        self, records: Sequence[RecordRef] | None, accept: bool, by: str, note: str = ""
    ) -> int:
        """Accept (exclude before screening) or reject proposals; None answers all pending."""
        with self.store.read() as conn:
            ids = None if records is None else record_ids(conn, list(records))
        return _screening.answer_prefilter(self.store, self.protocol, ids, accept, by, note)

    # screening -------------------------------------------------------------------------

    def _assign(self, stage: str) -> None:
        settings = self.protocol.stage(stage)
        if settings is not None and settings.assignment == "balanced":
            _screening.assign_balanced(self.store, self.protocol, stage)

    def queue(self, reviewer: str, stage: str = "title_abstract") -> pd.DataFrame:
        """Records ``reviewer`` has still to decide at ``stage``, in record order.

        Shows nothing of other reviewers' decisions. ``flag`` holds a pending pre-screening
        proposal, if any.
        """
        self._check_reviewer(reviewer, stage)
        self._assign(stage)
        with self.store.read() as conn:
            if stage_closed(conn, stage) is not None:
                return pd.DataFrame(columns=[*_SHOWN, "flag"])
            states = stage_states(conn, self.protocol, stage)
            own = latest_decisions(conn, stage)
            done = set(own.loc[own["reviewer"] == reviewer, "record_id"])
            mine = states[
                states["in_pool"]
                & states["assigned"].map(lambda names: reviewer in names).astype(bool)
                & ~states["record_id"].isin(done)
                & states["status"].ne("resolved")
            ]
            flags = mine.set_index("record_id")["proposal"].where(
                mine.set_index("record_id")["prefilter"].eq("pending")
            )
            records = records_frame(conn, mine["record_id"].tolist())
        return records[_SHOWN].assign(flag=records["record_id"].map(flags)).reset_index(drop=True)

    def _check_reviewer(self, reviewer: str, stage: str) -> None:
        self.protocol.stage(stage)
        if reviewer not in self.protocol.team.reviewers:
            raise InputError(
                f"reviewer {reviewer!r} is not in the team of review.toml "
                f"{self.protocol.team.reviewers}"
            )
        if reviewer not in self.protocol.screeners(stage):
            raise InputError(
                f"{reviewer!r} does not screen at {stage}; screeners are "
                f"{self.protocol.screeners(stage)}"
            )

    def decide(
        self,
        reviewer: str,
        record: RecordRef,
        decision: str,
        stage: str = "title_abstract",
        reason: str | None = None,
        note: str = "",
        origin: str = "api",
    ) -> None:
        """Record one decision (``include``, ``exclude`` or ``maybe``) of ``reviewer``.

        Raises
        ------
        InputError
            Unknown reviewer or record, a record outside the stage or not assigned to the
            reviewer, a resolved record, a closed stage, or a reason not in the protocol's
            list (full-text exclusions need one).
        """
        if isinstance(record, int):
            record_id = record  # decide_many reports an unknown id
        else:
            with self.store.read() as conn:
                record_id = record_ids(conn, [record])[0]
        vote = _screening.Vote(record_id, decision, reason, note)
        _screening.decide_many(self.store, self.protocol, reviewer, stage, [vote], origin)

    def decisions(self, reviewer: str, stage: str = "title_abstract") -> pd.DataFrame:
        """``reviewer``'s own current decisions at ``stage`` (never anyone else's)."""
        self._check_reviewer(reviewer, stage)
        with self.store.read() as conn:
            own = latest_decisions(conn, stage)
        own = own[own["reviewer"] == reviewer]
        return own[["record_id", "decision", "reason", "note", "created_at"]].reset_index(drop=True)

    def conflicts(self, stage: str = "title_abstract") -> pd.DataFrame:
        """Records in conflict, one row per reviewer decision: the arbiter's work list."""
        with self.store.read() as conn:
            states = stage_states(conn, self.protocol, stage)
            ids = states.loc[states["status"].eq("conflict"), "record_id"].tolist()
            votes = latest_decisions(conn, stage, ids)
            titles = records_frame(conn, ids)[["record_id", "title"]]
        table = votes.merge(titles, on="record_id")
        columns = ["record_id", "title", "reviewer", "decision", "reason", "note"]
        return table[columns].sort_values(["record_id", "reviewer"]).reset_index(drop=True)

    def resolve(
        self,
        record: RecordRef,
        decision: str,
        by: str,
        note: str,
        stage: str = "title_abstract",
        reason: str | None = None,
        amend: bool = False,
    ) -> None:
        """The arbiter's decision on a record in conflict, with a note.

        A second decision on the same record is refused unless ``amend`` is True (the
        amendment is a new event pointing to the one it corrects).
        """
        with self.store.read() as conn:
            record_id = record_ids(conn, [record])[0]
        _screening.resolve(
            self.store, self.protocol, stage, record_id, decision, by, note, reason, amend
        )

    def stage_table(self, stage: str = "title_abstract") -> pd.DataFrame:
        """Per record in the stage's pool: status and, once final, the decision and reason.

        Individual decisions are not shown (see :meth:`conflicts`).
        """
        with self.store.read() as conn:
            states = stage_states(conn, self.protocol, stage)
        pool = states[states["in_pool"]]
        columns = ["record_id", "database", "study_id", "status", "final", "reason"]
        return pool[columns].reset_index(drop=True)

    def close_stage(self, stage: str, by: str, note: str = "") -> None:
        """Close a stage once every record in it has a final decision (arbiter only)."""
        _screening.set_stage(self.store, self.protocol, stage, True, by, note)

    def reopen_stage(self, stage: str, by: str, note: str) -> None:
        """Reopen a closed stage (arbiter only), saying why."""
        if not note.strip():
            raise InputError("reopening a stage needs a note saying why")
        _screening.set_stage(self.store, self.protocol, stage, False, by, note)

    def mark_retrieval(
        self, records: Sequence[RecordRef], retrieved: bool, by: str, note: str = ""
    ) -> None:
        """Record that full texts could not be obtained (``retrieved=False``), or could."""
        with self.store.read() as conn:
            ids = record_ids(conn, list(records))
        _screening.mark_retrieval(self.store, self.protocol, ids, retrieved, by, note)

    # sheets ----------------------------------------------------------------------------

    def export_sheet(self, reviewer: str, path: str | Path, stage: str = "title_abstract") -> Path:
        """Write ``reviewer``'s records of ``stage`` as an XLSX or CSV screening sheet.

        Rows are the records still open to the reviewer, with their own decision filled in
        when they made one; nobody else's decisions are in the sheet.
        """
        self._check_reviewer(reviewer, stage)
        self._assign(stage)
        with self.store.read() as conn:
            states = stage_states(conn, self.protocol, stage)
            mine = states[
                states["in_pool"]
                & states["assigned"].map(lambda names: reviewer in names).astype(bool)
                & states["status"].ne("resolved")
            ]
            own = latest_decisions(conn, stage, mine["record_id"].tolist())
            own = own[own["reviewer"] == reviewer].set_index("record_id")
            rows = records_frame(conn, mine["record_id"].tolist())
        flags = mine.set_index("record_id")
        rows = rows.assign(
            review_id=self.review_id,
            stage=stage,
            reviewer=reviewer,
            authors=rows["authors"].map(lambda a: "; ".join(a or [])),
            flag=rows["record_id"].map(flags["proposal"].where(flags["prefilter"].eq("pending"))),
            decision=rows["record_id"].map(own["decision"]),
            reason=rows["record_id"].map(own["reason"]),
            note=rows["record_id"].map(own["note"]),
        )
        return _sheets.write_sheet(rows, Path(path), self.protocol, stage, reviewer)

    def import_sheet(
        self, path: str | Path, reviewer: str, stage: str = "title_abstract"
    ) -> _sheets.SheetImport:
        """Import a filled screening sheet: every row is validated first; one problem in any
        row means nothing is recorded and the error lists the problems by row."""
        self._check_reviewer(reviewer, stage)
        target = Path(path)
        rows = _sheets.read_sheet(target)
        votes, errors, blank = _sheets.validate_rows(
            rows,
            review_id=self.review_id,
            reviewer=reviewer,
            stage=stage,
            protocol=self.protocol,
        )
        with self.store.read() as conn:
            ids = [v.record_id for _, v in votes]
            states = stage_states(conn, self.protocol, stage, ids).set_index("record_id")
            own = latest_decisions(conn, stage, ids)
        own = own[own["reviewer"] == reviewer].set_index("record_id")
        fresh = []
        for number, vote in votes:
            problem = _sheet_row_state(states, vote.record_id, reviewer)
            current = own.loc[vote.record_id] if vote.record_id in own.index else None
            same = current is not None and (
                current["decision"],
                current["reason"] or None,
                current["note"],
            ) == (vote.decision, vote.reason, vote.note)
            if same:
                continue
            if problem:
                errors.append(f"row {number}: record {vote.record_id} {problem}")
            else:
                fresh.append(vote)
        if errors:
            _sheets.refuse(target, errors)
        written = _screening.decide_many(
            self.store, self.protocol, reviewer, stage, fresh, origin="sheet"
        )
        return _sheets.SheetImport(len(rows), written, len(votes) - len(fresh), blank)

    # results ---------------------------------------------------------------------------

    def ratings(self, stage: str = "title_abstract") -> pd.DataFrame:
        """Screeners' decisions before arbitration, records x reviewers, for the records
        every assigned reviewer has decided (``maybe`` read as the protocol says)."""
        with self.store.read() as conn:
            states = stage_states(conn, self.protocol, stage)
            done = states.loc[states["in_pool"] & states["status"].isin(COMPLETE), "record_id"]
            votes = latest_decisions(conn, stage, done.tolist())
        if self.protocol.screening.maybe == "include":
            votes = votes.assign(decision=votes["decision"].replace("maybe", "include"))
        table = votes.pivot(index="record_id", columns="reviewer", values="decision")
        screeners = [s for s in self.protocol.screeners(stage) if s in table.columns]
        return table.reindex(index=done.tolist(), columns=screeners)

    def agreement(self, stage: str = "title_abstract", level: float = 0.95) -> AgreementResult:
        """Agreement among the screeners of ``stage`` before the arbiter's decisions."""
        return agreement(self.ratings(stage), stage, level)

    def prisma(self) -> PrismaFlow:
        """The PRISMA 2020 counts, derived from the store."""
        with self.store.read() as conn:
            return prisma_flow(conn, self.protocol)

    def write_prisma(self, path: str | Path | None = None) -> Path:
        """Write the PRISMA2020 CSV (default ``output/PRISMA.csv`` in the folder)."""
        target = Path(path) if path is not None else self.folder / "output" / "PRISMA.csv"
        return self.prisma().write_csv(target)

    def status(self) -> ReviewStatus:
        """Counts of everything: records, duplicates, proposals, progress per stage."""
        for stage in self.protocol.stages():
            self._assign(stage)
        with self.store.read() as conn:
            return review_status(conn, self.protocol)


def _sheet_row_state(states: pd.DataFrame, record_id: int, reviewer: str) -> str:
    if record_id not in states.index:
        return "is not in this review"
    row = states.loc[record_id]
    if not row["in_pool"]:
        return f"cannot be screened here: {row['why_not']}"
    if reviewer not in row["assigned"]:
        return f"is not assigned to {reviewer}"
    if row["status"] == "resolved":
        return "was resolved by the arbiter; its decisions are closed"
    return ""
