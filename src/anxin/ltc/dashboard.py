"""The city supervisor's dashboard: a month in a handful of grouped queries, and its CSV.

Quality per institution is what is recorded: visits, and once the month is settled the visit
lines rejected and their rate. On-time rates wait for visit plans and complaints for a
complaints record in this domain; neither is invented here.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from anxin.core.security import Principal
from anxin.ltc.entitlements import Month
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcClaimLine,
    LtcInstitution,
    LtcSettlement,
    LtcVisit,
)
from anxin.ltc.schemas import Dashboard, InstitutionQuality
from anxin.ltc.service import READERS, count_insured, fund_by_month, require
from anxin.ltc.settlement import ClaimState, LineKind
from anxin.ltc.settlement_service import LOCAL


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(*, session: Session, principal: Principal, month: Month) -> Dashboard:
    require(principal, READERS)
    org = principal.organisation_id
    by_grade = dict(
        session.execute(
            select(LtcBeneficiary.grade, func.count())
            .where(
                LtcBeneficiary.org_id == org,
                LtcBeneficiary.entitled_from < month.end,
                LtcBeneficiary.entitled_to.is_(None) | (LtcBeneficiary.entitled_to > month.first),
            )
            .group_by(LtcBeneficiary.grade)
        ).all()
    )
    visits_by_institution = dict(
        session.execute(
            select(LtcVisit.institution_id, func.count())
            .where(
                LtcVisit.org_id == org,
                LtcVisit.check_in >= _start(month.first),
                LtcVisit.check_in < _start(month.end),
            )
            .group_by(LtcVisit.institution_id)
        ).all()
    )
    settlement = session.scalar(
        select(LtcSettlement).where(LtcSettlement.org_id == org, LtcSettlement.month == str(month))
    )
    lines: dict[str, tuple[int, int]] = {}
    if settlement is not None:
        rejected = func.sum(case((LtcClaimLine.state == ClaimState.REJECTED, 1), else_=0))
        for payee, count, bad in session.execute(
            select(LtcClaimLine.payee, func.count(), rejected)
            .where(LtcClaimLine.settlement_id == settlement.id, LtcClaimLine.kind == LineKind.VISIT)
            .group_by(LtcClaimLine.payee)
        ):
            lines[payee] = (int(count), int(bad or 0))
    institutions = []
    for row in session.scalars(
        select(LtcInstitution).where(LtcInstitution.org_id == org).order_by(LtcInstitution.name)
    ):
        count, bad = lines.get(f"institution:{row.id}", (0, 0))
        institutions.append(
            InstitutionQuality(
                institution_id=row.id, name=row.name,
                visits=int(visits_by_institution.get(row.id, 0)), settled_lines=count,
                rejected=bad, rejection_rate=_rate(bad, count) if settlement else None,
            )
        )  # fmt: skip
    zero = Decimal("0.00")
    paid_in = paid_out = balance = zero
    for fund in fund_by_month(session=session, principal=principal):
        if fund.month <= str(month):
            balance = fund.balance
        if fund.month == str(month):
            paid_in, paid_out = fund.paid_in, fund.paid_out
    return Dashboard(
        month=str(month), insured=count_insured(session=session, org_id=org),
        beneficiaries_by_grade={str(g): int(n) for g, n in sorted(by_grade.items())},
        visits=sum(int(n) for n in visits_by_institution.values()),
        settled=settlement is not None,
        claim_lines=settlement.lines if settlement else 0,
        rejected_lines=settlement.rejected if settlement else 0,
        rejection_rate=_rate(settlement.rejected, settlement.lines) if settlement else None,
        paid_in=paid_in, paid_out=paid_out, balance=balance,
        months_of_reserve=round(float(balance / paid_out), 1) if paid_out else None,
        institutions=institutions,
    )  # fmt: skip


CSV_COLUMNS = ("institution_id", "name", "visits", "settled_lines", "rejected", "rejection_rate")


def institutions_csv(board: Dashboard) -> str:
    """Per-institution quality of the month, one row each (UTF-8, header line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in board.institutions:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return out.getvalue()


def visits_per_month(*, session: Session, principal: Principal, months: list[Month]) -> list[int]:
    """Visits checked in during each month (local dates), one counted query per month."""
    require(principal, READERS)
    return [
        int(
            session.scalar(
                select(func.count(LtcVisit.id)).where(
                    LtcVisit.org_id == principal.organisation_id,
                    LtcVisit.check_in >= _start(m.first),
                    LtcVisit.check_in < _start(m.end),
                )
            )
            or 0
        )
        for m in months
    ]
