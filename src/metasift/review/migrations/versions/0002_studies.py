"""Studies, their reports, and the append-only events of classification, risk-of-bias
appraisal and data extraction.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("label", name=op.f("uq_studies_label")),
    )
    op.create_table(
        "study_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_study_reports_study_id_studies")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_study_reports_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_reports")),
        sa.UniqueConstraint("study_id", "record_id", name=op.f("uq_study_reports_study_id")),
    )
    op.create_index(op.f("ix_study_reports_study_id"), "study_reports", ["study_id"], unique=False)
    op.create_table(
        "study_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("consensus", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('classification', 'appraisal', 'extraction')",
            name=op.f("ck_study_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_study_events_study_id_studies")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_study_events_reviewer_id_reviewers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_events")),
    )
    op.create_index(
        "ix_study_events_kind_study", "study_events", ["kind", "study_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_study_events_kind_study", table_name="study_events")
    op.drop_table("study_events")
    op.drop_index(op.f("ix_study_reports_study_id"), table_name="study_reports")
    op.drop_table("study_reports")
    op.drop_table("studies")
