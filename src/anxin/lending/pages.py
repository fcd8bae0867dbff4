"""Console pages of the lending domain: the officer's queue, the application with its score,
reasons and gates, and the risk officer's portfolio view. Labels are in `LABELS` (zh/en)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from anxin.core.errors import NotFound
from anxin.core.security import Role
from anxin.lending import scorecard, service
from anxin.lending.lifecycle import PATH, Stage
from anxin.people.deps import UnitDep
from anxin.ui.console import console_principal, page, render

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


@router.get("/lending", response_class=HTMLResponse, response_model=None)
@page
def queue(
    request: Request, uow: UnitDep, stage: Annotated[Stage | None, Query()] = None
) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in OFFICERS:
        raise NotFound("no such page")
    applications = service.list_applications(session=uow.session, principal=principal, stage=stage)
    businesses, borrowers = service.businesses_and_borrowers(
        session=uow.session, applications=applications
    )
    rows = [(a, businesses[a.business_id], borrowers[a.borrower_id]) for a in applications]
    return render(request, "lending/queue.html", rows=rows, stage=stage, stages=list(Stage))


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
    )


@router.get("/lending/portfolio", response_class=HTMLResponse, response_model=None)
@page
def portfolio_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    stats = service.portfolio_stats(session=uow.session, principal=principal)
    by_stage = service.count_by_stage(session=uow.session, principal=principal)
    card = scorecard.load()
    return render(
        request,
        "lending/portfolio.html",
        stats=stats,
        by_stage=by_stage,
        metrics=card.raw["metrics"],
        version=card.version,
    )
