"""collateral: per-stream progress of each crane's detector (the two devices' newest readings)

Revision ID: collateral_0002
Revises: collateral_0001
Create Date: 2026-11-29 12:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "collateral_0002"
down_revision: str | Sequence[str] | None = "collateral_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collateral_crane_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scale_seen_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("fix_seen_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collateral_crane_states", schema=None) as batch_op:
        batch_op.drop_column("fix_seen_ms")
        batch_op.drop_column("scale_seen_ms")
