"""A settled month as people read it: the months and their state, totals by kind, and the
rejected claim lines with their reasons as codes the console puts into words.

A claim line stores its reason twice: as text with the run's English detail ("too_short:
lasted 2 min, ...; not_confirmed: ...") and as the codes of its parts ("too_short,
not_confirmed"), written by the settlement run; the pages read the codes, so they never show
the detail or a raw code. Reads only; settling is the settlement service's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from anxin.core.security import Principal
from anxin.ltc.entitlements import Month
from anxin.ltc.models import LtcClaimLine, LtcInstitution, LtcSettlement, LtcVisit
from anxin.ltc.service import READERS, require
from anxin.ltc.settlement import ClaimState, LineKind, RunReason, split_codes
from anxin.ltc.visits import Check

# Lines stored before the codes were whose reason the migration could not read.
OTHER = "other"
# The order of the console's legends, and of reasons counted alike.
REASON_CODES = (*(c.value for c in Check), *(r.value for r in RunReason), OTHER)
_RANK = {code: rank for rank, code in enumerate(REASON_CODES)}


def is_settled(*, session: Session, org_id: str, month: Month) -> bool:
    found = session.scalar(
        select(LtcSettlement.id).where(
            LtcSettlement.org_id == org_id, LtcSettlement.month == str(month)
        )
    )
    return found is not None


@dataclass(frozen=True)
class MonthState:
    month: str
    settled: bool
    closed_at: datetime | None
    ended: bool  # only a month that has ended may be settled


def months(*, session: Session, principal: Principal, today: date, count: int) -> list[MonthState]:
    """The `count` months up to and including the current one, newest first, with any older
    settled month too."""
    require(principal, READERS)
    closed = dict(
        session.execute(
            select(LtcSettlement.month, LtcSettlement.closed_at).where(
                LtcSettlement.org_id == principal.organisation_id
            )
        ).all()
    )
    recent = [Month(today.year, today.month)]
    while len(recent) < count:
        previous = recent[-1].first - timedelta(days=1)
        recent.append(Month(previous.year, previous.month))
    keys = sorted({str(m) for m in recent} | set(closed), reverse=True)
    return [
        MonthState(key, key in closed, closed.get(key), Month.parse(key).end <= today)
        for key in keys
    ]


@dataclass(frozen=True)
class KindTotal:
    kind: LineKind
    lines: int
    rejected: int
    amount: Decimal
    fund: Decimal
    copay: Decimal


def totals_by_kind(*, session: Session, settlement: LtcSettlement) -> list[KindTotal]:
    """Lines, rejections and money per kind, summed from the stored claim lines."""
    line = LtcClaimLine
    rejected = func.sum(case((line.state == ClaimState.REJECTED, 1), else_=0))
    rows = {
        kind: (int(n), int(bad or 0), amount, fund, copay)
        for kind, n, bad, amount, fund, copay in session.execute(
            select(
                line.kind, func.count(), rejected, func.sum(line.amount), func.sum(line.fund),
                func.sum(line.copay),
            )
            .where(line.settlement_id == settlement.id)
            .group_by(line.kind)
        )
    }  # fmt: skip
    zero = Decimal("0.00")
    out = []
    for kind in LineKind:
        n, bad, amount, fund, copay = rows.get(kind, (0, 0, zero, zero, zero))
        out.append(KindTotal(kind, n, bad, Decimal(amount), Decimal(fund), Decimal(copay)))
    return out


@dataclass(frozen=True)
class Rejection:
    kind: LineKind
    ref: int
    institution: str  # the payee's name for a visit line, else ""
    check_in: datetime | None  # a visit line's visit
    amount: Decimal
    codes: list[str]


def rejections(
    *, session: Session, principal: Principal, settlement: LtcSettlement, limit: int
) -> list[Rejection]:
    """The month's rejected lines (first `limit`), each with its institution, visit time and
    reason codes — no beneficiary's name, so the supervisor may read it too."""
    require(principal, READERS)
    lines = session.scalars(
        select(LtcClaimLine)
        .where(
            LtcClaimLine.settlement_id == settlement.id,
            LtcClaimLine.state == ClaimState.REJECTED,
        )
        .order_by(LtcClaimLine.id)
        .limit(limit)
    ).all()
    visit_ids = [line.ref for line in lines if line.kind == LineKind.VISIT]
    started = dict(
        session.execute(
            select(LtcVisit.id, LtcVisit.check_in).where(
                LtcVisit.org_id == settlement.org_id, LtcVisit.id.in_(visit_ids)
            )
        ).all()
    )
    names = dict(
        session.execute(
            select(LtcInstitution.id, LtcInstitution.name).where(
                LtcInstitution.org_id == settlement.org_id
            )
        ).all()
    )
    out = []
    for line in lines:
        institution = ""
        if line.payee.startswith("institution:"):
            raw = line.payee.removeprefix("institution:")
            institution = names.get(int(raw), "") if raw.isdigit() else ""
        at = started.get(line.ref) if line.kind == LineKind.VISIT else None
        out.append(
            Rejection(
                line.kind, line.ref, institution, at, line.amount, split_codes(line.reason_codes),
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class ReasonCount:
    code: str
    lines: int
    rate: float | None  # of the month's visit lines


def rejections_by_reason(*, session: Session, settlement: LtcSettlement) -> list[ReasonCount]:
    """Rejected lines per reason, most frequent first. A line rejected for two reasons counts
    under each, so the counts may add up to more than the rejected lines."""
    counts: Counter[str] = Counter()
    # Grouped in SQL by the lines' codes: a month has a handful of combinations, not a row each.
    for codes, n in session.execute(
        select(LtcClaimLine.reason_codes, func.count())
        .where(
            LtcClaimLine.settlement_id == settlement.id,
            LtcClaimLine.state == ClaimState.REJECTED,
        )
        .group_by(LtcClaimLine.reason_codes)
    ):
        for code in split_codes(codes):
            counts[code] += int(n)
    visit_lines = int(
        session.scalar(
            select(func.count()).where(
                LtcClaimLine.settlement_id == settlement.id, LtcClaimLine.kind == LineKind.VISIT
            )
        )
        or 0
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], _RANK.get(item[0], len(_RANK))))
    return [
        ReasonCount(code, n, round(n / visit_lines, 4) if visit_lines else None)
        for code, n in ranked
    ]
