"""Payment terms and quality acceptance of a contract: pure, on lending's cash-flow core.

What a buyer owes is a list of lending `Charge`s (principal only: trade credit here carries no
interest), each due by the contract's payment term; a payment is applied to them with lending's
`allocate`, oldest due first, in whole fen. Due dates step with lending's `Frequency`, the same
calendar arithmetic loans and leases use.

A disputed delivery's value is owed once the two sides agree an outcome, less the outcome's
adjustment (a price reduction, the value of what went back). What was paid beyond every charge
is lending's *unapplied* rest: the credit the seller owes back, which a refund pays off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from anxin.core.money import to_money
from anxin.lending.allocation import Allocation, Charge, Component, allocate
from anxin.lending.schedule import Frequency

NET_DAYS = Frequency(days=30)
PREPAYMENT = "prepayment"
ON_DELIVERY = "on_delivery"
NET_30 = "net_30"
TERMS = (PREPAYMENT, ON_DELIVERY, NET_30)


@dataclass(frozen=True)
class Delivery:
    number: int  # the shipment's sequence in the order
    accepted_on: date  # or the day its dispute was resolved
    quantity_kg: Decimal
    adjustment: Decimal = Decimal("0.00")  # taken off its value by a dispute's outcome


def value_of(quantity_kg: Decimal, price_per_kg: Decimal) -> Decimal:
    """A quantity's value at the contract price, in whole fen."""
    return to_money(quantity_kg * price_per_kg)


def reduction_of(value: Decimal, percent: Decimal) -> Decimal:
    """A percentage off a delivery's value, in whole fen (half up, as every amount here)."""
    return to_money(value * percent / 100)


def charges(
    *,
    term: str,
    contracted_on: date,
    quantity_kg: Decimal,
    price_per_kg: Decimal,
    accepted: Sequence[Delivery],
) -> list[Charge]:
    """What the buyer owes, and when: the contract value on signing less what resolved
    disputes took off (prepayment), or each accepted delivery's value less its adjustment on
    acceptance (on delivery) or 30 days after (net 30). A rejected delivery is in `accepted`
    only once its dispute is resolved; until then it is owed nothing (or, prepaid, in full)."""
    if term == PREPAYMENT:
        adjusted = sum((d.adjustment for d in accepted), Decimal("0.00"))
        # Fen rounding per delivery may take a fen more than the whole contract's value.
        value = max(value_of(quantity_kg, price_per_kg) - adjusted, Decimal("0.00"))
        return [Charge(0, contracted_on, Component.PRINCIPAL, value)]
    if term not in (ON_DELIVERY, NET_30):
        raise ValueError(f"unknown payment term {term}")
    return [
        Charge(
            d.number,
            d.accepted_on if term == ON_DELIVERY else NET_DAYS.step(d.accepted_on, 1),
            Component.PRINCIPAL,
            value_of(d.quantity_kg, price_per_kg) - d.adjustment,
        )
        for d in accepted
    ]


@dataclass(frozen=True)
class Account:
    charged: Decimal
    paid: Decimal
    outstanding: list[Charge]  # what is left of each charge
    credit: Decimal  # paid beyond every charge and not yet refunded: the seller owes it back
    refunded: Decimal = Decimal("0.00")

    @property
    def owed(self) -> Decimal:
        return sum((c.amount for c in self.outstanding), Decimal("0.00"))

    @property
    def square(self) -> bool:
        """Nothing owed either way: what was paid, less refunds, is what was charged."""
        return not self.outstanding and self.credit == 0


def account(
    charges_: Iterable[Charge],
    payments: Iterable[tuple[date, Decimal]],
    refunds: Iterable[Decimal] = (),
) -> Account:
    """Apply the payments in date order to the charges; what is left of each, and the credit
    (lending's unapplied rest) less what was refunded."""
    left = {(c.instalment, c.due): c for c in charges_}
    charged = sum((c.amount for c in left.values()), Decimal("0.00"))
    paid = Decimal("0.00")
    credit = Decimal("0.00")
    for on, amount in sorted(payments):
        paid += amount
        result: Allocation = allocate(amount, list(left.values()), on)
        for charge, applied in result.applied:
            key = (charge.instalment, charge.due)
            rest = left[key].amount - applied
            left[key] = Charge(charge.instalment, charge.due, charge.component, rest)
        credit += result.unapplied
    outstanding = [c for c in left.values() if c.amount > 0]
    refunded = sum(refunds, Decimal("0.00"))
    by_due = sorted(outstanding, key=lambda c: c.due)
    return Account(charged, paid, by_due, credit - refunded, refunded)


@dataclass(frozen=True)
class Deviation:
    parameter: str
    measured: float
    limit: float
    tolerance: float


def inspect(
    limits: Mapping[str, float], tolerances: Mapping[str, float], sample: Mapping[str, float]
) -> list[Deviation]:
    """Hold a sample test against the grade's limits (each a maximum) widened by the contract's
    tolerance; a parameter the grade limits but the sample lacks is a deviation (not measured is
    not accepted)."""
    out = []
    for parameter, limit in sorted(limits.items()):
        tolerance = float(tolerances.get(parameter, 0.0))
        measured = sample.get(parameter)
        if measured is None or measured > limit + tolerance:
            out.append(
                Deviation(
                    parameter, float("nan") if measured is None else measured, limit, tolerance
                )
            )
    return out
