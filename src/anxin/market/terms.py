"""Payment terms and quality acceptance of a contract: pure, on lending's cash-flow core.

What a buyer owes is a list of lending `Charge`s (principal only: trade credit here carries no
interest), each due by the contract's payment term; a payment is applied to them with lending's
`allocate`, oldest due first, in whole fen. Due dates step with lending's `Frequency`, the same
calendar arithmetic loans and leases use.
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
    accepted_on: date
    quantity_kg: Decimal


def charges(
    *,
    term: str,
    contracted_on: date,
    quantity_kg: Decimal,
    price_per_kg: Decimal,
    accepted: Sequence[Delivery],
) -> list[Charge]:
    """What the buyer owes, and when: the contract value on signing (prepayment), or each
    accepted delivery's value on acceptance (on delivery) or 30 days after (net 30). A rejected
    delivery is owed nothing until its dispute is resolved."""
    if term == PREPAYMENT:
        value = to_money(quantity_kg * price_per_kg)
        return [Charge(0, contracted_on, Component.PRINCIPAL, value)]
    if term not in (ON_DELIVERY, NET_30):
        raise ValueError(f"unknown payment term {term}")
    return [
        Charge(
            d.number,
            d.accepted_on if term == ON_DELIVERY else NET_DAYS.step(d.accepted_on, 1),
            Component.PRINCIPAL,
            to_money(d.quantity_kg * price_per_kg),
        )
        for d in accepted
    ]


@dataclass(frozen=True)
class Account:
    charged: Decimal
    paid: Decimal
    outstanding: list[Charge]  # what is left of each charge
    credit: Decimal  # paid beyond every charge (a prepayment for goods later rejected)


def account(charges_: Iterable[Charge], payments: Iterable[tuple[date, Decimal]]) -> Account:
    """Apply the payments in date order to the charges; what is left of each, and any credit."""
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
    return Account(charged, paid, sorted(outstanding, key=lambda c: c.due), credit)


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
