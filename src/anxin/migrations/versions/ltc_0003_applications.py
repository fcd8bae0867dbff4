"""ltc: applications (initial, reassessment, appeal) and the assessors' scored visits

Revision ID: ltc_0003
Revises: ltc_0002
Create Date: 2026-12-07 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0003"
down_revision: str | Sequence[str] | None = "ltc_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ltc_applications",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("insured_id", BIG_ID, nullable=False),
        sa.Column(
            "kind",
            sa.Enum("INITIAL", "REASSESSMENT", "APPEAL", name="applicationkind",
                    native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("parent_id", BIG_ID, nullable=True),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("self_barthel", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "state",
            sa.Enum("DECLINED", "ASSESSING", "NEEDS_THIRD", "DECIDED", name="applicationstate",
                    native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("consensus", sa.String(length=24), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_applications_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["insured_id"], ["ltc_insured.id"], name=op.f("fk_ltc_applications_insured_id_ltc_insured")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["ltc_applications.id"],
            name=op.f("fk_ltc_applications_parent_id_ltc_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_applications")),
    )  # fmt: skip
    op.create_index(
        "ix_ltc_applications_org_state", "ltc_applications", ["org_id", "state"], unique=False
    )
    op.create_index(
        op.f("ix_ltc_applications_insured_id"), "ltc_applications", ["insured_id"], unique=False
    )
    op.create_table(
        "ltc_assessments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", BIG_ID, nullable=False),
        sa.Column("assessor_id", sa.String(length=36), nullable=False),
        sa.Column("assessor", sa.String(length=120), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("adl", sa.JSON(), nullable=False),
        sa.Column("cognition", sa.JSON(), nullable=False),
        sa.Column("perception", sa.JSON(), nullable=False),
        sa.Column("barthel", sa.Integer(), nullable=False),
        sa.Column("cognition_score", sa.Integer(), nullable=False),
        sa.Column("perception_score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("table", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_assessments_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["ltc_applications.id"],
            name=op.f("fk_ltc_assessments_application_id_ltc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["users.id"], name=op.f("fk_ltc_assessments_assessor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_assessments")),
        sa.UniqueConstraint(
            "application_id", "assessor_id",
            name=op.f("uq_ltc_assessments_application_id_assessor_id"),
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_ltc_assessments_application_id"),
        "ltc_assessments",
        ["application_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ltc_assessments_application_id"), table_name="ltc_assessments")
    op.drop_table("ltc_assessments")
    op.drop_index(op.f("ix_ltc_applications_insured_id"), table_name="ltc_applications")
    op.drop_index("ix_ltc_applications_org_state", table_name="ltc_applications")
    op.drop_table("ltc_applications")
