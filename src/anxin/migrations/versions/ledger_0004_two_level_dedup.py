"""ledger: a two-level dedup index (recent facts, merged into the fact-key index in batches)

Revision ID: ledger_0004
Revises: ledger_0003
Create Date: 2026-12-07 13:20:00

Onto a log of millions of entries each append put its 64-bit fact key on a random leaf of
one big index (issue 13: 1.17 WAL pages per append onto 10 M entries, 0.23 onto a fresh
log). Appends now put their keys into `ledger_recent_facts`, small enough to stay in cache,
and `anxin.ledger.service.merge_recent_facts` moves them into `ledger_fact_index` many at a
time in key order. `ledger_tree.merged_size` is the boundary between the two levels.

Upgrade: every existing entry is merged (its key copied into `ledger_fact_index` in one
sorted INSERT ... SELECT) and the old index on `ledger_entries.fact_key` is dropped.
Downgrade: the old index is rebuilt from the column, which every entry keeps.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0004"
down_revision: str | Sequence[str] | None = "ledger_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_INDEX = "ix_ledger_entries_fact_key"
log = logging.getLogger("alembic.runtime.migration")


def _key_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("fact_key", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("fact_key", "seq", name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    _key_table("ledger_recent_facts")
    _key_table("ledger_fact_index")
    with op.batch_alter_table("ledger_tree", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("merged_size", sa.BigInteger(), nullable=False, server_default="0")
        )
    bind = op.get_bind()
    # In key order, so the new index is written front to back; then all entries are merged.
    moved = bind.execute(
        sa.text(
            "INSERT INTO ledger_fact_index (fact_key, seq) "
            "SELECT fact_key, seq FROM ledger_entries ORDER BY fact_key, seq"
        )
    ).rowcount
    bind.execute(sa.text("UPDATE ledger_tree SET merged_size = size"))
    log.info("ledger_0004: %d fact keys merged into ledger_fact_index", moved)
    op.drop_index(OLD_INDEX, table_name="ledger_entries")


def downgrade() -> None:
    op.create_index(OLD_INDEX, "ledger_entries", ["fact_key"])
    with op.batch_alter_table("ledger_tree", schema=None) as batch_op:
        batch_op.drop_column("merged_size")
    op.drop_table("ledger_fact_index")
    op.drop_table("ledger_recent_facts")
