"""Offline verification: does this entry sit in the log the consortium agreed on? Pure.

Needs no trust in the server and no network: the evidence is a ``Bundle`` (the leaf, the
optional body, the inclusion proof and a cosigned checkpoint) and the trust is a ``Policy``
(the log's public key, the witnesses' public keys and how many of them must have cosigned).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from anxin.ledger import merkle
from anxin.ledger.entry import EntryError, Envelope, check_body, parse_leaf
from anxin.ledger.note import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    SignedCheckpoint,
    Verifier,
    open_checkpoint,
)


@dataclass(frozen=True, slots=True)
class Policy:
    """Who to believe: the log key, the witness keys, and the cosignature quorum."""

    log: Verifier
    witnesses: tuple[Verifier, ...] = ()
    quorum: int = 0

    def __post_init__(self) -> None:
        if any(w.alg != ALG_COSIGNATURE_V1 for w in self.witnesses):
            raise NoteError("witness keys must be cosignature/v1 keys (alg 0x04)")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise NoteError(f"quorum {self.quorum} needs at least that many witness keys")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str
    checkpoint: Checkpoint | None = None
    witnesses: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything a third party needs to check one entry; ``to_json`` is what the API serves."""

    index: int
    leaf: bytes
    proof: tuple[bytes, ...]
    checkpoint: str
    body: Any = None
    has_body: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "leaf": self.leaf.decode(),
            "proof": [base64.b64encode(p).decode() for p in self.proof],
            "checkpoint": self.checkpoint,
        }
        if self.has_body:
            out["body"] = self.body
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bundle:
        try:
            return cls(
                index=int(data["index"]),
                leaf=str(data["leaf"]).encode(),
                proof=tuple(base64.b64decode(p, validate=True) for p in data["proof"]),
                checkpoint=str(data["checkpoint"]),
                body=data.get("body"),
                has_body="body" in data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EntryError(f"malformed evidence bundle: {exc}") from exc

    @classmethod
    def loads(cls, text: str) -> Bundle:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise EntryError("evidence bundle is not JSON") from exc
        if not isinstance(data, dict):
            raise EntryError("evidence bundle must be a JSON object")
        return cls.from_json(data)


def check_checkpoint(text: str, policy: Policy) -> SignedCheckpoint:
    """Open a checkpoint and enforce the witness quorum; raises ``NoteError`` with the reason."""
    signed = open_checkpoint(text, policy.log, list(policy.witnesses))
    have = {v.verifier.name for v in signed.cosignatures}
    if len(have) < policy.quorum:
        raise NoteError(
            f"checkpoint has {len(have)} valid witness cosignature(s), policy needs {policy.quorum}"
        )
    return signed


def verify_bundle(bundle: Bundle, policy: Policy) -> Verdict:
    """Yes or no, with the reason, for one entry against a cosigned checkpoint."""
    try:
        signed = check_checkpoint(bundle.checkpoint, policy)
    except NoteError as exc:
        return Verdict(False, f"checkpoint rejected: {exc}")
    cp = signed.checkpoint
    names = tuple(sorted(v.verifier.name for v in signed.cosignatures))
    try:
        envelope: Envelope = parse_leaf(bundle.leaf)
        if bundle.has_body:
            check_body(envelope, bundle.body)
    except EntryError as exc:
        return Verdict(False, f"entry rejected: {exc}", cp, names)
    try:
        merkle.verify_inclusion(
            bundle.index, cp.size, merkle.leaf_hash(bundle.leaf), bundle.proof, cp.root_hash
        )
    except merkle.ProofError as exc:
        return Verdict(False, f"inclusion proof rejected: {exc}", cp, names)
    what = "entry and body" if bundle.has_body else "entry"
    return Verdict(
        True,
        f"{what} #{bundle.index} ({envelope.entry_type} from {envelope.organisation}) is in "
        f"{cp.origin} at size {cp.size}, signed by the log and cosigned by "
        f"{len(names)} witness(es): {', '.join(names) or 'none'}",
        cp,
        names,
    )


def verify_extension(
    old_checkpoint: str, new_checkpoint: str, proof: list[bytes], policy: Policy
) -> Verdict:
    """Is ``new_checkpoint`` an append-only extension of ``old_checkpoint``? For auditors."""
    try:
        old = check_checkpoint(old_checkpoint, policy).checkpoint
        new = check_checkpoint(new_checkpoint, policy).checkpoint
    except NoteError as exc:
        return Verdict(False, f"checkpoint rejected: {exc}")
    if old.size == 0:
        return Verdict(True, "every tree extends the empty tree", new)
    try:
        merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
    except merkle.ProofError as exc:
        return Verdict(False, f"consistency proof rejected: {exc}", new)
    return Verdict(True, f"size {new.size} extends size {old.size}", new)
