"""The home-service pages: the elder's and the family's booking page, the butler's board, the
worker's day on a phone and the monthly supervision report (page, CSV, PDF). Server-rendered
forms that post and redirect; calls services only."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from anxin.core.bounds import check_date
from anxin.core.clock import SHANGHAI, to_local
from anxin.core.domain import NavLink
from anxin.core.errors import InvalidInput, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import service as homecare
from anxin.people.deps import UnitDep
from anxin.services import report_files, service, supervision
from anxin.services.catalogue import CATALOGUE, FROM_PRESCRIPTION, ScenarioCode, scenario
from anxin.services.models import BookingStatus
from anxin.services.schemas import BookingCreate
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)

HOME_SIDE = frozenset({Role.ELDER, Role.FAMILY})
MANAGERS = frozenset(service.MANAGERS)
WORKERS = frozenset({Role.PROVIDER})

NAV = [
    NavLink("/services", "services_page", HOME_SIDE),
    NavLink("/services/board", "services_board", MANAGERS),
    NavLink("/services/day", "services_day", WORKERS),
    NavLink("/services/supervision", "services_supervision", MANAGERS),
]

LABELS: dict[str, tuple[str, str]] = {
    "services_page": ("上门服务", "Home services"),
    "services_board": ("服务调度", "Service board"),
    "services_day": ("今日上门", "My visits today"),
    "services_supervision": ("服务监管", "Service supervision"),
    "services_book_for": ("为TA预约", "Book for"),
    "services_tap": ("选好日期时间，点一项服务即可预约", "Pick a day and time, then tap a service"),
    "services_day_field": ("日期", "Day"),
    "services_time_field": ("时间", "Time"),
    "services_notes": ("备注", "Notes"),
    "services_booked": ("预约成功", "Booked"),
    "services_upcoming": ("即将上门", "Upcoming visits"),
    "services_past": ("已完成的服务", "Finished visits"),
    "services_none": ("暂无", "None"),
    "services_when": ("时间", "When"),
    "services_what": ("服务", "Service"),
    "services_who": ("服务人员", "Worker"),
    "services_status": ("状态", "Status"),
    "services_elder": ("长者", "Elder"),
    "services_area": ("区域", "Area"),
    "services_address": ("地址", "Address"),
    "services_rate": ("评价", "Rate"),
    "services_rating": ("评分", "Rating"),
    "services_comment": ("评语", "Comment"),
    "services_cancel": ("取消预约", "Cancel"),
    "services_assign": ("派单", "Assign"),
    "services_unassigned": ("未派单", "Not assigned"),
    "services_alarm_open": ("家中告警未解除", "Open alarm at home"),
    "services_assigned_by_auto": ("自动派单", "auto"),
    "services_check_in": ("签到", "Check in"),
    "services_check_out": ("签退", "Check out"),
    "services_save_checklist": ("保存清单", "Save checklist"),
    "services_checked_in": ("签到时间", "Checked in"),
    "services_checked_out": ("签退时间", "Checked out"),
    "services_no_visits": ("今天没有上门服务", "No visits today"),
    "services_no_requests": ("暂无待处理的预约", "No open requests"),
    "services_complaints": ("投诉", "Complaints"),
    "services_complaint_close": ("办结", "Close"),
    "services_complain": ("投诉", "Complain"),
    "services_complaint_sent": (
        "投诉已提交，管家会尽快处理",
        "Complaint sent; the butler will handle it",
    ),
    "services_complaint_open": ("投诉处理中", "Complaint open"),
    "services_complaint_closed": ("投诉已办结", "Complaint closed"),
    "services_resolution": ("处理结果", "Resolution"),
    "services_opened": ("投诉时间", "Opened"),
    "services_month": ("月份", "Month"),
    "services_show": ("查看", "Show"),
    "services_targets": ("服务目标", "Targets"),
    "services_target_alarm": ("告警确认时限(分钟)", "Alarm acknowledged within (minutes)"),
    "services_target_arrival": ("到达宽限(分钟)", "Arrival grace (minutes)"),
    "services_target_complaint": ("投诉办结时限(天)", "Complaint closed within (days)"),
    "services_alarms": ("告警响应", "Alarm response"),
    "services_visits": ("上门服务", "Visits"),
    "services_on_time": ("达标", "On time"),
    "services_late": ("超时", "Late"),
    "services_missed": ("未完成", "Missed"),
    "services_pending": ("进行中", "Pending"),
    "services_rate_on_time": ("达标率", "On-time rate"),
    "services_providers": ("服务商评分", "Provider scores"),
    "services_provider": ("服务商", "Provider"),
    "services_mean_rating": ("平均评分", "Mean rating"),
    "services_score": ("综合得分", "Score"),
    "services_as_of": ("统计截至", "As of"),
    "services_download_pdf": ("下载 PDF", "Download PDF"),
    "services_download_csv": ("下载 CSV", "Download CSV"),
    "services_unassigned_provider": ("(未派单)", "(unassigned)"),
    # the outbox names a reminded worker by this role (alerts' `recipient_<role>` labels)
    "recipient_service_worker": ("服务人员", "Service worker"),
    **{
        f"booking_{s.value}": pair
        for s, pair in {
            BookingStatus.DRAFT: ("待确认", "draft"),
            BookingStatus.REQUESTED: ("待派单", "requested"),
            BookingStatus.ASSIGNED: ("已派单", "assigned"),
            BookingStatus.IN_PROGRESS: ("服务中", "in progress"),
            BookingStatus.DONE: ("已完成", "done"),
            BookingStatus.CANCELLED: ("已取消", "cancelled"),
        }.items()
    },
}

_MONTH = re.compile(r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$")


def _names(request: Request) -> dict[str, Any]:
    """The catalogue's words in the page's language (they live with the scenarios)."""
    en = language(request) == "en"

    def scenario_name(code: str) -> str:
        s = scenario(code)
        return s.en if en else s.zh

    def check_name(code: str, item: str) -> str:
        found = next(c for c in scenario(code).checklist if c.code == item)
        return found.en if en else found.zh

    return {"scenario_name": scenario_name, "check_name": check_name}


def _said(text: str, field: str, reason: str) -> str:
    """A required free-text field: blank is a 422 naming it (the form's `required` aside)."""
    if not text.strip():
        raise InvalidInput.field(field, reason)
    return text.strip()


def _back(request: Request, default: str) -> RedirectResponse:
    return RedirectResponse(request.headers.get("referer") or default, status_code=303)


# The elder's and the family's page


@router.get("/services", response_class=HTMLResponse, response_model=None)
@page
def home_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in HOME_SIDE:
        raise PermissionDenied("this page is for elders and their families")
    session = uow.session
    now = uow.now()
    bookings = service.list_bookings(session=session, principal=principal)
    workers = service.worker_names(session=session, principal=principal)
    cards = []
    for elder in homecare.list_elders(session=session, principal=principal):
        own = [b for b in bookings if b.elder_id == elder.id]
        cards.append(
            {
                "elder": elder,
                "upcoming": [
                    b
                    for b in own
                    if b.status in service.OPEN and b.start >= now - timedelta(hours=12)
                ],
                "past": sorted(
                    (b for b in own if b.status == BookingStatus.DONE),
                    key=lambda b: b.start,
                    reverse=True,
                )[:20],
            }
        )
    tomorrow = to_local(now).date() + timedelta(days=1)
    return render(
        request,
        "services/home.html",
        cards=cards,
        workers=workers,
        scenarios=[s for s in CATALOGUE.values() if s.code not in FROM_PRESCRIPTION],
        default_day=tomorrow.isoformat(),
        booked=request.query_params.get("booked"),
        complained=request.query_params.get("complained") == "1",
        complaints={
            c.booking_id: c for c in service.list_complaints(session=session, principal=principal)
        },
        large=principal.role == Role.ELDER,
        **_names(request),
    )


def _start(day: str, at: str) -> datetime:
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise InvalidInput.field("day", "a date like 2026-12-08") from exc
    check_date(when, "day")
    try:
        clock = time.fromisoformat(at)
    except ValueError as exc:
        raise InvalidInput.field("at", "a time like 09:30") from exc
    return datetime.combine(when, clock, tzinfo=SHANGHAI)


@router.post("/services/book", response_model=None)
@page
def book(
    request: Request,
    uow: UnitDep,
    elder_id: Annotated[str, Form(max_length=64)],
    scenario_code: Annotated[str, Form(alias="scenario", max_length=40)],
    day: Annotated[str, Form(max_length=20)] = "",
    at: Annotated[str, Form(max_length=10)] = "09:00",
    notes: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    if scenario_code not in {c.value for c in ScenarioCode}:
        raise InvalidInput.field("scenario", "not one of the ten services")
    code = ScenarioCode(scenario_code)
    start = None if code == ScenarioCode.EMERGENCY_HELP else _start(day, at)
    booking = service.book(
        uow=uow,
        principal=principal,
        data=BookingCreate(elder_id=elder_id, scenario=code, start=start, notes=notes.strip()),
    )
    return RedirectResponse(f"/services?booked={booking.id}", status_code=303)


@router.post("/services/bookings/{booking_id}/rate", response_model=None)
@page
def rate(
    booking_id: str,
    request: Request,
    uow: UnitDep,
    stars: Annotated[str, Form(max_length=2)],
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    if stars not in {"1", "2", "3", "4", "5"}:
        raise InvalidInput.field("stars", "one to five stars")
    service.rate(
        uow=uow,
        principal=principal,
        booking_id=booking_id,
        stars=int(stars),
        comment=comment.strip() or None,
    )
    return _back(request, "/services")


@router.post("/services/bookings/{booking_id}/complain", response_model=None)
@page
def complain(
    booking_id: str,
    request: Request,
    uow: UnitDep,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    said = _said(text, "text", "say what went wrong")
    service.open_complaint(uow=uow, principal=principal, booking_id=booking_id, text=said)
    return RedirectResponse("/services?complained=1", status_code=303)


@router.post("/services/bookings/{booking_id}/cancel", response_model=None)
@page
def cancel(booking_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.cancel(uow=uow, principal=principal, booking_id=booking_id)
    return _back(request, "/services")


# The butler's board


@router.get("/services/board", response_class=HTMLResponse, response_model=None)
@page
def board_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    lines = service.board(uow=uow, principal=principal)
    complaints = [
        c
        for c in service.list_complaints(session=session, principal=principal)
        if c.closed_at is None
    ]
    return render(
        request,
        "services/board.html",
        lines=lines,
        homes=service.homes_of(session=session, bookings=[line.booking for line in lines]),
        workers=service.list_workers(session=session, principal=principal),
        worker_names=service.worker_names(session=session, principal=principal),
        complaints=complaints,
        **_names(request),
    )


@router.post("/services/bookings/{booking_id}/assign", response_model=None)
@page
def assign(
    booking_id: str,
    request: Request,
    uow: UnitDep,
    worker_id: Annotated[str, Form(max_length=64)],
) -> Response:
    principal = console_principal(request, uow)
    service.assign(uow=uow, principal=principal, booking_id=booking_id, worker_id=worker_id)
    return RedirectResponse("/services/board", status_code=303)


@router.post("/services/complaints/{complaint_id}/close", response_model=None)
@page
def close_complaint(
    complaint_id: str,
    request: Request,
    uow: UnitDep,
    resolution: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    said = _said(resolution, "resolution", "say how it was resolved")
    service.close_complaint(
        uow=uow, principal=principal, complaint_id=complaint_id, resolution=said
    )
    return RedirectResponse("/services/board", status_code=303)


# The worker's day


@router.get("/services/day", response_class=HTMLResponse, response_model=None)
@page
def day_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    today = to_local(uow.now()).date()
    if (
        principal.role in WORKERS
        and service.worker_of_user(session=session, principal=principal) is None
    ):
        # Provider staff who are no home-services worker (a long-term care caregiver, whose
        # header shares the role's links): the day is empty, not a refusal.
        visits = []
    else:
        visits = service.worker_day(session=session, principal=principal, day=today)
    return render(
        request,
        "services/day.html",
        visits=visits,
        homes=service.homes_of(session=session, bookings=visits),
        today=today,
        checklists={b.id: [c.code for c in scenario(b.scenario).checklist] for b in visits},
        **_names(request),
    )


def _visit_action(
    request: Request, uow: UnitOfWork, booking_id: str, action: str, done: list[str]
) -> Response:
    principal = console_principal(request, uow)
    if action == "check-in":
        service.check_in(uow=uow, principal=principal, booking_id=booking_id)
    elif action == "checklist":
        service.tick_checklist(uow=uow, principal=principal, booking_id=booking_id, done=done)
    else:
        # What is ticked on the form when the worker checks out is kept too.
        service.tick_checklist(uow=uow, principal=principal, booking_id=booking_id, done=done)
        service.check_out(uow=uow, principal=principal, booking_id=booking_id)
    return RedirectResponse(f"/services/day#visit-{booking_id}", status_code=303)


@router.post("/services/bookings/{booking_id}/check-in", response_model=None)
@page
def check_in(booking_id: str, request: Request, uow: UnitDep) -> Response:
    return _visit_action(request, uow, booking_id, "check-in", [])


@router.post("/services/bookings/{booking_id}/checklist", response_model=None)
@page
def checklist(
    booking_id: str,
    request: Request,
    uow: UnitDep,
    done: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    return _visit_action(request, uow, booking_id, "checklist", done or [])


@router.post("/services/bookings/{booking_id}/check-out", response_model=None)
@page
def check_out(
    booking_id: str,
    request: Request,
    uow: UnitDep,
    done: Annotated[list[str] | None, Form(max_length=40)] = None,
) -> Response:
    return _visit_action(request, uow, booking_id, "check-out", done or [])


# Supervision


def _month(request: Request, uow: UnitOfWork) -> date:
    raw = request.query_params.get("month")
    if not raw:
        return to_local(uow.now()).date().replace(day=1)
    if not _MONTH.match(raw):
        raise InvalidInput.field("month", "a month like 2026-11 (1900-2199)")
    return date.fromisoformat(f"{raw}-01")


def _report(
    request: Request, uow: UnitOfWork
) -> tuple[Principal, supervision.MonthReport, dict[str, str]]:
    principal = console_principal(request, uow)
    month = _month(request, uow)
    report, names = service.month_report(
        uow=uow, principal=principal, month=month, targets=supervision.Targets()
    )
    names[""] = console_of(request).catalog.label("services_unassigned_provider", language(request))
    return principal, report, names


@router.get("/services/supervision", response_class=HTMLResponse, response_model=None)
@page
def supervision_page(request: Request, uow: UnitDep) -> Response:
    _, report, names = _report(request, uow)
    bars = report_files.bars(report)
    return render(
        request,
        "services/supervision.html",
        report=report,
        names=names,
        month=report.month.strftime("%Y-%m"),
        as_of=uow.now(),
        bars=bars,
        chart=_supervision_chart(request, bars),
    )


OUTCOME_COLOURS = (
    ("services_on_time", charts.GREEN),
    ("services_late", charts.AMBER),
    ("services_missed", charts.RED),
    ("services_pending", charts.GREY),
)


def _supervision_chart(request: Request, bars: list[report_files.Bar]) -> Markup:
    """The month's alarms, visits and complaints split by outcome, one stacked bar each."""
    catalog, lang = console_of(request).catalog, language(request)
    option = charts.stacked_bars(
        title=catalog.label("services_supervision", lang),
        categories=[catalog.label(bar.key, lang) for bar in bars],
        stacks=[
            (catalog.label(key, lang), [bar.counts[i] for bar in bars], colour)
            for i, (key, colour) in enumerate(OUTCOME_COLOURS)
        ],
    )
    label = catalog.label("services_supervision", lang)
    return charts.chart_element(option, element_id="supervision-chart", label=label, height_px=260)


def _labels(request: Request) -> report_files.Labels:
    catalog, lang = console_of(request).catalog, language(request)
    return report_files.Labels({key: catalog.label(key, lang) for key in report_files.KEYS})


@router.get("/services/supervision.csv", response_model=None)
@page
def supervision_csv(request: Request, uow: UnitDep) -> Response:
    _, report, names = _report(request, uow)
    body = report_files.to_csv(report, names, _labels(request))
    filename = f"supervision-{report.month:%Y-%m}.csv"
    return Response(
        body.encode("utf-8-sig"),  # the BOM lets spreadsheet programs read the Chinese
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/services/supervision.pdf", response_model=None)
@page
def supervision_pdf(request: Request, uow: UnitDep) -> Response:
    _, report, names = _report(request, uow)
    body = report_files.to_pdf(report, names, _labels(request), as_of=uow.now())
    filename = f"supervision-{report.month:%Y-%m}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
