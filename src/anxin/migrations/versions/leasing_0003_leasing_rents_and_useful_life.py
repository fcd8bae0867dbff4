"""leasing: the machines' useful life (IFRS 16.32)

Revision ID: leasing_0003
Revises: leasing_0002
Create Date: 2026-12-07 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "leasing_0003"
down_revision: str | Sequence[str] | None = "leasing_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leasing_contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("useful_life_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leasing_contracts", schema=None) as batch_op:
        batch_op.drop_column("useful_life_months")
