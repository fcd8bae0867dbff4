"""ledger: find repeats by a 64-bit fact key, not a unique index of hashes

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-12-07 05:20:00

The unique (payload_sha256, entry_type, organisation_id) index held ~130 bytes per entry at a
random place: past a million entries it no longer fits in cache and each append dirtied one of
its pages (issue 13). `fact_key` is 64 bits of SHA-256 over the fact, in a plain (non-unique)
index of 8-byte keys; appends are serialised by the tree row lock and compare the whole fact.
Existing rows get their key computed here, in Python, so both dialects agree.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0003"
down_revision: str | Sequence[str] | None = "ledger_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT = ["payload_sha256", "entry_type", "organisation_id"]
UNIQUE = "uq_ledger_entries_payload_sha256_entry_type_organisation_id"


def _key64(entry_type: str, organisation: str, payload_sha256: str) -> int:
    import hashlib

    digest = hashlib.sha256(f"{entry_type}\x00{organisation}\x00{payload_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fact_key", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT seq, entry_type, organisation_id, payload_sha256 FROM ledger_entries")
    ).all()
    update = sa.text("UPDATE ledger_entries SET fact_key = :k WHERE seq = :s")
    for start in range(0, len(rows), 5000):
        bind.execute(
            update,
            [{"k": _key64(t, o, p), "s": seq} for seq, t, o, p in rows[start : start + 5000]],
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column("fact_key", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.create_index("ix_ledger_entries_fact_key", ["fact_key"])


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_fact_key")
        batch_op.create_unique_constraint(UNIQUE, FACT)
        batch_op.drop_column("fact_key")
