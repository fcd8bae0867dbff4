"""ledger: entries, stored Merkle subtrees, checkpoints and the tree head row

Revision ID: ledger_0001
Revises: 0001
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# INTEGER PRIMARY KEY is SQLite's rowid alias; BIGINT elsewhere (as in anxin.ledger.models).
BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", BigKey, autoincrement=False, nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("entry_type", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_ledger_entries_dedup_key")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_entry_type"), ["entry_type"])
        batch_op.create_index(batch_op.f("ix_ledger_entries_organisation_id"), ["organisation_id"])
        batch_op.create_index(batch_op.f("ix_ledger_entries_payload_sha256"), ["payload_sha256"])

    op.create_table(
        "ledger_nodes",
        sa.Column("key", BigKey, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ledger_nodes")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("size", BigKey, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosignatures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_ledger_checkpoints")),
    )
    tree = op.create_table(
        "ledger_tree",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_tree")),
    )
    # The row every append locks; present from the start so appends never race to create it.
    stamp = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        stamp = stamp.replace(tzinfo=None)
    op.bulk_insert(tree, [{"id": 1, "size": 0, "updated_at": stamp}])


def downgrade() -> None:
    op.drop_table("ledger_tree")
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_nodes")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_payload_sha256"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_entry_type"))
    op.drop_table("ledger_entries")
