"""The long-term care console: the insured person's and family's entitlement page (large type),
the assessor's page, the institution's visit page for a phone, and the city supervisor's
dashboard with its charts and CSV. Server-rendered forms that post and redirect; services only.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from anxin.core.bounds import check_date
from anxin.core.domain import NavLink
from anxin.core.errors import Conflict, InvalidInput, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.ltc import (
    application_service,
    assessor_service,
    case_service,
    dashboard,
    flows,
    plan_service,
    review,
    settlement_service,
    visit_service,
)
from anxin.ltc.assessment import BARTHEL_SCORES, ORDINAL_MAX, CognitionItem, PerceptionItem
from anxin.ltc.entitlements import Month
from anxin.ltc.schemas import AssessmentCreate, CheckIn, CheckOut
from anxin.ltc.service import ADMINS, READERS, fund_by_month, require
from anxin.people.deps import UnitDep
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)

INSURED = frozenset({Role.ELDER, Role.FAMILY})
ASSESSORS = frozenset(ADMINS)
STAFF = frozenset({Role.PROVIDER})
SUPERVISION = frozenset(READERS)

NAV = [
    NavLink("/ltc/me", "ltc_me", INSURED),
    NavLink("/ltc/assess", "ltc_assess", ASSESSORS),
    NavLink("/ltc/visits", "ltc_visits", STAFF),
    NavLink("/ltc/supervision", "ltc_supervision", SUPERVISION),
    # the administrator settles a month here; the supervisor reads the settlement
    NavLink("/ltc/settlements", "ltc_settlements", SUPERVISION),
]

ITEMS = {
    "ltc_item_nursing_bed": ("护理床", "Nursing bed"),
    "ltc_item_wheelchair": ("轮椅", "Wheelchair"),
}
ADL_LABELS = {
    "ltc_adl_feeding": ("进食", "Feeding"),
    "ltc_adl_bathing": ("洗澡", "Bathing"),
    "ltc_adl_grooming": ("修饰", "Grooming"),
    "ltc_adl_dressing": ("穿衣", "Dressing"),
    "ltc_adl_bowels": ("大便控制", "Bowels"),
    "ltc_adl_bladder": ("小便控制", "Bladder"),
    "ltc_adl_toilet": ("如厕", "Toilet use"),
    "ltc_adl_transfers": ("床椅转移", "Transfers"),
    "ltc_adl_mobility": ("平地行走", "Mobility"),
    "ltc_adl_stairs": ("上下楼梯", "Stairs"),
    "ltc_cog_time_orientation": ("时间定向", "Orientation in time"),
    "ltc_cog_person_orientation": ("人物定向", "Orientation to persons"),
    "ltc_cog_space_orientation": ("空间定向", "Orientation in space"),
    "ltc_cog_memory": ("记忆", "Memory"),
    "ltc_per_vision": ("视力", "Vision"),
    "ltc_per_hearing": ("听力", "Hearing"),
    "ltc_per_communication": ("沟通交流", "Communication"),
}
LABELS: dict[str, tuple[str, str]] = {
    "ltc_me": ("我的长护险", "My care insurance"),
    "ltc_assess": ("失能评估", "Assessments"),
    "ltc_visits": ("长护上门", "Care visits today"),
    "ltc_supervision": ("长护险监管", "LTC supervision"),
    "ltc_grade": ("失能等级", "Disability grade"),
    "ltc_grade_0": ("0级 基本正常", "0 · basic normal"),
    "ltc_grade_1": ("1级 轻度失能", "1 · mildly disabled"),
    "ltc_grade_2": ("2级 中度失能", "2 · moderately disabled"),
    "ltc_grade_3": ("3级 重度失能Ⅰ级", "3 · severely disabled I"),
    "ltc_grade_4": ("4级 重度失能Ⅱ级", "4 · severely disabled II"),
    "ltc_grade_5": ("5级 重度失能Ⅲ级", "5 · severely disabled III"),
    "ltc_age": ("年龄", "Age"),
    "ltc_years": ("岁", "years"),
    "ltc_subsidy": ("每月护理补贴", "Monthly care subsidy"),
    "ltc_yuan": ("元", "yuan"),
    "ltc_visits_used": ("本月已上门", "Visits this month"),
    "ltc_visits_left": ("本月还可上门", "Visits left this month"),
    "ltc_per_week": ("每周上门次数", "Visits a week"),
    "ltc_services": ("服务项目", "Services"),
    "ltc_rented": ("租用的辅具", "Equipment rented"),
    "ltc_none": ("暂无", "None"),
    "ltc_rent": ("月租金", "Monthly rent"),
    "ltc_fund_pays": ("基金支付", "Fund pays"),
    "ltc_you_pay": ("个人支付", "You pay"),
    "ltc_since": ("起租", "Since"),
    "ltc_visit_list": ("本月上门记录", "Visits this month"),
    "ltc_when": ("时间", "When"),
    "ltc_caregiver": ("护理员", "Caregiver"),
    "ltc_state": ("状态", "State"),
    "ltc_done": ("已完成", "Done"),
    "ltc_confirmed": ("已确认", "Confirmed"),
    "ltc_planned": ("已预约", "Planned"),
    "ltc_in_progress": ("服务中", "In progress"),
    "ltc_missed": ("未签到", "Missed"),
    "ltc_not_confirmed": ("待家属确认", "Awaiting confirmation"),
    "ltc_entitled_from": ("享受待遇起始", "Entitled since"),
    "ltc_no_case": (
        "您还没有长期护理保险待遇。如生活需要他人照护，可向所在城市的长护险经办机构申请失能评估。",
        "You have no long-term care benefit. If you need help with daily living, ask your "
        "city's long-term care insurance office for a disability assessment.",
    ),
    "ltc_no_rule": ("本市暂无该等级的待遇规定", "No city rule for this grade yet"),
    # the assessor's page
    "ltc_queue": ("待评估申请", "Applications to assess"),
    "ltc_applicant": ("申请人", "Applicant"),
    "ltc_address": ("地址", "Address"),
    "ltc_self_barthel": ("自评 Barthel", "Self-assessed Barthel"),
    "ltc_assessed_by": ("已评估", "Assessed by"),
    "ltc_assigned": ("已分配", "Assigned"),
    "ltc_assign": ("分配", "Assign"),
    "ltc_assign_to": ("评估员", "Assessor"),
    "ltc_needs_third": (
        "两位评估员意见不一致，需第三位评估",
        "The two assessors disagree: a third decides",
    ),
    "ltc_score": ("评分并提交", "Score and submit"),
    "ltc_submit": ("提交评估", "Submit assessment"),
    "ltc_visited_on": ("上门评估日期", "Visited on"),
    "ltc_adl": ("日常生活活动（Barthel 指数）", "Activities of daily living (Barthel index)"),
    "ltc_cognition": ("认知能力", "Cognition"),
    "ltc_perception": ("感知觉与沟通", "Perception and communication"),
    "ltc_ordinal_hint": ("0 最差 — 4 完好", "0 worst — 4 intact"),
    "ltc_no_queue": ("没有待评估的申请", "No applications waiting"),
    "ltc_result": ("评估结果", "Result"),
    "ltc_decided": ("已定级", "Graded"),
    "ltc_waiting_second": ("已记录，等待另一位评估员", "Recorded; waiting for the other assessor"),
    "ltc_application": ("申请", "Application"),
    # the visit page
    "ltc_today": ("今日上门", "Today's visits"),
    "ltc_check_in": ("签到", "Check in"),
    "ltc_check_out": ("签退", "Check out"),
    "ltc_confirm": ("家属确认", "Family confirms"),
    "ltc_checklist": ("服务清单", "Checklist"),
    "ltc_no_visits": ("今天没有上门服务", "No visits today"),
    "ltc_location_needed": (
        "需要手机定位：请允许获取位置",
        "The phone's location is needed: allow it",
    ),
    "ltc_findings": ("核查", "Checks"),
    "ltc_checked_in": ("签到", "Checked in"),
    "ltc_checked_out": ("签退", "Checked out"),
    "ltc_unplanned": ("计划外", "Unplanned"),
    # supervision
    "ltc_month": ("月份", "Month"),
    "ltc_show": ("查看", "Show"),
    "ltc_insured": ("参保人数", "Insured"),
    "ltc_beneficiaries": ("享受待遇人数", "Beneficiaries"),
    "ltc_visits_month": ("本月上门", "Visits in the month"),
    "ltc_rejection_rate": ("拒付率", "Rejection rate"),
    "ltc_balance": ("基金结余", "Fund balance"),
    "ltc_reserve": ("可支付月数", "Months of reserve"),
    "ltc_not_settled": ("未结算", "not settled"),
    "ltc_chart_visits": ("每月上门次数", "Visits per month"),
    "ltc_chart_fund": ("基金收支（元）", "Fund in and out (yuan)"),
    "ltc_chart_grades": ("失能等级分布", "Beneficiaries by grade"),
    "ltc_fund_in": ("收入", "In"),
    "ltc_fund_out": ("支出", "Out"),
    "ltc_institutions": ("护理机构", "Care institutions"),
    "ltc_institution": ("机构", "Institution"),
    "ltc_settled_lines": ("结算明细", "Settled lines"),
    "ltc_rejected": ("拒付", "Rejected"),
    "ltc_download_csv": ("下载 CSV", "Download CSV"),
    # visit checks (visits.Check values), as the caregiver reads them
    "ltc_check_not_checked_out": ("未签退", "Not checked out"),
    "ltc_check_too_short": ("时长不足", "Too short"),
    "ltc_check_outside_radius": ("不在服务地址", "Away from the home"),
    "ltc_check_overlap": ("时间重叠", "Overlapping visits"),
    "ltc_check_no_service": ("未记录服务", "No service recorded"),
    "ltc_check_service_not_entitled": ("超出待遇范围", "Service not entitled"),
    "ltc_check_not_confirmed": ("待确认", "Not confirmed"),
    "ltc_check_no_presence": ("雷达未见人", "No presence on radar"),
    "ltc_check_no_home": ("登记册无住址定位", "Home not located on the register"),
    # reasons the settlement run gives before the visit checks (settlement.RunReason), and
    # "other" for a line settled before codes were stored whose text the migration could not read
    "ltc_check_no_entitlement": ("当月无待遇资格", "No entitlement this month"),
    "ltc_check_no_rule": ("无适用的待遇规定", "No entitlement rule applies"),
    "ltc_check_not_on_menu": ("服务不在目录内", "Service not on the menu"),
    "ltc_check_other": ("其他原因", "Other reason"),
    # the monthly settlement page
    "ltc_settlements": ("月度结算", "Monthly settlement"),
    "ltc_months": ("结算月份", "Months"),
    "ltc_settled": ("已结算关账", "Settled and closed"),
    "ltc_open_month": ("本月未结束", "Month not over"),
    "ltc_ready": ("可结算", "Ready to settle"),
    "ltc_settle": ("结算并关账", "Settle and close"),
    "ltc_settle_confirm": (
        "我确认该月已结束；结算后关账，不能再次结算或修改",
        "I confirm the month is over; once settled it is closed and cannot be settled again",
    ),
    "ltc_settle_need_confirm": (
        "请先勾选确认再结算",
        "Tick the confirmation before settling",
    ),
    "ltc_settle_not_over": (
        "该月尚未结束，月末之后才能结算",
        "The month is not over yet: it can be settled once it has ended",
    ),
    "ltc_settle_already": (
        "该月已结算关账，不能再次结算",
        "The month is already settled and closed: it cannot be settled again",
    ),
    "ltc_month_bad": ("月份格式应为 2026-11", "A month looks like 2026-11"),
    "ltc_not_settled_month": ("该月尚未结算", "This month is not settled yet"),
    "ltc_just_settled": ("结算完成，该月已关账", "Settled: the month is closed"),
    "ltc_closed_at": ("关账时间", "Closed at"),
    "ltc_ledger_seq": ("存证序号", "Ledger entry"),
    "ltc_claim_lines": ("结算明细数", "Claim lines"),
    "ltc_reconciled": ("基金账与明细核对", "Fund ledger matches the lines"),
    "ltc_yes": ("一致", "Yes"),
    "ltc_no": ("不一致", "No"),
    "ltc_totals": ("按类别合计", "Totals by kind"),
    "ltc_kind": ("类别", "Kind"),
    "ltc_kind_cash": ("护理补贴", "Cash subsidy"),
    "ltc_kind_visit": ("上门服务", "Care visits"),
    "ltc_kind_rental": ("辅具租赁", "Equipment rental"),
    "ltc_amount": ("金额", "Amount"),
    "ltc_copay": ("个人自付", "Co-payment"),
    "ltc_total": ("合计", "Total"),
    "ltc_month_fund_in": ("本月基金收入", "Fund in this month"),
    "ltc_month_fund_out": ("本月基金支出", "Fund out this month"),
    "ltc_rejected_lines": ("拒付明细", "Rejected claim lines"),
    "ltc_reasons": ("拒付原因", "Reasons"),
    "ltc_visit_no": ("明细", "Line"),
    "ltc_no_rejections": ("本月没有拒付", "Nothing rejected this month"),
    "ltc_more_rejections": (
        "仅列出前若干条，完整明细请用接口导出",
        "Only the first lines are listed; the API has them all",
    ),
    "ltc_by_reason": ("按原因的拒付", "Rejections by reason"),
    "ltc_reason": ("原因", "Reason"),
    "ltc_lines": ("条数", "Lines"),
    "ltc_rate_of_visits": ("占上门明细", "Share of visit lines"),
    "ltc_see_settlement": ("查看该月结算", "See the month's settlement"),
    "ltc_see_dashboard": ("查看该月监管看板", "See the month on the supervisor's dashboard"),
    **ITEMS,
    **ADL_LABELS,
}

_MONTH = re.compile(r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$")


def _names(request: Request, session: Session, org_id: str) -> dict[str, str]:
    """The service menu's names in the page's language (they are the city's data)."""
    pick = 1 if language(request) == "en" else 0
    return {code: pair[pick] for code, pair in case_service.menu_names(
        session=session, org_id=org_id).items()}  # fmt: skip


def _label(request: Request, key: str) -> str:
    return console_of(request).catalog.label(key, language(request))


# -- the insured person's and family's page ----------------------------------------------------


@router.get("/ltc/me", response_class=HTMLResponse, response_model=None)
@page
def my_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    beneficiary = case_service.viewer_of(session=session, principal=principal)
    if beneficiary is None:  # every elder's header offers the page; most have no case
        return render(request, "ltc/me.html", case=None, names={}, large=True)
    found = case_service.case(session=session, beneficiary_id=beneficiary, now=uow.now())
    return render(
        request, "ltc/me.html", case=found, names=_names(request, session, found.org_id),
        large=True,
    )  # fmt: skip


# -- the assessor's page -----------------------------------------------------------------------


def _scales() -> dict[str, list[tuple[str, list[int]]]]:
    """Each dimension's items with the scores each may take, for the scoring form."""
    ordinal = list(range(ORDINAL_MAX, -1, -1))
    return {
        "adl": [(i.value, sorted(v, reverse=True)) for i, v in BARTHEL_SCORES.items()],
        "cognition": [(i.value, ordinal) for i in CognitionItem],
        "perception": [(i.value, ordinal) for i in PerceptionItem],
    }


@router.get("/ltc/assess", response_class=HTMLResponse, response_model=None)
@page
def assess_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    items = assessor_service.queue(session=session, principal=principal)
    team = assessor_service.assessors(session=session, principal=principal)
    done_id = request.query_params.get("done", "")
    result = None
    if done_id.isdigit() and len(done_id) < 19:
        result = application_service.read(
            session=session, principal=principal, application_id=int(done_id), now=uow.now()
        )
    return render(
        request, "ltc/assess.html", items=items, team=team, team_names=dict(team),
        me=principal.user_id, scales=_scales(),
        today=application_service.today(uow.now()), result=result,
    )  # fmt: skip


@router.post("/ltc/assess/{application_id}/assign", response_model=None)
@page
def assign(
    application_id: int,
    request: Request,
    uow: UnitDep,
    assessor_id: Annotated[str, Form(max_length=36)],
) -> Response:
    principal = console_principal(request, uow)
    assessor_service.assign(
        session=uow.session, principal=principal, application_id=_id(application_id),
        assessor_id=assessor_id, now=uow.now(),
    )  # fmt: skip
    return RedirectResponse(f"/ltc/assess#application-{application_id}", status_code=303)


def _id(value: int) -> int:
    if not 1 <= value <= 2**63 - 1:
        raise InvalidInput.field("application_id", "not an application")
    return value


def _scores(form: dict[str, str], dimension: str, items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        raw = str(form.get(f"{dimension}.{item}", ""))
        if not raw.isdigit() or len(raw) > 3:
            raise InvalidInput.field(f"{dimension}.{item}", "choose a score")
        out[item] = int(raw)
    return out


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields as text (the scoring form has seventeen items)."""
    return {key: str(value)[:20] for key, value in (await request.form()).items()}


@router.post("/ltc/assess/{application_id}", response_model=None)
@page
def score(
    application_id: int,
    request: Request,
    uow: UnitDep,
    form: Annotated[dict[str, str], Depends(_form)],
) -> Response:
    principal = console_principal(request, uow)
    scales = _scales()
    try:
        visited = date.fromisoformat(str(form.get("visited_on", "")))
    except ValueError as exc:
        raise InvalidInput.field("visited_on", "a date like 2026-12-08") from exc
    check_date(visited, "visited_on")
    data = AssessmentCreate(
        visited_on=visited,
        **{dim: _scores(form, dim, [item for item, _ in scales[dim]]) for dim in scales},
    )
    application_service.assess(
        session=uow.session, principal=principal, application_id=_id(application_id),
        data=data, now=uow.now(),
    )  # fmt: skip
    return RedirectResponse(f"/ltc/assess?done={application_id}", status_code=303)


# -- the institution's and caregiver's visit page (a phone) ------------------------------------


def _coordinate(raw: str, field: str, limit: float) -> float:
    """A phone's coordinate from the form; blank means the browser gave no location."""
    if not raw.strip():
        raise InvalidInput.field(field, "the phone's location is needed: allow it")
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput.field(field, "a number") from exc
    if not -limit <= value <= limit:
        raise InvalidInput.field(field, f"between -{limit:g} and {limit:g}")
    return value


@router.get("/ltc/visits", response_class=HTMLResponse, response_model=None)
@page
def visits_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in STAFF:
        raise PermissionDenied("this page is for care institutions' staff")
    session = uow.session
    day = application_service.today(uow.now())
    cards = visit_service.day_cards(session=session, principal=principal, day=day)
    orgs = {c.org_id for c in cards}
    names: dict[str, str] = {}
    for org in orgs:
        names.update(_names(request, session, org))
    return render(
        request, "ltc/visits.html", cards=cards, today=day, names=names,
        done=request.query_params.get("done"),
    )  # fmt: skip


@router.post("/ltc/visits/plans/{plan_id}/check-in", response_model=None)
@page
def plan_check_in(
    plan_id: int,
    request: Request,
    uow: UnitDep,
    lat: Annotated[str, Form(max_length=32)] = "",
    lon: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    principal = console_principal(request, uow)
    plan = plan_service.plan_for(session=uow.session, principal=principal, plan_id=plan_id)
    data = CheckIn(
        institution_id=plan.institution_id, beneficiary_id=plan.beneficiary_id,
        caregiver_id=plan.caregiver_id, plan_id=plan.id,
        lat=_coordinate(lat, "lat", 90), lon=_coordinate(lon, "lon", 180),
    )  # fmt: skip
    visit = visit_service.check_in(session=uow.session, principal=principal, data=data,
                                   now=uow.now())  # fmt: skip
    plan_service.link_visit(uow=uow, plan_id=plan.id, visit=visit)
    return RedirectResponse(f"/ltc/visits#visit-{visit.id}", status_code=303)


@router.post("/ltc/visits/{visit_id}/check-out", response_model=None)
@page
def visit_check_out(
    visit_id: int,
    request: Request,
    uow: UnitDep,
    lat: Annotated[str, Form(max_length=32)] = "",
    lon: Annotated[str, Form(max_length=32)] = "",
    done: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    principal = console_principal(request, uow)
    data = CheckOut(
        lat=_coordinate(lat, "lat", 90), lon=_coordinate(lon, "lon", 180),
        services=[s[:32] for s in (done or [])][:20],
    )  # fmt: skip
    visit_service.check_out(session=uow.session, principal=principal,
                            visit_id=_row_id(visit_id, "visit_id"), data=data,
                            now=uow.now())  # fmt: skip
    return RedirectResponse(f"/ltc/visits?done={visit_id}#visit-{visit_id}", status_code=303)


@router.post("/ltc/visits/{visit_id}/confirm", response_model=None)
@page
def visit_confirm(visit_id: int, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    visit_service.confirm(session=uow.session, principal=principal,
                          visit_id=_row_id(visit_id, "visit_id"))  # fmt: skip
    return RedirectResponse(f"/ltc/visits#visit-{visit_id}", status_code=303)


def _row_id(value: int, field: str) -> int:
    if not 1 <= value <= 2**63 - 1:
        raise InvalidInput.field(field, "out of range")
    return value


# -- the city supervisor's dashboard -----------------------------------------------------------


def _month(request: Request, today: date) -> Month:
    raw = request.query_params.get("month")
    if not raw:
        return Month(today.year, today.month)
    if not _MONTH.match(raw):
        raise InvalidInput.field("month", "a month like 2026-11")
    try:
        return Month.parse(raw)
    except ValueError as exc:
        raise InvalidInput.field("month", "a month like 2026-11 (2000-2999)") from exc


def _months_back(month: Month, count: int) -> list[Month]:
    out = [month]
    while len(out) < count:
        first = out[0].first - timedelta(days=1)
        out.insert(0, Month(first.year, first.month))
    return out


def _supervision_charts(
    request: Request, board: Any, months: list[Month], visits: list[int], fund: list[Any]
) -> dict[str, Markup]:
    labels = [str(m) for m in months]
    by_month = {f.month: f for f in fund}
    paid_in = [float(by_month[m].paid_in) if m in by_month else 0.0 for m in labels]
    paid_out = [float(by_month[m].paid_out) if m in by_month else 0.0 for m in labels]
    visits_option = charts.category_chart(
        title=_label(request, "ltc_chart_visits"), categories=labels,
        lines=[(_label(request, "ltc_visits_month"), [float(v) for v in visits], charts.BLUE)],
        axis=charts.Axis("", min=0),
    )  # fmt: skip
    fund_option = charts.category_chart(
        title=_label(request, "ltc_chart_fund"), categories=labels,
        lines=[(_label(request, "ltc_fund_in"), paid_in, charts.GREEN),
               (_label(request, "ltc_fund_out"), paid_out, charts.RED)],
        axis=charts.Axis(_label(request, "ltc_yuan"), min=0),
    )  # fmt: skip
    grades = [str(g) for g in range(1, 6)]
    grade_option = charts.stacked_bars(
        title=_label(request, "ltc_chart_grades"),
        categories=[_label(request, f"ltc_grade_{g}") for g in grades],
        stacks=[(_label(request, "ltc_beneficiaries"),
                 [board.beneficiaries_by_grade.get(g, 0) for g in grades], charts.AMBER)],
    )  # fmt: skip
    return {
        "visits": charts.chart_element(visits_option, element_id="ltc-visits-chart",
                                       label=_label(request, "ltc_chart_visits"), height_px=260),
        "fund": charts.chart_element(fund_option, element_id="ltc-fund-chart",
                                     label=_label(request, "ltc_chart_fund"), height_px=260),
        "grades": charts.chart_element(grade_option, element_id="ltc-grades-chart",
                                       label=_label(request, "ltc_chart_grades"), height_px=260),
    }  # fmt: skip


@router.get("/ltc/supervision", response_class=HTMLResponse, response_model=None)
@page
def supervision_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    month = _month(request, application_service.today(uow.now()))
    board = dashboard.dashboard(session=session, principal=principal, month=month)
    months = _months_back(month, 6)
    visits = dashboard.visits_per_month(session=session, principal=principal, months=months)
    fund = fund_by_month(session=session, principal=principal)
    return render(
        request, "ltc/supervision.html", board=board, month=str(month),
        charts=_supervision_charts(request, board, months, visits, fund),
        beneficiaries=sum(board.beneficiaries_by_grade.values()),
        reasons=_reasons(session, principal, month) if board.settled else [],
    )  # fmt: skip


def _reasons(session: Session, principal: Principal, month: Month) -> list[review.ReasonCount]:
    found = settlement_service.get_settlement(session=session, principal=principal, month=month)
    return review.rejections_by_reason(session=session, settlement=found)


@router.get("/ltc/supervision.csv", response_model=None)
@page
def supervision_csv(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    month = _month(request, application_service.today(uow.now()))
    board = dashboard.dashboard(session=uow.session, principal=principal, month=month)
    return Response(
        dashboard.institutions_csv(board).encode("utf-8-sig"),  # the BOM: spreadsheets read 中文
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ltc-institutions-{month}.csv"'},
    )


# -- the monthly settlement: the administrator settles, the supervisor reads -------------------

MONTHS_LISTED = 12
REJECTIONS_LISTED = 200


def _month_text(raw: str) -> Month | None:
    """A month from a path or query, or None when it is not one."""
    if not _MONTH.match(raw):
        return None
    try:
        return Month.parse(raw)
    except ValueError:
        return None


def _settlement_view(
    request: Request, uow: UnitDep, chosen: str | None, *, error: str = "", status_code: int = 200
) -> Response:
    """The months and, for a settled chosen month (the latest settled by default), its
    settlement, or for an open one the form that settles it; `error` is a label the page
    shows at its top."""
    principal = console_principal(request, uow)
    session = uow.session
    today = application_service.today(uow.now())
    listed = review.months(session=session, principal=principal, today=today, count=MONTHS_LISTED)
    if chosen is None:
        chosen = next((m.month for m in listed if m.settled), None)
    shown = next((m for m in listed if m.month == chosen and m.settled), None)
    detail: dict[str, Any] = {}
    if shown is not None:
        detail = _settlement_detail(session, principal, Month.parse(shown.month))
    return render(
        request, "ltc/settlements.html", status_code=status_code, months=listed, chosen=chosen,
        shown=shown, error=error, may_settle=principal.role in ADMINS,
        just_settled=request.query_params.get("settled") == "1", **detail,
    )  # fmt: skip


def _settlement_detail(session: Session, principal: Principal, month: Month) -> dict[str, Any]:
    found = settlement_service.get_settlement(session=session, principal=principal, month=month)
    fund = next((f for f in fund_by_month(session=session, principal=principal)
                 if f.month == str(month)), None)  # fmt: skip
    return {
        "settlement": found,
        "totals": review.totals_by_kind(session=session, settlement=found),
        "reconciled": settlement_service.reconcile(session=session, settlement=found),
        "fund": fund,
        "rejections": review.rejections(session=session, principal=principal, settlement=found,
                                        limit=REJECTIONS_LISTED),
    }  # fmt: skip


@router.get("/ltc/settlements", response_class=HTMLResponse, response_model=None)
@page
def settlements_page(request: Request, uow: UnitDep) -> Response:
    raw = request.query_params.get("month")
    if raw is None:
        return _settlement_view(request, uow, None)
    month = _month_text(raw)
    if month is None:
        return _settlement_view(request, uow, None, error="ltc_month_bad", status_code=422)
    return _settlement_view(request, uow, str(month))


def _why_not_settle(uow: UnitDep, org_id: str, month: Month, confirmed: bool) -> str:
    """The label saying why the month may not be settled now, or ""."""
    if month.end > application_service.today(uow.now()):
        return "ltc_settle_not_over"
    if review.is_settled(session=uow.session, org_id=org_id, month=month):
        return "ltc_settle_already"
    return "" if confirmed else "ltc_settle_need_confirm"


@router.post("/ltc/settlements/{month}", response_model=None)
@page
def settle(
    month: str,
    request: Request,
    uow: UnitDep,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    principal = console_principal(request, uow)
    require(principal, ADMINS)
    chosen = _month_text(month)
    if chosen is None:
        return _settlement_view(request, uow, None, error="ltc_month_bad", status_code=422)
    why = _why_not_settle(uow, principal.organisation_id, chosen, confirm == "yes")
    if why:
        status = 409 if why == "ltc_settle_already" else 422
        return _settlement_view(request, uow, str(chosen), error=why, status_code=status)
    try:
        flows.settle_and_anchor(uow=uow, org_id=principal.organisation_id, month=chosen)
    except Conflict:  # settled by someone else a moment ago (the check above raced it)
        return _settlement_view(
            request, uow, str(chosen), error="ltc_settle_already", status_code=409
        )
    return RedirectResponse(f"/ltc/settlements?month={chosen}&settled=1", status_code=303)
