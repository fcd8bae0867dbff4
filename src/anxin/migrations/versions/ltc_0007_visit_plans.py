"""ltc: planned visits (the institution's rota); a plan not checked in in time is alarmed once

Revision ID: ltc_0007
Revises: ltc_0006
Create Date: 2026-12-07 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0007"
down_revision: str | Sequence[str] | None = "ltc_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ltc_visit_plans",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", BIG, nullable=False),
        sa.Column("institution_id", BIG, nullable=False),
        sa.Column("caregiver_id", BIG, nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("visit_id", BIG, nullable=True),
        sa.Column("alarmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_visit_plans_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"], ["ltc_beneficiaries.id"],
            name=op.f("fk_ltc_visit_plans_beneficiary_id_ltc_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["ltc_institutions.id"],
            name=op.f("fk_ltc_visit_plans_institution_id_ltc_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["caregiver_id"], ["ltc_caregivers.id"],
            name=op.f("fk_ltc_visit_plans_caregiver_id_ltc_caregivers"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["ltc_visits.id"], name=op.f("fk_ltc_visit_plans_visit_id_ltc_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_visit_plans")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_ltc_visit_plans_visit_id")),
    )  # fmt: skip
    op.create_index(
        "ix_ltc_visit_plans_institution_planned", "ltc_visit_plans",
        ["institution_id", "planned_at"],
    )  # fmt: skip
    op.create_index("ix_ltc_visit_plans_planned_at", "ltc_visit_plans", ["planned_at"])


def downgrade() -> None:
    op.drop_index("ix_ltc_visit_plans_planned_at", table_name="ltc_visit_plans")
    op.drop_index("ix_ltc_visit_plans_institution_planned", table_name="ltc_visit_plans")
    op.drop_table("ltc_visit_plans")
