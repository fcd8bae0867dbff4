"""The care console: the butler's live alarm queue, alarm and elder cards, the outbox, and the
family page. Server-rendered; a few lines of JavaScript refresh a list when the SSE stream says
something changed. Calls services only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.alerts.models import Alarm, AlarmState
from anxin.core.access import registered_owner_kinds, visible_owner_ids
from anxin.core.errors import (
    InvalidInput,
    PermissionDenied,
)
from anxin.core.security import Principal, Role
from anxin.homecare import service as homecare
from anxin.homecare import sleep_service
from anxin.homecare.sleep import last_night
from anxin.iot import service as iot
from anxin.people.deps import ContextDep, SessionDep
from anxin.web.charts import sleep_chart
from anxin.web.i18n import label
from anxin.web.live import LiveHub
from anxin.web.views import (
    LoginRequired,
    console_principal,
    devices_with_latest,
    language,
    page,
    render,
)

router = APIRouter(tags=["console"], include_in_schema=False)

QUEUE_ROLES = frozenset({Role.ADMIN, Role.BUTLER, Role.DOCTOR})
FAMILY_ROLES = frozenset({Role.FAMILY, Role.ELDER})


def _queue_rows(session: Session, principal: Principal) -> list[dict[str, Any]]:
    alarms = alerts.list_alarms(session=session, principal=principal, active=True, limit=200)
    return [_alarm_row(session, principal, alarm) for alarm in alarms]


def _alarm_row(session: Session, principal: Principal, alarm: Alarm) -> dict[str, Any]:
    elder = None
    if alarm.owner_kind == "household":
        elders = [
            e
            for e in homecare.list_elders(session=session, principal=principal)
            if e.household_id == alarm.owner_id
        ]
        elder = elders[0] if elders else None
    return {"alarm": alarm, "elder": elder}


@router.get("/console/alarms", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue(request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    if principal.role not in QUEUE_ROLES:
        raise PermissionDenied("the alarm queue is for the care team")
    return render(request, "console/alarms.html", rows=_queue_rows(session, principal))


@router.get("/console/alarms/rows", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue_rows(request: Request, session: SessionDep) -> Response:
    """The queue's table body alone, fetched by the page whenever the stream pings."""
    principal = console_principal(request, session)
    if principal.role not in QUEUE_ROLES:
        raise PermissionDenied("the alarm queue is for the care team")
    return render(request, "console/_alarm_rows.html", rows=_queue_rows(session, principal))


@router.get("/console/alarms/{alarm_id}", response_class=HTMLResponse, response_model=None)
@page
def alarm_card(alarm_id: str, request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    alarm = alerts.get_alarm(session=session, principal=principal, alarm_id=alarm_id)
    notifications = (
        alerts.notifications_of(session=session, alarm=alarm)
        if alerts.may_see_outbox(principal)
        else []
    )
    return render(
        request,
        "console/alarm.html",
        row=_alarm_row(session, principal, alarm),
        history=alerts.history(session=session, alarm=alarm),
        notifications=notifications,
        escalation=alerts.escalation_of(session=session, alarm_id=alarm.id),
        can_resolve=principal.role not in alerts.NOT_RESOLVERS,
        can_ack=principal.role not in alerts.NOT_ACKERS,
    )


def _act(
    request: Request,
    session: Session,
    context: Any,
    alarm_id: str,
    note: str,
    action: Callable[..., Alarm],
) -> Response:
    principal = console_principal(request, session)
    action(
        session=session,
        principal=principal,
        alarm_id=alarm_id,
        note=note.strip() or None,
        now=context.clock.now(),
        bus=context.bus,
    )
    back = request.headers.get("referer") or f"/console/alarms/{alarm_id}"
    return RedirectResponse(back, status_code=303)


@router.post("/console/alarms/{alarm_id}/acknowledge", response_model=None)
@page
def acknowledge(
    alarm_id: str,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(request, session, context, alarm_id, note, alerts.acknowledge)


@router.post("/console/alarms/{alarm_id}/resolve", response_model=None)
@page
def resolve(
    alarm_id: str,
    request: Request,
    session: SessionDep,
    context: ContextDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(request, session, context, alarm_id, note, alerts.resolve)


def _night(request: Request, now: datetime) -> date:
    raw = request.query_params.get("night")
    if not raw:
        return last_night(now)
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput.field("night", "a date like 2026-11-28") from exc


def _sleep_section(
    request: Request, session: Session, principal: Principal, elder_id: str, night: date
) -> dict[str, Any]:
    _, report = sleep_service.elder_sleep_report(
        session=session, principal=principal, elder_id=elder_id, night=night
    )
    lang = language(request)
    labels = {
        key: label(text_key, lang)
        for key, text_key in (
            ("title", "sleep_report"),
            ("hr", "heart_rate"),
            ("rr", "respiration_rate"),
            ("bed", "in_bed"),
        )
    }
    return {
        "report": report,
        "chart": sleep_chart(report, labels=labels) if report.samples else None,
        "previous": (night - timedelta(days=1)).isoformat(),
        "next": (night + timedelta(days=1)).isoformat(),
    }


@router.get("/console/elders/{elder_id}", response_class=HTMLResponse, response_model=None)
@page
def elder_card(
    elder_id: str, request: Request, session: SessionDep, context: ContextDep
) -> Response:
    principal = console_principal(request, session)
    night = _night(request, context.clock.now())
    elder = homecare.get_elder(session=session, principal=principal, elder_id=elder_id)
    household = homecare.get_household(
        session=session, principal=principal, household_id=elder.household_id
    )
    alarms = alerts.list_alarms(
        session=session,
        principal=principal,
        owner_kind="household",
        owner_id=household.id,
        limit=50,
    )
    return render(
        request,
        "console/elder.html",
        elder=elder,
        household=household,
        devices=devices_with_latest(session, principal, household.id),
        alarms=alarms,
        family=homecare.family_of(session=session, principal=principal, elder_id=elder.id),
        sleep=_sleep_section(request, session, principal, elder.id, night),
        can_work_queue=principal.role in QUEUE_ROLES,
    )


@router.get("/console/outbox", response_class=HTMLResponse, response_model=None)
@page
def outbox(request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    notifications = alerts.list_notifications(session=session, principal=principal, limit=200)
    return render(request, "console/outbox.html", notifications=notifications)


def _family_cards(session: Session, principal: Principal) -> list[dict[str, Any]]:
    if principal.role not in FAMILY_ROLES | QUEUE_ROLES:
        raise PermissionDenied("this page is for families")
    cards = []
    for elder in homecare.list_elders(session=session, principal=principal):
        alarms = alerts.list_alarms(
            session=session,
            principal=principal,
            owner_kind="household",
            owner_id=elder.household_id,
            limit=20,
        )
        devices = iot.list_devices(
            session=session,
            principal=principal,
            owner_kind="household",
            owner_id=elder.household_id,
        )
        cards.append({"elder": elder, "alarms": alarms, "devices": devices})
    return cards


@router.get("/family", response_class=HTMLResponse, response_model=None)
@page
def family_page(request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    return render(request, "console/family.html", cards=_family_cards(session, principal))


@router.get("/family/cards", response_class=HTMLResponse, response_model=None)
@page
def family_cards(request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    return render(request, "console/_family_cards.html", cards=_family_cards(session, principal))


def _visibility(session: Session, principal: Principal) -> Callable[[dict[str, Any]], bool]:
    """Decide once, at connect time, which owners' events this viewer may hear about."""
    owners = {
        kind: visible_owner_ids(session, principal, kind) for kind in registered_owner_kinds()
    }

    def visible(message: dict[str, Any]) -> bool:
        if message.get("organisation_id") != principal.organisation_id:
            return False
        if principal.role == Role.ADMIN:
            return True
        allowed = owners.get(str(message.get("owner_kind")), ())
        return allowed is None or message.get("owner_id") in allowed

    return visible


@router.get("/console/stream", response_model=None)
def stream(request: Request, session: SessionDep, context: ContextDep) -> Response:
    """Server-sent events: one line per committed alarm change the viewer may see."""
    try:
        principal = console_principal(request, session)
    except LoginRequired:
        return Response(status_code=401)
    visible = _visibility(session, principal)
    hub: LiveHub = context.extras["live"]

    async def events() -> AsyncIterator[str]:
        async for chunk in hub.stream(visible):
            if await request.is_disconnected():
                break
            yield chunk

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def state_label(alarm: Alarm) -> str:
    if alarm.cleared and alarm.state != AlarmState.RESOLVED:
        return f"{alarm.state.value}+cleared"
    return alarm.state.value
