"""Monthly settlement and the fund ledger (pure).

Each month produces claim lines: a cash subsidy per beneficiary, a payment to the institution
per visit, a rental charge per piece of equipment. A line is *valuated* (to be paid: its amount
split into the fund's part and the beneficiary's co-payment) or *rejected* with its reason — the
two end states of an openIMIS claim (Entered → Checked → Processed → Valuated, or Rejected).
The fund ledger records contributions in and payouts out per month; a settlement is posted as
one payout per category and reconciles when those payouts equal, to the fen, the fund parts of
the valuated lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from anxin.core.money import to_money

from .assessment import Grade
from .entitlements import EntitlementRule, Month, RuleBook, ServiceItem, monthly_cash
from .visits import Finding, blocking


class LineKind(StrEnum):
    CASH = "cash"  # monthly cash subsidy to the beneficiary
    VISIT = "visit"  # payment to a care institution for a verified visit
    RENTAL = "rental"  # equipment rental, split between fund and beneficiary


class RunReason(StrEnum):
    """Why the run rejects a visit before any visit check; a check's own code is its `Check`."""

    NO_ENTITLEMENT = "no_entitlement"
    NO_RULE = "no_rule"
    NOT_ON_MENU = "not_on_menu"


class ClaimState(StrEnum):
    """openIMIS claim states; settlement leaves every line valuated or rejected."""

    ENTERED = "entered"
    CHECKED = "checked"
    VALUATED = "valuated"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ClaimLine:
    kind: LineKind
    ref: int  # the beneficiary (cash), visit (visit) or rental (rental) id
    beneficiary_id: int
    payee: str  # "beneficiary:<id>", "institution:<id>" or "depot:<id>"
    amount: Decimal  # the full price of the line
    fund: Decimal  # the fund's part (0 when rejected)
    copay: Decimal  # the beneficiary's part (0 when rejected)
    state: ClaimState
    reason: str = ""  # in words, with the detail (minutes, metres, ids)
    codes: tuple[str, ...] = ()  # a rejected line's reasons as codes, in the reason's order


def codes_text(codes: Iterable[str]) -> str:
    """A line's codes as stored: "too_short,not_confirmed" ("" for none)."""
    return ",".join(codes)


def split_codes(text: str) -> list[str]:
    """The codes of a stored `codes_text`."""
    return text.split(",") if text else []


@dataclass(frozen=True)
class Beneficiary:
    id: int
    city: str
    grade: Grade
    entitled_from: date | None = None
    entitled_to: date | None = None  # exclusive


@dataclass(frozen=True)
class VisitClaim:
    visit_id: int
    beneficiary_id: int
    institution_id: int
    day: date
    services: frozenset[str]
    findings: Sequence[Finding]


@dataclass(frozen=True)
class RentalClaim:
    rental_id: int
    beneficiary_id: int
    depot_id: int
    monthly_rent: Decimal
    start: date
    end: date | None  # exclusive; None while still rented


def split(amount: Decimal, beneficiary_ratio: Decimal) -> tuple[Decimal, Decimal]:
    """(fund, beneficiary): the beneficiary's part rounded half up, the fund takes the rest, so
    the parts always add up to the amount exactly."""
    copay = to_money(amount * beneficiary_ratio)
    return amount - copay, copay


def _rejected(
    kind: LineKind, ref: int, beneficiary: int, payee: str, amount: Decimal, why: str,
    codes: tuple[str, ...],
) -> ClaimLine:  # fmt: skip
    zero = Decimal("0.00")
    return ClaimLine(
        kind, ref, beneficiary, payee, amount, zero, zero, ClaimState.REJECTED, why, codes
    )


def settle_month(
    month: Month,
    *,
    rules: Sequence[EntitlementRule] | RuleBook,
    menu: Mapping[str, ServiceItem],
    beneficiaries: Iterable[Beneficiary],
    visits: Iterable[VisitClaim],
    rentals: Iterable[RentalClaim],
) -> list[ClaimLine]:
    """The month's claim lines. Visits are priced by the rule in force on their day, cash pro
    rata by day (`monthly_cash`), rentals by the days rented in the month."""
    book = rules if isinstance(rules, RuleBook) else RuleBook(rules)
    people = {b.id: b for b in beneficiaries}
    lines: list[ClaimLine] = []
    # Most beneficiaries share their city, grade and a whole month: price each case once.
    cash_of: dict[tuple[str, Grade, date, date], Decimal] = {}
    for person in people.values():
        start = max(month.first, person.entitled_from or month.first)
        stop = min(month.end, person.entitled_to or month.end)
        key = (person.city, person.grade, start, stop)
        if key not in cash_of:
            cash_of[key] = monthly_cash(book, person.city, person.grade, month, start, stop)
        cash = cash_of[key]
        if cash > 0:
            lines.append(
                ClaimLine(
                    LineKind.CASH, person.id, person.id, f"beneficiary:{person.id}",
                    cash, cash, Decimal("0.00"), ClaimState.VALUATED,
                )
            )  # fmt: skip
    for visit in visits:
        lines.append(_visit_line(visit, people, book, menu))
    for rental in rentals:
        line = _rental_line(month, rental, people, book)
        if line is not None:
            lines.append(line)
    return lines


def _visit_line(
    visit: VisitClaim,
    people: Mapping[int, Beneficiary],
    book: RuleBook,
    menu: Mapping[str, ServiceItem],
) -> ClaimLine:
    payee = f"institution:{visit.institution_id}"
    known = [menu[code] for code in sorted(visit.services) if code in menu]
    amount = to_money(sum((item.price for item in known), Decimal(0)))

    def reject(why: str, *codes: str) -> ClaimLine:
        return _rejected(
            LineKind.VISIT, visit.visit_id, visit.beneficiary_id, payee, amount, why, codes
        )

    person = people.get(visit.beneficiary_id)
    if person is None:
        return reject("the beneficiary has no entitlement this month", RunReason.NO_ENTITLEMENT)
    rule = book.on(person.city, person.grade, visit.day)
    if rule is None:
        return reject(
            f"no entitlement rule for grade {int(person.grade)} on {visit.day}", RunReason.NO_RULE
        )
    unknown = sorted(visit.services - menu.keys())
    if unknown:
        return reject(f"services not on the menu: {', '.join(unknown)}", RunReason.NOT_ON_MENU)
    stops = blocking(visit.findings, final=True)
    if stops:
        # A check may stop a visit twice (check-in and check-out too far): its code once.
        codes = dict.fromkeys(f.check.value for f in stops)
        return reject("; ".join(f"{f.check}: {f.reason}" for f in stops), *codes)
    fund, copay = split(amount, rule.visit_copay_ratio)
    return ClaimLine(
        LineKind.VISIT, visit.visit_id, visit.beneficiary_id, payee, amount, fund, copay,
        ClaimState.VALUATED,
    )  # fmt: skip


def _rental_line(
    month: Month,
    rental: RentalClaim,
    people: Mapping[int, Beneficiary],
    book: RuleBook,
) -> ClaimLine | None:
    start = max(month.first, rental.start)
    stop = min(month.end, rental.end or month.end)
    if stop <= start:
        return None  # not rented this month
    amount = to_money(rental.monthly_rent * (stop - start).days / month.days)
    payee = f"depot:{rental.depot_id}"
    person = people.get(rental.beneficiary_id)
    rule = book.on(person.city, person.grade, start) if person else None
    if rule is None:
        # Without an entitlement the beneficiary pays the whole rent: the fund owes nothing.
        return ClaimLine(
            LineKind.RENTAL, rental.rental_id, rental.beneficiary_id, payee, amount,
            Decimal("0.00"), amount, ClaimState.VALUATED, "no entitlement: the beneficiary pays",
        )  # fmt: skip
    fund, copay = split(amount, Decimal(1) - rule.rental_fund_ratio)
    return ClaimLine(
        LineKind.RENTAL, rental.rental_id, rental.beneficiary_id, payee, amount, fund, copay,
        ClaimState.VALUATED,
    )  # fmt: skip


@dataclass(frozen=True)
class Summary:
    month: str
    lines: int
    rejected: int
    fund_by_kind: Mapping[LineKind, Decimal]
    copay: Decimal

    @property
    def fund_out(self) -> Decimal:
        return sum(self.fund_by_kind.values(), Decimal("0.00"))


def summarise(month: Month, lines: Iterable[ClaimLine]) -> Summary:
    by_kind = {kind: Decimal("0.00") for kind in LineKind}
    copay = Decimal("0.00")
    count = rejected = 0
    for line in lines:
        count += 1
        if line.state is ClaimState.REJECTED:
            rejected += 1
            continue
        by_kind[line.kind] += line.fund
        copay += line.copay
    return Summary(str(month), count, rejected, by_kind, copay)


class Source(StrEnum):
    """Where a contribution comes from."""

    EMPLOYER = "employer"
    INDIVIDUAL = "individual"
    MEDICAL_INSURANCE = "medical_insurance"  # transfer from the medical-insurance fund
    GOVERNMENT = "government"  # government subsidy


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class FundEntry:
    month: str
    direction: Direction
    category: str  # a `Source` for money in, a `LineKind` for money out
    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount < 0 or to_money(self.amount) != self.amount:
            raise ValueError("a fund entry is a non-negative amount in fen")


@dataclass
class FundLedger:
    """Money in and out of the fund, append-only. The balance is derived, never stored alone."""

    entries: list[FundEntry] = field(default_factory=list)

    def contribute(self, month: Month, source: Source, amount: Decimal) -> FundEntry:
        entry = FundEntry(str(month), Direction.IN, source.value, to_money(amount))
        self.entries.append(entry)
        return entry

    def post(self, summary: Summary) -> list[FundEntry]:
        """One payout per category of a settled month (categories with nothing paid are skipped)."""
        if any(e.direction is Direction.OUT and e.month == summary.month for e in self.entries):
            raise ValueError(f"month {summary.month} is already posted")
        posted = [
            FundEntry(summary.month, Direction.OUT, kind.value, amount)
            for kind, amount in summary.fund_by_kind.items()
            if amount > 0
        ]
        self.entries.extend(posted)
        return posted

    def total(self, direction: Direction, month: str | None = None) -> Decimal:
        return sum(
            (
                e.amount
                for e in self.entries
                if e.direction is direction and month in (None, e.month)
            ),
            Decimal("0.00"),
        )

    @property
    def balance(self) -> Decimal:
        return self.total(Direction.IN) - self.total(Direction.OUT)


def reconciles(lines: Iterable[ClaimLine], entries: Iterable[FundEntry], month: str) -> bool:
    """True when the month's payouts in the ledger equal the valuated lines' fund parts, per
    category and in total, to the fen."""
    expected = {kind.value: Decimal("0.00") for kind in LineKind}
    for line in lines:
        if line.state is ClaimState.VALUATED:
            expected[line.kind.value] += line.fund
    posted = {kind.value: Decimal("0.00") for kind in LineKind}
    for entry in entries:
        if entry.direction is Direction.OUT and entry.month == month:
            if entry.category not in posted:
                return False
            posted[entry.category] += entry.amount
    return expected == posted
