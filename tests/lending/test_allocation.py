"""Payment allocation: the configured order, and never a fen lost or made (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.lending.allocation import (
    AllocationOrder,
    Bucket,
    Charge,
    Component,
    allocate,
    bucket_of,
    charges_of,
)

D = Decimal
TODAY = date(2024, 6, 15)
P, F, INT, PR = Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL


def owed() -> list[Charge]:
    # instalment 1 overdue (with a penalty), 2 due today, 3 in the future
    return charges_of(
        [
            (1, date(2024, 5, 15), D(300), D(50), D(5)),
            (2, TODAY, D(300), D(47), D(5)),
            (3, date(2024, 7, 15), D(300), D(44), D(5)),
        ],
        penalties={1: D("4.50")},
    )


def test_default_order_clears_the_oldest_instalment_component_by_component() -> None:
    result = allocate(D(400), owed(), TODAY)
    first = [(c.instalment, c.component, a) for c, a in result.applied]
    assert first == [
        (1, P, D("4.50")),
        (1, F, D(5)),
        (1, INT, D(50)),
        (1, PR, D(300)),
        (2, F, D(5)),
        (2, INT, D("35.50")),
    ]
    assert result.unapplied == 0
    assert result.total(INT) == D("85.50")


def test_by_component_pays_every_fee_before_any_interest() -> None:
    order = AllocationOrder(by_instalment=False)
    result = allocate(D(400), owed(), TODAY, order)
    paid = {(c.instalment, c.component): a for c, a in result.applied}
    # overdue bucket first (penalty, fee, interest, principal of instalment 1), then due
    assert paid[(1, PR)] == D(300)
    assert paid[(2, F)] == D(5) and paid[(2, INT)] == D("35.50") and (2, PR) not in paid


def test_interest_before_fees_when_configured() -> None:
    order = AllocationOrder(components=(INT, PR, P, F))
    result = allocate(D(360), owed(), TODAY, order)
    paid = {(c.instalment, c.component): a for c, a in result.applied}
    assert paid == {
        (1, INT): D(50),
        (1, PR): D(300),
        (1, P): D("4.50"),
        (1, F): D(5),
        (2, INT): D("0.50"),  # the next instalment's first component in this order
    }


def test_future_instalments_left_out_makes_an_overpayment_unapplied() -> None:
    order = AllocationOrder(buckets=(Bucket.OVERDUE, Bucket.DUE))
    result = allocate(D(1000), owed(), TODAY, order)
    assert result.unapplied == D(1000) - D("4.50") - D(355) - D(352)
    assert all(c.instalment < 3 for c, _ in result.applied)


def test_amounts_must_be_whole_fen() -> None:
    with pytest.raises(ValueError, match="whole fen"):
        allocate(D("1.005"), owed(), TODAY)
    with pytest.raises(ValueError, match="once"):
        AllocationOrder(components=(P, P))


amounts = st.decimals(min_value=D(0), max_value=D("100000.00"), places=2)
charges = st.lists(
    st.builds(
        Charge,
        st.integers(1, 24),
        st.dates(TODAY - timedelta(days=200), TODAY + timedelta(days=200)),
        st.sampled_from(Component),
        amounts,
    ),
    max_size=40,
)
orders = st.builds(
    AllocationOrder,
    st.permutations(list(Component)).map(tuple),
    st.permutations(list(Bucket)).flatmap(lambda b: st.integers(1, 3).map(lambda n: tuple(b[:n]))),
    st.booleans(),
)


@given(amounts, charges, orders)
def test_allocation_never_loses_or_creates_a_fen(
    payment: Decimal, owed: list[Charge], order: AllocationOrder
) -> None:
    result = allocate(payment, owed, TODAY, order)
    assert sum((a for _, a in result.applied), D(0)) + result.unapplied == payment
    assert all(0 < a <= c.amount for c, a in result.applied)
    # only the last charge paid may be paid in part, and something is left over only when
    # every eligible charge is paid in full
    partial = [c for c, a in result.applied if a < c.amount]
    assert len(partial) <= 1
    if partial:
        assert result.applied[-1][0] is partial[0] and result.unapplied == 0
    if result.unapplied:
        eligible = [
            c
            for c in owed
            if c.amount and c.component in order.components and bucket_of(c, TODAY) in order.buckets
        ]
        assert len(result.applied) == len(eligible)  # every eligible charge paid in full
