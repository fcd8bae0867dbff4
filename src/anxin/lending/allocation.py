"""Allocating a repayment to what is owed, in a configurable order, without losing a fen.

What is owed is a list of `Charge`s (an instalment's penalty, fee, interest or principal). A
charge falls in a bucket by its due date against the payment date: overdue (before), due (on),
future (after). The order says which buckets are paid first, and within them either
*by instalment* (the oldest instalment is cleared in component order before the next:
Fineract's "penalties, fees, interest, principal order") or *by component* (every overdue
penalty before any overdue fee, and so on). A bucket left out of the order is not paid: what is
left over is returned as unapplied (an overpayment to refund or hold as credit).

All arithmetic is in integer fen, so the applied amounts and the unapplied rest always add up to
the payment exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from anxin.core.money import from_fen


class Component(StrEnum):
    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class Bucket(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    FUTURE = "future"


@dataclass(frozen=True)
class Charge:
    instalment: int
    due: date
    component: Component
    amount: Decimal


@dataclass(frozen=True)
class AllocationOrder:
    components: tuple[Component, ...] = (
        Component.PENALTY,
        Component.FEE,
        Component.INTEREST,
        Component.PRINCIPAL,
    )
    buckets: tuple[Bucket, ...] = (Bucket.OVERDUE, Bucket.DUE, Bucket.FUTURE)
    by_instalment: bool = True

    def __post_init__(self) -> None:
        if not self.components or len(set(self.components)) != len(self.components):
            raise ValueError("components must be listed once each")
        if not self.buckets or len(set(self.buckets)) != len(self.buckets):
            raise ValueError("buckets must be listed once each")


DEFAULT_ORDER = AllocationOrder()


@dataclass(frozen=True)
class Allocation:
    applied: tuple[tuple[Charge, Decimal], ...]
    unapplied: Decimal

    def total(self, component: Component) -> Decimal:
        return sum((a for c, a in self.applied if c.component is component), Decimal("0.00"))


def _fen(amount: Decimal, what: str) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value() or amount < 0:
        raise ValueError(f"{what} must be a non-negative amount in whole fen: {amount}")
    return int(fen)


def bucket_of(charge: Charge, on: date) -> Bucket:
    if charge.due < on:
        return Bucket.OVERDUE
    return Bucket.DUE if charge.due == on else Bucket.FUTURE


def allocate(
    payment: Decimal,
    charges: Iterable[Charge],
    on: date,
    order: AllocationOrder = DEFAULT_ORDER,
) -> Allocation:
    """Apply `payment`, received on `on`, to `charges` in `order`."""
    left = _fen(payment, "the payment")
    bucket_rank = {b: i for i, b in enumerate(order.buckets)}
    component_rank = {c: i for i, c in enumerate(order.components)}
    eligible = [
        c
        for c in charges
        if bucket_of(c, on) in bucket_rank and c.component in component_rank and c.amount
    ]

    def key(c: Charge) -> tuple[int, ...]:
        bucket, component = bucket_rank[bucket_of(c, on)], component_rank[c.component]
        when = (c.due.toordinal(), c.instalment)
        return (bucket, *when, component) if order.by_instalment else (bucket, component, *when)

    applied: list[tuple[Charge, Decimal]] = []
    for charge in sorted(eligible, key=key):
        if left == 0:
            break
        take = min(left, _fen(charge.amount, "a charge"))
        left -= take
        applied.append((charge, from_fen(take)))
    return Allocation(tuple(applied), from_fen(left))


def charges_of(
    instalments: Iterable[tuple[int, date, Decimal, Decimal, Decimal]],
    penalties: dict[int, Decimal] | None = None,
) -> list[Charge]:
    """Charges from (number, due, principal, interest, fee) rows still owed, plus any penalty
    per instalment number."""
    out: list[Charge] = []
    for number, due, principal, interest, fee in instalments:
        penalty = (penalties or {}).get(number, Decimal(0))
        for component, amount in (
            (Component.PENALTY, penalty),
            (Component.FEE, fee),
            (Component.INTEREST, interest),
            (Component.PRINCIPAL, principal),
        ):
            if amount:
                out.append(Charge(number, due, component, amount))
    return out
