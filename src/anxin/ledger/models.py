"""Ledger tables: entries, stored Merkle subtrees, signed checkpoints and the tree head row.

Only *perfect* subtrees are stored (see ``merkle.NodeId``): about two rows per entry, each
written once when the entry that completes it is appended and never updated. Any root or
proof is a fold of O(log n) of them, so nothing is recomputed on read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.db import Base

# INTEGER PRIMARY KEY is SQLite's rowid alias (compact, fast); BIGINT elsewhere.
BigKey = BigInteger().with_variant(Integer(), "sqlite")

NODE_LEVEL_BITS = 6  # levels 0..63


def node_key(level: int, idx: int) -> int:
    """One integer per subtree keeps the node table a plain rowid table on SQLite."""
    return (idx << NODE_LEVEL_BITS) | level


def node_of_key(key: int) -> tuple[int, int]:
    return key & ((1 << NODE_LEVEL_BITS) - 1), key >> NODE_LEVEL_BITS


class LedgerEntry(Base):
    """One appended fact. ``leaf`` is the exact canonical envelope the Merkle leaf hashes."""

    __tablename__ = "ledger_entries"

    # `fact_key` is 64 bits of SHA-256 over (type, organisation, payload hash). It is not
    # indexed here: repeats are found through the two levels below (`LedgerRecentFact`, then
    # `LedgerFactIndex`), so an append never inserts into a big index at a random place.
    seq: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=False)
    entry_type: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)
    submitted_at: Mapped[datetime]
    payload_sha256: Mapped[str] = mapped_column(String(64))
    fact_key: Mapped[int] = mapped_column(BigInteger)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    # RFC 8785 text of the body, or NULL when only its hash was anchored (or it was erased).
    body: Mapped[str | None] = mapped_column(Text)


class LedgerRecentFact(Base):
    """Level one of the dedup index: the fact keys of entries not yet merged (seq ≥
    ``LedgerTree.merged_size``). Small (at most about ``merge_rows`` rows), so the random
    places a batch's keys land on are few pages that stay in cache."""

    __tablename__ = "ledger_recent_facts"
    # One B-tree keyed by the look-up (SQLite: WITHOUT ROWID), not a table plus an index.
    __table_args__ = ({"sqlite_with_rowid": False},)

    fact_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class LedgerFactIndex(Base):
    """Level two: the fact keys of every merged entry (seq < ``LedgerTree.merged_size``).

    Written only by `service.merge_recent_facts`, many keys at a time in key order, so a
    page of this large index is rewritten once per merge rather than once per append."""

    __tablename__ = "ledger_fact_index"
    __table_args__ = ({"sqlite_with_rowid": False},)

    fact_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class LedgerNode(Base):
    """Hash of the perfect subtree ``node_of_key(key)``; level 0 rows are leaf hashes."""

    __tablename__ = "ledger_nodes"

    key: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed tree head, with the witness cosignatures gathered so far appended to ``note``."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    cosignatures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class LedgerTree(Base):
    """The single row every append locks first, so appends are strictly sequential."""

    __tablename__ = "ledger_tree"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Entries below this number have their fact key in `LedgerFactIndex`, the rest in
    # `LedgerRecentFact`; a merge moves the boundary up.
    merged_size: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime]
