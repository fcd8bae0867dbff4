"""Repayment schedules: Fineract's published scenarios exactly, hand-checked cases of every
method and option, and the invariants of any schedule (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.lending.daycount import DayCount
from anxin.lending.schedule import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    WEEKLY,
    Kind,
    Method,
    PrepaymentEffect,
    RoundingRule,
    Terms,
    Timing,
    add_months,
    build,
    default_interest,
    prepay,
    reschedule,
    stepped,
)

D = Decimal
START = date(2024, 1, 15)


# --- Apache Fineract's published scenarios ---------------------------------------------------


def test_fineract_5000_at_12_percent_18_months_in_multiples_of_1() -> None:
    # Fineract loan product docs: 5,000 at 12 % nominal, 18 monthly instalments, declining
    # balance, equal instalments, "installment in multiples of" 1: 305.00, interest 488.22.
    rule = RoundingRule(instalment_multiple=D(1))
    schedule = build(Terms(D(5000), D("0.12"), 18, START, rounding=rule))
    rows = schedule.instalments
    assert [r.total for r in rows[:-1]] == [D("305.00")] * 17
    assert schedule.total_interest == D("488.22")
    assert (rows[0].principal, rows[0].interest) == (D("255.00"), D("50.00"))
    assert (rows[-1].principal, rows[-1].interest) == (D("300.22"), D("3.00"))
    assert schedule.total_principal == D("5000.00")


def test_fineract_100_at_9_4822_percent_over_6_months() -> None:
    schedule = build(Terms(D(100), D("0.094822"), 6, START))
    assert [r.total for r in schedule.instalments] == [D("17.13")] * 6
    assert schedule.level == D("17.13")


def test_without_the_multiple_the_instalment_is_the_exact_annuity_to_the_fen() -> None:
    schedule = build(Terms(D(5000), D("0.12"), 18, START))
    assert schedule.level == D("304.91")  # 5000 × 0.01 / (1 − 1.01^−18) = 304.9102…
    assert schedule.instalments[-1].total == D("304.94")
    assert schedule.total_interest == D("488.41")


def test_multiple_of_ten_rounds_the_instalment_up() -> None:
    rule = RoundingRule(instalment_multiple=D(10))
    schedule = build(Terms(D(5000), D("0.12"), 18, START, rounding=rule))
    assert schedule.level == D("310.00")
    assert all(r.total == D("310.00") for r in schedule.instalments[:-1])
    assert schedule.total_principal == D("5000.00")


# --- methods ---------------------------------------------------------------------------------


def test_equal_principal() -> None:
    schedule = build(Terms(D(12000), D("0.12"), 12, START, method=Method.EQUAL_PRINCIPAL))
    assert all(r.principal == D(1000) for r in schedule.instalments)
    # interest 1 % of 12000, 11000, …, 1000
    assert [r.interest for r in schedule.instalments] == [D(10 * k) for k in range(12, 0, -1)]
    assert schedule.total_interest == D("780.00")


def test_interest_only_with_balloon() -> None:
    schedule = build(Terms(D(10000), D("0.12"), 6, START, method=Method.INTEREST_ONLY))
    assert [r.total for r in schedule.instalments] == [D(100)] * 5 + [D(10100)]
    assert schedule.instalments[-1].principal == D(10000)


def test_flat_rate_interest_on_the_original_amount_last_absorbs_the_fen() -> None:
    schedule = build(Terms(D(10000), D("0.10"), 12, START, method=Method.FLAT))
    rows = schedule.instalments
    assert schedule.total_interest == D("1000.00")  # 10000 × 10 % × 1 year
    assert [r.interest for r in rows[:-1]] == [D("83.33")] * 11
    assert (rows[-1].interest, rows[-1].principal) == (D("83.37"), D("833.37"))


def test_annuity_with_balloon_leaves_the_balloon_for_the_last_instalment() -> None:
    schedule = build(Terms(D(100000), D("0.06"), 36, START, balloon=D(40000)))
    rows = schedule.instalments
    assert schedule.level is not None
    assert all(r.total == schedule.level for r in rows[:-1])
    assert rows[-2].balance > D(40000)
    # up to half a fen of rounding per level instalment, grown by 35 months of interest
    assert abs(rows[-1].total - schedule.level - D(40000)) <= D("0.25")
    assert schedule.total_principal == D(100000)


# --- dates -----------------------------------------------------------------------------------


def test_month_end_disbursement_keeps_month_ends() -> None:
    schedule = build(Terms(D(1000), D("0.12"), 4, date(2024, 1, 31)))
    assert [r.due for r in schedule.instalments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert add_months(date(2024, 1, 30), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 30), 2) == date(2024, 3, 30)
    assert add_months(date(2024, 4, 30), 1, end_of_month=False) == date(2024, 5, 30)


def test_other_frequencies() -> None:
    weekly = build(Terms(D(1000), D("0.104"), 4, START, frequency=WEEKLY))
    assert [r.due for r in weekly.instalments] == [
        date(2024, 1, 22),
        date(2024, 1, 29),
        date(2024, 2, 5),
        date(2024, 2, 12),
    ]
    assert weekly.instalments[0].interest == D("2.00")  # 1000 × 10.4 % / 52
    quarterly = build(Terms(D(1000), D("0.08"), 4, START, frequency=QUARTERLY))
    assert quarterly.instalments[0].interest == D("20.00")
    assert quarterly.instalments[-1].due == date(2025, 1, 15)


def test_day_count_interest_by_actual_days() -> None:
    terms = Terms(D(36500), D("0.10"), 2, START, day_count=DayCount.ACT_365F)
    rows = build(terms).instalments
    assert rows[0].interest == D("310.00")  # 31 days × 36500 × 10 % / 365
    act360 = build(Terms(D(36000), D("0.10"), 1, START, day_count=DayCount.ACT_360))
    assert act360.instalments[0].interest == D("310.00")  # 31 days × 36000 × 10 % / 360


def test_broken_first_period_is_charged_pro_rata() -> None:
    # disbursed 15 Jan, first due 1 Mar: 46 days, the regular period Feb (29 days)
    terms = Terms(D(2900), D("0.12"), 3, START, first_due=date(2024, 3, 1))
    first = build(terms).instalments[0]
    assert first.interest == D("46.00")  # 2900 × 1 % × 46 / 29


def test_half_fen_interest_rounds_up_exactly() -> None:
    # 1.50 × 4 % / 12 = 0.005 exactly; a rate pre-divided by 12 (0.00333…) would give 0.00
    schedule = build(Terms(D("1.50"), D("0.04"), 1, START))
    assert schedule.instalments[0].interest == D("0.01")


# --- grace, fees, profiles, advance ----------------------------------------------------------


def test_grace_on_principal_and_deferred_interest() -> None:
    terms = Terms(D(12000), D("0.12"), 6, START, grace_principal=2, grace_interest=1)
    rows = build(terms).instalments
    assert (rows[0].principal, rows[0].interest) == (D(0), D(0))
    assert (rows[1].principal, rows[1].interest) == (D(0), D(240))  # two months' interest
    # then 12000 amortised over 4 months at 1 %: 3075.3731… → 3075.37
    assert [r.total for r in rows[2:5]] == [D("3075.37")] * 3
    assert sum(r.principal for r in rows) == D(12000)


def test_fees_appear_in_rows_totals_and_cash_flows() -> None:
    terms = Terms(D(10000), D("0.12"), 12, START, upfront_fee=D(200), instalment_fee=D(5))
    schedule = build(terms)
    assert all(r.fee == D(5) for r in schedule.instalments)
    assert schedule.total_fees == D(260)
    flows = schedule.cash_flows()
    assert flows[0].amount == D(-9800)
    assert sum(f.amount for f in flows) == schedule.total_interest + D(260)


def test_seasonal_profile_scales_the_level_payment() -> None:
    profile = (D(1), D(1), D(2), D("0.5"))
    schedule = build(Terms(D(50000), D("0.09"), 8, START, profile=profile))
    level = schedule.level
    assert level is not None
    rows = schedule.instalments
    assert [r.total for r in rows[:-1]] == [(level * w).quantize(D("0.01")) for w in profile * 2][
        :-1
    ]
    assert schedule.total_principal == D(50000)


def test_stepped_profile() -> None:
    assert stepped((2, D(1)), (1, D(2))) == (D(1), D(1), D(2))


def test_rent_in_advance_starts_on_the_commencement_date() -> None:
    terms = Terms(D(100000), D("0.08"), 12, START, timing=Timing.ADVANCE)
    rows = build(terms).instalments
    assert rows[0].due == START and rows[0].interest == 0
    assert rows[1].interest == (rows[0].balance * D("0.08") / 12).quantize(D("0.01"))
    assert rows[-1].balance == 0 and len(rows) == 12
    # in advance the same rent buys one month less interest than in arrears
    arrears = build(Terms(D(100000), D("0.08"), 12, START))
    assert arrears.level == (rows[0].total * (1 + D("0.08") / 12)).quantize(D("0.01"))


def test_residual_value_in_advance_is_paid_a_period_after_the_last_rent() -> None:
    terms = Terms(D(100000), D("0.08"), 12, START, timing=Timing.ADVANCE, balloon=D(20000))
    rows = build(terms).instalments
    assert len(rows) == 13 and rows[-1].kind is Kind.RESIDUAL
    assert rows[-1].due == add_months(START, 12)
    assert rows[-1].total == pytest.approx(D(20000), abs=D("0.10"))


def test_invalid_terms_are_refused() -> None:
    with pytest.raises(ValueError, match="grace"):
        Terms(D(1000), D("0.1"), 6, START, grace_principal=6)
    with pytest.raises(ValueError, match="balloon"):
        Terms(D(1000), D("0.1"), 6, START, balloon=D(1000))
    with pytest.raises(ValueError, match="advance"):
        Terms(D(1000), D("0.1"), 6, START, timing=Timing.ADVANCE, method=Method.FLAT)


# --- prepayment, rescheduling, default interest ----------------------------------------------


def loan() -> Terms:
    return Terms(D(5000), D("0.12"), 18, START)


def test_prepayment_on_a_due_date_shortening_the_term() -> None:
    before = build(loan())
    after = prepay(before, date(2024, 6, 15), D(1000), PrepaymentEffect.SHORTEN_TERM)
    rows = after.instalments
    assert rows[:5] == before.instalments[:5]
    assert rows[5].kind is Kind.PREPAYMENT and rows[5].principal == D(1000)
    assert rows[5].interest == 0  # nothing accrued since that morning's instalment
    assert all(r.total == D("304.91") for r in rows[6:-1])
    assert len(rows) == 16 < len(before.instalments) + 1
    assert sum(r.principal for r in rows) == D(5000)
    assert after.total_interest < before.total_interest


def test_prepayment_lowering_the_instalment_keeps_the_end_date() -> None:
    before = build(loan())
    after = prepay(before, date(2024, 6, 15), D(1000), PrepaymentEffect.LOWER_INSTALMENT)
    assert after.instalments[-1].due == before.instalments[-1].due
    assert after.level == D("222.50")  # 2699.71 over 13 months at 1 %
    assert sum(r.principal for r in after.instalments) == D(5000)


def test_prepayment_between_due_dates_pays_accrued_interest_first() -> None:
    before = build(loan())
    after = prepay(before, date(2024, 6, 30), D(1000), PrepaymentEffect.LOWER_INSTALMENT)
    row = after.instalments[5]
    # 3699.71 × 1 % × 15/30 days of June 15 → July 15
    assert row.interest == D("18.50") and row.principal == D("981.50")
    # the next instalment charges only the rest of the period, on the lower balance
    assert after.instalments[6].interest == (row.balance * D("0.01") * 15 / 30).quantize(D("0.01"))


def test_full_prepayment_closes_the_loan() -> None:
    before = build(loan())
    after = prepay(before, date(2024, 6, 15), D(10000), PrepaymentEffect.SHORTEN_TERM)
    assert after.instalments[-1].balance == 0 and len(after.instalments) == 6


def test_rescheduling_from_a_due_date() -> None:
    before = build(loan())
    after = reschedule(before, date(2024, 6, 15), annual_rate=D("0.06"), periods=24)
    rows = after.instalments
    assert rows[:5] == before.instalments[:5]
    assert len(rows) == 29 and rows[-1].due == date(2026, 6, 15)
    assert rows[5].interest == D("18.50")  # 3699.71 × 0.5 %
    assert sum(r.principal for r in rows) == D(5000)
    with pytest.raises(ValueError, match="due date"):
        reschedule(before, date(2024, 6, 20), annual_rate=D("0.06"))


def test_default_interest_by_day_count() -> None:
    # 10,000 overdue 30 days at 18 % a year, actual/360: 150.00
    assert default_interest(D(10000), date(2024, 3, 1), date(2024, 3, 31), D("0.18")) == D(150)
    assert default_interest(
        D(10000), date(2024, 3, 1), date(2024, 3, 31), D("0.18"), DayCount.ACT_365F
    ) == D("147.95")
    assert default_interest(D(10000), date(2024, 3, 1), date(2024, 3, 1), D("0.18")) == 0


# --- invariants ------------------------------------------------------------------------------

money = st.decimals(min_value=D("100.00"), max_value=D("5000000.00"), places=2)
rates = st.decimals(min_value=D(0), max_value=D("0.36"), places=4)


# seasonal or stepped weights; a zero is an off-season month, whose interest is capitalised
profiles = (
    st.lists(st.decimals(D(0), D(2), places=1), min_size=1, max_size=12)
    .filter(lambda w: all(w) or sum(w) > 0)
    .map(tuple)
)


@st.composite
def terms(draw: st.DrawFn) -> Terms:
    periods = draw(st.integers(1, 60))
    timing = draw(st.sampled_from(Timing))
    methods = [Method.ANNUITY, Method.EQUAL_PRINCIPAL]
    if timing is Timing.ARREARS:
        methods += [Method.INTEREST_ONLY, Method.FLAT]
    method = draw(st.sampled_from(methods))
    principal = draw(money)
    grace_p = draw(st.integers(0, periods - 1)) if timing is Timing.ARREARS else 0
    multiple = draw(st.sampled_from([None, D(1), D(10)]))
    return Terms(
        principal=principal,
        annual_rate=draw(rates),
        periods=periods,
        start=draw(st.dates(date(2000, 1, 1), date(2090, 1, 1))),
        method=method,
        frequency=draw(st.sampled_from([MONTHLY, QUARTERLY, ANNUAL, WEEKLY])),
        timing=timing,
        day_count=draw(st.sampled_from([None, *DayCount])),
        grace_principal=grace_p,
        grace_interest=draw(st.integers(0, grace_p)),
        balloon=(principal * draw(st.sampled_from([0, D("0.2"), D("0.5")]))).quantize(D("0.01")),
        instalment_fee=draw(st.sampled_from([D(0), D("9.99")])),
        rounding=RoundingRule(instalment_multiple=multiple),
        profile=draw(st.none() | profiles),
    )


@settings(max_examples=300, deadline=None)
@given(terms())
def test_any_schedule_repays_exactly_the_principal(t: Terms) -> None:
    try:
        schedule = build(t)
    except ValueError as refused:
        # only a profile with no weight on any amortising period is refused
        assert t.profile is not None and "no weight" in str(refused)
        return
    rows = schedule.instalments
    assert sum(r.principal for r in rows) == t.principal
    assert rows[-1].balance == 0
    assert all(r.balance >= 0 and r.interest >= 0 for r in rows)
    assert all(r.principal == r.principal.quantize(D("0.01")) for r in rows)
    assert all(a.due <= b.due for a, b in itertools.pairwise(rows))
    if t.method is Method.ANNUITY and t.grace_principal == 0 and not t.balloon and not t.profile:
        # every instalment but the last is the level one (or less, once the balance ends)
        assert all(r.principal + r.interest <= schedule.level for r in rows[:-1])


@settings(max_examples=150, deadline=None)
@given(terms(), st.integers(0, 59), st.decimals(D("0.01"), D("0.99"), places=2))
def test_prepayment_never_loses_principal(t: Terms, at: int, share: D) -> None:
    if t.timing is Timing.ADVANCE:
        return
    try:
        schedule = build(t)
    except ValueError:
        return  # a profile without weight, refused (see above)
    rows = schedule.instalments
    on = rows[min(at, len(rows) - 1)].due
    kept = [r for r in rows if r.due <= on]
    balance = kept[-1].balance if kept else t.principal
    if balance == 0:
        return
    amount = max((balance * share).quantize(D("0.01")), D("0.01"))
    for effect in PrepaymentEffect:
        try:
            after = prepay(schedule, on, amount, effect)
        except ValueError as exc:
            # what remains has no amortising period left (only grace or the residual): the
            # prepayment is refused with a reason rather than re-spread; nothing is lost
            assert "no weight" in str(exc)
            continue
        assert sum(r.principal for r in after.instalments) == t.principal
        assert after.instalments[-1].balance == 0
