"""Finance-lease maths: two published worked examples by hand, and the invariants of any lease
(hypothesis) — finance income sums to the payments less the net investment to the fen, the
lessee's liability and right-of-use asset end at zero, the implicit rate recovers the rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.leasing.finance import (
    LeaseKind,
    LeaseTerms,
    RentMethod,
    buy_out,
    implicit_rate,
    lessee_accounts,
    lessor_accounts,
    rent,
    schedule,
    seasonal,
    vat_of,
)
from anxin.lending.schedule import ANNUAL, MONTHLY, QUARTERLY, Timing, stepped

D = Decimal
START = date(2024, 1, 1)


def test_rent_in_advance_spiceland() -> None:
    """Spiceland, Nelson & Thomas, *Intermediate Accounting*, ch. 15 (leases), the finance
    lease exercise: an asset of $140,000, six annual payments at the beginning of each year,
    5 % → $26,269 a year; the rate implicit in $26,269 is 5 %."""
    terms = LeaseTerms(
        cost=D(140000), annual_rate=D("0.05"), periods=6, start=START,
        timing=Timing.ADVANCE, frequency=ANNUAL,
    )  # fmt: skip
    assert rent(terms).quantize(D(1)) == D(26269)
    rate = implicit_rate(
        financed=D(140000), rent=D(26269), periods=6, timing=Timing.ADVANCE, per_year=1
    )
    assert rate == pytest.approx(0.05, abs=1e-6)
    plan = schedule(terms)
    # the first payment, at commencement, is all principal
    assert (plan.instalments[0].interest, plan.instalments[0].balance) == (D(0), D("113731.00"))
    # year 2's interest: 5 % of 113,731 (Spiceland's amortisation table: $5,687 to the dollar)
    assert plan.instalments[1].interest.quantize(D(1)) == D(5687)


def test_rent_in_arrears_with_residual_icai() -> None:
    """ICAI, AS 19 *Leases*, the illustration of a finance lease: equipment of Rs 3,00,000 for
    3 years, unguaranteed residual Rs 40,000, implicit rate 10 %, annuity factor 2.4868 and
    discount factor 0.7513 → annual lease payment Rs 1,08,550; unearned finance income is the
    gross investment (3 × 1,08,550 + 40,000) less the net investment (3,00,000)."""
    terms = LeaseTerms(
        cost=D(300000), annual_rate=D("0.10"), periods=3, start=START,
        residual=D(40000), frequency=ANNUAL,
    )  # fmt: skip
    assert rent(terms).quantize(D(1)) == D(108550)
    assert implicit_rate(
        financed=D(300000), rent=D(108550), periods=3, residual=D(40000), per_year=1
    ) == pytest.approx(0.10, abs=1e-5)
    accounts = lessor_accounts(terms)
    assert accounts.net_investment == D(300000)
    assert accounts.gross_investment == 3 * rent(terms) + D(40000)
    assert accounts.unearned_income == accounts.gross_investment - D(300000)
    # year 1's finance income is 10 % of the net investment
    assert accounts.rows[0].finance_income == D(30000)
    assert accounts.rows[-1].net_investment == 0 and accounts.rows[-1].unearned_income == 0


def test_lessee_ifrs16_direct_lease() -> None:
    terms = LeaseTerms(
        cost=D(300000), annual_rate=D("0.10"), periods=3, start=START, down_payment=D(30000),
        handling_fee=D(3000), residual=D(1000), frequency=ANNUAL,
    )  # fmt: skip
    lessee = lessee_accounts(terms)
    assert lessee.initial_liability == D(270000)
    # IFRS 16.24: liability + payments before commencement (down payment) + direct costs (fee)
    assert lessee.right_of_use == D(303000)
    assert [r.depreciation for r in lessee.asset] == [D(101000)] * 3
    assert lessee.liability[-1].closing == 0 and lessee.asset[-1].closing == 0


def test_sale_and_leaseback_has_no_right_of_use_and_vat_on_interest() -> None:
    terms = LeaseTerms(
        cost=D(1000000), annual_rate=D("0.06"), periods=12, start=START,
        kind=LeaseKind.LEASEBACK, vat_rate=D("0.06"),
    )  # fmt: skip
    lessee = lessee_accounts(terms)
    assert lessee.right_of_use == 0 and lessee.asset == ()
    row = lessor_accounts(terms).rows[0]
    assert row.vat == (row.finance_income * D("0.06")).quantize(D("0.01"))
    direct = LeaseTerms(
        cost=D(1000000), annual_rate=D("0.06"), periods=12, start=START, vat_rate=D("0.13")
    )
    first = lessor_accounts(direct).rows[0]
    assert first.vat == (first.payment * D("0.13")).quantize(D("0.01"))
    assert vat_of(LeaseTerms(cost=D(1), annual_rate=D(0), periods=1, start=START), D(1), D(1)) == 0


def test_stepped_and_seasonal_rent_follow_their_weights() -> None:
    steps = stepped((12, D(1)), (12, D("1.5")))
    plan = schedule(
        LeaseTerms(cost=D(500000), annual_rate=D("0.08"), periods=24, start=START,
                   method=RentMethod.STEPPED, profile=steps)
    )  # fmt: skip
    totals = [i.total for i in plan.instalments]
    assert totals[12] == (totals[0] * D("1.5")).quantize(D("0.01"))
    season = seasonal(range(3, 9), D(2), D("0.5"))
    plan = schedule(
        LeaseTerms(cost=D(500000), annual_rate=D("0.08"), periods=24, start=START,
                   method=RentMethod.SEASONAL, profile=season)
    )  # fmt: skip
    assert plan.level is not None
    busy, quiet = (plan.level * 2).quantize(D("0.01")), (plan.level / 2).quantize(D("0.01"))
    assert [i.total for i in plan.instalments[:12]] == [quiet] * 3 + [busy] * 6 + [quiet] * 3
    with pytest.raises(ValueError, match="profile"):
        LeaseTerms(cost=D(1), annual_rate=D(0), periods=1, start=START, method=RentMethod.STEPPED)


def test_buy_out_is_outstanding_principal_plus_the_period_interest_plus_fee() -> None:
    terms = LeaseTerms(cost=D(3000000), annual_rate=D("0.065"), periods=36, start=START)
    plan = schedule(terms)
    quote = buy_out(terms, 10, date(2024, 11, 15), D("0.01"), plan)
    assert quote.outstanding_principal == plan.instalments[9].balance
    assert quote.interest == plan.instalments[10].interest
    assert quote.fee == (quote.outstanding_principal * D("0.01")).quantize(D("0.01"))
    assert quote.total == quote.outstanding_principal + quote.interest + quote.fee
    with pytest.raises(ValueError):
        buy_out(terms, 36, START, D(0), plan)


def test_buy_out_with_rents_overdue_adds_the_interest_of_every_period_that_has_run() -> None:
    """Rents 11-13 unpaid and the buy-out asked five days after rent 13 fell due: the interest
    of the three overdue periods and of the period running (rent 14's) is owed, not only the
    next rent's."""
    terms = LeaseTerms(cost=D(3000000), annual_rate=D("0.065"), periods=36, start=START)
    plan = schedule(terms)
    rows = plan.instalments
    on = rows[12].due + timedelta(days=5)
    quote = buy_out(terms, 10, on, D("0.01"), plan)
    assert quote.outstanding_principal == rows[9].balance
    assert quote.interest == sum((r.interest for r in rows[10:14]), D(0))
    on_the_due_date = buy_out(terms, 10, rows[12].due, D("0.01"), plan)
    assert on_the_due_date.interest == sum((r.interest for r in rows[10:13]), D(0))
    after_the_term = buy_out(terms, 10, rows[-1].due + timedelta(days=40), D("0.01"), plan)
    assert after_the_term.interest == sum((r.interest for r in rows[10:]), D(0))


money = st.integers(min_value=10_000_00, max_value=50_000_000_00).map(lambda f: D(f) / 100)
lease = st.builds(
    lambda cost, down, residual, rate, periods, timing, method, freq, kind: LeaseTerms(
        cost=cost,
        down_payment=(cost * down).quantize(D("0.01")),
        residual=(cost * residual).quantize(D("0.01")),
        annual_rate=rate,
        periods=periods,
        start=START,
        timing=timing,
        method=method,
        frequency=freq,
        kind=kind,
        handling_fee=D("1000.00"),
        vat_rate=D("0.13"),
    ),
    money,
    st.sampled_from([D(0), D("0.1"), D("0.3")]),
    st.sampled_from([D(0), D("0.01"), D("0.2")]),
    st.integers(min_value=0, max_value=2000).map(lambda bp: D(bp) / 10000),
    st.integers(min_value=1, max_value=60),
    st.sampled_from(list(Timing)),
    st.sampled_from([RentMethod.EQUAL_RENT, RentMethod.EQUAL_PRINCIPAL]),
    st.sampled_from([MONTHLY, QUARTERLY]),
    st.sampled_from(list(LeaseKind)),
)


@settings(max_examples=150, deadline=None)
@given(lease)
def test_any_lease_accounts_balance(terms: LeaseTerms) -> None:
    plan = schedule(terms)
    lessor = lessor_accounts(terms, plan)
    total_payments = sum((r.payment for r in lessor.rows), D(0))
    # finance income sums to the lease payments less the net investment, to the fen
    assert sum((r.finance_income for r in lessor.rows), D(0)) == total_payments - terms.financed
    assert lessor.rows[-1].net_investment == 0 and lessor.rows[-1].unearned_income == 0
    assert all(r.unearned_income >= 0 for r in lessor.rows)
    lessee = lessee_accounts(terms, plan)
    assert lessee.liability[-1].closing == 0
    for row in lessee.liability:
        assert row.closing == row.opening + row.interest - row.payment
    if terms.kind is LeaseKind.DIRECT:
        assert lessee.asset[-1].closing == 0 and len(lessee.asset) == terms.periods
        assert sum((a.depreciation for a in lessee.asset), D(0)) == lessee.right_of_use
        assert lessee.right_of_use == terms.cost + terms.handling_fee


@settings(max_examples=100, deadline=None)
@given(
    lease.filter(
        # one rent in advance with no residual is paid at once: no time, no rate
        lambda t: (
            t.method is RentMethod.EQUAL_RENT
            and t.annual_rate > 0
            and (t.periods > 1 or t.timing is Timing.ARREARS)
        )
    )
)
def test_the_implicit_rate_recovers_the_rate(terms: LeaseTerms) -> None:
    level = rent(terms)
    rate = implicit_rate(
        financed=terms.financed,
        rent=level,
        periods=terms.periods,
        timing=terms.timing,
        residual=terms.residual,
        per_year=terms.frequency.per_year,
    )
    # the rent is rounded to the fen, so the rate is recovered to within that rounding
    assert rate == pytest.approx(float(terms.annual_rate), abs=1e-4)


def test_lessee_depreciates_over_useful_life_when_title_passes() -> None:
    """IFRS 16.32 worked by hand on the ICAI AS 19 illustration above (Rs 3,00,000 machine,
    3 annual rents in arrears at 10 %, the Rs 40,000 residual paid by the lessee as its buy-out
    price, so title passes): the right-of-use asset is the liability at commencement,
    Rs 3,00,000, and with a 5-year useful life it is depreciated 3,00,000 / 5 = Rs 60,000 a
    year, leaving Rs 1,20,000 when the lease ends (the lease term would give Rs 1,00,000 a year
    and nothing left). The liability is unaffected and still ends at zero."""
    terms = LeaseTerms(
        cost=D(300000), annual_rate=D("0.10"), periods=3, start=START,
        residual=D(40000), frequency=ANNUAL,
    )  # fmt: skip
    over_term = lessee_accounts(terms)
    over_life = lessee_accounts(replace(terms, useful_life_periods=5))
    assert over_term.right_of_use == over_life.right_of_use == D(300000)
    assert [r.depreciation for r in over_term.asset] == [D(100000)] * 3
    assert [r.depreciation for r in over_life.asset] == [D(60000)] * 5
    assert over_life.asset[2].closing == D(120000)  # at the end of the lease term
    assert over_life.asset[-1].closing == 0 and over_life.asset[-1].ending == date(2029, 1, 1)
    assert over_life.liability == over_term.liability and over_life.liability[-1].closing == 0
    with pytest.raises(ValueError, match="useful life"):
        replace(terms, useful_life_periods=2)
