"""Payment terms on lending's core, and quality inspection against a grade."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from anxin.market import terms

D = Decimal


def _accepted() -> list[terms.Delivery]:
    return [
        terms.Delivery(1, date(2026, 1, 31), D("400.0")),
        terms.Delivery(2, date(2026, 2, 10), D("600.0")),
    ]


def test_net_30_falls_due_thirty_days_after_each_acceptance() -> None:
    charges = terms.charges(
        term=terms.NET_30,
        contracted_on=date(2026, 1, 5),
        quantity_kg=D("1000.0"),
        price_per_kg=D("7.55"),
        accepted=_accepted(),
    )
    assert [(c.due, c.amount) for c in charges] == [
        (date(2026, 3, 2), D("3020.00")),
        (date(2026, 3, 12), D("4530.00")),
    ]


def test_on_delivery_and_prepayment() -> None:
    args = {
        "contracted_on": date(2026, 1, 5),
        "quantity_kg": D("1000.0"),
        "price_per_kg": D("7.55"),
    }
    on_delivery = terms.charges(term=terms.ON_DELIVERY, accepted=_accepted(), **args)  # type: ignore[arg-type]
    assert [c.due for c in on_delivery] == [date(2026, 1, 31), date(2026, 2, 10)]
    (prepay,) = terms.charges(term=terms.PREPAYMENT, accepted=[], **args)  # type: ignore[arg-type]
    assert (prepay.due, prepay.amount) == (date(2026, 1, 5), D("7550.00"))
    with pytest.raises(ValueError):
        terms.charges(term="net_90", accepted=[], **args)  # type: ignore[arg-type]


def test_payments_clear_the_oldest_charge_first_and_keep_the_fen() -> None:
    charges = terms.charges(
        term=terms.NET_30,
        contracted_on=date(2026, 1, 5),
        quantity_kg=D("1000.0"),
        price_per_kg=D("7.55"),
        accepted=_accepted(),
    )
    account = terms.account(charges, [(date(2026, 3, 1), D("3500.00"))])
    assert account.paid == D("3500.00") and account.charged == D("7550.00")
    (left,) = account.outstanding
    assert (left.due, left.amount) == (date(2026, 3, 12), D("4050.00"))
    done = terms.account(charges, [(date(2026, 3, 1), D("3500.00")), (date(2026, 3, 5), D("4060"))])
    assert done.outstanding == [] and done.credit == D("10.00")


def test_inspection_widens_limits_by_the_tolerance_and_refuses_what_was_not_measured() -> None:
    limits = {"moisture_pct": 15.0, "broken_pct": 10.0}
    assert (
        terms.inspect(limits, {"moisture_pct": 0.5}, {"moisture_pct": 15.5, "broken_pct": 10}) == []
    )
    (dev,) = terms.inspect(limits, {}, {"moisture_pct": 15.01, "broken_pct": 3})
    assert (dev.parameter, dev.limit, dev.tolerance) == ("moisture_pct", 15.0, 0.0)
    (missing,) = terms.inspect(limits, {}, {"moisture_pct": 12})
    assert missing.parameter == "broken_pct" and missing.measured != missing.measured
