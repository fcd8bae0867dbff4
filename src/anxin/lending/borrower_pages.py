"""The borrower's pages, mobile-first in large type: my loan, the key facts with a chart of
principal against interest and the acknowledgement, the schedule, the payment history and a
complaint. The page leads with the annualised rate of China's 2021 disclosure rule (IRR
method, every fee in it); the Regulation Z APR is shown beside it (docs/lending.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from anxin.core.errors import NotFound
from anxin.core.security import Role
from anxin.lending import gates, loans, service
from anxin.lending.lifecycle import Stage
from anxin.lending.models import Application
from anxin.people.deps import UnitDep
from anxin.ui.console import console_principal, page, render

router = APIRouter(include_in_schema=False)
BORROWERS = frozenset({Role.BORROWER})

LABELS: dict[str, tuple[str, str]] = {
    "role_borrower": ("借款人", "Borrower"),
    "lending_my_loan": ("我的贷款", "My loan"),
    "lending_no_loan": ("您还没有贷款申请", "You have no loan application"),
    "lending_key_facts": ("贷款关键信息", "Key facts of your loan"),
    "lending_annualised_rate": ("年化利率（含全部费用）", "Annual rate (all fees included)"),
    "lending_apr": ("年百分率 APR（美国 Z 条例算法）", "APR (US Regulation Z method)"),
    "lending_nominal_rate": ("名义年利率", "Nominal annual rate"),
    "lending_upfront_fee": ("一次性手续费（放款时扣除）", "Arrangement fee (taken at payout)"),
    "lending_net_disbursed": ("实际到账", "Paid to you"),
    "lending_total_interest": ("利息合计", "Total interest"),
    "lending_total_fees": ("费用合计", "Total fees"),
    "lending_total_repayable": ("还款总额", "Total to repay"),
    "lending_instalment": ("每期还款", "Each instalment"),
    "lending_cooling_off": ("冷静期（天）", "Cooling-off period (days)"),
    "lending_cooling_off_until": ("冷静期截止", "Cooling-off ends"),
    "lending_rounding": ("舍入规则", "Rounding rule"),
    "lending_chart": ("每期本金与利息", "Principal and interest per instalment"),
    "lending_principal": ("本金", "Principal"),
    "lending_interest": ("利息", "Interest"),
    "lending_fee": ("费用", "Fee"),
    "lending_schedule": ("还款计划", "Repayment schedule"),
    "lending_number": ("期数", "No."),
    "lending_due": ("到期日", "Due"),
    "lending_total": ("合计", "Total"),
    "lending_balance": ("剩余本金", "Balance"),
    "lending_paid": ("已还", "Paid"),
    "lending_outstanding": ("未还", "Outstanding"),
    "lending_status": ("状态", "Status"),
    "line_paid": ("已还清", "paid"),
    "line_overdue": ("已逾期", "overdue"),
    "line_due": ("今日到期", "due today"),
    "line_future": ("未到期", "not yet due"),
    "lending_acknowledge": ("我已阅读并理解以上信息", "I have read and understood these facts"),
    "lending_acknowledged": ("您已确认", "You confirmed these facts"),
    "lending_cancel": ("免费取消贷款", "Cancel the loan free of charge"),
    "lending_cancel_reason": ("取消原因", "Why you cancel"),
    "lending_pay_history": ("还款记录", "Payments"),
    "lending_no_payments": ("暂无还款", "No payments yet"),
    "lending_received_on": ("到账日", "Received"),
    "lending_reference": ("流水号", "Reference"),
    "lending_days_past_due": ("逾期天数", "Days past due"),
    "lending_complaint": ("投诉", "Complaint"),
    "lending_complaints": ("我的投诉", "My complaints"),
    "lending_complaint_text": ("投诉内容", "What happened"),
    "lending_complaint_category": ("类别", "Category"),
    "lending_complaint_due": ("答复期限", "Answer due by"),
    "lending_submit": ("提交", "Submit"),
    "complaint_fees": ("收费", "Fees"),
    "complaint_rates": ("利率", "Rates"),
    "complaint_collection": ("催收", "Collection"),
    "complaint_service": ("服务", "Service"),
    "complaint_other": ("其他", "Other"),
    "complaint_open": ("处理中", "Open"),
    "complaint_resolved": ("已处理", "Resolved"),
}
CATEGORIES = ("fees", "rates", "collection", "service", "other")


def _chart(schedule: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of principal and interest per instalment, as percentages of the tallest."""
    tallest = max((Decimal(x["principal"]) + Decimal(x["interest"]) for x in schedule), default=0)
    if not tallest:
        return []
    return [
        {
            "number": x["number"],
            "principal": float(Decimal(x["principal"]) / tallest * 100),
            "interest": float(Decimal(x["interest"]) / tallest * 100),
        }
        for x in schedule
    ]


def _mine(request: Request, uow: UnitDep) -> tuple[Any, list[Application]]:
    principal = console_principal(request, uow)
    if principal.role not in BORROWERS:
        raise NotFound("no such page")
    return principal, service.borrower_applications(session=uow.session, principal=principal)


@router.get("/lending/my", response_class=HTMLResponse, response_model=None)
@page
def my_loan(request: Request, uow: UnitDep) -> Response:
    principal, applications = _mine(request, uow)
    session = uow.session
    if not applications:
        return render(request, "lending/my.html", a=None, large=True)
    a = applications[0]
    businesses, _ = service.businesses_and_borrowers(session=session, applications=[a])
    disclosure = gates.disclosure_of(session=session, application_id=a.id)
    statement = None
    if a.stage in (Stage.ACTIVE, Stage.CLOSED, Stage.WRITTEN_OFF):
        statement = loans.statement(
            session=session, principal=principal, application_id=a.id, now=uow.now()
        )
    return render(
        request,
        "lending/my.html",
        large=True,
        a=a,
        business=businesses[a.business_id],
        disclosure=disclosure,
        facts=disclosure.facts if disclosure else None,
        chart=_chart(disclosure.facts["schedule"]) if disclosure else [],
        statement=statement,
        complaints=loans.complaints(session=session, principal=principal, application_id=a.id),
        categories=CATEGORIES,
        cancellable=a.stage in gates.CANCELLABLE,
        now=uow.now(),
    )


@router.post("/lending/my/{application_id}/acknowledge", response_model=None)
@page
def acknowledge(
    request: Request,
    uow: UnitDep,
    application_id: str,
    facts_sha256: Annotated[str, Form(max_length=64)],
) -> Response:
    principal = console_principal(request, uow)
    gates.acknowledge(
        uow=uow, principal=principal, application_id=application_id, facts_sha256=facts_sha256
    )
    return RedirectResponse("/lending/my", status_code=303)


@router.post("/lending/my/{application_id}/cancel", response_model=None)
@page
def cancel(
    request: Request,
    uow: UnitDep,
    application_id: str,
    reason: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    principal = console_principal(request, uow)
    gates.cancel(uow=uow, principal=principal, application_id=application_id, reason=reason)
    return RedirectResponse("/lending/my", status_code=303)


@router.post("/lending/my/{application_id}/complaints", response_model=None)
@page
def complain(
    request: Request,
    uow: UnitDep,
    application_id: str,
    category: Annotated[str, Form()],
    text: Annotated[str, Form(min_length=5, max_length=4000)],
) -> Response:
    principal = console_principal(request, uow)
    if category not in CATEGORIES:
        category = "other"
    loans.file_complaint(
        uow=uow, principal=principal, application_id=application_id, category=category, text=text
    )
    return RedirectResponse("/lending/my", status_code=303)
