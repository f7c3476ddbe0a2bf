"""The first schema of the review store: sources, records, deduplication, people and
the append-only decision tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for step in (_base_tables, _records, _screening, _deduplication, _answers):
        step()


def _base_tables() -> None:
    """Tables without foreign keys: runs, facts, people, sources."""
    op.create_table(
        "dedup_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_candidate_pairs", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("last_review_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_runs")),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewers")),
        sa.UniqueConstraint("name", name=op.f("uq_reviewers_name")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("database", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("encoding", sa.String(length=40), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("sha256", name=op.f("uq_sources_sha256")),
    )


def _records() -> None:
    """Records and the problems met while reading them."""
    op.create_table(
        "import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_import_problems_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_problems")),
    )
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_problems_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.Text(), nullable=True),
        sa.Column("volume", sa.Text(), nullable=True),
        sa.Column("issue", sa.Text(), nullable=True),
        sa.Column("pages_start", sa.Text(), nullable=True),
        sa.Column("pages_end", sa.Text(), nullable=True),
        sa.Column("doi", sa.Text(), nullable=True),
        sa.Column("pmid", sa.Text(), nullable=True),
        sa.Column("issn", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column("publication_type", sa.Text(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_records_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("source_id", "position", name=op.f("uq_records_source_id")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_source_id"), ["source_id"], unique=False)


def _screening() -> None:
    """Stage events, assignments and screening decisions."""
    op.create_table(
        "stage_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_stage_events_stage")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_stage_events_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_events")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_assignments_stage")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_assignments_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_assignments_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("stage", "record_id", "reviewer_id", name=op.f("uq_assignments_stage")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_stage_reviewer", ["stage", "reviewer_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('include', 'exclude', 'maybe')", name=op.f("ck_decisions_decision")
        ),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_decisions_stage")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_decisions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_decisions_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_stage_record", ["stage", "record_id"], unique=False)
        batch_op.create_index("ix_decisions_stage_reviewer", ["stage", "reviewer_id"], unique=False)


def _deduplication() -> None:
    """Deduplication runs' links and queues, and people's pair decisions."""
    op.create_table(
        "dedup_links",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('unique', 'duplicate', 'possible')", name=op.f("ck_dedup_links_status")
        ),
        sa.ForeignKeyConstraint(
            ["canonical_id"], ["records.id"], name=op.f("fk_dedup_links_canonical_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_dedup_links_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["dedup_runs.id"], name=op.f("fk_dedup_links_run_id_dedup_runs")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["records.id"], name=op.f("fk_dedup_links_study_id_records")
        ),
        sa.PrimaryKeyConstraint("run_id", "record_id", name=op.f("pk_dedup_links")),
    )
    op.create_table(
        "dedup_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_id_1", sa.Integer(), nullable=False),
        sa.Column("record_id_2", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id_1"], ["records.id"], name=op.f("fk_dedup_pairs_record_id_1_records")
        ),
        sa.ForeignKeyConstraint(
            ["record_id_2"], ["records.id"], name=op.f("fk_dedup_pairs_record_id_2_records")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["dedup_runs.id"], name=op.f("fk_dedup_pairs_run_id_dedup_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_pairs")),
    )
    with op.batch_alter_table("dedup_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dedup_pairs_run_id"), ["run_id"], unique=False)

    op.create_table(
        "dedup_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id_1", sa.Integer(), nullable=False),
        sa.Column("record_id_2", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id_1"], ["records.id"], name=op.f("fk_dedup_reviews_record_id_1_records")
        ),
        sa.ForeignKeyConstraint(
            ["record_id_2"], ["records.id"], name=op.f("fk_dedup_reviews_record_id_2_records")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_dedup_reviews_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_reviews")),
    )


def _answers() -> None:
    """Pre-screening answers, arbiter decisions and retrieval notes."""
    op.create_table(
        "prefilter_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_prefilter_decisions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_prefilter_decisions_reviewer_id_reviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prefilter_decisions")),
    )
    with op.batch_alter_table("prefilter_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prefilter_decisions_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("arbiter_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('include', 'exclude')", name=op.f("ck_resolutions_decision")
        ),
        sa.CheckConstraint(
            "stage IN ('title_abstract', 'full_text')", name=op.f("ck_resolutions_stage")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["resolutions.id"], name=op.f("fk_resolutions_amends_id_resolutions")
        ),
        sa.ForeignKeyConstraint(
            ["arbiter_id"], ["reviewers.id"], name=op.f("fk_resolutions_arbiter_id_reviewers")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_resolutions_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolutions")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_resolutions_amends_id")),
    )
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_resolutions_first",
            ["stage", "record_id"],
            unique=True,
            sqlite_where=sa.text("amends_id IS NULL"),
            postgresql_where=sa.text("amends_id IS NULL"),
        )

    op.create_table(
        "retrievals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("retrieved", sa.Boolean(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_retrievals_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_retrievals_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrievals")),
    )
    with op.batch_alter_table("retrievals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retrievals_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retrievals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retrievals_record_id"))

    op.drop_table("retrievals")
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_resolutions_first",
            sqlite_where=sa.text("amends_id IS NULL"),
            postgresql_where=sa.text("amends_id IS NULL"),
        )

    op.drop_table("resolutions")
    with op.batch_alter_table("prefilter_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prefilter_decisions_record_id"))

    op.drop_table("prefilter_decisions")
    op.drop_table("dedup_reviews")
    with op.batch_alter_table("dedup_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dedup_pairs_run_id"))

    op.drop_table("dedup_pairs")
    op.drop_table("dedup_links")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_stage_reviewer")
        batch_op.drop_index("ix_decisions_stage_record")

    op.drop_table("decisions")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_stage_reviewer")

    op.drop_table("assignments")
    op.drop_table("stage_events")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_source_id"))

    op.drop_table("records")
    with op.batch_alter_table("import_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_problems_source_id"))

    op.drop_table("import_problems")
    op.drop_table("sources")
    op.drop_table("reviewers")
    op.drop_table("meta")
    op.drop_table("dedup_runs")
