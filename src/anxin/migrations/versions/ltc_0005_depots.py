"""ltc: equipment depots with their stock of nursing beds and wheelchairs

Revision ID: ltc_0005
Revises: ltc_0004
Create Date: 2026-12-07 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0005"
down_revision: str | Sequence[str] | None = "ltc_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ltc_depots",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("nursing_beds", sa.Integer(), nullable=False),
        sa.Column("wheelchairs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_depots_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_depots")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_ltc_depots_org_id_name")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("ltc_depots")
