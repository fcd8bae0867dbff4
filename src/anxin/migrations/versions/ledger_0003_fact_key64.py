"""ledger: find repeats by a 64-bit fact key, not a unique index of hashes

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-12-07 05:20:00

The unique (payload_sha256, entry_type, organisation_id) index held ~130 bytes per entry at a
random place: past a million entries it no longer fits in cache and each append dirtied one of
its pages (issue 13). `fact_key` is 64 bits of SHA-256 over the fact, in a plain (non-unique)
index of 8-byte keys; appends are serialised by the tree row lock and compare the whole fact.

Existing rows get their key set-based, one `UPDATE` per range of sequence numbers (a log of
millions of entries is never read into Python): PostgreSQL computes the key itself
(`sha256()`, PostgreSQL 11+); SQLite has no SHA-256, so the statement calls a deterministic
SQL function registered on the connection for the migration — the hash runs in C, the call
per row in Python, with no row travelling back and forth. Progress is logged per range.
"""

import hashlib
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0003"
down_revision: str | Sequence[str] | None = "ledger_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT = ["payload_sha256", "entry_type", "organisation_id"]
UNIQUE = "uq_ledger_entries_payload_sha256_entry_type_organisation_id"
CHUNK = 50_000  # sequence numbers per UPDATE
log = logging.getLogger("alembic.runtime.migration")

# The fact NUL-separated, as UTF-8 (anxin.ledger.entry.fact_key64): its first 8 bytes of
# SHA-256 read as a signed big-endian 64-bit number (bit(64) -> bigint is two's complement).
PG_KEY = (
    "CAST(CAST('x' || encode(substring(sha256("
    "convert_to(entry_type, 'UTF8') || decode('00', 'hex') || "
    "convert_to(organisation_id, 'UTF8') || decode('00', 'hex') || "
    "convert_to(payload_sha256, 'UTF8')) FROM 1 FOR 8), 'hex') AS bit(64)) AS bigint)"
)
SQLITE_FUNCTION = "anxin_fact_key64"


def _key64(entry_type: str, organisation: str, payload_sha256: str) -> int:
    """A copy of anxin.ledger.entry.fact_key64 (a migration does not import the app)."""
    digest = hashlib.sha256(f"{entry_type}\x00{organisation}\x00{payload_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _fill(bind: sa.Connection) -> None:
    if bind.dialect.name == "postgresql":
        key = PG_KEY
    else:
        raw = bind.connection.driver_connection
        assert raw is not None
        raw.create_function(SQLITE_FUNCTION, 3, _key64, deterministic=True)
        key = f"{SQLITE_FUNCTION}(entry_type, organisation_id, payload_sha256)"
    low, high, total = bind.execute(
        sa.text("SELECT min(seq), max(seq), count(*) FROM ledger_entries")
    ).one()
    if not total:
        return
    # `key` is one of the two constant expressions above, never input.
    update = sa.text(f"UPDATE ledger_entries SET fact_key = {key} WHERE seq >= :lo AND seq < :hi")  # noqa: S608
    done = 0
    for start in range(low, high + 1, CHUNK):
        done += bind.execute(update, {"lo": start, "hi": start + CHUNK}).rowcount
        log.info("ledger_0003: fact keys for %d of %d entries", done, total)


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fact_key", sa.BigInteger(), nullable=True))
    _fill(op.get_bind())
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.alter_column("fact_key", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.create_index("ix_ledger_entries_fact_key", ["fact_key"])


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_fact_key")
        batch_op.create_unique_constraint(UNIQUE, FACT)
        batch_op.drop_column("fact_key")
