"""Claim lines, co-payments, rental splits and the fund ledger reconciling to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.ltc.assessment import Grade
from anxin.ltc.entitlements import EntitlementRule, Month, ServiceItem
from anxin.ltc.settlement import (
    Beneficiary,
    ClaimState,
    FundLedger,
    LineKind,
    RentalClaim,
    Source,
    VisitClaim,
    codes_text,
    reconciles,
    settle_month,
    split,
    split_codes,
    summarise,
)
from anxin.ltc.visits import Check, Finding, Severity

NOV = Month(2026, 11)
RULE = EntitlementRule(
    city="nantong", grade=Grade.MODERATE, valid_from=date(2026, 1, 1), valid_to=None,
    monthly_cash=Decimal("210.00"), visits_per_week=2,
    services=frozenset({"bath", "haircut", "massage"}),
    visit_copay_ratio=Decimal("0.10"), rental_fund_ratio=Decimal("0.80"),
)  # fmt: skip
MENU = {
    "bath": ServiceItem("bath", "助浴", Decimal("60.00")),
    "haircut": ServiceItem("haircut", "理发", Decimal("15.00")),
    "massage": ServiceItem("massage", "按摩", Decimal("35.50")),
}
HER = Beneficiary(1, "nantong", Grade.MODERATE)
SHORT = Finding(Check.TOO_SHORT, Severity.REJECT, "lasted 12 min, the minimum is 30 min")
UNCONFIRMED = Finding(Check.NOT_CONFIRMED, Severity.FLAG, "not confirmed")


def visit(vid: int, services: set[str], *findings: Finding) -> VisitClaim:
    return VisitClaim(vid, 1, 9, date(2026, 11, 3), frozenset(services), findings)


def test_the_month_of_the_71_year_old() -> None:
    lines = settle_month(
        NOV, rules=[RULE], menu=MENU, beneficiaries=[HER],
        visits=[visit(10, {"bath", "haircut"}), visit(11, {"massage"}), visit(12, {"bath"}, SHORT),
                visit(13, {"bath"}, UNCONFIRMED)],
        rentals=[RentalClaim(5, 1, 3, Decimal("90.00"), date(2026, 11, 16), None)],
    )  # fmt: skip
    by_ref = {(line.kind, line.ref): line for line in lines}
    assert by_ref[LineKind.CASH, 1].fund == Decimal("210.00")
    bath = by_ref[LineKind.VISIT, 10]
    assert (bath.amount, bath.fund, bath.copay) == (
        Decimal("75.00"),
        Decimal("67.50"),
        Decimal("7.50"),
    )
    massage = by_ref[LineKind.VISIT, 11]
    assert (massage.fund, massage.copay) == (Decimal("31.95"), Decimal("3.55"))
    short = by_ref[LineKind.VISIT, 12]
    assert short.state is ClaimState.REJECTED and short.fund == 0
    assert short.reason == "too_short: lasted 12 min, the minimum is 30 min"
    assert short.codes == ("too_short",)
    assert by_ref[LineKind.VISIT, 13].reason.startswith("not_confirmed")
    assert by_ref[LineKind.VISIT, 13].codes == ("not_confirmed",)
    assert bath.codes == massage.codes == by_ref[LineKind.CASH, 1].codes == ()
    rental = by_ref[LineKind.RENTAL, 5]  # 15 of 30 days of 90 yuan, 80 % by the fund
    assert (rental.amount, rental.fund, rental.copay) == (
        Decimal("45.00"),
        Decimal("36.00"),
        Decimal("9.00"),
    )
    summary = summarise(NOV, lines)
    assert summary.rejected == 2 and summary.lines == 6
    assert summary.fund_out == Decimal("210.00") + Decimal("67.50") + Decimal("31.95") + Decimal(
        "36.00"
    )


def test_services_off_the_menu_and_people_without_entitlement_are_rejected() -> None:
    lines = settle_month(
        NOV, rules=[RULE], menu=MENU, beneficiaries=[HER],
        visits=[visit(20, {"acupuncture"}),
                VisitClaim(21, 99, 9, date(2026, 11, 3), frozenset({"bath"}), ())],
        rentals=[],
    )  # fmt: skip
    reasons = {line.ref: line.reason for line in lines if line.kind is LineKind.VISIT}
    assert reasons == {
        20: "services not on the menu: acupuncture",
        21: "the beneficiary has no entitlement this month",
    }
    codes = {line.ref: line.codes for line in lines if line.kind is LineKind.VISIT}
    assert codes == {20: ("not_on_menu",), 21: ("no_entitlement",)}


def test_a_rejected_line_has_the_codes_of_its_reason_in_order_once_each() -> None:
    far = "check-{} 900 m from the home, the limit is 200 m"
    findings = (
        Finding(Check.TOO_SHORT, Severity.REJECT, "lasted 5 min, the minimum is 30 min"),
        Finding(Check.OUTSIDE_RADIUS, Severity.REJECT, far.format("in")),
        Finding(Check.OUTSIDE_RADIUS, Severity.REJECT, far.format("out")),
        Finding(Check.NO_PRESENCE, Severity.FLAG, "no one seen"),  # a flag: not a reason
        UNCONFIRMED,
    )
    severe = Beneficiary(2, "nantong", Grade.SEVERE_I)  # no rule for grade 3
    lines = settle_month(
        NOV, rules=[RULE], menu=MENU, beneficiaries=[HER, severe],
        visits=[visit(30, {"bath"}, *findings),
                VisitClaim(31, 2, 9, date(2026, 11, 3), frozenset({"bath"}), ())],
        rentals=[],
    )  # fmt: skip
    by_ref = {line.ref: line for line in lines if line.kind is LineKind.VISIT}
    assert by_ref[30].codes == ("too_short", "outside_radius", "not_confirmed")
    assert by_ref[30].reason.count("outside_radius") == 2  # the text keeps both distances
    assert by_ref[31].codes == ("no_rule",)
    assert codes_text(by_ref[30].codes) == "too_short,outside_radius,not_confirmed"
    assert split_codes(codes_text(by_ref[30].codes)) == list(by_ref[30].codes)
    assert split_codes(codes_text(())) == []


@given(st.decimals(0, 100_000, places=2), st.decimals(0, 1, places=4))
def test_split_always_adds_up(amount: Decimal, ratio: Decimal) -> None:
    fund, copay = split(amount, ratio)
    assert fund + copay == amount and fund >= 0 and copay >= 0


amounts = st.decimals(Decimal("0.01"), Decimal("1000000"), places=2)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("in"), st.sampled_from(list(Source)), amounts),
        st.tuples(st.just("settle"), st.lists(st.sampled_from(sorted(MENU)), max_size=3),
                  st.booleans()),
    ),
    max_size=25,
)  # fmt: skip


@given(steps)
def test_any_sequence_of_contributions_and_settlements_reconciles(raw: list[tuple]) -> None:  # type: ignore[type-arg]
    fund = FundLedger()
    paid_in = paid_out = Decimal("0.00")
    month = Month(2026, 1)
    for index, step in enumerate(raw):
        if step[0] == "in":
            _, source, amount = step
            fund.contribute(month, source, amount)
            paid_in += amount
            continue
        _, services, short = step
        findings = (SHORT,) if short else ()
        lines = settle_month(
            month, rules=[RULE], menu=MENU, beneficiaries=[HER],
            visits=[VisitClaim(index, 1, 9, month.first, frozenset(services), findings)],
            rentals=[RentalClaim(index, 1, 3, Decimal("88.88"), date(2025, 12, 20), None)],
        )  # fmt: skip
        summary = summarise(month, lines)
        fund.post(summary)
        paid_out += summary.fund_out
        assert reconciles(lines, fund.entries, str(month))
        month = Month(month.year + month.month // 12, month.month % 12 + 1)
    assert fund.balance == paid_in - paid_out


def test_a_month_is_posted_once_and_tampering_does_not_reconcile() -> None:
    fund = FundLedger()
    lines = settle_month(NOV, rules=[RULE], menu=MENU, beneficiaries=[HER],
                         visits=[visit(10, {"bath"})], rentals=[])  # fmt: skip
    fund.post(summarise(NOV, lines))
    with pytest.raises(ValueError, match="already posted"):
        fund.post(summarise(NOV, lines))
    assert reconciles(lines, fund.entries, "2026-11")
    assert not reconciles(lines[:1], fund.entries, "2026-11")
