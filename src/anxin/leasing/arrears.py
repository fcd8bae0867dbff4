"""Rents received against a lease's schedule: partial payments and penalty interest (pure).

A payment is applied through the lending core's allocation (`lending.allocation.allocate`, in
whole fen, Fineract's order): the oldest rent first, and within a rent its penalty, then its
VAT (the core's *fee* slot: charged on the rent's invoice, remitted by the lessor whatever the
lessee pays), its interest, its principal. A payment may be any amount up to everything still
owed on its date; more is refused (an overpayment is not held as credit), so every fen
received is applied somewhere.

Penalty interest (逾期违约金) runs on a rent's unpaid amount (rent and VAT) from its due date
at the contract's annual penalty rate, day-counted ACT/360 as Chinese contracts quote a daily
rate (0.18 a year = 0.05 % a day, 万分之五), by the core's `default_interest`. It is
crystallised on each payment's date, like the lending core's loans, and what has run since the
last payment is added when a position is read.

The state is replayed from the payments in date order; payments are recorded in date order
(the service refuses one dated before the last), so the replay is what was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from anxin.lending.allocation import Allocation, Charge, Component, allocate, charges_of

__all__ = ["Component", "Overpayment", "Position", "Receipt", "RentDue", "apply", "settle"]
from anxin.lending.schedule import ZERO, default_interest


@dataclass(frozen=True)
class RentDue:
    """One schedule row as the lessee owes it."""

    number: int
    due: date
    principal: Decimal
    interest: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.vat


@dataclass(frozen=True)
class Receipt:
    paid_on: date
    amount: Decimal


class Overpayment(ValueError):
    """A payment larger than everything owed on its date."""

    def __init__(self, owed: Decimal) -> None:
        super().__init__(f"more than everything owed ({owed})")
        self.owed = owed


@dataclass
class RentState:
    rent: RentDue
    paid: dict[Component, Decimal] = field(default_factory=lambda: dict.fromkeys(Component, ZERO))
    penalty: Decimal = ZERO  # crystallised up to `penalty_to`
    penalty_to: date | None = None

    @property
    def unpaid(self) -> Decimal:
        """Rent and VAT still owed (the base of penalty interest)."""
        r, p = self.rent, self.paid
        return (
            r.principal
            - p[Component.PRINCIPAL]
            + r.interest
            - p[Component.INTEREST]
            + r.vat
            - p[Component.FEE]
        )

    @property
    def paid_amount(self) -> Decimal:
        return sum(self.paid.values(), ZERO)

    @property
    def settled(self) -> bool:
        return self.unpaid == 0

    def _since(self) -> date:
        return max(self.rent.due, self.penalty_to or self.rent.due)

    def penalty_owed(self, on: date, rate: Decimal) -> Decimal:
        """Penalty interest unpaid on `on`: crystallised and not paid, plus what ran since."""
        running = default_interest(self.unpaid, self._since(), on, rate)
        return self.penalty - self.paid[Component.PENALTY] + running

    def crystallise(self, on: date, rate: Decimal) -> None:
        since = self._since()
        if on > since:
            self.penalty += default_interest(self.unpaid, since, on, rate)
            self.penalty_to = on


def _charges(rows: Sequence[RentState]) -> list[Charge]:
    return charges_of(
        (
            (
                s.rent.number,
                s.rent.due,
                s.rent.principal - s.paid[Component.PRINCIPAL],
                s.rent.interest - s.paid[Component.INTEREST],
                s.rent.vat - s.paid[Component.FEE],
            )
            for s in rows
        ),
        {s.rent.number: s.penalty - s.paid[Component.PENALTY] for s in rows},
    )


@dataclass(frozen=True)
class Position:
    """Where a lease's rents stand on `as_of`, after every payment."""

    rows: tuple[RentState, ...]
    allocations: tuple[Allocation, ...]
    as_of: date
    penalty_rate: Decimal

    def penalty(self, row: RentState) -> Decimal:
        return row.penalty_owed(self.as_of, self.penalty_rate)

    @property
    def settled(self) -> int:
        """Rents paid in full, counted from the first (payments clear the oldest first)."""
        count = 0
        for row in self.rows:
            if not row.settled:
                break
            count += 1
        return count

    @property
    def penalty_owed(self) -> Decimal:
        return sum((self.penalty(r) for r in self.rows), ZERO)

    @property
    def overdue(self) -> Decimal:
        """Rent and VAT past due and unpaid on `as_of` (penalty not included)."""
        return sum((r.unpaid for r in self.rows if r.rent.due < self.as_of), ZERO)

    @property
    def owed(self) -> Decimal:
        """Everything still owed on `as_of`: every unpaid rent, due or not, and penalties."""
        return sum((r.unpaid for r in self.rows), ZERO) + self.penalty_owed

    @property
    def first_overdue(self) -> RentState | None:
        return next((r for r in self.rows if not r.settled and r.rent.due < self.as_of), None)

    @property
    def complete(self) -> bool:
        """Every rent paid and no penalty left: the title may pass."""
        return all(r.settled for r in self.rows) and self.penalty_owed == 0


def apply(rows: Sequence[RentState], receipt: Receipt, penalty_rate: Decimal) -> Allocation:
    """Apply one payment to the rows (mutated): penalties crystallised to its date, then the
    lending core's allocation. Raises `Overpayment` when it exceeds everything owed."""
    for row in rows:
        row.crystallise(receipt.paid_on, penalty_rate)
    charges = _charges(rows)
    owed = sum((c.amount for c in charges), ZERO)
    if receipt.amount > owed:
        raise Overpayment(owed)
    result = allocate(receipt.amount, charges, receipt.paid_on)
    by_number = {r.rent.number: r for r in rows}
    for charge, amount in result.applied:
        by_number[charge.instalment].paid[charge.component] += amount
    return result


def settle(
    dues: Iterable[RentDue], receipts: Iterable[Receipt], penalty_rate: Decimal, as_of: date
) -> Position:
    """Replay the payments (in date order) against the rents: the lease's position on
    `as_of` (which is on or after the last payment)."""
    rows = tuple(RentState(d) for d in dues)
    done = tuple(apply(rows, r, penalty_rate) for r in sorted(receipts, key=lambda r: r.paid_on))
    return Position(rows, done, as_of, penalty_rate)
