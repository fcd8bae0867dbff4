"""The care console's home-care pages: the elder card (devices, alarms, family, the night's
sleep report) and the family page. Server-rendered; `live.js` refetches the family cards when
the SSE stream says something changed. Calls services only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.core.bounds import check_date
from anxin.core.clock import SHANGHAI
from anxin.core.domain import NavLink
from anxin.core.errors import InvalidInput, PermissionDenied
from anxin.core.owners import OwnerLink
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import service as homecare
from anxin.homecare import sleep_service
from anxin.homecare.models import Elder
from anxin.homecare.service import CARE_TEAM
from anxin.homecare.sleep import SleepReport, last_night
from anxin.iot import service as iot
from anxin.iot.profiles import COMMON, PROFILES, Metric
from anxin.people.deps import UnitDep
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render, show_value

if TYPE_CHECKING:
    from anxin.iot.models import Device

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)


FAMILY_ROLES = frozenset({Role.FAMILY, Role.ELDER})

NAV = [NavLink("/family", "family_page", FAMILY_ROLES)]

LABELS: dict[str, tuple[str, str]] = {
    "out_of_bed_event": ("离床", "Out of bed"),
    "owner_household": ("长者", "Elder"),
    "mode_home": ("在家", "Home"),
    "mode_away": ("外出", "Away"),
    "mode_night": ("夜间", "Night"),
    # a device's kind under its name on the elder card, as iot's profiles name it
    **{f"device_type_{p.code}": (p.name_zh, p.name_en) for p in PROFILES},
    "no_devices": ("还没有设备", "No devices yet"),
    "reading_yes": ("是", "yes"),
    "reading_no": ("否", "no"),
    # the metrics a household's devices report (iot's profiles), their units and choices
    "metric_presence": ("有人", "Presence"),
    "metric_motion": ("活动", "Motion"),
    "metric_fall": ("跌倒", "Fall"),
    "metric_posture": ("姿态", "Posture"),
    "metric_zone": ("区域", "Zone"),
    "metric_heart_rate": ("心率", "Heart rate"),
    "metric_respiration_rate": ("呼吸", "Respiration"),
    "metric_in_bed": ("在床", "In bed"),
    "metric_movement": ("体动", "Movement"),
    "metric_open": ("门开", "Open"),
    "metric_tamper": ("拆动", "Tampered"),
    "metric_sos": ("呼救", "SOS"),
    "metric_utterance": ("语音", "Said"),
    "metric_volume": ("音量", "Volume"),
    "metric_battery_pct": ("电量", "Battery"),
    "metric_rssi_dbm": ("信号", "Signal"),
    "metric_heartbeat": ("心跳包", "Heartbeat"),
    "choice_posture_standing": ("站立", "standing"),
    "choice_posture_sitting": ("坐着", "sitting"),
    "choice_posture_lying": ("躺卧", "lying"),
    "choice_posture_unknown": ("未知", "unknown"),
    "choice_zone_bathroom": ("卫生间", "bathroom"),
    "choice_zone_bedroom": ("卧室", "bedroom"),
    "choice_zone_living_room": ("客厅", "living room"),
    "choice_zone_kitchen": ("厨房", "kitchen"),
    "unit_bpm": ("次/分", "bpm"),
    "unit_/min": ("次/分", "/min"),
    "unit_index": ("", ""),  # a movement index has no unit a reader needs
    "unit_%": ("%", "%"),
    "unit_dBm": ("dBm", "dBm"),
    # an emergency contact's or family member's relation to the elder, when it is one we know
    "relation_son": ("儿子", "son"),
    "relation_daughter": ("女儿", "daughter"),
    "relation_spouse": ("配偶", "spouse"),
    "relation_wife": ("妻子", "wife"),
    "relation_husband": ("丈夫", "husband"),
    "relation_grandson": ("孙子", "grandson"),
    "relation_granddaughter": ("孙女", "granddaughter"),
    "relation_neighbour": ("邻居", "neighbour"),
    "relation_friend": ("朋友", "friend"),
    "relation_self": ("本人", "self"),
}

# What a household's devices may report, by metric key (the same key means the same thing on
# every profile that has it).
HOUSEHOLD_METRICS: dict[str, Metric] = {
    **COMMON,
    **{k: m for p in PROFILES if "household" in p.owner_kinds for k, m in p.metrics.items()},
}


def reading_text(key: str, value: object, label: Callable[[str], str]) -> str:
    """One reading as a person reads it: the metric's name, a choice or yes/no in words, a
    number with its unit. A free text (what the elder said) stays as it is; a metric no
    household profile knows shows its raw key, so nothing is hidden."""
    metric = HOUSEHOLD_METRICS.get(key)
    if metric is None:
        return f"{key}={show_value(value)}"
    if isinstance(value, bool):
        shown = label("reading_yes" if value else "reading_no")
    elif isinstance(value, str) and metric.choices and value in metric.choices:
        shown = label(f"choice_{key}_{value}")
    else:
        unit = label(f"unit_{metric.unit}") if metric.unit else ""
        shown = f"{show_value(value)} {unit}".strip()
    return f"{label(f'metric_{key}')} {shown}"


def household_links(session: Session, household_ids: Sequence[str]) -> dict[str, OwnerLink]:
    """An alarm on a household names its first elder and links to the elder's card."""
    rows = session.execute(
        select(Elder.household_id, Elder.id, Elder.full_name, Elder.phone)
        .where(Elder.household_id.in_(household_ids))
        .order_by(Elder.household_id, Elder.full_name, Elder.id)
    )
    links: dict[str, OwnerLink] = {}
    for household_id, elder_id, name, phone in rows:
        links.setdefault(household_id, OwnerLink(name, f"/console/elders/{elder_id}", phone))
    return links


def devices_with_latest(
    uow: UnitOfWork, principal: Principal, household_id: str, label: Callable[[str], str]
) -> list[tuple[Device, list[str]]]:
    """A household's devices, each with its latest readings in the reader's words (`label`
    is the page's `t`), as the console cards show them."""
    devices = iot.list_devices(
        uow=uow, principal=principal, owner_kind="household", owner_id=household_id
    )
    return [
        (
            d,
            [
                reading_text(v["key"], v["value"], label)
                for v in iot.latest_values(uow=uow, principal=principal, device_id=d.id)
            ],
        )
        for d in devices
    ]


def page_label(request: Request) -> Callable[[str], str]:
    """The page's `t`: a label in the request's language."""
    catalog, lang = console_of(request).catalog, language(request)
    return lambda key: catalog.label(key, lang)


def relation_label(request: Request) -> Callable[[str], str]:
    """A relation (free text) in the reader's words when it is one the labels know."""
    catalog, lang = console_of(request).catalog, language(request)

    def label(relation: str) -> str:
        key = f"relation_{relation.strip().lower()}"
        return catalog.label(key, lang) if key in catalog else relation

    return label


def _night(request: Request, now: datetime) -> date:
    raw = request.query_params.get("night")
    if not raw:
        return last_night(now)
    try:
        night = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput.field("night", "a date like 2026-11-28") from exc
    return check_date(night, "night")


def sleep_chart(
    report: SleepReport, labels: dict[str, str], lang: str, tz: ZoneInfo = SHANGHAI
) -> charts.Option:
    """The night on a time axis: heart rate (left axis), respiration (right), the share of
    each bucket in bed as a shaded step, out-of-bed events and anomalies as bands."""
    series = report.series
    bands = [
        charts.Band(labels["out"], span.start, span.end, charts.GREY) for span in report.out_of_bed
    ] + [
        charts.Band(a.label_en if lang == "en" else a.label_zh, a.start, a.end, charts.AMBER)
        for a in report.anomalies
    ]
    return charts.time_chart(
        title=labels["title"],
        lines=[
            charts.Line(labels["hr"], [(p.start, p.heart_rate) for p in series], charts.RED),
            charts.Line(
                labels["rr"], [(p.start, p.respiration_rate) for p in series], charts.BLUE, 1
            ),
            charts.Line(
                labels["bed"],
                [(p.start, p.in_bed) for p in series],
                charts.GREEN,
                2,
                area=True,
                step=True,
                width=0.5,
            ),
        ],
        axes=[
            charts.Axis(f"{labels['hr']} ({labels['bpm']})", 30, 130),
            charts.Axis(f"{labels['rr']} ({labels['per_min']})", 0, 40),
            charts.Axis(labels["bed"], 0, 4, hidden=True),  # the band fills the bottom quarter
        ],
        bands=bands,
        zoom=True,
        tz=tz,
    )


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
            ("out", "out_of_bed_event"),
            ("bpm", "unit_bpm"),
            ("per_min", "unit_/min"),
        )
    }
    chart = None
    if report.samples:
        chart = charts.chart_element(
            sleep_chart(report, labels, lang, console_of(request).tz),
            element_id="sleep-chart",
            label=labels["title"],
        )
    return {
        "report": report,
        "chart": chart,
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
        "homecare/elder.html",
        elder=elder,
        household=household,
        devices=devices_with_latest(uow, principal, household.id, page_label(request)),
        alarms=alarms,
        family=homecare.family_of(session=uow.session, principal=principal, elder_id=elder.id),
        sleep=_sleep_section(request, uow, principal, elder.id, night),
        relation=relation_label(request),
        can_work_queue=principal.role in CARE_TEAM,
        # The elder reading their own card gets the large type.
        large=principal.role == Role.ELDER,
    )


def _family_cards(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    if principal.role not in FAMILY_ROLES | CARE_TEAM:
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
    return render(
        request,
        "homecare/family.html",
        cards=_family_cards(uow, principal),
        large=principal.role == Role.ELDER,
    )


@router.get("/family/cards", response_class=HTMLResponse, response_model=None)
@page
def family_cards(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    return render(request, "homecare/_family_cards.html", cards=_family_cards(uow, principal))
