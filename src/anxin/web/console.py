"""The care console: the butler's live alarm queue, alarm and elder cards, the outbox, and the
family page. Server-rendered; a few lines of JavaScript refresh a list when the SSE stream says
something changed. Calls services only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from anxin.alerts import service as alerts
from anxin.alerts.models import Alarm, AlarmState
from anxin.core.bounds import check_date
from anxin.core.errors import (
    InvalidInput,
    PermissionDenied,
)
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import service as homecare
from anxin.homecare import sleep_service
from anxin.homecare.sleep import last_night
from anxin.iot import service as iot
from anxin.people.deps import UnitDep
from anxin.ui.console import LoginRequired, console_of, console_principal, language, page, render
from anxin.web.charts import sleep_chart
from anxin.web.live import live_hub
from anxin.web.views import devices_with_latest

router = APIRouter(tags=["console"], include_in_schema=False)

QUEUE_ROLES = frozenset({Role.ADMIN, Role.BUTLER, Role.DOCTOR})
FAMILY_ROLES = frozenset({Role.FAMILY, Role.ELDER})


def _queue_rows(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    alarms = alerts.list_alarms(uow=uow, principal=principal, active=True, limit=200)
    return [_alarm_row(uow, principal, alarm) for alarm in alarms]


def _alarm_row(uow: UnitOfWork, principal: Principal, alarm: Alarm) -> dict[str, Any]:
    elder = None
    if alarm.owner_kind == "household":
        elders = [
            e
            for e in homecare.list_elders(session=uow.session, principal=principal)
            if e.household_id == alarm.owner_id
        ]
        elder = elders[0] if elders else None
    return {"alarm": alarm, "elder": elder}


@router.get("/console/alarms", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in QUEUE_ROLES:
        raise PermissionDenied("the alarm queue is for the care team")
    return render(request, "console/alarms.html", rows=_queue_rows(uow, principal))


@router.get("/console/alarms/rows", response_class=HTMLResponse, response_model=None)
@page
def alarm_queue_rows(request: Request, uow: UnitDep) -> Response:
    """The queue's table body alone, fetched by the page whenever the stream pings."""
    principal = console_principal(request, uow)
    if principal.role not in QUEUE_ROLES:
        raise PermissionDenied("the alarm queue is for the care team")
    return render(request, "console/_alarm_rows.html", rows=_queue_rows(uow, principal))


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
        "console/alarm.html",
        row=_alarm_row(uow, principal, alarm),
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


def _night(request: Request, now: datetime) -> date:
    raw = request.query_params.get("night")
    if not raw:
        return last_night(now)
    try:
        night = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput.field("night", "a date like 2026-11-28") from exc
    return check_date(night, "night")


def _sleep_section(
    request: Request, uow: UnitOfWork, principal: Principal, elder_id: str, night: date
) -> dict[str, Any]:
    _, report = sleep_service.elder_sleep_report(
        session=uow.session, principal=principal, elder_id=elder_id, night=night
    )
    lang = language(request)
    labels = {
        key: console_of(request).catalog.label(text_key, lang)
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
def elder_card(elder_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    night = _night(request, uow.now())
    elder = homecare.get_elder(session=uow.session, principal=principal, elder_id=elder_id)
    household = homecare.get_household(
        session=uow.session, principal=principal, household_id=elder.household_id
    )
    alarms = alerts.list_alarms(
        uow=uow,
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
        devices=devices_with_latest(uow, principal, household.id),
        alarms=alarms,
        family=homecare.family_of(session=uow.session, principal=principal, elder_id=elder.id),
        sleep=_sleep_section(request, uow, principal, elder.id, night),
        can_work_queue=principal.role in QUEUE_ROLES,
    )


@router.get("/console/outbox", response_class=HTMLResponse, response_model=None)
@page
def outbox(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    notifications = alerts.list_notifications(session=uow.session, principal=principal, limit=200)
    return render(request, "console/outbox.html", notifications=notifications)


def _family_cards(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    if principal.role not in FAMILY_ROLES | QUEUE_ROLES:
        raise PermissionDenied("this page is for families")
    cards = []
    for elder in homecare.list_elders(session=uow.session, principal=principal):
        alarms = alerts.list_alarms(
            uow=uow,
            principal=principal,
            owner_kind="household",
            owner_id=elder.household_id,
            limit=20,
        )
        devices = iot.list_devices(
            uow=uow,
            principal=principal,
            owner_kind="household",
            owner_id=elder.household_id,
        )
        cards.append({"elder": elder, "alarms": alarms, "devices": devices})
    return cards


@router.get("/family", response_class=HTMLResponse, response_model=None)
@page
def family_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    return render(request, "console/family.html", cards=_family_cards(uow, principal))


@router.get("/family/cards", response_class=HTMLResponse, response_model=None)
@page
def family_cards(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    return render(request, "console/_family_cards.html", cards=_family_cards(uow, principal))


def _visibility(uow: UnitOfWork, principal: Principal) -> Callable[[dict[str, Any]], bool]:
    """Decide once, at connect time, which owners' events this viewer may hear about."""
    owners = {
        kind: uow.owners.visible_ids(uow.session, principal, kind) for kind in uow.owners.names()
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
def stream(request: Request, uow: UnitDep) -> Response:
    """Server-sent events: one line per committed alarm change the viewer may see."""
    try:
        principal = console_principal(request, uow)
    except LoginRequired:
        return Response(status_code=401)
    visible = _visibility(uow, principal)
    hub = live_hub(request.app)

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
