"""The care console's alarm pages: the live alarm queue, the alarm card with its history and
escalation, and the outbox. Server-rendered; `live.js` refetches the queue's rows when the SSE
stream says something changed. An alarm names its owner (an elder, a pledge) through the owner
kinds' links, so this shared service never imports the domains that own alarms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.alerts.models import SEVERITY_NAMES, Alarm
from anxin.core.domain import NavLink
from anxin.core.errors import PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people import service as people
from anxin.people.deps import UnitDep
from anxin.ui.console import console_of, console_principal, language, page, render

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
    "cleared": ("已恢复", "cleared"),
    # why the system cleared an alarm (`clear_alarm(reason_code=...)`)
    "clear_reason_rule_condition_ended": (
        "设备规则的告警条件已结束",
        "The device rule's condition ended",
    ),
    # the values of alerts' enums, as `t(kind ~ '_' ~ value)` shows them
    **{f"severity_{s.value}": names for s, names in SEVERITY_NAMES.items()},
    "alarm_state_raised": ("待处理", "Raised"),
    "alarm_state_acknowledged": ("已确认", "Acknowledged"),
    "alarm_state_resolved": ("已解除", "Resolved"),
    "channel_sms": ("短信", "SMS"),
    "channel_voice": ("语音电话", "Voice call"),
    "channel_push": ("推送", "Push"),
    "channel_webhook": ("接口回调", "Webhook"),
    "channel_console": ("控制台", "Console"),
    "notification_pending": ("待发送", "Pending"),
    "notification_sending": ("发送中", "Sending"),
    "notification_sent": ("已发送", "Sent"),
    "notification_delivered": ("已送达", "Delivered"),
    "notification_failed": ("失败", "Failed"),
    "notification_undelivered": ("未送达", "Undelivered"),
    "escalation_active": ("升级中", "Active"),
    "escalation_stopped": ("已停止", "Stopped"),
    "escalation_exhausted": ("已用尽", "Exhausted"),
    # what happened to an alarm (its history's actions)
    "actor_system": ("系统", "System"),
    "actor_device": ("设备", "Device"),
    "next_at": ("下次", "next"),
    "history_raised": ("发生", "Raised"),
    "history_repeated": ("再次发生", "Happened again"),
    "history_updated": ("更新", "Updated"),
    "history_severity": ("级别变更", "Severity changed"),
    "history_cleared": ("已恢复", "Cleared"),
    "history_acknowledged": ("确认", "Acknowledged"),
    "history_resolved": ("解除", "Resolved"),
    "history_note": ("备注", "Note"),
    "history_escalation_step": ("升级通知", "Escalation step"),
    "history_escalation_stopped": ("停止升级", "Escalation stopped"),
    "history_escalation_exhausted": ("升级用尽", "Escalation exhausted"),
    "history_policy_problem": ("升级策略有误", "Escalation policy problem"),
    # whom a notification went to, and why if not to alert them
    "recipient_elder": ("长者本人", "Elder"),
    "recipient_family": ("家属", "Family"),
    "recipient_butler": ("管家", "Butler"),
    "recipient_emergency_contact": ("紧急联系人", "Emergency contact"),
    "recipient_team_lead": ("组长", "Team lead"),
    "purpose_call_task": ("回电任务", "call task"),
    # a repeat of an acknowledged alarm, and the messages that told people of it again
    "history_renotified": ("再次通知", "Notified again"),
    "repeat_count": ("第 {n} 次", "#{n}"),
    "messages_count": ("{n} 条通知", "{n} messages"),
    "step_repeat": ("再次", "again"),
    # why an escalation stopped (escalation.STOP_REASONS)
    "stop_reason_acknowledged": ("已确认", "acknowledged"),
    "stop_reason_resolved": ("已解除", "resolved"),
    "stop_reason_cleared": ("已恢复", "cleared"),
    "stop_reason_exhausted": ("已通知完所有步骤", "every step done"),
    # the built-in escalation policies (alerts.policies.CATALOGUE), by code
    "esc_policy_homecare_fall": ("居家跌倒", "Home-care fall"),
    "esc_policy_homecare_alert": ("居家提醒", "Home-care alert"),
    "esc_policy_collateral_breach": ("质押物风险", "Collateral breach"),
    "esc_policy_lending_reminder": ("还款提醒", "Repayment reminder"),
    "esc_policy_lending_callback": ("贷前回访", "Loan callback"),
    "esc_policy_default": ("默认", "Default"),
    "esc_policy_alerts_watchdog": ("告警升级延误", "Escalation overdue"),
}


def policy_name(request: Request, code: str, stored: dict[str, Any]) -> str:
    """A built-in policy by its label; one written by an administrator by the name it was
    given (free text, as they wrote it)."""
    catalog, key = console_of(request).catalog, f"esc_policy_{code}"
    if key in catalog:
        return catalog.label(key, language(request))
    return str(stored.get("name") or code)


def who(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Actor -> what the history shows: a person's name for ``user:<username>``, "system"
    for the platform's own workers, "device" for readings; anything else as it is."""
    actors = set(actors)
    names = people.display_names(
        session=session,
        usernames=[a.removeprefix("user:") for a in actors if a.startswith("user:")],
    )
    shown: dict[str, str] = {}
    for actor in actors:
        kind, _, rest = actor.partition(":")
        if kind == "user" and rest in names:
            shown[actor] = names[rest]
        elif kind == "system":
            shown[actor] = "actor_system"
        elif kind in ("device", "anonymous"):  # readings come in under the device's token
            shown[actor] = "actor_device"
        else:
            shown[actor] = actor
    return shown


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
    history = alerts.history(session=uow.session, alarm=alarm)
    notifications = (
        alerts.notifications_of(session=uow.session, alarm=alarm)
        if alerts.may_see_outbox(principal)
        else []
    )
    escalation = alerts.escalation_of(session=uow.session, alarm_id=alarm.id)
    return render(
        request,
        "alerts/alarm.html",
        row=_rows(uow, [alarm])[0],
        history=history,
        who=who(uow.session, (h.actor for h in history)),
        notifications=notifications,
        escalation=escalation,
        policy_name=policy_name(request, escalation.policy_code, escalation.policy)
        if escalation
        else "",
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
