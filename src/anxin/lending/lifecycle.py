"""The loan's lifecycle as an explicit state machine (pure).

application → review → approved / declined → disclosed → recorded → cooling_off → callback →
disbursed → active → closed / written_off. Each consumer-protection step is a stage, so a loan
cannot reach disbursement without passing through every one of them; `advance` refuses any
other move and says which stage must come first. An override may swap approved and declined
before the disclosure; a borrower may cancel free of charge at any stage before disbursement.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    APPLICATION = "application"
    REVIEW = "review"
    APPROVED = "approved"
    DECLINED = "declined"
    DISCLOSED = "disclosed"
    RECORDED = "recorded"
    COOLING_OFF = "cooling_off"
    CALLBACK = "callback"
    DISBURSED = "disbursed"
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"
    CANCELLED = "cancelled"


MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.APPLICATION: frozenset({Stage.REVIEW, Stage.CANCELLED}),
    Stage.REVIEW: frozenset({Stage.APPROVED, Stage.DECLINED, Stage.CANCELLED}),
    Stage.APPROVED: frozenset({Stage.DISCLOSED, Stage.DECLINED, Stage.CANCELLED}),
    Stage.DECLINED: frozenset({Stage.APPROVED}),
    Stage.DISCLOSED: frozenset({Stage.RECORDED, Stage.CANCELLED}),
    Stage.RECORDED: frozenset({Stage.COOLING_OFF, Stage.CANCELLED}),
    Stage.COOLING_OFF: frozenset({Stage.CALLBACK, Stage.CANCELLED}),
    Stage.CALLBACK: frozenset({Stage.DISBURSED, Stage.CANCELLED}),
    Stage.DISBURSED: frozenset({Stage.ACTIVE}),
    Stage.ACTIVE: frozenset({Stage.CLOSED, Stage.WRITTEN_OFF}),
    Stage.CLOSED: frozenset(),
    Stage.WRITTEN_OFF: frozenset(),
    Stage.CANCELLED: frozenset(),
}

# The one path to disbursement: every consumer-protection gate in order.
PATH: tuple[Stage, ...] = (
    Stage.APPLICATION,
    Stage.REVIEW,
    Stage.APPROVED,
    Stage.DISCLOSED,
    Stage.RECORDED,
    Stage.COOLING_OFF,
    Stage.CALLBACK,
    Stage.DISBURSED,
    Stage.ACTIVE,
)


class IllegalMove(ValueError):
    def __init__(self, current: Stage, target: Stage) -> None:
        self.current = current
        self.target = target
        super().__init__(explain(current, target))


def explain(current: Stage, target: Stage) -> str:
    if current in PATH and target in PATH and PATH.index(target) > PATH.index(current) + 1:
        missing = PATH[PATH.index(current) + 1]
        return f"cannot go from {current} to {target}: the loan must first be {missing}"
    if not MOVES[current]:
        return f"the loan is {current}; it can no longer change"
    allowed = ", ".join(sorted(MOVES[current]))
    return f"cannot go from {current} to {target}; from {current} the loan can go to: {allowed}"


def advance(current: Stage, target: Stage) -> Stage:
    if target not in MOVES[current]:
        raise IllegalMove(current, target)
    return target
