"""ltc: logins that may see a beneficiary's entitlement; assessors assigned to applications

Revision ID: ltc_0008
Revises: ltc_0007
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0008"
down_revision: str | Sequence[str] | None = "ltc_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ltc_viewers",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ltc_viewers_user_id_users")),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["ltc_beneficiaries.id"],
            name=op.f("fk_ltc_viewers_beneficiary_id_ltc_beneficiaries"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_ltc_viewers")),
    )  # fmt: skip
    op.create_index(op.f("ix_ltc_viewers_beneficiary_id"), "ltc_viewers", ["beneficiary_id"])
    op.create_table(
        "ltc_assignments",
        sa.Column("application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("assessor_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["ltc_applications.id"],
            name=op.f("fk_ltc_assignments_application_id_ltc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["users.id"], name=op.f("fk_ltc_assignments_assessor_id_users")
        ),
        sa.PrimaryKeyConstraint("application_id", "assessor_id", name=op.f("pk_ltc_assignments")),
    )  # fmt: skip
    op.create_index(op.f("ix_ltc_assignments_assessor_id"), "ltc_assignments", ["assessor_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ltc_assignments_assessor_id"), table_name="ltc_assignments")
    op.drop_table("ltc_assignments")
    op.drop_index(op.f("ix_ltc_viewers_beneficiary_id"), table_name="ltc_viewers")
    op.drop_table("ltc_viewers")
