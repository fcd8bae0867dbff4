"""Alarm queue, alarm detail with history and notifications, actions, outbox and policies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query

from anxin.alerts import flows, service
from anxin.alerts.models import AlarmState, Channel, NotificationStatus, Severity
from anxin.alerts.providers import Receipt
from anxin.alerts.schemas import (
    AlarmAction,
    AlarmDetail,
    AlarmEventRead,
    AlarmRead,
    AttemptRead,
    EscalationRead,
    NotificationRead,
    PolicyRead,
    ReceiptAccepted,
    ReceiptIn,
)
from anxin.core.errors import NotFound, Unauthenticated
from anxin.core.security import Principal, constant_time_equal
from anxin.core.unit import UnitOfWork
from anxin.people.deps import ContextDep, CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alarms", response_model=list[AlarmRead])
def list_alarms(
    principal: CurrentPrincipal,
    uow: UnitDep,
    state: AlarmState | None = None,
    severity: Severity | None = None,
    active: bool | None = None,
    owner_kind: str | None = None,
    owner_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlarmRead]:
    """The alarms the caller may see, newest first (a family: its own elder's only)."""
    alarms = service.list_alarms(
        uow=uow,
        principal=principal,
        state=state,
        severity=severity,
        active=active,
        owner_kind=owner_kind,
        owner_id=owner_id,
        limit=limit,
    )
    return [AlarmRead.model_validate(a) for a in alarms]


def _detail(uow: UnitOfWork, principal: Principal, alarm_id: str) -> AlarmDetail:
    session = uow.session
    alarm = service.get_alarm(uow=uow, principal=principal, alarm_id=alarm_id)
    esc = service.escalation_of(session=session, alarm_id=alarm.id)
    # Phone numbers and addresses of others are for the care team only.
    notes = (
        service.notifications_of(session=session, alarm=alarm)
        if service.may_see_outbox(principal)
        else []
    )
    return AlarmDetail(
        **AlarmRead.model_validate(alarm).model_dump(),
        history=[
            AlarmEventRead.model_validate(e) for e in service.history(session=session, alarm=alarm)
        ],
        escalation=EscalationRead.model_validate(esc) if esc is not None else None,
        notifications=[NotificationRead.model_validate(n) for n in notes],
    )


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail)
def get_alarm(alarm_id: str, principal: CurrentPrincipal, uow: UnitDep) -> AlarmDetail:
    return _detail(uow, principal, alarm_id)


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmDetail)
def acknowledge(
    alarm_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    data: Annotated[AlarmAction | None, Body()] = None,
) -> AlarmDetail:
    """Acknowledge with an optional note: the escalation stops."""
    service.acknowledge(
        uow=uow,
        principal=principal,
        alarm_id=alarm_id,
        note=data.note if data else None,
        now=uow.now(),
    )
    return _detail(uow, principal, alarm_id)


@router.post("/alarms/{alarm_id}/resolve", response_model=AlarmDetail)
def resolve(
    alarm_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    data: Annotated[AlarmAction | None, Body()] = None,
) -> AlarmDetail:
    service.resolve(
        uow=uow,
        principal=principal,
        alarm_id=alarm_id,
        note=data.note if data else None,
        now=uow.now(),
    )
    return _detail(uow, principal, alarm_id)


@router.get("/alerts/outbox", response_model=list[NotificationRead])
def outbox(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: NotificationStatus | None = None,
    channel: Channel | None = None,
    alarm_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationRead]:
    """Every notification of the organisation with its delivery status (admin, butler)."""
    rows = service.list_notifications(
        session=session,
        principal=principal,
        status=status,
        channel=channel,
        alarm_id=alarm_id,
        limit=limit,
    )
    return [NotificationRead.model_validate(n) for n in rows]


@router.get("/alerts/notifications/{notification_id}/attempts", response_model=list[AttemptRead])
def attempts(
    notification_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[AttemptRead]:
    rows = service.attempts_of(
        session=session, principal=principal, notification_id=notification_id
    )
    return [AttemptRead.model_validate(a) for a in rows]


def gateway_channel(
    channel: str, context: ContextDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The channel whose gateway is calling, proven by its API key (checked before the body)."""
    settings = context.settings
    key = {"sms": settings.sms_api_key, "voice": settings.voice_api_key}.get(channel)
    expected = key.get_secret_value() if key is not None else ""
    scheme, _, token = (authorization or "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not constant_time_equal(token.strip(), expected)
    ):
        raise Unauthenticated("send the gateway's API key as 'Authorization: Bearer <key>'")
    return channel


@router.post("/alerts/receipts/{channel}", response_model=ReceiptAccepted)
def push_receipt(
    channel: Annotated[str, Depends(gateway_channel)],
    data: ReceiptIn,
    uow: UnitDep,
) -> ReceiptAccepted:
    """Delivery receipts pushed by an HTTP gateway (sms, voice), authenticated by its API key."""
    uow.actor = f"gateway:{channel}"
    notification = flows.receive_receipt(
        session=uow.session,
        channel=channel,
        receipt=Receipt(
            provider_message_id=data.id,
            delivered=data.status == "delivered",
            at=uow.now(),
            error=data.error,
        ),
    )
    if notification is None:
        raise NotFound(f"no {channel} message {data.id}")
    return ReceiptAccepted(id=data.id, status=notification.status)


@router.get("/alerts/policies", response_model=list[PolicyRead])
def list_policies(principal: CurrentPrincipal, uow: UnitDep) -> list[PolicyRead]:
    """Escalation policies, with validation errors of invalid ones (admin, butler)."""
    rows = service.list_policies(session=uow.session, principal=principal, now=uow.now())
    return [PolicyRead.model_validate(p) for p in rows]


@router.put("/alerts/policies/{code}", response_model=PolicyRead)
def put_policy(
    code: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,60}$")],
    definition: Annotated[dict[str, Any], Body()],
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> PolicyRead:
    """Create or replace a policy (admin); an invalid one is stored with its reason."""
    row = service.put_policy(
        session=uow.session, principal=principal, code=code, definition=definition, now=uow.now()
    )
    return PolicyRead.model_validate(row)
