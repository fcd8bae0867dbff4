"""ledger: one unique (payload_sha256, entry_type, organisation_id) index instead of three

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-11-29 12:10:00

The separate dedup-key column and the payload-hash index were both keyed by hashes, so every
append dirtied a random page in each; with fsync on every commit that write amplification
was the bottleneck. The composite unique index refuses repeats and serves payload look-ups.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0002"
down_revision: str | Sequence[str] | None = "ledger_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT_KEY = ["payload_sha256", "entry_type", "organisation_id"]


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_payload_sha256"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_entry_type"))
        batch_op.drop_constraint(batch_op.f("uq_ledger_entries_dedup_key"), type_="unique")
        batch_op.drop_column("dedup_key")
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_entries_payload_sha256_entry_type_organisation_id"), FACT_KEY
        )


def downgrade() -> None:
    # The old key was SHA-256 over type, organisation and payload joined by NUL; recomputed
    # in Python so both dialects agree.
    import hashlib

    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT seq, entry_type, organisation_id, payload_sha256 FROM ledger_entries")
    ).all()
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_ledger_entries_payload_sha256_entry_type_organisation_id"),
            type_="unique",
        )
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=64), nullable=True))
    for seq, entry_type, org, payload in rows:
        key = hashlib.sha256(f"{entry_type}\x00{org}\x00{payload}".encode()).hexdigest()
        bind.execute(
            sa.text("UPDATE ledger_entries SET dedup_key = :k WHERE seq = :s"), {"k": key, "s": seq}
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column("dedup_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_ledger_entries_dedup_key"), ["dedup_key"])
        batch_op.create_index(batch_op.f("ix_ledger_entries_entry_type"), ["entry_type"])
        batch_op.create_index(batch_op.f("ix_ledger_entries_payload_sha256"), ["payload_sha256"])
