"""Property: for any contract, any sequence of deliveries (accepted, or disputed and resolved
by a reduction, a return or a withdrawn claim) and any payments and refunds along the way,
the account never loses a fen, and when the two sides are square, what the buyer paid less
what was refunded is exactly what the deliveries are owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.market import terms

CENT = Decimal("0.01")
START = date(2026, 3, 2)


@dataclass(frozen=True)
class Step:
    kg_tenths: int  # the delivery's quantity in tenths of a kilogram
    outcome: str  # accepted | reduction_amount | reduction_percent | return | withdrawn
    share: int  # 1–100: how big the reduction or the return is, relative to the delivery
    pay_share: int  # 0–100: how much of what is owed the buyer pays after this step
    refund_share: int  # 0–100: how much of what is owed back the seller refunds after it


steps = st.builds(
    Step,
    kg_tenths=st.integers(1, 50_000),
    outcome=st.sampled_from(
        ["accepted", "reduction_amount", "reduction_percent", "return", "withdrawn"]
    ),
    share=st.integers(1, 100),
    pay_share=st.integers(0, 100),
    refund_share=st.integers(0, 100),
)


def _money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _adjustment(step: Step, kg: Decimal, price: Decimal) -> Decimal:
    """The outcome's adjustment, worked out here independently of the service."""
    value = _money(kg * price)
    share = Decimal(step.share)
    if step.outcome == "reduction_amount":
        return _money(value * share / 100)
    if step.outcome == "reduction_percent":
        return terms.reduction_of(value, share)
    if step.outcome == "return":
        back = (kg * share / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return min(_money(back * price), value)
    return Decimal("0.00")


@settings(max_examples=300, deadline=None)
@given(
    term=st.sampled_from(terms.TERMS),
    price_cents=st.integers(1, 5_000),
    sequence=st.lists(steps, min_size=1, max_size=5),
)
def test_paid_less_refunded_is_what_is_owed_at_settlement(
    term: str, price_cents: int, sequence: list[Step]
) -> None:
    price = Decimal(price_cents) / 100
    quantity = Decimal(sum(s.kg_tenths for s in sequence)) / 10
    owed_deliveries: list[terms.Delivery] = []
    payments: list[tuple[date, Decimal]] = []
    refunds: list[Decimal] = []
    expected_values: list[Decimal] = []

    def account() -> terms.Account:
        charges = terms.charges(
            term=term,
            contracted_on=START,
            quantity_kg=quantity,
            price_per_kg=price,
            accepted=owed_deliveries,
        )
        return terms.account(charges, payments, refunds)

    for number, step in enumerate(sequence, start=1):
        day = START + timedelta(days=number)
        kg = Decimal(step.kg_tenths) / 10
        adjustment = _adjustment(step, kg, price)
        owed_deliveries.append(terms.Delivery(number, day, kg, adjustment))
        expected_values.append(_money(kg * price) - adjustment)
        now = account()
        # The buyer pays part of what is owed (never more, as the service refuses).
        pay = _money(now.owed * step.pay_share / 100)
        if pay > 0:
            payments.append((day, pay))
        now = account()
        refund = _money(now.credit * step.refund_share / 100)
        if refund > 0:
            refunds.append(refund)
        now = account()
        # Not a fen lost on the way: paid − refunded = what was applied + what is owed back.
        applied = now.charged - now.owed
        assert sum((a for _, a in payments), Decimal(0)) - sum(refunds, Decimal(0)) == (
            applied + now.credit
        )
        assert now.credit >= 0 and now.owed >= 0

    # The desk closes the order: the buyer pays the rest, the seller refunds the rest.
    last = START + timedelta(days=len(sequence) + 1)
    if account().owed:
        payments.append((last, account().owed))
    if account().credit:
        refunds.append(account().credit)
    final = account()
    assert final.square
    paid, refunded = sum((a for _, a in payments), Decimal(0)), sum(refunds, Decimal(0))
    if term == terms.PREPAYMENT:
        contract = _money(quantity * price)
        expected = max(contract - sum(d.adjustment for d in owed_deliveries), Decimal("0.00"))
    else:
        expected = sum(expected_values, Decimal("0.00"))
    assert paid - refunded == final.charged == expected
