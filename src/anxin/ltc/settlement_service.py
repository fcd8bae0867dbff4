"""City rules and the monthly settlement run over stored data.

The run loads the month in a fixed number of queries (rules, menu, beneficiaries with their
homes, rentals) and prices the cash and rental lines with the pure core (`settlement`). The
visit lines — hundreds of thousands a month — are checked and priced by PostgreSQL in one
statement (`settlement_sql`); on SQLite, and as the oracle in the tests, the pure core checks
them in Python (`visits`). The lines are written in bulk, the fund payouts posted, the month
closed and its summary anchored in the ledger. A closed month is never settled again and no
rule may start inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound
from anxin.core.money import to_money
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.ltc import settlement_sql
from anxin.ltc.assessment import Grade
from anxin.ltc.entitlements import (
    EntitlementRule,
    Month,
    RuleBook,
    RuleConflict,
    ServiceItem,
    check_new_rule,
)
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcClaimLine,
    LtcFundEntry,
    LtcInsured,
    LtcRental,
    LtcRule,
    LtcService,
    LtcSettlement,
    LtcVisit,
)
from anxin.ltc.schemas import RuleCreate
from anxin.ltc.service import ADMINS, READERS, insert_values, require
from anxin.ltc.settlement import (
    Beneficiary,
    ClaimLine,
    ClaimState,
    Direction,
    LineKind,
    RentalClaim,
    Summary,
    VisitClaim,
    codes_text,
    settle_month,
    summarise,
)
from anxin.ltc.settlement_sql import VisitTotals
from anxin.ltc.visits import LOCAL as LOCAL  # re-exported: other modules import it from here
from anxin.ltc.visits import GeoPoint, VisitFacts, VisitPolicy, check_visit, local_start, overlaps


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise InvalidInput.field("month", str(exc)) from exc


def rule_from_row(row: LtcRule) -> EntitlementRule:
    return EntitlementRule(
        city=row.city, grade=Grade(row.grade), valid_from=row.valid_from, valid_to=row.valid_to,
        monthly_cash=row.monthly_cash, visits_per_week=row.visits_per_week,
        services=frozenset(row.services), visit_copay_ratio=row.visit_copay_ratio,
        rental_fund_ratio=row.rental_fund_ratio,
    )  # fmt: skip


def _settled(session: Session, org_id: str) -> list[Month]:
    months = session.scalars(select(LtcSettlement.month).where(LtcSettlement.org_id == org_id))
    return [Month.parse(m) for m in months]


def add_rule(*, session: Session, principal: Principal, data: RuleCreate, now: datetime) -> LtcRule:
    """Add a rule from its effective date. The open rule of the same city and grade that started
    earlier is closed the day the new one starts; nothing reaches into a settled month."""
    require(principal, ADMINS)
    org = principal.organisation_id
    rows = list(
        session.scalars(
            select(LtcRule).where(
                LtcRule.org_id == org, LtcRule.city == data.city, LtcRule.grade == data.grade
            )
        )
    )
    new = EntitlementRule(
        city=data.city, grade=Grade(data.grade), valid_from=data.valid_from,
        valid_to=data.valid_to, monthly_cash=data.monthly_cash,
        visits_per_week=data.visits_per_week, services=frozenset(data.services),
        visit_copay_ratio=data.visit_copay_ratio, rental_fund_ratio=data.rental_fund_ratio,
    )  # fmt: skip
    settled = _settled(session, org)
    superseded = [r for r in rows if r.valid_to is None and r.valid_from < data.valid_from]
    remaining = [rule_from_row(r) for r in rows if r not in superseded]
    remaining += [
        EntitlementRule(**{**rule_from_row(r).__dict__, "valid_to": data.valid_from})
        for r in superseded
    ]
    try:
        check_new_rule(remaining, new, settled)
    except RuleConflict as exc:
        raise InvalidInput.field(exc.field, exc.reason) from exc
    known = set(session.scalars(select(LtcService.code).where(LtcService.org_id == org)))
    unknown = sorted(set(data.services) - known)
    if unknown:
        raise InvalidInput.field("services", f"not on the menu: {', '.join(unknown)}")
    for row in superseded:
        row.valid_to = data.valid_from
    rule = LtcRule(org_id=org, created_at=now, **data.model_dump())
    session.add(rule)
    session.flush()
    return rule


@dataclass(frozen=True)
class SettlementResult:
    settlement: LtcSettlement
    reconciled: bool


@dataclass(frozen=True)
class MonthBook:
    """What pricing a month needs besides its visits: rules, menu, the entitled and their homes."""

    rules: RuleBook
    menu: dict[str, ServiceItem]
    people: dict[int, Beneficiary]
    homes: dict[int, GeoPoint | None]


def _month_book(session: Session, org_id: str, month: Month) -> MonthBook:
    book = RuleBook(
        rule_from_row(r) for r in session.scalars(select(LtcRule).where(LtcRule.org_id == org_id))
    )
    menu = {
        s.code: ServiceItem(s.code, s.name_en, s.price)
        for s in session.scalars(select(LtcService).where(LtcService.org_id == org_id))
    }
    people: dict[int, Beneficiary] = {}
    homes: dict[int, GeoPoint | None] = {}
    for b_id, city, grade, start, stop, lat, lon in session.execute(
        select(
            LtcBeneficiary.id, LtcBeneficiary.city, LtcBeneficiary.grade,
            LtcBeneficiary.entitled_from, LtcBeneficiary.entitled_to, LtcInsured.lat,
            LtcInsured.lon,
        )
        .join(LtcInsured, LtcInsured.id == LtcBeneficiary.insured_id)
        .where(
            LtcBeneficiary.org_id == org_id,
            LtcBeneficiary.entitled_from < month.end,
            (LtcBeneficiary.entitled_to.is_(None)) | (LtcBeneficiary.entitled_to > month.first),
        )
    ):  # fmt: skip
        people[b_id] = Beneficiary(b_id, city, Grade(grade), start, stop)
        homes[b_id] = GeoPoint(lat, lon) if lat is not None and lon is not None else None
    return MonthBook(book, menu, people, homes)


def _visit_claims(
    session: Session, org_id: str, month: Month, data: MonthBook, policy: VisitPolicy
) -> list[VisitClaim]:
    """Every visit of the month checked in Python (`visits.check_visit`)."""
    # Plain rows, not ORM objects: hundreds of thousands of visits are read once and dropped.
    v = LtcVisit
    visit_rows = session.execute(
        select(
            v.id, v.beneficiary_id, v.institution_id, v.caregiver, v.check_in, v.check_out,
            v.in_lat, v.in_lon, v.out_lat, v.out_lon, v.services, v.confirmed, v.presence,
        ).where(
            v.org_id == org_id,
            v.check_in >= local_start(month.first),
            v.check_in < local_start(month.end),
        )
    )  # fmt: skip
    facts: list[tuple[int, int, VisitFacts]] = []
    for (
        vid,
        b_id,
        inst,
        cg,
        c_in,
        c_out,
        in_lat,
        in_lon,
        out_lat,
        out_lon,
        svc,
        ok,
        seen,
    ) in visit_rows:
        out_at = GeoPoint(out_lat, out_lon) if out_lat is not None and out_lon is not None else None
        fact = VisitFacts(
            vid, cg, c_in, c_out, GeoPoint(in_lat, in_lon), out_at, frozenset(svc), ok, seen
        )
        facts.append((b_id, inst, fact))
    clashes = overlaps(f for _, _, f in facts)
    claims: list[VisitClaim] = []
    for b_id, inst, fact in facts:
        day = fact.check_in.astimezone(LOCAL).date()
        person = data.people.get(b_id)
        rule = data.rules.on(person.city, person.grade, day) if person else None
        findings = check_visit(
            fact,
            home=data.homes.get(b_id),
            entitled=rule.services if rule else frozenset(),
            policy=policy,
            overlapping=clashes.get(fact.id, ()),
        )
        claims.append(VisitClaim(fact.id, b_id, inst, day, fact.services, findings))
    return claims


def _rentals(session: Session, org_id: str, month: Month) -> list[RentalClaim]:
    return [
        RentalClaim(r.id, r.beneficiary_id, r.depot_id, r.monthly_rent, r.start, r.end)
        for r in session.scalars(
            select(LtcRental).where(
                LtcRental.org_id == org_id,
                LtcRental.start < month.end,
                (LtcRental.end.is_(None)) | (LtcRental.end > month.first),
            )
        )
    ]


def python_lines(
    *, session: Session, org_id: str, month: Month, policy: VisitPolicy, visits: bool = True
) -> list[ClaimLine]:
    """The month's claim lines computed in Python: every line on SQLite, and the oracle the
    set-based visit lines (`settlement_sql`) are tested against. With `visits=False`, only
    the cash and rental lines (cheap: one per beneficiary or rental)."""
    data = _month_book(session, org_id, month)
    claims = _visit_claims(session, org_id, month, data, policy) if visits else []
    return settle_month(
        month, rules=data.rules, menu=data.menu, beneficiaries=data.people.values(),
        visits=claims, rentals=_rentals(session, org_id, month),
    )  # fmt: skip


def set_based(session: Session) -> bool:
    """PostgreSQL settles visits in SQL; SQLite cannot (no exact decimals), Python does."""
    return session.get_bind().dialect.name == "postgresql"


def _with_visits(summary: Summary, visits: VisitTotals) -> Summary:
    """The Python lines' summary plus the staged visit lines' totals."""
    fund = dict(summary.fund_by_kind)
    fund[LineKind.VISIT] += visits.fund
    return Summary(
        summary.month, summary.lines + visits.lines, summary.rejected + visits.rejected, fund,
        summary.copay + visits.copay,
    )  # fmt: skip


def settle(*, uow: UnitOfWork, org_id: str, month: Month, policy: VisitPolicy) -> SettlementResult:
    """Settle and close one month of one scheme (see the module)."""
    session = uow.session
    key = str(month)
    if session.scalar(
        select(LtcSettlement.id).where(LtcSettlement.org_id == org_id, LtcSettlement.month == key)
    ):
        raise Conflict(f"month {key} is already settled and closed")
    in_sql = set_based(session)
    lines = python_lines(
        session=session, org_id=org_id, month=month, policy=policy, visits=not in_sql
    )
    summary = summarise(month, lines)
    if in_sql:
        settlement_sql.stage_visit_lines(session, org_id=org_id, month=month, policy=policy)
        summary = _with_visits(summary, settlement_sql.staged_totals(session))
    settlement = _open_settlement(uow, org_id, summary)
    _store_lines(session, settlement.id, lines)
    if in_sql:
        settlement_sql.store_staged(session, settlement_id=settlement.id)
    _post_payouts(uow, org_id, summary)
    return SettlementResult(settlement, reconcile(session=session, settlement=settlement))


def _open_settlement(uow: UnitOfWork, org_id: str, summary: Summary) -> LtcSettlement:
    body: dict[str, Any] = {
        "month": summary.month,
        "lines": summary.lines,
        "rejected": summary.rejected,
        "fund_out": str(summary.fund_out),
        "fund_by_kind": {k.value: str(v) for k, v in summary.fund_by_kind.items()},
        "copay": str(summary.copay),
    }
    settlement = LtcSettlement(
        org_id=org_id, month=summary.month, lines=summary.lines, rejected=summary.rejected,
        fund_out=summary.fund_out, copay=summary.copay, summary=body, closed_at=uow.now(),
    )  # fmt: skip
    uow.session.add(settlement)
    uow.session.flush()
    return settlement


def _store_lines(session: Session, settlement_id: int, lines: Sequence[ClaimLine]) -> None:
    values = [
        {
            "settlement_id": settlement_id, "kind": line.kind, "ref": line.ref,
            "beneficiary_id": line.beneficiary_id, "payee": line.payee, "amount": line.amount,
            "fund": line.fund, "copay": line.copay, "state": line.state,
            "reason": line.reason[:500], "reason_codes": codes_text(line.codes),
        }
        for line in lines
    ]  # fmt: skip
    insert_values(session, LtcClaimLine.__table__, values)  # type: ignore[arg-type]


def _post_payouts(uow: UnitOfWork, org_id: str, summary: Summary) -> None:
    for kind, amount in summary.fund_by_kind.items():
        if amount > 0:
            uow.session.add(
                LtcFundEntry(
                    org_id=org_id, month=summary.month, direction=Direction.OUT,
                    category=kind.value, amount=amount,
                    reference=f"settlement:{summary.month}:{kind.value}", created_at=uow.now(),
                )
            )  # fmt: skip
    uow.session.flush()


def reconcile(*, session: Session, settlement: LtcSettlement) -> bool:
    """True when the month's fund payouts equal the claim lines' fund parts per kind, to the fen
    — two grouped queries over what is stored, independent of how the run computed them."""
    lines: dict[LineKind, Decimal] = dict(
        session.execute(
            select(LtcClaimLine.kind, func.sum(LtcClaimLine.fund))
            .where(LtcClaimLine.settlement_id == settlement.id)
            .group_by(LtcClaimLine.kind)
        ).all()
    )
    posted: dict[str, Decimal] = dict(
        session.execute(
            select(LtcFundEntry.category, func.sum(LtcFundEntry.amount))
            .where(
                LtcFundEntry.org_id == settlement.org_id,
                LtcFundEntry.month == settlement.month,
                LtcFundEntry.direction == Direction.OUT,
            )
            .group_by(LtcFundEntry.category)
        ).all()
    )
    expected = {k.value: to_money(v) for k, v in lines.items() if to_money(v) != 0}
    actual = {k: to_money(v) for k, v in posted.items()}
    return expected == actual and sum(actual.values(), Decimal(0)) == settlement.fund_out


def get_settlement(*, session: Session, principal: Principal, month: Month) -> LtcSettlement:
    require(principal, READERS)
    found = session.scalar(
        select(LtcSettlement).where(
            LtcSettlement.org_id == principal.organisation_id, LtcSettlement.month == str(month)
        )
    )
    if found is None:
        raise NotFound(f"month {month} is not settled")
    return found


def rejected_lines(
    *, session: Session, settlement: LtcSettlement, limit: int
) -> Sequence[LtcClaimLine]:
    return session.scalars(
        select(LtcClaimLine)
        .where(
            LtcClaimLine.settlement_id == settlement.id, LtcClaimLine.state == ClaimState.REJECTED
        )
        .order_by(LtcClaimLine.id)
        .limit(limit)
    ).all()
