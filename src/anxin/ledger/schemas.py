"""API shapes of the ledger. Hashes travel as standard base64, as in checkpoints."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from anxin.ledger import merkle
from anxin.ledger.models import LedgerCheckpoint, LedgerEntry


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_type: str = Field(min_length=1, max_length=64, examples=["trace.event"])
    body: Any = Field(default=None, description="Any JSON value; stored in RFC 8785 form")
    payload_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 of the canonical body (or of a file), instead of or with the body",
    )


class EntryRead(BaseModel):
    seq: int
    entry_type: str
    organisation_id: str
    submitted_at: datetime
    payload_sha256: str
    leaf: str = Field(description="The canonical envelope the Merkle leaf hashes")
    leaf_hash: str
    body: Any = None
    body_withheld: bool = Field(description="True when a body exists but is not yours to read")

    @classmethod
    def of(cls, entry: LedgerEntry, *, show_body: bool) -> EntryRead:
        import json

        leaf = bytes(entry.leaf)
        return cls(
            seq=entry.seq,
            entry_type=entry.entry_type,
            organisation_id=entry.organisation_id,
            submitted_at=entry.submitted_at,
            payload_sha256=entry.payload_sha256,
            leaf=leaf.decode(),
            leaf_hash=b64(merkle.leaf_hash(leaf)),
            body=json.loads(entry.body) if show_body and entry.body is not None else None,
            body_withheld=entry.body is not None and not show_body,
        )


class CheckpointRead(BaseModel):
    size: int
    root_hash: str
    cosignatures: int
    created_at: datetime
    checkpoint: str = Field(description="C2SP signed note: the log's and witnesses' signatures")

    @classmethod
    def of(cls, cp: LedgerCheckpoint) -> CheckpointRead:
        return cls(
            size=cp.size,
            root_hash=b64(bytes(cp.root_hash)),
            cosignatures=cp.cosignatures,
            created_at=cp.created_at,
            checkpoint=cp.note,
        )


class InclusionProofRead(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProofRead(BaseModel):
    first: int
    second: int
    proof: list[str]


class BundleRead(BaseModel):
    """Evidence for ``anxin ledger verify`` (``verify.Bundle`` as JSON). ``body`` is absent,
    not null, when it is not the caller's to read: the verifier tells the two apart."""

    index: int
    leaf: str = Field(description="The canonical envelope the Merkle leaf hashes")
    proof: list[str] = Field(description="Inclusion proof up to the checkpoint, base64 hashes")
    checkpoint: str = Field(description="C2SP signed note the proof leads to")
    body: Any = Field(default=None, description="The entry's body, only if yours to read")


class CosignatureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cosignature: str = Field(
        min_length=10, max_length=1000, description="One signed-note line from a witness"
    )


class LedgerInfo(BaseModel):
    origin: str
    log_key: str
    witnesses: list[str]
    quorum: int
    tree_size: int
