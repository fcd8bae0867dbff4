"""dose reminders

Revision ID: consult_0004
Revises: consult_0003
Create Date: 2026-12-07 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consult_0004"
down_revision: str | Sequence[str] | None = "consult_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
