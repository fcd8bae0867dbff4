"""The care console's alarm pages: the live alarm queue, the alarm card with its history and
escalation, and the outbox. Server-rendered; `live.js` refetches the queue's rows when the SSE
stream says something changed. An alarm names its owner (an elder, a pledge) through the owner
kinds' links, so this shared service never imports the domains that own alarms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from anxin.alerts import service as alerts
from anxin.alerts.models import Alarm
from anxin.core.domain import NavLink
from anxin.core.errors import PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people.deps import UnitDep
from anxin.ui.console import console_principal, page, render

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)

QUEUE_ROLES = frozenset({Role.ADMIN, Role.BUTLER, Role.DOCTOR})
OUTBOX_ROLES = frozenset({Role.ADMIN, Role.BUTLER})

NAV = [
    NavLink("/console/alarms", "alarm_queue", QUEUE_ROLES),
    NavLink("/console/outbox", "outbox", OUTBOX_ROLES),
]

LABELS: dict[str, tuple[str, str]] = {
    "about": ("关联对象", "About"),
}


def _rows(uow: UnitOfWork, alarms: list[Alarm]) -> list[dict[str, Any]]:
    """Each alarm with its owner's name and page: one query per owner kind, not per row."""
    links = uow.owners.links(uow.session, [(a.owner_kind, a.owner_id) for a in alarms])
    return [{"alarm": a, "owner": links.get((a.owner_kind, a.owner_id))} for a in alarms]


def _queue_rows(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    if principal.role not in QUEUE_ROLES:
        raise PermissionDenied("the alarm queue is for the care team")
    return _rows(uow, alerts.list_alarms(uow=uow, principal=principal, active=True, limit=200))


@router.get("/console/alarms", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    return render(request, "alerts/alarms.html", rows=_queue_rows(uow, principal))


@router.get("/console/alarms/rows", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue_rows(request: Request, uow: UnitDep) -> Response:
    """The queue's table body alone, fetched by the page whenever the stream pings."""
    principal = console_principal(request, uow)
    return render(request, "alerts/_alarm_rows.html", rows=_queue_rows(uow, principal))


@router.get("/console/alarms/{alarm_id}", response_class=HTMLResponse, response_model=None)
@page
def alarm_card(alarm_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    alarm = alerts.get_alarm(uow=uow, principal=principal, alarm_id=alarm_id)
    notifications = (
        alerts.notifications_of(session=uow.session, alarm=alarm)
        if alerts.may_see_outbox(principal)
        else []
    )
    return render(
        request,
        "alerts/alarm.html",
        row=_rows(uow, [alarm])[0],
        history=alerts.history(session=uow.session, alarm=alarm),
        notifications=notifications,
        escalation=alerts.escalation_of(session=uow.session, alarm_id=alarm.id),
        can_resolve=principal.role not in alerts.NOT_RESOLVERS,
        can_ack=principal.role not in alerts.NOT_ACKERS,
    )


def _act(
    request: Request,
    uow: UnitOfWork,
    alarm_id: str,
    note: str,
    action: Callable[..., Alarm],
) -> Response:
    principal = console_principal(request, uow)
    action(
        uow=uow,
        principal=principal,
        alarm_id=alarm_id,
        note=note.strip() or None,
        now=uow.now(),
    )
    back = request.headers.get("referer") or f"/console/alarms/{alarm_id}"
    return RedirectResponse(back, status_code=303)


@router.post("/console/alarms/{alarm_id}/acknowledge", response_model=None)
@page
def acknowledge(
    alarm_id: str,
    request: Request,
    uow: UnitDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(request, uow, alarm_id, note, alerts.acknowledge)


@router.post("/console/alarms/{alarm_id}/resolve", response_model=None)
@page
def resolve(
    alarm_id: str,
    request: Request,
    uow: UnitDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(request, uow, alarm_id, note, alerts.resolve)


@router.get("/console/outbox", response_class=HTMLResponse, response_model=None)
@page
def outbox(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    notifications = alerts.list_notifications(session=uow.session, principal=principal, limit=200)
    return render(request, "alerts/outbox.html", notifications=notifications)
