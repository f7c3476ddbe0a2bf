"""The tables of the review store (SQLAlchemy 2 declarative models).

Nothing here is ever updated or deleted by metasift except ``meta``: records keep their
source file and database, deduplication runs are snapshots, and every decision (screening,
arbitration, pre-screening, retrieval, stage closing) is an event appended to its table.
Current states are derived from the events (``metasift.review._state``).

The schema is created and changed only by the Alembic migrations in
``metasift/review/migrations``; a test checks that they produce exactly these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Assignment",
    "Base",
    "Decision",
    "DedupLink",
    "DedupPair",
    "DedupReview",
    "DedupRun",
    "ImportProblem",
    "Meta",
    "MultiArmAudit",
    "PrefilterDecision",
    "Record",
    "Resolution",
    "Retrieval",
    "Reviewer",
    "Source",
    "StageEvent",
    "Study",
    "StudyEvent",
    "StudyReport",
    "utcnow",
]

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_STAGE_CHECK = "stage IN ('title_abstract', 'full_text')"
_DECISION_CHECK = "decision IN ('include', 'exclude', 'maybe')"


def utcnow() -> dt.datetime:
    """The current time in UTC (every event's ``created_at``)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike."""

    metadata = MetaData(naming_convention=_NAMING)


def _when() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def _reviewer_fk(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(Integer, ForeignKey("reviewers.id"), nullable=nullable)


class Meta(Base):
    """Key-value facts about the store, such as the review's identifier."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Reviewer(Base):
    """A person of the team, by name (kept when removed from the protocol)."""

    __tablename__ = "reviewers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = _when()


class Source(Base):
    """One imported export file: its name, database, kind, content hash and format."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    database: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str] = mapped_column(String(40))
    n_records: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = _when()


class Record(Base):
    """One bibliographic record as read from its export (never changed, never deleted)."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("source_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, ForeignKey("sources.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source_key: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(JSON)
    year: Mapped[int | None] = mapped_column(Integer)
    journal: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[str | None] = mapped_column(Text)
    issue: Mapped[str | None] = mapped_column(Text)
    pages_start: Mapped[str | None] = mapped_column(Text)
    pages_end: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(Text)
    pmid: Mapped[str | None] = mapped_column(Text)
    issn: Mapped[list[Any]] = mapped_column(JSON)
    keywords: Mapped[list[Any]] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(Text)
    publication_type: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)


class ImportProblem(Base):
    """A problem the reader met in one record of a source (the import went on)."""

    __tablename__ = "import_problems"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, ForeignKey("sources.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)


class DedupRun(Base):
    """One run of automatic deduplication over every record (a snapshot)."""

    __tablename__ = "dedup_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n_records: Mapped[int] = mapped_column(Integer)
    n_candidate_pairs: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    # Person decisions on pairs up to this id are built into the run; later ones are
    # applied when the current state is derived.
    last_review_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _when()


class DedupLink(Base):
    """Where a record points in a run: its canonical record, status, score, study."""

    __tablename__ = "dedup_links"
    __table_args__ = (
        CheckConstraint("status IN ('unique', 'duplicate', 'possible')", name="status"),
    )
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("dedup_runs.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"), primary_key=True)
    canonical_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    status: Mapped[str] = mapped_column(String(10))
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    study_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))


class DedupPair(Base):
    """A possible duplicate pair of a run, queued for a person."""

    __tablename__ = "dedup_pairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("dedup_runs.id"), index=True)
    record_id_1: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    record_id_2: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)


class DedupReview(Base):
    """A person's decision on a pair: duplicate or distinct (re-applied after each run)."""

    __tablename__ = "dedup_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id_1: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    record_id_2: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    duplicate: Mapped[bool] = mapped_column(Boolean)
    reviewer_id: Mapped[int] = _reviewer_fk()
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()


class Assignment(Base):
    """A record given to a screener at a stage (balanced assignment only)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("stage", "record_id", "reviewer_id"),
        CheckConstraint(_STAGE_CHECK, name="stage"),
        Index("ix_assignments_stage_reviewer", "stage", "reviewer_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    reviewer_id: Mapped[int] = _reviewer_fk()
    created_at: Mapped[dt.datetime] = _when()


class Decision(Base):
    """One screening decision by one reviewer (the latest per reviewer and record counts)."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_STAGE_CHECK, name="stage"),
        CheckConstraint(_DECISION_CHECK, name="decision"),
        Index("ix_decisions_stage_record", "stage", "record_id"),
        Index("ix_decisions_stage_reviewer", "stage", "reviewer_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    reviewer_id: Mapped[int] = _reviewer_fk()
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[dt.datetime] = _when()


class Resolution(Base):
    """The arbiter's decision on a record in conflict; an amendment points to the one
    it replaces, so that a second decision without ``amends_id`` is refused by the store."""

    __tablename__ = "resolutions"
    __table_args__ = (
        CheckConstraint(_STAGE_CHECK, name="stage"),
        CheckConstraint("decision IN ('include', 'exclude')", name="decision"),
        Index(
            "uq_resolutions_first",
            "stage",
            "record_id",
            unique=True,
            sqlite_where=text("amends_id IS NULL"),
            postgresql_where=text("amends_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    arbiter_id: Mapped[int] = _reviewer_fk()
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    amends_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("resolutions.id"), unique=True
    )
    created_at: Mapped[dt.datetime] = _when()


class PrefilterDecision(Base):
    """A person's answer to a pre-screening proposal (years or language)."""

    __tablename__ = "prefilter_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = _reviewer_fk()
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()


class Retrieval(Base):
    """Whether the full text of a record could be obtained (latest event counts)."""

    __tablename__ = "retrievals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"), index=True)
    retrieved: Mapped[bool] = mapped_column(Boolean)
    reviewer_id: Mapped[int] = _reviewer_fk()
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()


class StageEvent(Base):
    """A stage closed (no more decisions) or reopened, by whom and why."""

    __tablename__ = "stage_events"
    __table_args__ = (CheckConstraint(_STAGE_CHECK, name="stage"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    closed: Mapped[bool] = mapped_column(Boolean)
    reviewer_id: Mapped[int] = _reviewer_fk()
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()


class Study(Base):
    """An included study, by the label used in tables and figures ("Smith 2012")."""

    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()


class StudyReport(Base):
    """A record (report) that belongs to a study; a study may have several reports."""

    __tablename__ = "study_reports"
    __table_args__ = (UniqueConstraint("study_id", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(Integer, ForeignKey("studies.id"), index=True)
    record_id: Mapped[int] = mapped_column(Integer, ForeignKey("records.id"))
    created_at: Mapped[dt.datetime] = _when()


class StudyEvent(Base):
    """One value given to one item of a study by one person: a classification code, a
    risk-of-bias judgement with its support, or an extracted field. ``consensus`` marks the
    arbiter's agreed value; the latest event per (kind, study, item, reviewer, consensus)
    counts, and ``value`` is JSON text (``null`` clears a value)."""

    __tablename__ = "study_events"
    __table_args__ = (
        CheckConstraint("kind IN ('classification', 'appraisal', 'extraction')", name="kind"),
        Index("ix_study_events_kind_study", "kind", "study_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    study_id: Mapped[int] = mapped_column(Integer, ForeignKey("studies.id"))
    item: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = _reviewer_fk()
    consensus: Mapped[bool] = mapped_column(Boolean)
    origin: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[dt.datetime] = _when()


class MultiArmAudit(Base):
    """How the arms of a multi-arm study became the comparisons of one outcome, recorded
    when someone settles it: the rule (combine or split), the audit rows (which arms, what
    was done, the Cochrane Handbook section, inputs and result) and the comparisons with
    the combined or split group sizes, means and SDs, as JSON. The latest record per
    (outcome, study) counts."""

    __tablename__ = "multi_arm_audits"
    __table_args__ = (
        CheckConstraint("how IN ('combine', 'split')", name="how"),
        Index("ix_multi_arm_audits_outcome_study", "outcome", "study_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(200))
    study_id: Mapped[int] = mapped_column(Integer, ForeignKey("studies.id"))
    how: Mapped[str] = mapped_column(String(10))
    measure: Mapped[str] = mapped_column(String(10))
    audit: Mapped[list[Any]] = mapped_column(JSON)
    comparisons: Mapped[list[Any]] = mapped_column(JSON)
    reviewer_id: Mapped[int] = _reviewer_fk()
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = _when()
