"""The price tick values every pledge over the int64 book (`revalue_pledges`' `_figures`): the
figures must be exactly those of the Decimal path (`pure_pledge` + `value_pledge`), pledge by
pledge, for any terms, stock, debt and marks the columns can hold."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.property_budget import examples

from anxin.collateral.service import pledges as service

COMMODITIES = ("rebar", "rubber", "copper")


def _rate(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda bp: Decimal(bp) / 10_000)


@st.composite
def held(draw: st.DrawFn, n: int) -> service._Held:
    warning = draw(st.integers(1, 17_000))
    margin = draw(st.integers(warning + 1, 18_000))
    liquidation = draw(st.one_of(st.none(), st.integers(margin + 1, 20_000)))
    return service._Held(
        id=f"p{n}",
        lender_org_id="bank",
        commodity_id=draw(st.sampled_from(COMMODITIES)),
        haircut=draw(_rate(0, 9_999)),
        warning_ltv=Decimal(warning) / 10_000,
        margin_call_ltv=Decimal(margin) / 10_000,
        liquidation_ltv=None if liquidation is None else Decimal(liquidation) / 10_000,
        min_quantity_kg=draw(st.integers(0, 5_000_000)),
        status="ok",
        below_minimum=False,
        outstanding=Decimal(draw(st.integers(0, 10**12))) / 100,
    )


book = st.integers(1, 12).flatmap(lambda n: st.tuples(*(held(i) for i in range(n))))
marks = st.dictionaries(
    st.sampled_from(COMMODITIES),
    st.integers(0, 10**8).map(lambda fen: Decimal(fen) / 100),
)


@examples(200)
@given(book=book, marks=marks, stock=st.lists(st.integers(-10, 10**9), min_size=12, max_size=12))
def test_book_figures_are_the_decimal_paths(book, marks, stock) -> None:
    quantities = {h.id: stock[i] for i, h in enumerate(book)}
    figures = service._figures(list(book), quantities, marks)
    for h in book:
        qty = quantities[h.id]
        if h.commodity_id not in marks:
            expected = service._Figures("unpriced", None, None, None, qty < h.min_quantity_kg)
        else:
            expected = service._decimal_figures(h, qty, marks[h.commodity_id])
        got = figures[h.id]
        assert got == expected
        # Equal Decimals may differ in exponent ("1E+2" vs "100.00"): the stored text must not.
        assert [str(v) for v in got] == [str(v) for v in expected]
