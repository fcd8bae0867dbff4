from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.property_budget import examples

from anxin.collateral.valuation import (
    Holding,
    Pledge,
    PledgeBook,
    PledgeStatus,
    PledgeTerms,
    ValuationError,
    check_release,
    line_market_value,
    releasable_quantity,
    revalue,
    revalue_book,
    status_for,
    top_up_quantity,
    value_pledge,
    worsened,
)

D = Decimal  # short for the many literals below
TERMS = PledgeTerms(D("0.7500"), D("0.8000"), D("0.8500"))
REBAR = "rebar"


def trader(qty: str = "12000.000", outstanding: str = "30000000.00") -> Pledge:
    # The report's steel trader: 30 million yuan against rebar, 30% haircut, 5,000 t minimum.
    return Pledge(
        "P-1", D(outstanding), (Holding(REBAR, D(qty), D("0.3000"), D("5000.000")),), TERMS
    )


def test_worked_example() -> None:
    v = value_pledge(trader(), {REBAR: D("3600.00")})
    assert v.market_value == D("43200000.00")
    assert v.lending_value == D("30240000.00")
    assert v.ltv == D("0.6944")  # 30,000,000 / 43,200,000 = 0.694444… half-up
    assert v.status is PledgeStatus.OK
    assert v.shortfall == D("0.00")
    assert v.below_minimum == ()


def test_price_drop_walks_through_the_lines() -> None:
    p = trader()
    statuses = [
        value_pledge(p, {REBAR: D(px)}).status
        for px in ("3600.00", "3300.00", "3100.00", "2900.00")
    ]
    assert statuses == [
        PledgeStatus.OK,
        PledgeStatus.WARNING,
        PledgeStatus.MARGIN_CALL,
        PledgeStatus.LIQUIDATION,
    ]


def test_reaching_a_line_exactly_crosses_it() -> None:
    # MV = 37,500,000 → LTV exactly 0.8000: margin call, not warning.
    p = trader(qty="12500.000")
    assert value_pledge(p, {REBAR: D("3000.00")}).status is PledgeStatus.MARGIN_CALL
    # one fen less outstanding is below the line
    assert status_for(D("29999999.99"), D("37500000.00"), TERMS) is PledgeStatus.WARNING


def test_displayed_ltv_rounds_half_up_status_uses_exact_ratio() -> None:
    # LTV 0.79995 exactly: shows 0.8000 (half up) but is under the 0.80 line.
    p = Pledge("P", D("79995.00"), (Holding(REBAR, D("100.000"), D("0.2000")),), TERMS)
    v = value_pledge(p, {REBAR: D("1000.00")})
    assert v.ltv == D("0.8000")
    assert v.status is PledgeStatus.WARNING


def test_line_value_rounds_half_up_to_the_fen() -> None:
    assert line_market_value(D("0.001"), D("5.00")) == D("0.01")  # 0.005 → 0.01
    assert line_market_value(D("0.001"), D("4.99")) == D("0.00")  # 0.00499 → 0.00
    assert line_market_value(D("1.234"), D("3999.99")) == D("4935.99")  # 4935.987…


def test_minimum_stock() -> None:
    v = value_pledge(trader(qty="4999.999", outstanding="1.00"), {REBAR: D("3600.00")})
    assert v.below_minimum == (REBAR,)


def test_margin_call_cure_by_top_up_and_by_cash() -> None:
    p = trader()
    marks = {REBAR: D("3100.00")}
    v = value_pledge(p, marks)
    assert v.status is PledgeStatus.MARGIN_CALL
    extra = top_up_quantity(p, REBAR, marks)
    cured = value_pledge(p.with_quantity(REBAR, D("12000.000") + extra), marks)
    assert cured.shortfall == 0
    one_kg_less = value_pledge(p.with_quantity(REBAR, D("12000.000") + extra - D("0.001")), marks)
    assert one_kg_less.shortfall > 0
    paid = Pledge(p.pledge_id, p.outstanding - v.shortfall, p.holdings, p.terms)
    assert value_pledge(paid, marks).shortfall == 0


def test_release_check_and_releasable_quantity() -> None:
    p = trader(outstanding="20000000.00")
    marks = {REBAR: D("3600.00")}
    q = releasable_quantity(p, REBAR, marks)
    assert check_release(p, REBAR, q, marks).allowed
    refused = check_release(p, REBAR, q + D("0.001"), marks)
    assert not refused.allowed and "lending value" in refused.reasons[0]
    # with no loan the minimum stock is the limit
    free = trader(outstanding="0.00")
    assert releasable_quantity(free, REBAR, marks) == D("7000.000")
    too_much = check_release(free, REBAR, D("7000.001"), marks)
    assert any("minimum" in r for r in too_much.reasons)
    assert not check_release(free, REBAR, D("13000.000"), marks).allowed


def test_revalue_reports_status_changes() -> None:
    a = trader()
    b = Pledge("P-2", D("1000000.00"), (Holding(REBAR, D("1000.000"), D("0.3000")),), TERMS)
    vals, changes = revalue([a, b], {REBAR: D("3600.00")})
    assert [c.pledge_id for c in changes] == ["P-1", "P-2"]  # first sight counts
    prev = {v.pledge_id: v.status for v in vals}
    _, changes = revalue([a, b], {REBAR: D("3100.00")}, prev)
    assert [(c.pledge_id, c.after, c.worse) for c in changes] == [
        ("P-1", PledgeStatus.MARGIN_CALL, True)
    ]


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValuationError, match="no price mark"):
        value_pledge(trader(), {"rubber": D("1.00")})
    with pytest.raises(ValuationError, match=r"multiple of 0\.01"):
        value_pledge(trader(), {REBAR: D("3600.001")})
    with pytest.raises(ValuationError, match="haircut"):
        Holding(REBAR, D("1.000"), D("1.0000"))
    with pytest.raises(ValuationError, match=r"multiple of 0\.001"):
        Holding(REBAR, D("1.0001"), D("0.1000"))
    with pytest.raises(ValuationError, match="rise"):
        PledgeTerms(D("0.8000"), D("0.7500"))
    with pytest.raises(ValuationError, match="Decimal"):
        Holding(REBAR, 1.5, D("0.1"))  # type: ignore[arg-type]
    with pytest.raises(ValuationError, match="one line per commodity"):
        Pledge(
            "P", D("1.00"), (Holding(REBAR, D("1"), D("0")), Holding(REBAR, D("2"), D("0"))), TERMS
        )


# ---------------------------------------------------------------- hypothesis: the maths

COMMODITIES = ("rebar", "coil", "rubber", "aluminium")
qty = st.integers(0, 50_000_000).map(lambda kg: D(kg) / 1000)
price = st.integers(0, 10_000_000).map(lambda fen: D(fen) / 100)
haircut = st.integers(0, 9_000).map(lambda bp: D(bp) / 10_000)


@st.composite
def terms(draw: st.DrawFn) -> PledgeTerms:
    w = draw(st.integers(100, 9_000))
    m = draw(st.integers(w + 1, 9_500))
    liq = draw(st.one_of(st.none(), st.integers(m + 1, 12_000)))
    return PledgeTerms(D(w) / 10_000, D(m) / 10_000, None if liq is None else D(liq) / 10_000)


@st.composite
def pledges(draw: st.DrawFn, pid: str = "P") -> Pledge:
    names = draw(st.lists(st.sampled_from(COMMODITIES), min_size=1, max_size=3, unique=True))
    hs = tuple(Holding(n, draw(qty), draw(haircut), draw(qty)) for n in names)
    outstanding = D(draw(st.integers(0, 10**12))) / 100
    return Pledge(pid, outstanding, hs, draw(terms()))


marks_st = st.fixed_dictionaries({c: price for c in COMMODITIES})


@examples(150)
@given(st.lists(pledges(), min_size=1, max_size=8), marks_st)
def test_vectorised_book_equals_decimal_path(ps: list[Pledge], marks: dict[str, D]) -> None:
    ps = [Pledge(f"P{i}", p.outstanding, p.holdings, p.terms) for i, p in enumerate(ps)]
    book = PledgeBook.from_pledges(ps)
    bv = revalue_book(book, marks)
    for i, p in enumerate(ps):
        exact = value_pledge(p, marks)
        fast = bv.valuation(book, i)
        assert (fast.market_value, fast.lending_value, fast.ltv, fast.status, fast.shortfall) == (
            exact.market_value,
            exact.lending_value,
            exact.ltv,
            exact.status,
            exact.shortfall,
        )
        assert bool(bv.below_minimum[i]) == bool(exact.below_minimum)


@examples(150)
@given(pledges(), marks_st, st.sampled_from(COMMODITIES), st.integers(1, 10**6))
def test_lower_price_never_improves_status(
    p: Pledge, marks: dict[str, D], c: str, drop_fen: int
) -> None:
    lower = dict(marks)
    lower[c] = max(D(0), marks[c] - D(drop_fen) / 100)
    assert value_pledge(p, lower).status >= value_pledge(p, marks).status


@examples(100)
@given(pledges(), marks_st)
def test_top_up_is_the_least_cure(p: Pledge, marks: dict[str, D]) -> None:
    h = p.holdings[0]
    try:
        extra = top_up_quantity(p, h.commodity, marks)
    except ValuationError:
        # refused only when this commodity cannot cure at all within the quantity range
        assert value_pledge(p, marks).shortfall > 0
        return
    assert value_pledge(p.with_quantity(h.commodity, h.quantity_t + extra), marks).shortfall == 0
    if extra > 0:
        less = p.with_quantity(h.commodity, h.quantity_t + extra - D("0.001"))
        assert value_pledge(less, marks).shortfall > 0


@examples(100)
@given(pledges(), marks_st)
def test_releasable_is_the_most_that_stays_safe(p: Pledge, marks: dict[str, D]) -> None:
    h = p.holdings[0]
    q = releasable_quantity(p, h.commodity, marks)
    assert q >= 0
    if q > 0:
        assert check_release(p, h.commodity, q, marks).allowed
    if q + D("0.001") <= h.quantity_t:
        assert not check_release(p, h.commodity, q + D("0.001"), marks).allowed


def test_book_flags_worsened_pledges_after_a_tick() -> None:
    ps = [trader(), Pledge("P-2", D("100.00"), (Holding(REBAR, D("1.000"), D("0")),), TERMS)]
    book = PledgeBook.from_pledges(ps)
    before = revalue_book(book, {REBAR: D("3600.00")}).status
    after = revalue_book(book, {REBAR: D("3100.00")}).status
    assert worsened(before, after).tolist() == [0]
    assert after.dtype == np.int8
    with pytest.raises(ValuationError, match="no price mark"):
        revalue_book(book, {})
