"""Ledger tables: entries, stored Merkle subtrees, signed checkpoints and the tree head row.

Only *perfect* subtrees are stored (see ``merkle.NodeId``): about two rows per entry, each
written once when the entry that completes it is appended and never updated. Any root or
proof is a fold of O(log n) of them, so nothing is recomputed on read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
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

    # Repeats are found by `fact_key`, 64 bits of SHA-256 over (type, organisation, payload
    # hash): an 8-byte index entry where the old unique (payload hash, type, organisation)
    # index held ~130 bytes, so the index a retry needs stays in cache as the log grows and a
    # batch dirties fewer of its pages. Not unique (two facts may share 64 bits); appends are
    # serialised by the tree row lock and compare the full fact before reusing a number.
    __table_args__ = (Index("ix_ledger_entries_fact_key", "fact_key"),)

    seq: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=False)
    entry_type: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[str] = mapped_column(String(128), index=True)
    submitted_at: Mapped[datetime]
    payload_sha256: Mapped[str] = mapped_column(String(64))
    fact_key: Mapped[int] = mapped_column(BigInteger)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    # RFC 8785 text of the body, or NULL when only its hash was anchored (or it was erased).
    body: Mapped[str | None] = mapped_column(Text)


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
    updated_at: Mapped[datetime]
