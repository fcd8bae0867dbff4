"""Partial rent payments and penalty interest on overdue rent (`leasing.arrears`): a worked
example by hand, and the invariants — every fen paid is applied, an allocation sums to its
payment, nothing is paid beyond what was owed, paying everything owed completes the lease."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.leasing.arrears import Overpayment, Receipt, RentDue, apply, settle
from anxin.lending.allocation import Component

D = Decimal
RATE = D("0.18")  # 0.05 % a day on a 360-day year


def _rents(n: int = 3) -> list[RentDue]:
    return [
        RentDue(k + 1, date(2027, 1 + k, 1), D("900.00"), D("100.00"), D("130.00"))
        for k in range(n)
    ]


def test_partial_payment_with_penalty_by_hand() -> None:
    """Rent 1 (principal 900, interest 100, VAT 130 = 1,130) due 1 Jan, 500 paid on 31 Jan:
    30 days late, penalty 1,130 × 0.18 × 30/360 = 16.95 first, then the VAT 130, the interest
    100, and 253.05 of principal. 646.95 is left; thirty days on, 646.95 × 0.18 × 30/360 =
    9.70425 → 9.70 of penalty has run on it."""
    rows = _rents(1)
    state = settle(rows, [Receipt(date(2027, 1, 31), D("500.00"))], RATE, date(2027, 3, 2))
    (row,) = state.rows
    assert row.paid == {
        Component.PENALTY: D("16.95"),
        Component.FEE: D("130.00"),
        Component.INTEREST: D("100.00"),
        Component.PRINCIPAL: D("253.05"),
    }
    assert row.unpaid == D("646.95") and not row.settled and state.settled == 0
    assert state.penalty_owed == D("9.70") and state.overdue == D("646.95")
    assert state.owed == D("656.65") and not state.complete
    # paying exactly what is owed on 2 March settles the rent and its penalty
    done = settle(
        rows,
        [Receipt(date(2027, 1, 31), D("500.00")), Receipt(date(2027, 3, 2), D("656.65"))],
        RATE,
        date(2027, 3, 2),
    )
    assert done.complete and done.settled == 1 and done.penalty_owed == 0


def test_paid_on_time_carries_no_penalty_and_overpayment_is_refused() -> None:
    rows = _rents(3)
    on_time = settle(rows, [Receipt(date(2027, 1, 1), D("1130.00"))], RATE, date(2027, 1, 20))
    assert on_time.settled == 1 and on_time.penalty_owed == 0 and on_time.overdue == 0
    assert on_time.first_overdue is None
    later = settle(rows, [Receipt(date(2027, 1, 1), D("1130.00"))], RATE, date(2027, 2, 11))
    assert later.first_overdue is not None and later.first_overdue.rent.number == 2
    assert later.penalty_owed == D("5.65")  # 1,130 × 0.18 × 10/360
    with pytest.raises(Overpayment) as refused:
        settle(rows, [Receipt(date(2027, 1, 1), D("3390.01"))], RATE, date(2027, 1, 1))
    assert refused.value.owed == D("3390.00")  # three rents, none yet late


_amount = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)


@settings(deadline=None, max_examples=150)  # no timing asserted: the machine is shared
@given(
    rents=st.lists(st.tuples(_amount, _amount, _amount), min_size=1, max_size=8),
    payments=st.lists(
        st.tuples(st.integers(0, 400), st.decimals(D("0.01"), D("1"), places=4)), max_size=10
    ),
    rate=st.decimals(D("0"), D("0.5"), places=4),
)
def test_nothing_paid_is_lost(
    rents: list[tuple[Decimal, Decimal, Decimal]],
    payments: list[tuple[int, Decimal]],
    rate: Decimal,
) -> None:
    """Payments of random shares of what is owed, on random later days: each allocation sums
    to its payment, the rents' paid parts sum to every payment, no part is paid beyond its
    amount, and paying what is left completes the lease."""
    start = date(2027, 1, 1)
    dues = [RentDue(k + 1, start + timedelta(days=30 * k), p, i, v) for k, (p, i, v) in
            enumerate(rents)]  # fmt: skip
    state = settle(dues, [], rate, start)
    received: list[Receipt] = []
    day = start
    for gap, share in sorted(payments):
        day = max(day, start + timedelta(days=gap))
        probe = settle(dues, received, rate, day)
        owed = probe.owed
        amount = (owed * share).quantize(D("0.01"))
        if amount <= 0:
            continue
        allocation = apply(probe.rows, Receipt(day, amount), rate)
        assert sum((a for _, a in allocation.applied), D(0)) == amount
        assert allocation.unapplied == 0
        received.append(Receipt(day, amount))
    state = settle(dues, received, rate, day)
    assert sum((r.paid_amount for r in state.rows), D(0)) == sum(r.amount for r in received)
    for row in state.rows:
        assert row.paid[Component.PRINCIPAL] <= row.rent.principal
        assert row.paid[Component.INTEREST] <= row.rent.interest
        assert row.paid[Component.FEE] <= row.rent.vat
        assert row.paid[Component.PENALTY] <= row.penalty
    # the oldest rents are cleared first: the settled ones are a prefix
    settled = [r.settled for r in state.rows]
    assert settled == sorted(settled, reverse=True)
    rest = state.owed
    if rest:
        final = settle(dues, [*received, Receipt(day, rest)], rate, day)
        assert final.complete
