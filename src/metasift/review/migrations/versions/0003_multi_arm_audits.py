"""The stored audit trail of multi-arm studies: how their arms became each outcome's
comparisons, recorded when settled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "multi_arm_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("audit", sa.JSON(), nullable=False),
        sa.Column("comparisons", sa.JSON(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("how IN ('combine', 'split')", name=op.f("ck_multi_arm_audits_how")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_multi_arm_audits_study_id_studies")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_multi_arm_audits_reviewer_id_reviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multi_arm_audits")),
    )
    op.create_index(
        "ix_multi_arm_audits_outcome_study",
        "multi_arm_audits",
        ["outcome", "study_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_multi_arm_audits_outcome_study", table_name="multi_arm_audits")
    op.drop_table("multi_arm_audits")
