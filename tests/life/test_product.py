"""The increasing whole-life product: the invariant, properties and contract rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.core.money import to_money
from anxin.life.product import (
    PREMIUM_TERMS,
    Basis,
    Policy,
    cash_value_share,
    death_benefit_factor,
    loan_balance,
    pricing_rate_on,
    sum_assured_for_premium,
)
from anxin.life.tables import MortalityTable, Sex, cl2010, sult


@st.composite
def tables(draw: st.DrawFn) -> MortalityTable:
    """Any table: random q_x in [0, 0.6) with a closing q of 1 at a random last age."""
    size = draw(st.integers(min_value=2, max_value=120))
    qs = draw(st.lists(st.floats(0.0, 0.6, allow_nan=False), min_size=size - 1, max_size=size - 1))
    return MortalityTable("random", np.array([*qs, 1.0]))


@settings(max_examples=60, deadline=None)
@given(table=tables(), i=st.floats(0.0, 0.2), age_share=st.floats(0.0, 1.0))
def test_single_net_premium_is_sa_over_1_plus_i_when_growth_equals_rate(
    table: MortalityTable, i: float, age_share: float
) -> None:
    basis = Basis(table, i, i)
    x = int(age_share * table.max_age)
    assert float(basis.net_premium(x, 1)) == pytest.approx(1 / (1 + i), rel=1e-12)


def test_invariant_on_the_real_tables_and_dated_rates() -> None:
    for code in ("CL1", "CL2", "CL3", "CL4", "CL5", "CL6"):
        for rate in ("0.035", "0.030", "0.025"):
            i = float(rate)
            basis = Basis(cl2010(code), i, i)
            ages = np.arange(0, 106)
            assert np.allclose(basis.net_premium(ages, np.ones_like(ages)), 1 / (1 + i))
    policy = Policy(45, Sex.MALE, 1, Decimal("1000000"), date(2024, 9, 1))
    assert policy.net_premium == Decimal("975609.76")  # 1 000 000 / 1.025


bases = st.builds(
    Basis,
    table=st.sampled_from([cl2010("CL1"), cl2010("CL2"), sult()]),
    i=st.sampled_from([0.025, 0.03, 0.035]),
    g=st.sampled_from([0.0, 0.01, 0.025]),
)


@settings(max_examples=80, deadline=None)
@given(basis=bases, age=st.integers(0, 70), term=st.sampled_from(PREMIUM_TERMS))
def test_reserves_and_cash_values(basis: Basis, age: int, term: int) -> None:
    g = min(basis.g, basis.i)  # the product never grows faster than it is priced
    basis = Basis(basis.table, basis.i, g)
    t = np.arange(0, basis.table.max_age - age + 1)
    reserve = basis.reserve(age, term, t)
    cash = basis.cash_value(age, term, t)
    # the reserve is floored at zero; check the unfloored prospective value is not negative
    x, n = np.full(t.shape, age), np.full(t.shape, term)
    raw = (1 + basis.g) ** t * basis.benefit_pv(x + t) - basis.net_premium(x, n) * basis.annuity(
        x + t, np.maximum(n - t, 0)
    )
    assert np.all(raw >= -1e-12)
    assert np.allclose(reserve, np.maximum(raw, 0.0), rtol=0, atol=1e-15)
    assert np.all(cash <= reserve + 1e-15)
    assert np.all(cash >= 0)
    # cash values and reserves never fall while the policy stays in force
    assert np.all(np.diff(cash) >= -1e-12)
    assert np.all(np.diff(reserve) >= -1e-12)
    assert reserve[0] == pytest.approx(0.0, abs=1e-12) or term == 1


@settings(max_examples=40, deadline=None)
@given(age=st.integers(12, 69), term=st.sampled_from(PREMIUM_TERMS))
def test_premiums_rise_with_age_and_gross_exceeds_net(age: int, term: int) -> None:
    # from the early teens CL mortality rises with age (below that it falls from birth)
    basis = Basis(cl2010("CL1"), 0.025, 0.025)
    net = float(basis.net_premium(age, term))
    assert basis.gross_premium(age, term) > net
    if term > 1:
        assert float(basis.net_premium(age + 1, term)) >= net
    # a shorter premium term means larger annual premiums
    shorter = [n for n in PREMIUM_TERMS if n < term]
    if shorter:
        assert float(basis.net_premium(age, shorter[-1])) > net


def test_cash_value_share_follows_the_regulation() -> None:
    assert cash_value_share(0, 1) == 1.0
    assert cash_value_share(0, 10) == pytest.approx(0.8)
    assert cash_value_share(5, 10) == pytest.approx(0.9)
    assert cash_value_share(10, 10) == 1.0
    assert cash_value_share(10, 20) == pytest.approx(0.9)  # min(20, n) = 20
    assert cash_value_share(25, 20) == 1.0


def test_pricing_rates_are_dated() -> None:
    assert pricing_rate_on(date(2022, 6, 1)) == Decimal("0.035")
    assert pricing_rate_on(date(2023, 6, 1)) == Decimal("0.030")
    assert pricing_rate_on(date(2024, 8, 31)) == Decimal("0.030")
    assert pricing_rate_on(date(2024, 9, 1)) == Decimal("0.025")
    with pytest.raises(ValueError):
        pricing_rate_on(date(2021, 12, 31))


def test_death_benefit_rule() -> None:
    assert list(death_benefit_factor([10, 18, 40, 41, 60, 61, 90])) == [
        1.0,
        1.6,
        1.6,
        1.4,
        1.4,
        1.2,
        1.2,
    ]
    policy = Policy(30, Sex.FEMALE, 10, Decimal("100000"), date(2025, 1, 1))
    paid = policy.premiums_paid(11)
    # year 11: attained age 40, so 160% of premiums paid beats SA and cash value
    assert policy.death_benefit(11) == (paid * Decimal("1.6")).quantize(Decimal("0.01"))
    # year 12: age 41, 140%
    assert policy.death_benefit(12) == (paid * Decimal("1.4")).quantize(Decimal("0.01"))
    for year in (1, 5, 10, 11, 30, 60):
        db = policy.death_benefit(year)
        assert db >= policy.effective_sum_assured(year)
        assert db >= policy.cash_value(year)


def test_surrender_withdrawal_and_loans() -> None:
    policy = Policy(35, Sex.MALE, 5, Decimal("200000"), date(2024, 10, 1))
    cv = policy.cash_value(8)
    assert policy.surrender_value(8) == cv
    assert policy.surrender_value(8, Decimal("1000")) == cv - Decimal("1000")
    assert policy.max_loan(8) == (cv * Decimal("0.8")).quantize(Decimal("0.01"), "ROUND_DOWN")
    assert policy.max_loan(8, cv) == Decimal(0)
    reduced, paid = policy.partial_withdrawal(8, cv / 4)
    assert paid == (cv / 4).quantize(Decimal("0.01"))
    assert reduced.sum_assured == Decimal("150000.00")
    assert abs(reduced.cash_value(8) - (cv - paid)) <= Decimal("0.02")
    with pytest.raises(ValueError):
        policy.partial_withdrawal(8, cv)
    assert loan_balance(Decimal("1000"), Decimal("0.05"), 2) == Decimal("1102.50")


def test_quote_by_premium_round_trips() -> None:
    sa = sum_assured_for_premium(30, Sex.FEMALE, 10, Decimal("10000"), date(2025, 3, 1))
    policy = Policy(30, Sex.FEMALE, 10, sa, date(2025, 3, 1))
    assert abs(policy.gross_premium - Decimal("10000")) <= Decimal("0.02")


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        Policy(30, Sex.MALE, 31, Decimal("1"), date(2025, 1, 1))
    with pytest.raises(ValueError):
        Policy(80, Sex.MALE, 1, Decimal("1"), date(2025, 1, 1))
    with pytest.raises(ValueError):
        Policy(30, Sex.MALE, 1, Decimal("1"), date(2025, 1, 1), growth=Decimal("0.03"))


@given(
    age=st.integers(0, 70),
    term=st.integers(1, 30),
    table=st.sampled_from(["CL1", "CL4", "SULT"]),
    rate=st.sampled_from([Decimal("0.01"), Decimal("0.03"), Decimal("0.045")]),
)
def test_any_term_table_and_rate_keep_the_single_premium_invariant(
    age: int, term: int, table: str, rate: Decimal
) -> None:
    """With growth equal to the chosen rate, PV of net premiums = SA_1/(1+i) on any table."""
    policy = Policy(
        age, Sex.FEMALE, term, Decimal(100_000), date(2025, 1, 1), table=table, rate=rate
    )
    assert policy.pricing_rate == rate
    assert policy.basis.table.name.startswith(table)
    i = float(rate)
    pv_premiums = float(policy.basis.net_premium(age, term)) * float(
        policy.basis.annuity(np.array(age), np.array(term))
    )
    assert pv_premiums == pytest.approx(1 / (1 + i), rel=1e-9)


def test_an_unwritten_term_pays_the_commission_of_the_standard_term_below_it() -> None:
    expenses = Policy(40, Sex.MALE, 7, Decimal(1), date(2025, 1, 1)).expenses
    np.testing.assert_array_equal(expenses.schedule(7)[:5], expenses.schedule(5))
    assert expenses.schedule(7)[5:].sum() == 0
    assert expenses.schedule(25)[:20].tolist() == expenses.schedule(20).tolist()


@pytest.mark.parametrize(
    "change", [{"pay_term": 31}, {"table": "CL9"}, {"rate": Decimal("0.2")}, {"rate": Decimal(0)}]
)
def test_a_term_table_or_rate_outside_the_product_is_refused(change: dict[str, object]) -> None:
    terms: dict[str, object] = {
        "issue_age": 40,
        "sex": Sex.MALE,
        "pay_term": 10,
        "sum_assured": Decimal(1),
        "issue_date": date(2025, 1, 1),
    }
    with pytest.raises(ValueError):
        Policy(**{**terms, **change})  # type: ignore[arg-type]


@given(
    age=st.integers(0, 70), term=st.sampled_from([3, 5, 10, 20]), mode=st.sampled_from([2, 4, 12])
)
def test_paying_by_instalments_costs_a_little_more_a_year(age: int, term: int, mode: int) -> None:
    """Premiums paid through the year arrive later and stop at death: the annual total of the
    instalments exceeds the annual premium, by a few per cent at most."""
    annual = Policy(age, Sex.MALE, term, Decimal(100_000), date(2025, 1, 1))
    spread = Policy(age, Sex.MALE, term, Decimal(100_000), date(2025, 1, 1), mode=mode)
    assert annual.gross_premium < spread.gross_premium < annual.gross_premium * Decimal("1.05")
    assert spread.instalment == to_money(spread.gross_premium / mode)
    # equivalence on the net basis: net premium × ä^(m)_{x:n} = PV of the benefits
    basis = spread.basis
    pv = float(basis.net_premium(age, term, mode)) * float(
        basis.annuity(np.array(age), np.array(term), mode)
    )
    assert pv == pytest.approx(float(basis.benefit_pv(np.array(age))), rel=1e-12)


def test_a_single_premium_has_no_instalments() -> None:
    with pytest.raises(ValueError, match="payment mode"):
        Policy(40, Sex.MALE, 1, Decimal(1), date(2025, 1, 1), mode=12)
    with pytest.raises(ValueError, match="payment mode"):
        Policy(40, Sex.MALE, 10, Decimal(1), date(2025, 1, 1), mode=3)
