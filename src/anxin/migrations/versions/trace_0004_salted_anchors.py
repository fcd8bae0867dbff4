"""trace: salted ledger anchors for events and error declarations

Revision ID: trace_0004
Revises: trace_0003
Create Date: 2026-12-07 08:30:00.000000

Existing rows keep ``anchor_salt`` NULL: their ledger entries already carry the bare digest and
an append-only ledger cannot be rewritten, so they stay verifiable the old way (a salt added
now would prove nothing and hide nothing). Every event captured from now on is anchored salted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "trace_0004"
down_revision: str | Sequence[str] | None = "trace_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trace_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anchor_salt", sa.String(length=32), nullable=True))
    with op.batch_alter_table("trace_error_declarations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anchor_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trace_error_declarations", schema=None) as batch_op:
        batch_op.drop_column("anchor_salt")
    with op.batch_alter_table("trace_events", schema=None) as batch_op:
        batch_op.drop_column("anchor_salt")
