"""What a witness decides, pure: cosign a checkpoint, refuse it, or raise a fork alarm.

A witness remembers the last checkpoint it cosigned for a log (``WitnessState``). It cosigns
a new one only if the log signed it and a consistency proof shows it extends the remembered
one; two different roots for one size, or a proof that does not check, is a *fork*: the log
has shown someone a history that cannot be reconciled with what this witness saw. A witness
never signs a fork, and never forgets the state it signed (the caller persists
``Decision.state`` before releasing the cosignature).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from anxin.ledger import merkle
from anxin.ledger.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
)


class Outcome(StrEnum):
    COSIGN = "cosign"
    REFUSE = "refuse"  # bad input or stale view: nothing proves misbehaviour
    FORK = "fork"  # evidence of a split view or rewritten history: alarm


@dataclass(frozen=True, slots=True)
class WitnessState:
    origin: str
    size: int
    root_hash: bytes
    checkpoint: str  # the signed note we cosigned, kept as evidence for a fork report

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WitnessState:
        return cls(
            origin=str(data["origin"]),
            size=int(data["size"]),
            root_hash=base64.b64decode(data["root_hash"], validate=True),
            checkpoint=str(data["checkpoint"]),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str
    state: WitnessState | None  # state to persist before cosigning (COSIGN only)
    checkpoint: Checkpoint | None = None

    @property
    def alarm(self) -> bool:
        return self.outcome is Outcome.FORK


def review(
    *,
    state: WitnessState | None,
    signed_checkpoint: str,
    log: Verifier,
    proof: list[bytes],
) -> Decision:
    """Decide on ``signed_checkpoint`` given the last cosigned ``state`` and a consistency
    proof from ``state.size`` to the new size (ignored when there is nothing to prove).

    ``state`` of ``None`` means first contact: the witness trusts the first checkpoint it
    sees (pin a state file to avoid that).
    """
    try:
        cp = open_checkpoint(signed_checkpoint, log).checkpoint
    except NoteError as exc:
        return Decision(Outcome.REFUSE, f"not a valid checkpoint from {log.name}: {exc}", None)
    new_state = WitnessState(cp.origin, cp.size, cp.root_hash, signed_checkpoint)
    if state is None:
        return Decision(Outcome.COSIGN, "first checkpoint seen (trust on first use)", new_state, cp)
    if state.origin != cp.origin:
        return Decision(Outcome.REFUSE, f"witness state is for {state.origin}", None, cp)
    if cp.size < state.size:
        return Decision(
            Outcome.REFUSE,
            f"size {cp.size} is older than the cosigned size {state.size}",
            None,
            cp,
        )
    if cp.size == state.size:
        if cp.root_hash != state.root_hash:
            return Decision(
                Outcome.FORK,
                f"two different roots for size {cp.size}: the log forked or was rewritten",
                None,
                cp,
            )
        return Decision(Outcome.COSIGN, f"same tree as before (size {cp.size})", new_state, cp)
    if state.size == 0:
        return Decision(Outcome.COSIGN, "the empty tree extends to anything", new_state, cp)
    try:
        merkle.verify_consistency(state.size, cp.size, proof, state.root_hash, cp.root_hash)
    except merkle.ProofError as exc:
        return Decision(
            Outcome.FORK,
            f"size {cp.size} is not consistent with cosigned size {state.size}: {exc}",
            None,
            cp,
        )
    return Decision(
        Outcome.COSIGN, f"size {cp.size} extends cosigned size {state.size}", new_state, cp
    )


def cosign(signed_checkpoint: str, signer: Signer, timestamp: int) -> str:
    """The cosignature line for an accepted checkpoint (call only after ``review`` said yes)."""
    note_text = signed_checkpoint[: signed_checkpoint.rfind("\n\n") + 1]
    return signer.signature_line(note_text, timestamp)
