"""Collateral alarms for the lending bank, raised through the alarm engine.

An alarm belongs to the lender's organisation, owner kind ``pledge`` and the pledge's id, so
the bank's officers see it (``core.access`` scope registered in `service`) and nobody else.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from anxin.alerts.service import AlarmRequest, Recipient, Severity, clear_alarm, raise_request
from anxin.core.security import Role
from anxin.core.unit import Slot, UnitOfWork
from anxin.people import service as people

if TYPE_CHECKING:
    from anxin.alerts.models import Alarm


class PledgeRef(Protocol):
    """What an alarm needs of a pledge: a `PledgeRow`, or a re-valuation's plain row."""

    @property
    def id(self) -> str: ...
    @property
    def lender_org_id(self) -> str: ...


POLICY_BREACH = "collateral_breach"
POLICY_WATCH = "default"
OWNER_KIND = "pledge"

# alarm type -> (severity, escalation policy, title)
KINDS: dict[str, tuple[Severity, str, str]] = {
    "unauthorised_removal": (
        Severity.CRITICAL,
        POLICY_BREACH,
        "质押货物未经放货出库 Unauthorised removal",
    ),
    "release_exceeded": (Severity.MAJOR, POLICY_BREACH, "出库超出放货数量 Release exceeded"),
    "below_minimum_stock": (Severity.MAJOR, POLICY_BREACH, "库存低于最低库存 Stock under minimum"),
    "margin_call": (Severity.MAJOR, POLICY_BREACH, "质押率超过补仓线 Margin call"),
    "liquidation": (Severity.CRITICAL, POLICY_BREACH, "质押率超过平仓线 Liquidation line"),
    "ltv_warning": (Severity.WARNING, POLICY_WATCH, "质押率超过警戒线 LTV warning"),
    "stocktake_discrepancy": (Severity.MAJOR, POLICY_BREACH, "盘点差异 Stocktake discrepancy"),
    "lift_review": (Severity.MINOR, POLICY_WATCH, "吊装记录需复核 Lift needs review"),
}
STATUS_ALARMS = {
    "warning": "ltv_warning",
    "margin_call": "margin_call",
    "liquidation": "liquidation",
}


# The lender's officers by lender, for one unit of work (a price tick may raise thousands).
_RECIPIENTS: Slot[dict[str, list[Recipient]]] = Slot("collateral.recipients", dict)


def recipients_for(uow: UnitOfWork, lender_org_id: str) -> list[Recipient]:
    """The lender's officers; cached for the unit of work."""
    cache = uow.get(_RECIPIENTS)
    if lender_org_id not in cache:
        cache[lender_org_id] = _recipients(uow.session, lender_org_id)
    return list(cache[lender_org_id])


def _recipients(session: Session, lender_org_id: str) -> list[Recipient]:
    users = people.active_users_with_roles(
        session=session, organisation_id=lender_org_id, roles=(Role.SCF_OFFICER, Role.RISK_OFFICER)
    )
    out = []
    for user in users:
        role = "bank_officer" if user.role == Role.SCF_OFFICER else "risk_officer"
        out.append(Recipient(role, user.display_name, user.id, user.phone))
    return out


def request_for_pledge(
    *,
    uow: UnitOfWork,
    pledge: PledgeRef,
    alarm_type: str,
    source_kind: str,
    source_id: str,
    details: dict[str, Any],
    title_suffix: str = "",
) -> AlarmRequest:
    """The alarm a pledge raises, for `raise_alarms` (a price tick raises thousands at once)."""
    severity, policy, title = KINDS[alarm_type]
    return AlarmRequest(
        organisation_id=pledge.lender_org_id,
        owner_kind=OWNER_KIND,
        owner_id=pledge.id,
        source_kind=source_kind,
        source_id=source_id,
        alarm_type=alarm_type,
        severity=severity,
        title=f"{title}{title_suffix}",
        details={**details, "pledge_id": pledge.id},
        policy=policy,
        recipients=tuple(recipients_for(uow, pledge.lender_org_id)),
    )


def raise_for_pledge(
    *,
    uow: UnitOfWork,
    pledge: PledgeRef,
    alarm_type: str,
    source_kind: str,
    source_id: str,
    details: dict[str, Any],
    now: datetime,
    title_suffix: str = "",
) -> Alarm:
    request = request_for_pledge(
        uow=uow,
        pledge=pledge,
        alarm_type=alarm_type,
        source_kind=source_kind,
        source_id=source_id,
        details=details,
        title_suffix=title_suffix,
    )
    return raise_request(uow=uow, request=request, now=now)


def clear_for_pledge(
    *,
    uow: UnitOfWork,
    pledge: PledgeRef,
    alarm_type: str,
    now: datetime,
    reason: str,
) -> None:
    clear_alarm(
        uow=uow,
        source_kind=OWNER_KIND,
        source_id=pledge.id,
        alarm_type=alarm_type,
        now=now,
        reason=reason,
    )
