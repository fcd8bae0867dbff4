"""ltc: a care institution names the provider organisation whose staff record its visits

Revision ID: ltc_0004
Revises: ltc_0003
Create Date: 2026-12-07 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0004"
down_revision: str | Sequence[str] | None = "ltc_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ltc_institutions") as batch:
        batch.add_column(sa.Column("provider_org_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_ltc_institutions_provider_org_id_organisations"),
            "organisations",
            ["provider_org_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ltc_institutions") as batch:
        batch.drop_constraint(
            op.f("fk_ltc_institutions_provider_org_id_organisations"), type_="foreignkey"
        )
        batch.drop_column("provider_org_id")
