"""Console pages of the lending domain: the officer's queue, the application with its score,
reasons and gates, and the risk officer's portfolio view. Labels are in `LABELS` (zh/en)."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from anxin.core.errors import InvalidInput, NotFound, RuleViolation
from anxin.core.security import Role
from anxin.lending import changes, gates, loans, scorecard, service
from anxin.lending.lifecycle import PATH, Stage
from anxin.lending.loan_views import csv_response
from anxin.lending.models import ChangeStatus, LoanAccount, LoanStatus
from anxin.lending.product import PRODUCT
from anxin.lending.schedule import PrepaymentEffect
from anxin.people.deps import UnitDep
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

OFFICERS = frozenset({Role.LOAN_OFFICER, Role.RISK_OFFICER, Role.ADMIN})

router = APIRouter(include_in_schema=False)

LABELS: dict[str, tuple[str, str]] = {
    "lending_queue": ("贷款申请队列", "Loan applications"),
    "lending_portfolio": ("贷款组合", "Loan portfolio"),
    "lending_application": ("贷款申请", "Loan application"),
    "lending_business": ("企业", "Business"),
    "lending_owner": ("经营者", "Owner"),
    "lending_amount": ("金额（元）", "Amount (yuan)"),
    "lending_term": ("期限（月）", "Term (months)"),
    "lending_purpose": ("用途", "Purpose"),
    "lending_stage": ("阶段", "Stage"),
    "lending_submitted": ("提交时间", "Submitted"),
    "lending_all": ("全部", "All"),
    "lending_none": ("暂无申请", "No applications"),
    "lending_score": ("评分", "Score"),
    "lending_cutoff": ("通过分数线", "Cut-off"),
    "lending_model": ("模型版本", "Model version"),
    "lending_reasons": ("主要扣分原因", "Main reasons"),
    "lending_points_lost": ("扣分", "Points lost"),
    "lending_policy": ("政策规则", "Policy rules"),
    "lending_passed": ("通过", "passed"),
    "lending_failed": ("未通过", "failed"),
    "lending_decisions": ("决策记录", "Decisions"),
    "lending_outcome": ("结果", "Outcome"),
    "lending_kind": ("类型", "Kind"),
    "lending_override_reason": ("人工调整理由", "Override reason"),
    "lending_decided_at": ("决策时间", "Decided at"),
    "lending_not_decided": ("尚未决策", "Not decided yet"),
    "lending_gates": ("流程关口", "Gates"),
    "lending_documents": ("材料", "Documents"),
    "lending_no_documents": ("暂无材料", "No documents"),
    "lending_turnover": ("月营业额（元）", "Monthly turnover (yuan)"),
    "lending_years_trading": ("经营年限", "Years trading"),
    "lending_credit_code": ("统一社会信用代码", "Unified social credit code"),
    "lending_resident_id": ("身份证号", "Resident ID"),
    "lending_applications": ("申请数", "Applications"),
    "lending_decided": ("已决策", "Decided"),
    "lending_approved": ("已批准", "Approved"),
    "lending_approval_rate": ("批准率", "Approval rate"),
    "lending_psi": ("群体稳定性指数 PSI", "Population stability index (PSI)"),
    "lending_cv": ("交叉验证 AUC / KS / Gini", "Cross-validated AUC / KS / Gini"),
    "lending_by_stage": ("各阶段申请数", "Applications by stage"),
    "lending_disclose": ("生成并披露关键信息", "Disclose the key facts"),
    "lending_recording": ("双录", "Dual recording"),
    "lending_recording_file": ("录音录像文件", "Audio or video file"),
    "lending_checklist": ("已讲解事项（秒）", "Statements made (second of the recording)"),
    "lending_upload": ("上传", "Upload"),
    "lending_qc": ("质检", "Quality check"),
    "lending_qc_approve": ("质检通过", "Pass"),
    "lending_qc_reject": ("质检不通过", "Fail"),
    "lending_callbacks": ("回访", "Callback"),
    "lending_start_callback": ("发起回访", "Start the callback"),
    "lending_reached": ("已接通", "Reached"),
    "lending_unreached": ("未接通", "Not reached"),
    "lending_record_callback": ("记录回访结果", "Record the call"),
    "lending_attempt": ("第几次", "Attempt"),
    "lending_disburse": ("放款", "Disburse"),
    "lending_loan": ("贷款", "Loan"),
    "lending_bucket": ("账龄", "Ageing bucket"),
    "lending_buckets": ("各账龄贷款余额", "Balance by ageing bucket"),
    "lending_buckets_by_product": (
        "各产品各账龄剩余本金",
        "Principal outstanding by product and bucket",
    ),
    "lending_product": ("产品", "Product"),
    "lending_ten_thousand_yuan": ("万元", "10,000 yuan"),
    "lending_download_csv": ("下载 CSV", "Download CSV"),
    "lending_loans": ("贷款笔数", "Loans"),
    "lending_yes": ("是", "Yes"),
    "lending_schedule_version": ("还款计划版本", "Schedule version"),
    "lending_prepay": ("提前还款", "Prepayment"),
    "lending_quote_principal": ("剩余本金", "Principal outstanding"),
    "lending_accrued": ("应计利息（自上一还款日）", "Interest accrued since the last due date"),
    "lending_prepay_fee": ("提前还款手续费", "Prepayment fee"),
    "lending_payoff": ("今日一次结清金额", "Repays the loan in full today"),
    "lending_arrears": ("应先归还的到期欠款", "Owed on instalments due (paid first)"),
    "lending_prepay_amount": ("提前还款金额（元）", "Amount repaid early (yuan)"),
    "effect_shorten_term": ("缩短期限（月供不变）", "Shorten the term (same instalment)"),
    "effect_lower_instalment": ("减少月供（期限不变）", "Lower the instalment (same term)"),
    "lending_prepay_submit": ("确认提前还款", "Take the prepayment"),
    "lending_prepay_blocked": ("暂不能提前还款", "No prepayment for now"),
    "lending_reschedule": ("困难重组（展期）", "Hardship rescheduling"),
    "lending_new_rate": ("新年利率（%，可空）", "New annual rate (%, optional)"),
    "lending_new_periods": ("此后期数（可空）", "Instalments from now (optional)"),
    "lending_grace": ("只还息期数", "Interest-only periods"),
    "lending_rate_after": ("新年利率", "New annual rate"),
    "lending_periods_after": ("此后期数", "Instalments from then"),
    "lending_reason": ("理由", "Reason"),
    "lending_propose": ("提交审批", "Propose for approval"),
    "lending_pending_change": ("待第二人审批的重组", "Rescheduling awaiting a second officer"),
    "lending_proposed_by_you": (
        "由您提出，需另一名信贷员审批",
        "You proposed it; another officer approves it",
    ),
    "lending_approve": ("批准", "Approve"),
    "lending_reject": ("驳回", "Reject"),
    "lending_changes": ("还款计划变更记录", "Schedule changes"),
    "lending_no_changes": ("暂无变更", "No changes"),
    "lending_version": ("版本", "Version"),
    "lending_effective_on": ("生效日", "From"),
    "lending_ledger": ("账本序号", "Ledger entry"),
    "lending_details": ("内容", "Details"),
    "change_prepayment": ("提前还款", "prepayment"),
    "change_reschedule": ("重组", "rescheduling"),
    "change_pending": ("待审批", "pending"),
    "change_applied": ("已生效", "applied"),
    "change_rejected": ("已驳回", "rejected"),
    "lending_no": ("否", "No"),
    "gate_disclosure": ("关键信息已确认", "Key facts acknowledged"),
    "gate_dual_recording": ("双录已质检并上链", "Recording checked and anchored"),
    "gate_cooling_off": ("冷静期已过", "Cooling-off over"),
    "gate_callback": ("回访已确认", "Callback confirmed"),
    "qc_pending": ("待质检", "awaiting check"),
    "qc_approved": ("通过", "passed"),
    "qc_rejected": ("未通过", "failed"),
    "callback_pending": ("待回访", "to call"),
    "callback_confirmed": ("已确认", "confirmed"),
    "callback_refused": ("借款人拒绝", "refused"),
    "callback_unreached": ("未接通", "not reached"),
    "statement_identity_confirmed": ("核实借款人身份", "Identity confirmed"),
    "statement_rates_explained": ("讲解年化利率与 APR", "Annual rate and APR explained"),
    "statement_total_cost_explained": ("讲解还款总额与费用", "Total cost and fees explained"),
    "statement_schedule_explained": ("讲解还款计划", "Schedule explained"),
    "statement_cooling_off_explained": ("告知冷静期与免费取消", "Cooling-off and free cancel"),
    "statement_voluntary_confirmed": ("借款人确认自愿借款", "Borrower confirms it is voluntary"),
    **{f"question_{q.code}": (q.zh, q.en) for q in PRODUCT.callback_script},
    **{f"bucket_{b.code}": (b.zh, b.en) for b in PRODUCT.buckets},
    **{
        f"stage_{s.value}": pair
        for s, pair in {
            Stage.APPLICATION: ("申请", "application"),
            Stage.REVIEW: ("审查", "review"),
            Stage.APPROVED: ("已批准", "approved"),
            Stage.DECLINED: ("已拒绝", "declined"),
            Stage.DISCLOSED: ("已披露", "disclosed"),
            Stage.RECORDED: ("已双录", "recorded"),
            Stage.COOLING_OFF: ("冷静期", "cooling-off"),
            Stage.CALLBACK: ("回访", "callback"),
            Stage.DISBURSED: ("已放款", "disbursed"),
            Stage.ACTIVE: ("还款中", "active"),
            Stage.CLOSED: ("已结清", "closed"),
            Stage.WRITTEN_OFF: ("已核销", "written off"),
            Stage.CANCELLED: ("已取消", "cancelled"),
        }.items()
    },
}


def _queue(request: Request, uow: UnitDep, stage: Stage | None, template: str) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in OFFICERS:
        raise NotFound("no such page")
    applications = service.list_applications(session=uow.session, principal=principal, stage=stage)
    businesses, borrowers = service.businesses_and_borrowers(
        session=uow.session, applications=applications
    )
    rows = [(a, businesses[a.business_id], borrowers[a.borrower_id]) for a in applications]
    return render(request, template, rows=rows, stage=stage, stages=list(Stage))


@router.get("/lending", response_class=HTMLResponse, response_model=None)
@page
def queue(
    request: Request, uow: UnitDep, stage: Annotated[Stage | None, Query()] = None
) -> Response:
    return _queue(request, uow, stage, "lending/queue.html")


@router.get("/lending/parts/queue", response_class=HTMLResponse, response_model=None)
@page
def queue_rows(
    request: Request, uow: UnitDep, stage: Annotated[Stage | None, Query()] = None
) -> Response:
    """The queue's rows alone: `live.js` refetches them when an application arrives or moves."""
    return _queue(request, uow, stage, "lending/_queue_rows.html")


@router.get(
    "/lending/applications/{application_id}", response_class=HTMLResponse, response_model=None
)
@page
def application_page(request: Request, uow: UnitDep, application_id: str) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    application = service.get_application(
        session=session, principal=principal, application_id=application_id
    )
    businesses, borrowers = service.businesses_and_borrowers(
        session=session, applications=[application]
    )
    decisions = service.decisions_of(session=session, application_id=application.id)
    on_path = application.stage in PATH
    loan = session.scalar(select(LoanAccount).where(LoanAccount.application_id == application.id))
    quote, blocked, history = None, "", []
    if loan is not None:
        history = changes.changes_of(session=session, loan_id=loan.id)
        if loan.status is LoanStatus.ACTIVE:
            try:
                quote = changes.quote(
                    session=session,
                    principal=principal,
                    application_id=application.id,
                    today=loans._today(uow.now()),
                )
            except RuleViolation as e:  # e.g. a payment held against a later instalment
                blocked = e.message
    return render(
        request,
        "lending/application.html",
        a=application,
        business=businesses[application.business_id],
        borrower=borrowers[application.borrower_id],
        decisions=decisions,
        latest=decisions[-1] if decisions else None,
        documents=service.documents_of(session=session, application_id=application.id),
        path=PATH,
        reached=PATH.index(application.stage) if on_path else -1,
        gates=gates.gates(session=session, application=application, now=uow.now()),
        disclosure=gates.disclosure_of(session=session, application_id=application.id),
        recordings=gates.recordings_of(session=session, application_id=application.id),
        callbacks=gates.callbacks_of(session=session, application_id=application.id),
        statements=PRODUCT.recording_statements,
        script=PRODUCT.callback_script,
        statement=loans.statement(
            session=session, principal=principal, application_id=application.id, now=uow.now()
        )
        if loan
        else None,
        viewer_id=principal.user_id,
        payout_key=f"console-{secrets.token_hex(8)}",  # one per page: a double submit pays once
        quote=quote,
        prepay_blocked=blocked,
        effects=list(PrepaymentEffect),
        changes=history,
        pending=next((c for c in history if c.status is ChangeStatus.PENDING), None),
    )


@router.get("/lending/portfolio", response_class=HTMLResponse, response_model=None)
@page
def portfolio_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    stats = service.portfolio_stats(session=uow.session, principal=principal)
    by_stage = service.count_by_stage(session=uow.session, principal=principal)
    card = scorecard.load()
    totals = loans.balance_by_bucket(session=uow.session, principal=principal, now=uow.now())
    by_product = loans.balance_by_product_bucket(
        session=uow.session, principal=principal, now=uow.now()
    )
    return render(
        request,
        "lending/portfolio.html",
        buckets=[(b, totals[b.code]) for b in PRODUCT.buckets],
        by_product=by_product,
        chart=_buckets_chart(request, by_product),
        stats=stats,
        by_stage=by_stage,
        metrics=card.raw["metrics"],
        version=card.version,
    )


BUCKET_COLOURS = (charts.GREEN, charts.AMBER, charts.ORANGE, charts.RED, charts.GREY)


def _buckets_chart(request: Request, totals: list[loans.BucketTotal]) -> Markup:
    """Principal outstanding per product, one bar each, stacked by ageing bucket."""
    catalog, lang = console_of(request).catalog, language(request)
    products = list(dict.fromkeys(t.product for t in totals))
    codes = list(dict.fromkeys(t.bucket.code for t in totals))
    cells = {(t.product.code, t.bucket.code): t for t in totals}
    title = catalog.label("lending_buckets_by_product", lang)
    option = charts.stacked_bars(
        title=title,
        categories=[p.name_en if lang == "en" else p.name_zh for p in products],
        stacks=[
            (
                catalog.label(f"bucket_{code}", lang),
                [
                    float(cells[(p.code, code)].principal) if (p.code, code) in cells else 0.0
                    for p in products
                ],
                BUCKET_COLOURS[min(i, len(BUCKET_COLOURS) - 1)],
            )
            for i, code in enumerate(codes)
        ],
    )
    # The card's heading is the title; at 390 px the axis reads in 万元 and long product names
    # break onto lines; an empty bucket draws nothing (rather than a "0" bubble).
    option["title"] = {"show": False}
    option["legend"]["top"] = 0
    option["grid"]["top"] = 36
    option["xAxis"]["name"] = catalog.label("lending_ten_thousand_yuan", lang)
    option["xAxis"]["nameLocation"] = "middle"
    option["xAxis"]["nameGap"] = 24
    option["yAxis"]["axisLabel"] = {"width": 84, "overflow": "break"}
    for series in option["series"]:
        series["data"] = [round(v / 10_000, 2) or None for v in series["data"]]
    option["grid"]["bottom"] = 28
    height = 140 + 56 * len(products)
    return charts.chart_element(option, element_id="buckets-chart", label=title, height_px=height)


@router.get("/lending/portfolio/buckets.csv", response_model=None)
@page
def buckets_csv(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    totals = loans.balance_by_product_bucket(
        session=uow.session, principal=principal, now=uow.now()
    )
    body = loans.buckets_csv(totals, language(request))
    return csv_response(body, "lending-buckets-by-product.csv")


# --- the officer's actions on the gates (forms posting back to the application page) ---------


def _back(application_id: str) -> RedirectResponse:
    return RedirectResponse(f"/lending/applications/{application_id}", status_code=303)


@router.post("/lending/applications/{application_id}/disclose", response_model=None)
@page
def disclose(request: Request, uow: UnitDep, application_id: str) -> Response:
    principal = console_principal(request, uow)
    gates.disclose(uow=uow, principal=principal, application_id=application_id)
    return _back(application_id)


Seconds = Annotated[str, Form(max_length=12)]


@router.post("/lending/applications/{application_id}/recordings", response_model=None)
@page
def upload_recording(
    request: Request,
    uow: UnitDep,
    application_id: str,
    file: Annotated[UploadFile, File()],
    at_identity_confirmed: Seconds = "",
    at_rates_explained: Seconds = "",
    at_total_cost_explained: Seconds = "",
    at_schedule_explained: Seconds = "",
    at_cooling_off_explained: Seconds = "",
    at_voluntary_confirmed: Seconds = "",
) -> Response:
    """Each ticked statement comes with the second of the recording it was made at."""
    principal = console_principal(request, uow)
    given = {
        "identity_confirmed": at_identity_confirmed,
        "rates_explained": at_rates_explained,
        "total_cost_explained": at_total_cost_explained,
        "schedule_explained": at_schedule_explained,
        "cooling_off_explained": at_cooling_off_explained,
        "voluntary_confirmed": at_voluntary_confirmed,
    }
    ticked = [
        {"statement": s, "at_seconds": float(v)}
        for s, v in given.items()
        if v.strip().replace(".", "", 1).isdigit()
    ]
    gates.upload_recording(
        uow=uow,
        principal=principal,
        application_id=application_id,
        filename=file.filename or "recording",
        content_type=file.content_type or "",
        content=file.file.read(gates.RECORDING_LIMIT + 1),
        checklist=json.dumps(ticked),
    )
    return _back(application_id)


@router.post(
    "/lending/applications/{application_id}/recordings/{recording_id}/review",
    response_model=None,
)
@page
def review_recording(
    request: Request,
    uow: UnitDep,
    application_id: str,
    recording_id: str,
    approve: Annotated[bool, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    gates.review_recording(
        uow=uow,
        principal=principal,
        application_id=application_id,
        recording_id=recording_id,
        approve=approve,
        note=note,
    )
    return _back(application_id)


@router.post("/lending/applications/{application_id}/callback", response_model=None)
@page
def start_callback(request: Request, uow: UnitDep, application_id: str) -> Response:
    principal = console_principal(request, uow)
    gates.start_callback(uow=uow, principal=principal, application_id=application_id)
    return _back(application_id)


Answer = Annotated[str, Form(pattern="^(yes|no|)$")]


@router.post("/lending/applications/{application_id}/callback/record", response_model=None)
@page
def record_callback(
    request: Request,
    uow: UnitDep,
    application_id: str,
    reached: Annotated[bool, Form()],
    q_applied_self: Answer = "",
    q_understood_cost: Answer = "",
    q_no_fees_paid: Answer = "",
    q_wants_loan: Answer = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    given = {
        "applied_self": q_applied_self,
        "understood_cost": q_understood_cost,
        "no_fees_paid": q_no_fees_paid,
        "wants_loan": q_wants_loan,
    }
    gates.record_callback(
        uow=uow,
        principal=principal,
        application_id=application_id,
        reached=reached,
        answers={k: v == "yes" for k, v in given.items() if v} if reached else {},
        note=note,
    )
    return _back(application_id)


@router.post("/lending/applications/{application_id}/disburse", response_model=None)
@page
def disburse(
    request: Request,
    uow: UnitDep,
    application_id: str,
    idempotency_key: Annotated[str, Form(min_length=8, max_length=120)],
) -> Response:
    principal = console_principal(request, uow)
    loans.disburse(
        uow=uow, principal=principal, application_id=application_id, idempotency_key=idempotency_key
    )
    return _back(application_id)


# --- schedule changes on the officer's loan page --------------------------------------------


@router.post("/lending/applications/{application_id}/prepay", response_model=None)
@page
def prepay(
    request: Request,
    uow: UnitDep,
    application_id: str,
    amount: Annotated[str, Form(max_length=20)],
    effect: Annotated[PrepaymentEffect, Form()],
    idempotency_key: Annotated[str, Form(min_length=8, max_length=120)],
) -> Response:
    principal = console_principal(request, uow)
    changes.prepay(
        uow=uow,
        principal=principal,
        application_id=application_id,
        amount=_decimal(amount, "amount"),
        effect=effect,
        idempotency_key=idempotency_key,
    )
    return _back(application_id)


def _decimal(text: str, field: str, scale: Decimal = Decimal(1)) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "")) / scale
    except InvalidOperation:
        raise InvalidInput.field(field, "is not a number") from None
    if not value.is_finite():
        raise InvalidInput.field(field, "is not a number")
    return value


def _count(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 0 <= int(text) <= 360:
        raise InvalidInput.field(field, "must be a whole number from 0 to 360")
    return int(text)


@router.post("/lending/applications/{application_id}/reschedule", response_model=None)
@page
def propose_reschedule(
    request: Request,
    uow: UnitDep,
    application_id: str,
    reason: Annotated[str, Form(min_length=10, max_length=2000)],
    annual_rate_percent: Annotated[str, Form(max_length=12)] = "",
    periods: Annotated[str, Form(max_length=4)] = "",
    grace: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """The page takes the rate in percent; the API, as everywhere, a fraction."""
    principal = console_principal(request, uow)
    rate = (
        _decimal(annual_rate_percent, "annual_rate", Decimal(100))
        if annual_rate_percent.strip()
        else None
    )
    new_periods = _count(periods, "periods")
    if new_periods == 0:
        raise InvalidInput.field("periods", "must be at least 1")
    changes.propose_reschedule(
        uow=uow,
        principal=principal,
        application_id=application_id,
        terms=changes.RescheduleTerms(rate, new_periods, _count(grace, "grace") or 0),
        reason=reason,
    )
    return _back(application_id)


@router.post(
    "/lending/applications/{application_id}/reschedules/{change_id}/decide", response_model=None
)
@page
def decide_reschedule(
    request: Request,
    uow: UnitDep,
    application_id: str,
    change_id: str,
    approve: Annotated[bool, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    principal = console_principal(request, uow)
    changes.decide_reschedule(
        uow=uow,
        principal=principal,
        application_id=application_id,
        change_id=change_id,
        approve=approve,
        note=note,
    )
    return _back(application_id)
