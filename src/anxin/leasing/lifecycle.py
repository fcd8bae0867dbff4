"""A lease's stages and the moves between them (pure).

quote → approved → ordered (the vendor's purchase order) → vendor_paid → active (delivered and
accepted, serials recorded) → transferred (title passes on the last payment or an early
buy-out); an active lease in arrears may be repossessed; anything before delivery may be
cancelled.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    QUOTE = "quote"
    APPROVED = "approved"
    ORDERED = "ordered"
    VENDOR_PAID = "vendor_paid"
    ACTIVE = "active"
    TRANSFERRED = "transferred"
    REPOSSESSED = "repossessed"
    CANCELLED = "cancelled"


PATH = (
    Stage.QUOTE,
    Stage.APPROVED,
    Stage.ORDERED,
    Stage.VENDOR_PAID,
    Stage.ACTIVE,
    Stage.TRANSFERRED,
)

MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.QUOTE: frozenset({Stage.APPROVED, Stage.CANCELLED}),
    Stage.APPROVED: frozenset({Stage.ORDERED, Stage.CANCELLED}),
    Stage.ORDERED: frozenset({Stage.VENDOR_PAID, Stage.CANCELLED}),
    Stage.VENDOR_PAID: frozenset({Stage.ACTIVE, Stage.CANCELLED}),
    Stage.ACTIVE: frozenset({Stage.TRANSFERRED, Stage.REPOSSESSED}),
    Stage.TRANSFERRED: frozenset(),
    Stage.REPOSSESSED: frozenset(),
    Stage.CANCELLED: frozenset(),
}


class IllegalMove(ValueError):
    pass


def advance(current: Stage, target: Stage) -> Stage:
    if target not in MOVES[current]:
        raise IllegalMove(f"a lease cannot move from {current.value} to {target.value}")
    return target
