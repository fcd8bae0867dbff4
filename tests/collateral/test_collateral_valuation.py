from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.property_budget import examples

from anxin.collateral.valuation import (
    Holding,
    LineValue,
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
    with pytest.raises(ValuationError, match=r"^quantity must be a Decimal, not float$"):
        Holding(REBAR, 1.5, D("0.1"))  # type: ignore[arg-type]
    with pytest.raises(ValuationError, match="one line per commodity"):
        Pledge(
            "P", D("1.00"), (Holding(REBAR, D("1"), D("0")), Holding(REBAR, D("2"), D("0"))), TERMS
        )


def test_book_flags_worsened_pledges_after_a_tick() -> None:
    ps = [trader(), Pledge("P-2", D("100.00"), (Holding(REBAR, D("1.000"), D("0")),), TERMS)]
    book = PledgeBook.from_pledges(ps)
    before = revalue_book(book, {REBAR: D("3600.00")}).status
    after = revalue_book(book, {REBAR: D("3100.00")}).status
    assert worsened(before, after).tolist() == [0]
    assert after.dtype == np.int8
    with pytest.raises(ValuationError, match="no price mark"):
        revalue_book(book, {})


# ---------------------------------------------------------------- every line, exactly at it
# A bank acts on these statuses (a margin call, a forced sale), so each line is tested at the
# fen where it is reached and one fen before, on both the Decimal and the int64 path.

MV = D("100000.00")  # with TERMS: warning at 75,000.00, margin call at 80,000.00, sale at 85,000


@pytest.mark.parametrize(
    ("outstanding", "status"),
    [
        ("0.00", PledgeStatus.OK),
        ("74999.99", PledgeStatus.OK),
        ("75000.00", PledgeStatus.WARNING),
        ("79999.99", PledgeStatus.WARNING),
        ("80000.00", PledgeStatus.MARGIN_CALL),
        ("84999.99", PledgeStatus.MARGIN_CALL),
        ("85000.00", PledgeStatus.LIQUIDATION),
        ("300000.00", PledgeStatus.LIQUIDATION),
    ],
)
def test_each_line_is_crossed_on_reaching_it(outstanding: str, status: PledgeStatus) -> None:
    assert status_for(D(outstanding), MV, TERMS) is status
    p = Pledge("P", D(outstanding), (Holding(REBAR, D("100.000"), D("0.2000")),), TERMS)
    assert value_pledge(p, {REBAR: D("1000.00")}).status is status
    book = PledgeBook.from_pledges([p])
    assert PledgeStatus(int(revalue_book(book, {REBAR: D("1000.00")}).status[0])) is status


def test_without_a_liquidation_line_the_worst_is_a_margin_call() -> None:
    terms = PledgeTerms(D("0.7500"), D("0.8000"))
    assert status_for(D("1000000.00"), MV, terms) is PledgeStatus.MARGIN_CALL
    p = Pledge("P", D("1000000.00"), (Holding(REBAR, D("100.000"), D("0")),), terms)
    book = PledgeBook.from_pledges([p])
    assert int(book.liquidation_bp[0]) == 0
    assert int(revalue_book(book, {REBAR: D("1000.00")}).status[0]) == PledgeStatus.MARGIN_CALL


# The int64 path must not divide by a zero market value (numpy would only warn).
@pytest.mark.filterwarnings("error")
def test_nothing_owed_is_ok_even_with_nothing_pledged_at_a_price() -> None:
    assert status_for(D("0"), D("0.00"), TERMS) is PledgeStatus.OK
    assert status_for(D("0.01"), D("0.00"), TERMS) is PledgeStatus.LIQUIDATION
    p = Pledge("P", D("0.00"), (Holding(REBAR, D("0.000"), D("0")),), TERMS)
    v = value_pledge(p, {REBAR: D("1000.00")})
    assert (v.ltv, v.status, v.shortfall) == (None, PledgeStatus.OK, D("0.00"))
    bv = revalue_book(PledgeBook.from_pledges([p]), {REBAR: D("1000.00")})
    assert (int(bv.ltv_bp[0]), int(bv.status[0])) == (-1, PledgeStatus.OK)
    assert bv.valuation(PledgeBook.from_pledges([p]), 0).ltv is None


def test_status_labels_and_what_counts_as_worse() -> None:
    assert [s.label for s in PledgeStatus] == ["ok", "warning", "margin_call", "liquidation"]
    vals, changes = revalue([trader()], {REBAR: D("2900.00")})
    assert [(c.before, c.after, c.worse) for c in changes] == [
        (None, PledgeStatus.LIQUIDATION, True)
    ]
    _, better = revalue([trader()], {REBAR: D("3600.00")}, {"P-1": vals[0].status})
    assert [(c.before, c.after, c.worse) for c in better] == [
        (PledgeStatus.LIQUIDATION, PledgeStatus.OK, False)
    ]
    _, same = revalue([trader()], {REBAR: D("3600.00")}, {"P-1": PledgeStatus.OK})
    assert same == []


# ---------------------------------------------------------------- input bounds, at the bound


@pytest.mark.parametrize("line", ["0.0001", "2.0000"])
def test_ltv_lines_may_be_anywhere_in_zero_to_two(line: str) -> None:
    low = D(line) == D("0.0001")
    terms = (
        PledgeTerms(D(line), D("0.0002"), D("0.0003"))
        if low
        else PledgeTerms(D("1.0000"), D("1.5000"), D(line))
    )
    assert D(line) in (terms.warning_ltv, terms.liquidation_ltv)


RISE = "^LTV lines must rise: warning < margin call < liquidation$"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (("0.0000", "0.8000", None), r"LTV line 0\.0000 must be in \(0, 2\]"),
        (("-0.5000", "0.8000", None), r"LTV line -0\.5000 must be in \(0, 2\]"),
        (("0.7500", "0.8000", "2.0001"), r"LTV line 2\.0001 must be in \(0, 2\]"),
        (("0.7500", "0.7500", None), RISE),
        (("0.7500", "0.8000", "0.8000"), RISE),
        (("0.7500", "0.9000", "0.8500"), RISE),
        (("0.75001", "0.8000", None), r"LTV line 0\.75001 must be a finite multiple of 0\.0001"),
    ],
)
def test_ltv_lines_out_of_bounds_or_not_rising_are_refused(
    lines: tuple[str, str, str | None], message: str
) -> None:
    w, m, liq = lines
    with pytest.raises(ValuationError, match=message):
        PledgeTerms(D(w), D(m), None if liq is None else D(liq))


def test_holding_bounds() -> None:
    Holding(REBAR, D("1000000.000"), D("0.9999"))  # 1 Mt and a 99.99% haircut: the limits
    Holding(REBAR, D("0.000"), D("0.0000"), D("0.000"))
    for bad, message in [
        (lambda: Holding(REBAR, D("1000000.001"), D("0")), "quantity 1000000.001 t out of range"),
        (lambda: Holding(REBAR, D("-0.001"), D("0")), "quantities must not be negative"),
        (lambda: Holding(REBAR, D("1"), D("0"), D("-1")), "quantities must not be negative"),
        (lambda: Holding(REBAR, D("1"), D("-0.0001")), "haircut -0.0001 must be in [0, 1)"),
        (
            lambda: Holding(REBAR, D("1"), D("0.00001")),
            "haircut 0.00001 must be a finite multiple of 0.0001",
        ),
        (
            lambda: Holding(REBAR, D("1"), D("0"), D("0.0001")),
            "minimum quantity 0.0001 must be a finite multiple of 0.001",
        ),
        (
            lambda: Holding(REBAR, D("NaN"), D("0")),
            "quantity NaN must be a finite multiple of 0.001",
        ),
        (
            lambda: Holding(REBAR, D("Infinity"), D("0")),
            "quantity Infinity must be a finite multiple of 0.001",
        ),
    ]:
        with pytest.raises(ValuationError) as info:
            bad()
        assert str(info.value) == message


def test_outstanding_bounds() -> None:
    hs = (Holding(REBAR, D("1.000"), D("0")),)
    assert Pledge("P", D("1000000000000.00"), hs, TERMS).outstanding == D("1E+12")
    for bad, message in [
        ("1000000000000.01", "outstanding 1000000000000.01 out of range"),
        ("-0.01", r"outstanding -0\.01 out of range"),
        ("1.001", r"outstanding 1\.001 must be a finite multiple of 0\.01"),
    ]:
        with pytest.raises(ValuationError, match=message):
            Pledge("P", D(bad), hs, TERMS)


@pytest.mark.parametrize("path", ["decimal", "book"])
def test_price_mark_bounds(path: str) -> None:
    p = trader(outstanding="1.00")

    def value(mark: str) -> object:
        marks = {REBAR: D(mark)}
        if path == "decimal":
            return value_pledge(p, marks)
        return revalue_book(PledgeBook.from_pledges([p]), marks)

    value("0.00")
    value("1000000.00")
    for bad, message in [
        ("1000000.01", "price of rebar out of range"),
        ("-0.01", "price of rebar out of range"),
        ("1.001", r"price of rebar 1\.001 must be a finite multiple of 0\.01"),
    ]:
        with pytest.raises(ValuationError, match=message):
            value(bad)


def test_the_int64_path_refuses_a_pledge_too_large_for_it() -> None:
    # Each line at the 1 Mt and 1,000,000 CNY/t limits is 1e12 CNY (1e14 fen) of market value;
    # the int64 path takes up to 4e14 fen per pledge.
    terms = PledgeTerms(D("0.7500"), D("0.8000"))

    def pledge(lines: int) -> Pledge:
        hs = tuple(Holding(f"c{i}", D("1000000.000"), D("0")) for i in range(lines))
        return Pledge("P", D("1.00"), hs, terms)

    marks = {f"c{i}": D("1000000.00") for i in range(5)}
    with pytest.raises(ValuationError, match=r"^a pledge is too large for the int64 path$"):
        revalue_book(PledgeBook.from_pledges([pledge(5)]), marks)
    bv = revalue_book(PledgeBook.from_pledges([pledge(4)]), marks)
    assert int(bv.market_value_fen[0]) == 4 * 10**14  # exactly at the limit is still valued
    assert revalue_book(PledgeBook.from_pledges([]), {}).status.tolist() == []


# ---------------------------------------------------------------- rounding, exactly


def test_lending_value_rounds_half_up_per_line() -> None:
    # 0.05 × (1 − 0.3000) = 0.035 → 0.04 and 0.05 × (1 − 0.1000) = 0.045 → 0.05: half up (half
    # even would give 0.04 for both); the pledge sums the rounded lines.
    p = Pledge(
        "P",
        D("0.08"),
        (Holding("a", D("0.010"), D("0.3000")), Holding("b", D("0.010"), D("0.1000"))),
        TERMS,
    )
    v = value_pledge(p, {"a": D("5.00"), "b": D("5.00")})
    assert v.lines == (
        LineValue("a", D("0.010"), D("5.00"), D("0.05"), D("0.04"), False),
        LineValue("b", D("0.010"), D("5.00"), D("0.05"), D("0.05"), False),
    )
    assert (v.market_value, v.lending_value, v.shortfall) == (D("0.10"), D("0.09"), D("0.00"))
    bv = revalue_book(PledgeBook.from_pledges([p]), {"a": D("5.00"), "b": D("5.00")})
    assert (int(bv.market_value_fen[0]), int(bv.lending_value_fen[0])) == (10, 9)


def test_an_empty_pledge_is_worth_nothing_to_the_fen() -> None:
    v = value_pledge(Pledge("P", D("0.00"), (), TERMS), {})
    assert (str(v.market_value), str(v.lending_value), v.ltv) == ("0.00", "0.00", None)
    with pytest.raises(ValuationError, match=r"^no price mark for coil, rebar$"):
        value_pledge(
            Pledge("P", D("1.00"), (*trader().holdings, *trader_of("coil").holdings), TERMS), {}
        )


def test_ltv_is_shown_half_up_to_the_basis_point_on_both_paths() -> None:
    for outstanding, ltv in [("666.65", "0.6667"), ("666.64", "0.6666"), ("1000.00", "1.0000")]:
        p = Pledge("P", D(outstanding), (Holding(REBAR, D("1.000"), D("0")),), TERMS)
        marks = {REBAR: D("1000.00")}
        exact = value_pledge(p, marks)
        assert exact.ltv == D(ltv)
        book = PledgeBook.from_pledges([p])
        assert revalue_book(book, marks).valuation(book, 0) == replace(exact, lines=())


def test_shortfall_and_minimum_stock_on_both_paths() -> None:
    p = trader(qty="5000.000", outstanding="20000000.00")  # exactly at its 5,000 t minimum
    marks = {REBAR: D("3600.00")}
    v = value_pledge(p, marks)
    assert v.below_minimum == ()
    assert v.lending_value == D("12600000.00") and v.shortfall == D("7400000.00")
    book = PledgeBook.from_pledges([p])
    bv = revalue_book(book, marks)
    assert not bool(bv.below_minimum[0])
    assert bv.valuation(book, 0).shortfall == D("7400000.00")


# ---------------------------------------------------------------- cures and releases


def test_top_up_and_release_at_their_edges() -> None:
    marks = {REBAR: D("3600.00")}
    assert top_up_quantity(trader(), REBAR, marks) == D("0.000")  # already covered
    with pytest.raises(ValuationError, match="rebar lends nothing at its mark"):
        top_up_quantity(trader(), REBAR, {REBAR: D("0.00")})
    # 1 Mt of rebar at 0.01 CNY/t cannot cover 30 million: the search stops at the range.
    with pytest.raises(ValuationError, match="no quantity of rebar within range"):
        top_up_quantity(trader(), REBAR, {REBAR: D("0.01")})
    with pytest.raises(ValuationError, match="pledge P-1 holds no coil"):
        top_up_quantity(trader(), "coil", marks)
    # Nothing above the minimum, or already short: nothing may leave.
    assert releasable_quantity(trader(qty="5000.000", outstanding="0.00"), REBAR, marks) == 0
    assert releasable_quantity(trader(), REBAR, {REBAR: D("3000.00")}) == 0
    # An exact cure: outstanding equals lending value after the top-up, to the fen.
    p = Pledge("P", D("700.70"), (Holding(REBAR, D("1.000"), D("0.3000")),), TERMS)
    assert top_up_quantity(p, REBAR, {REBAR: D("1000.00")}) == D("0.001")


def test_check_release_reasons_are_exact() -> None:
    marks = {REBAR: D("3600.00")}
    free = trader(outstanding="0.00")
    assert check_release(free, REBAR, D("7000.000"), marks).reasons == ()  # down to the minimum
    over = check_release(free, REBAR, D("12000.001"), marks)
    assert over.reasons == (
        "only 12000.000 t of rebar pledged",
        "rebar would fall to 0.000 t, under the minimum 5000.000 t",
    )
    assert over.after.market_value == D("0.00")
    loaned = check_release(trader(), REBAR, D("7000.000"), marks)
    assert loaned.reasons == ("outstanding 30000000.00 would exceed lending value 12600000.00",)
    for bad in ("0.000", "-1.000"):
        with pytest.raises(ValuationError, match=r"^release quantity must be positive$"):
            check_release(free, REBAR, D(bad), marks)
    with pytest.raises(ValuationError, match=r"release quantity 0\.0001"):
        check_release(free, REBAR, D("0.0001"), marks)


def test_release_and_top_up_to_the_kilogram() -> None:
    marks = {REBAR: D("1000.00")}

    def pledge(qty: str, outstanding: str, minimum: str = "0.000") -> Pledge:
        return Pledge("P", D(outstanding), (Holding(REBAR, D(qty), D("0"), D(minimum)),), TERMS)

    # Releasing 1 t leaves lending value exactly equal to outstanding: allowed, to the kilogram.
    assert releasable_quantity(pledge("2.000", "1000.00"), REBAR, marks) == D("1.000")
    # Already exactly at lending value: not one kilogram may leave.
    assert releasable_quantity(pledge("2.000", "2000.00"), REBAR, marks) == D("0.000")
    # One kilogram above the minimum stock and no loan: that kilogram may leave.
    assert releasable_quantity(pledge("2.000", "0.00", "1.999"), REBAR, marks) == D("0.001")
    # A price of 1.00 CNY/t still lends: 1.01 CNY owed against 1 t needs 5 kg more (1.005 t is
    # worth 1.005, which the line rounds half up to 1.01).
    assert top_up_quantity(pledge("1.000", "1.01"), REBAR, {REBAR: D("1.00")}) == D("0.005")


def test_top_up_may_reach_exactly_the_largest_line() -> None:
    # The doubling search ends on base + 2**29 kg = 1e9 kg, exactly the 1 Mt limit: allowed.
    base = D(10**9 - 2**29) / 1000
    p = Pledge("P", D("1000000.00"), (Holding(REBAR, base, D("0")),), TERMS)
    marks = {REBAR: D("1.00")}
    extra = top_up_quantity(p, REBAR, marks)
    assert value_pledge(p.with_quantity(REBAR, base + extra), marks).shortfall == 0
    assert value_pledge(p.with_quantity(REBAR, base + extra - D("0.001")), marks).shortfall > 0


def test_worsened_gives_indices_usable_on_the_book() -> None:
    ps = [trader(), Pledge("P-2", D("100.00"), (Holding(REBAR, D("1.000"), D("0")),), TERMS)]
    book = PledgeBook.from_pledges(ps)
    before = revalue_book(book, {REBAR: D("3600.00")}).status
    after = revalue_book(book, {REBAR: D("2900.00")}).status
    assert [book.pledge_ids[i] for i in worsened(before, after)] == ["P-1"]


def trader_of(commodity: str) -> Pledge:
    return Pledge("P-c", D("1.00"), (Holding(commodity, D("1.000"), D("0")),), TERMS)


def test_the_book_is_exact_integers_throughout() -> None:
    # float64 would round above 2**53, and the lines compare bp x MV up to 4e18; the masks must
    # be booleans to select pledges. 7 fen lend 4.669 fen at a 33.33% haircut: 5 half up.
    ps = [
        Pledge("P-1", D("10.00"), (Holding(REBAR, D("0.007"), D("0.3333"), D("1.000")),), TERMS),
        Pledge("P-2", D("0.00"), (Holding(REBAR, D("3.000"), D("0")),), TERMS),
    ]
    book = PledgeBook.from_pledges(ps)
    bv = revalue_book(book, {REBAR: D("10.00")})
    assert bv.lending_value_fen.tolist() == [5, 3000]
    assert bv.shortfall_fen.tolist() == [995, 0]
    assert bv.ltv_bp.tolist() == [1428571, 0]  # 10.00 / 0.07 = 142.857142… → 1,428,571 bp
    for figures in (bv.market_value_fen, bv.lending_value_fen, bv.ltv_bp, bv.shortfall_fen):
        assert figures.dtype == np.int64
    assert book.prices_fen({REBAR: D("10.00")}).dtype == np.int64
    assert np.asarray(book.pledge_ids)[bv.below_minimum].tolist() == ["P-1"]
    with pytest.raises(ValuationError, match=r"^no price mark for coil, rebar$"):
        PledgeBook.from_pledges([*ps, trader(), trader_of("coil")]).prices_fen({})


def test_the_book_stays_exact_where_float64_would_not() -> None:
    # A 296 kt line at 994,044.80 CNY/t lends 0.59 × 294,026,503,421.50 = …018.685 → …018.69.
    # The int64 product behind it is ~1.7e17, past float64's 2**53: dividing in floats would
    # land on …018.68.
    p = Pledge("P", D("1.00"), (Holding(REBAR, D("295787.980"), D("0.4100")),), TERMS)
    marks = {REBAR: D("994044.80")}
    assert value_pledge(p, marks).lending_value == D("173475637018.69")
    assert revalue_book(PledgeBook.from_pledges([p]), marks).lending_value_fen.tolist() == [
        17347563701869
    ]


def test_changing_one_line_keeps_the_rest_of_the_pledge() -> None:
    p = Pledge(
        "P-9",
        D("100.00"),
        (Holding(REBAR, D("2.000"), D("0"), D("1.000")), Holding("coil", D("5.000"), D("0"))),
        TERMS,
    )
    marks = {REBAR: D("100.00"), "coil": D("10.00")}
    # Releasing all of a line with no minimum is allowed: the only limit is what is pledged.
    assert check_release(p, "coil", D("5.000"), marks).allowed
    check = check_release(p, REBAR, D("1.500"), marks)
    assert check.after.pledge_id == "P-9"
    assert check.after.below_minimum == (REBAR,)
    assert [(ln.commodity, ln.quantity_t) for ln in check.after.lines] == [
        (REBAR, D("0.500")),
        ("coil", D("5.000")),
    ]


# ---------------------------------------------------------------- hypothesis: the maths
# Last in the file: the slowest tests, and mutation runs stop at the first failure.

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
