"""Release orders: the borrower's request to take pledged stock out, the lending bank's
decision (refused if what stays would breach the pledge's terms), and how much of the approved
releases outbound lifts may still consume.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.collateral import valuation
from anxin.collateral.models import Loan, PledgeRow, PledgeState, ReleaseOrder, ReleaseStatus
from anxin.collateral.schemas import ReleaseCreate
from anxin.collateral.service.common import kg_to_t, t_to_kg
from anxin.collateral.service.pledges import (
    get_pledge,
    latest_marks,
    pledged_quantities,
    pure_pledge,
)
from anxin.core.errors import NotFound, PermissionDenied, RuleViolation
from anxin.core.security import Principal, Role


def approved_releases(session: Session, pledge_id: str) -> list[ReleaseOrder]:
    return list(
        session.scalars(
            select(ReleaseOrder)
            .where(
                ReleaseOrder.pledge_id == pledge_id, ReleaseOrder.status == ReleaseStatus.APPROVED
            )
            .order_by(ReleaseOrder.decided_at, ReleaseOrder.id)
            .with_for_update()
        )
    )


def release_remaining_kg(session: Session, pledge_id: str) -> int:
    return sum(r.quantity_kg - r.consumed_kg for r in approved_releases(session, pledge_id))


def release_tolerance_kg(quantity_kg: int) -> int:
    """What a weighed lift may exceed its release by: the scale's own uncertainty (1 %, ≥ 20 kg)."""
    return max(20, abs(quantity_kg) // 100)


def request_release(
    *, session: Session, principal: Principal, pledge_id: str, data: ReleaseCreate, now: datetime
) -> ReleaseOrder:
    pledge = get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    if pledge.state != PledgeState.ACTIVE:
        raise RuleViolation("the pledge is closed")
    if principal.role not in (Role.WAREHOUSE_OPERATOR, Role.SCF_OFFICER, Role.ADMIN):
        raise PermissionDenied("releases are requested by the warehouse operator for the borrower")
    release = ReleaseOrder(
        pledge_id=pledge.id,
        quantity_kg=t_to_kg(data.quantity_t),
        consumed_kg=0,
        status=ReleaseStatus.REQUESTED,
        note=data.note,
        requested_by=principal.user_id,
        requested_at=now,
    )
    session.add(release)
    session.flush()
    return release


def _release(
    session: Session, principal: Principal, release_id: str
) -> tuple[ReleaseOrder, PledgeRow]:
    release = session.get(ReleaseOrder, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    pledge = get_pledge(session=session, principal=principal, pledge_id=release.pledge_id)
    return release, pledge


def decide_release(
    *,
    session: Session,
    principal: Principal,
    release_id: str,
    approve: bool,
    note: str,
    now: datetime,
) -> ReleaseOrder:
    release, pledge = _release(session, principal, release_id)
    if principal.role != Role.SCF_OFFICER or pledge.lender_org_id != principal.organisation_id:
        raise PermissionDenied(
            "only the lending bank's supply-chain-finance officer decides releases"
        )
    if release.status != ReleaseStatus.REQUESTED:
        raise RuleViolation(f"the release is {release.status.value}, not awaiting a decision")
    if approve:
        loan = session.get(Loan, pledge.loan_id)
        assert loan is not None
        marks = latest_marks(session, now.date())
        if pledge.commodity_id not in marks:
            raise RuleViolation("no price mark for the commodity: cannot judge the release")
        qty = pledged_quantities(session, [pledge.id]).get(pledge.id, 0)
        pending = release_remaining_kg(session, pledge.id)
        pure = pure_pledge(pledge, Decimal(loan.outstanding), max(qty - pending, 0))
        check = valuation.check_release(
            pure,
            pledge.commodity_id,
            kg_to_t(release.quantity_kg),
            {pledge.commodity_id: marks[pledge.commodity_id]},
        )
        if not check.allowed:
            raise RuleViolation("release refused: " + "; ".join(check.reasons))
    release.status = ReleaseStatus.APPROVED if approve else ReleaseStatus.REJECTED
    release.decided_by = principal.user_id
    release.decided_at = now
    release.decision_note = note
    session.flush()
    return release


def list_releases(*, session: Session, principal: Principal, pledge_id: str) -> list[ReleaseOrder]:
    get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    return list(
        session.scalars(
            select(ReleaseOrder)
            .where(ReleaseOrder.pledge_id == pledge_id)
            .order_by(ReleaseOrder.requested_at.desc(), ReleaseOrder.id)
        )
    )
