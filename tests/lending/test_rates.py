"""IRR, XIRR and the two disclosed rates: Regulation Z's worked example, peers, and the
properties that make a rate a rate (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import pyxirr
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.lending import rates
from anxin.lending.rates import (
    TOLERANCE,
    NoRateError,
    as_percent,
    china_annualised_rate,
    disclosed_rates,
    irr,
    reg_z_apr,
    unit_periods,
    xirr,
)
from anxin.lending.schedule import (
    MONTHLY,
    QUARTERLY,
    CashFlow,
    Terms,
    Timing,
    add_months,
    build,
)

D = Decimal


def monthly(first: date, count: int, amount: str) -> list[CashFlow]:
    return [CashFlow(add_months(first, k), D(amount)) for k in range(count)]


def test_regulation_z_appendix_j_single_advance_regular_first_period() -> None:
    # 12 CFR 1026, Appendix J (c), the example of a single advance with a regular first
    # period: $5,000 advanced, 24 monthly payments of $230.00, APR 9.69 %.
    advance = [CashFlow(date(1978, 1, 10), D(5000))]
    apr = reg_z_apr(advance, monthly(date(1978, 2, 10), 24, "230.00"))
    assert as_percent(apr) == D("9.69")
    # the peer agrees on the unrounded rate
    assert apr == pytest.approx(12 * pyxirr.rate(24, -230, 5000), abs=1e-10)


def test_unit_periods_count_back_from_the_payment() -> None:
    start = date(2024, 1, 10)
    assert unit_periods(start, date(2024, 3, 10), MONTHLY) == (2, rates.UnitFraction(0, 30))
    # 2 months back from 20 Mar is 20 Jan: ten days left at the start, over 30
    t, f = unit_periods(start, date(2024, 3, 20), MONTHLY)
    assert (t, float(f)) == (2, 10 / 30)
    t, f = unit_periods(start, date(2024, 6, 1), QUARTERLY)
    assert (t, f.days, f.per_unit) == (1, 51, 90)  # 10 Jan → 1 Mar 2024 is 51 days


def test_irr_of_simple_flows() -> None:
    assert irr([-100, 110]) == pytest.approx(0.10, abs=TOLERANCE)
    assert irr([D(-100), D(0), D(121)]) == pytest.approx(0.10, abs=TOLERANCE)


def test_newton_that_runs_away_falls_back_to_bisection(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    bisect = rates._bisect

    def spy(npv: Callable[[float], tuple[float, float]]) -> float:
        calls.append(1)
        return bisect(npv)

    monkeypatch.setattr(rates, "_bisect", spy)
    flows = [-1000, 0, 0, 0, 0, 5000]
    assert irr(flows, guess=1e9) == pytest.approx(5 ** (1 / 5) - 1, abs=1e-11)
    assert calls == [1]


def test_flows_of_one_sign_have_no_rate() -> None:
    with pytest.raises(NoRateError):
        irr([100, 100])


def test_xirr_matches_pyxirr() -> None:
    flows = [
        CashFlow(date(2024, 1, 10), D(-10000)),
        CashFlow(date(2024, 4, 2), D(2750)),
        CashFlow(date(2024, 9, 30), D(4250)),
        CashFlow(date(2025, 2, 14), D(3800)),
    ]
    theirs = pyxirr.xirr([f.on for f in flows], [float(f.amount) for f in flows])
    assert xirr(flows) == pytest.approx(theirs, abs=1e-10)


def test_china_rate_counts_every_fee() -> None:
    # 10,000 over 12 months at 12 % with a 200 arrangement fee and 5 a month: IRR × 12 of the
    # borrower's flows (9,800 received; instalment + 5 paid monthly)
    terms = Terms(D(10000), D("0.12"), 12, date(2024, 1, 15), upfront_fee=D(200))
    schedule = build(replace(terms, instalment_fee=D(5)))
    flows = schedule.cash_flows()
    both = disclosed_rates(schedule)
    peer = 12 * pyxirr.irr([float(f.amount) for f in flows])
    assert both.annualised == pytest.approx(peer, abs=1e-10)
    assert as_percent(both.annualised) == D("16.93")  # against 12 % nominal
    assert both.apr == pytest.approx(both.annualised, abs=1e-10)  # regular periods: the same


def test_an_odd_first_period_separates_the_two_rates() -> None:
    # a 45-day first period: Appendix J's simple-interest fraction against compounding
    advance = CashFlow(date(2024, 1, 1), D(5000))
    payments = monthly(date(2024, 2, 15), 24, "235.00")
    apr = reg_z_apr([advance], payments)
    china = china_annualised_rate([CashFlow(advance.on, -advance.amount), *payments])
    assert apr != pytest.approx(china, abs=1e-9)
    assert apr == pytest.approx(china, abs=1e-3)


money = st.decimals(min_value=D("1000.00"), max_value=D("2000000.00"), places=2)
nominal = st.decimals(min_value=D("0.0100"), max_value=D("0.3600"), places=4)
terms_n = st.integers(2, 120)


@settings(deadline=None)  # builds schedules of up to 120 rows on a shared, loaded machine
@given(money, nominal, terms_n)
def test_apr_of_a_fee_free_loan_is_its_nominal_rate(
    principal: Decimal, rate: Decimal, periods: int
) -> None:
    r = float(rate) / 12
    exact = float(principal) * r / (1 - (1 + r) ** -periods)  # the unrounded level payment
    start = date(2024, 3, 31)
    pays = [CashFlow(add_months(start, k + 1), D(repr(exact))) for k in range(periods)]
    apr = reg_z_apr([CashFlow(start, principal)], pays)
    assert apr == pytest.approx(float(rate), abs=1e-9)
    # and the schedule as built, rounded to the fen, is within a basis point of it
    schedule = build(Terms(principal, rate, periods, start))
    assert disclosed_rates(schedule).apr == pytest.approx(float(rate), abs=1e-4)


@settings(deadline=None)
@given(
    money,
    nominal,
    terms_n,
    st.decimals(D("0.01"), D("500.00"), places=2),
    st.decimals(D(0), D("50.00"), places=2),
)
def test_fees_raise_both_rates(
    principal: Decimal, rate: Decimal, periods: int, upfront: Decimal, monthly_fee: Decimal
) -> None:
    start = date(2024, 1, 15)
    plain = disclosed_rates(build(Terms(principal, rate, periods, start)))
    charged = disclosed_rates(
        build(
            Terms(principal, rate, periods, start, upfront_fee=upfront, instalment_fee=monthly_fee)
        )
    )
    assert charged.apr > plain.apr
    assert charged.annualised > plain.annualised


def test_the_rate_implicit_in_rent_in_advance_with_a_residual_is_the_lease_rate() -> None:
    # what leasing (issue 16) will ask: the rate solved back from the rents and the residual
    terms = Terms(
        D(3000000), D("0.065"), 36, date(2026, 3, 1), timing=Timing.ADVANCE, balloon=D(300000)
    )
    both = disclosed_rates(build(terms))
    assert both.annualised == pytest.approx(0.065, abs=1e-5)  # rents rounded to the fen
    assert both.apr == pytest.approx(both.annualised, abs=1e-12)
