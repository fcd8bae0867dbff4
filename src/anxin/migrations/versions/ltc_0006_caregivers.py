"""ltc: caregivers of care institutions; a visit names its caregiver

Revision ID: ltc_0006
Revises: ltc_0005
Create Date: 2026-12-07 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0006"
down_revision: str | Sequence[str] | None = "ltc_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ltc_caregivers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("qualification", sa.String(length=40), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_caregivers_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["ltc_institutions.id"],
            name=op.f("fk_ltc_caregivers_institution_id_ltc_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ltc_caregivers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_caregivers")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_ltc_caregivers_org_id_code")),
        sa.UniqueConstraint("user_id", name=op.f("uq_ltc_caregivers_user_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_ltc_caregivers_institution_id"), "ltc_caregivers", ["institution_id"])
    with op.batch_alter_table("ltc_visits") as batch:
        batch.add_column(
            sa.Column(
                "caregiver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )  # fmt: skip
        batch.create_foreign_key(
            op.f("fk_ltc_visits_caregiver_id_ltc_caregivers"),
            "ltc_caregivers",
            ["caregiver_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ltc_visits") as batch:
        batch.drop_constraint(op.f("fk_ltc_visits_caregiver_id_ltc_caregivers"), type_="foreignkey")
        batch.drop_column("caregiver_id")
    op.drop_index(op.f("ix_ltc_caregivers_institution_id"), table_name="ltc_caregivers")
    op.drop_table("ltc_caregivers")
