"""Console pages of the leasing domain: the lessor's contract list and contract page (rent
schedule chart, both sides' accounts, the machines), and the lessee's statement with its
early buy-out quote. Labels are in `LABELS` (zh/en)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from anxin.alerts.service import list_alarms
from anxin.core.errors import InvalidInput, NotFound
from anxin.leasing import finance, service
from anxin.leasing.lifecycle import PATH, Stage
from anxin.leasing.models import LeaseContract
from anxin.leasing.schemas import RentPaid, ScheduleRow
from anxin.people.deps import UnitDep
from anxin.ui.console import console_principal, form_errors, page, render

router = APIRouter(include_in_schema=False)

LABELS: dict[str, tuple[str, str]] = {
    "leasing_contracts": ("租赁合同", "Lease contracts"),
    "leasing_contract": ("租赁合同", "Lease contract"),
    "leasing_statement": ("承租人对账单", "Lessee statement"),
    "leasing_reference": ("合同编号", "Reference"),
    "leasing_lessee": ("承租人", "Lessee"),
    "leasing_vendor": ("供应商", "Vendor"),
    "leasing_kind": ("租赁方式", "Kind"),
    "leasing_kind_direct": ("直接租赁", "direct lease"),
    "leasing_kind_sale_and_leaseback": ("售后回租", "sale and leaseback"),
    "leasing_cost": ("设备价款（元）", "Cost (yuan)"),
    "leasing_down_payment": ("首付款（元）", "Down payment (yuan)"),
    "leasing_financed": ("融资额（元）", "Financed (yuan)"),
    "leasing_rate": ("年利率", "Annual rate"),
    "leasing_rent": ("租金（元）", "Rent (yuan)"),
    "leasing_term": ("期数", "Rents"),
    "leasing_timing": ("支付方式", "Paid"),
    "leasing_timing_advance": ("先付", "in advance"),
    "leasing_timing_arrears": ("后付", "in arrears"),
    "leasing_method": ("租金计算方式", "Rent method"),
    "leasing_method_equal_rent": ("等额租金", "equal rent"),
    "leasing_method_equal_principal": ("等额本金", "equal principal"),
    "leasing_method_stepped": ("阶梯租金", "stepped rent"),
    "leasing_method_seasonal": ("季节性租金", "seasonal rent"),
    "leasing_residual": ("留购价/残值（元）", "Buy-out / residual (yuan)"),
    "leasing_fee": ("手续费（元）", "Handling fee (yuan)"),
    "leasing_deposit": ("保证金（元）", "Security deposit (yuan)"),
    "leasing_vat": ("增值税（元）", "VAT (yuan)"),
    "leasing_site": ("约定使用地点", "Contracted site"),
    "leasing_stage": ("状态", "Stage"),
    "leasing_paid": ("已付期数", "Rents paid"),
    "leasing_next_due": ("下期应付日", "Next due"),
    "leasing_none": ("暂无租赁合同", "No leases"),
    "leasing_all": ("全部", "All"),
    "leasing_schedule": ("租金计划", "Rent schedule"),
    "leasing_number": ("期次", "No."),
    "leasing_due": ("应付日", "Due"),
    "leasing_principal": ("本金", "Principal"),
    "leasing_interest": ("利息", "Interest"),
    "leasing_total": ("应付合计", "Total due"),
    "leasing_balance": ("剩余本金", "Principal left"),
    "leasing_is_paid": ("已付", "paid"),
    "leasing_is_due": ("未付", "due"),
    "leasing_lessor_accounts": ("出租人：应收融资租赁款", "Lessor: net investment in the lease"),
    "leasing_gross_investment": ("租赁投资总额", "Gross investment"),
    "leasing_net_investment": ("租赁投资净额", "Net investment"),
    "leasing_unearned": ("未实现融资收益", "Unearned finance income"),
    "leasing_finance_income": ("融资收益", "Finance income"),
    "leasing_lessee_accounts": (
        "承租人：租赁负债与使用权资产",
        "Lessee: lease liability and right-of-use asset",
    ),
    "leasing_leaseback_note": (
        "售后回租不构成销售：承租人确认金融负债，资产仍按原账面价值列示（IFRS 16.103）。",
        "A sale and leaseback that is not a sale: the lessee records a financial liability "
        "and keeps the asset at its carrying amount (IFRS 16.103).",
    ),
    "leasing_liability": ("租赁负债", "Lease liability"),
    "leasing_right_of_use": ("使用权资产", "Right-of-use asset"),
    "leasing_opening": ("期初", "Opening"),
    "leasing_payment": ("付款", "Payment"),
    "leasing_closing": ("期末", "Closing"),
    "leasing_depreciation": ("折旧", "Depreciation"),
    "leasing_csv_lessor": ("导出出租人台账 CSV", "Lessor accounts as CSV"),
    "leasing_csv_lessee": ("导出承租人台账 CSV", "Lessee accounts as CSV"),
    "leasing_machines": ("租赁设备", "Machines"),
    "leasing_asset_type": ("设备类型", "Type"),
    "leasing_serial": ("出厂编号", "Serial"),
    "leasing_location": ("存放地点", "Location"),
    "leasing_telemetry": ("物联网设备", "Telemetry device"),
    "leasing_no_device": ("未绑定", "none bound"),
    "leasing_running_hours": ("累计运行小时", "Running hours"),
    "leasing_utilisation": ("利用率", "Utilisation"),
    "leasing_last_seen": ("最近上报", "Last report"),
    "leasing_position": ("位置", "Position"),
    "leasing_on_site": ("在约定地点", "on site"),
    "leasing_off_site": ("已离开约定地点", "OFF SITE"),
    "leasing_not_accepted": ("未验收", "not yet accepted"),
    "leasing_chart": ("各期租金构成（本金/利息）", "Each rent: principal and interest"),
    "leasing_buyout": ("提前留购报价", "Early buy-out quote"),
    "leasing_buyout_outstanding": ("剩余本金", "Outstanding principal"),
    "leasing_buyout_interest": ("当期利息", "This period's interest"),
    "leasing_buyout_fee": ("手续费", "Fee"),
    "leasing_buyout_total": ("留购总价", "Buy-out price"),
    "leasing_buyout_none": ("仅对履行中的合同报价", "Quoted on active leases only"),
    "leasing_title": ("所有权转移证书（账本序号）", "Title certificate (ledger entry)"),
    "leasing_gates": ("合同流程", "Lifecycle"),
    "leasing_actions": ("操作", "Actions"),
    "leasing_alarms": ("设备与租金告警", "Machine and rent alarms"),
    "leasing_no_alarms": ("暂无告警", "No alarms"),
    "leasing_alarm_cleared": ("已解除", "cleared"),
    "leasing_alarm_open": ("未解除", "open"),
    "leasing_advance_to": ("推进到：", "Move to: "),
    "leasing_accept": ("交付验收（记录出厂编号）", "Accept delivery (record the serials)"),
    "leasing_record_rent": ("确认收到第 {n} 期租金", "Confirm rent {n} received"),
    "leasing_record_payment": ("登记收款", "Record the payment"),
    "leasing_payment_amount": ("收款金额（元）", "Amount received (yuan)"),
    "leasing_paid_on": ("收款日期", "Received on"),
    "leasing_paid_amount": ("已付金额", "Paid"),
    "leasing_penalty": ("逾期违约金", "Penalty"),
    "leasing_is_part_paid": ("部分已付", "part paid"),
    "leasing_overdue": ("逾期未付租金（元）", "Overdue rent (yuan)"),
    "leasing_penalty_owed": ("应付逾期违约金（元）", "Penalty interest owed (yuan)"),
    "leasing_penalty_rate": ("逾期违约金年利率", "Penalty rate a year"),
    "leasing_penalty_basis": ("按日计，年360天", "daily, 360-day year"),
    "leasing_useful_life": ("设备使用寿命（月）", "Machines' useful life (months)"),
    "leasing_buyout_penalty": ("逾期违约金", "Penalty interest"),
    "leasing_buyout_credit": ("已付当期款项抵减", "Less paid toward this rent"),
    **{
        f"leasing_stage_{s.value}": pair
        for s, pair in {
            Stage.QUOTE: ("报价", "quote"),
            Stage.APPROVED: ("已审批", "approved"),
            Stage.ORDERED: ("已下采购单", "ordered"),
            Stage.VENDOR_PAID: ("已付供应商", "vendor paid"),
            Stage.ACTIVE: ("租赁中", "active"),
            Stage.TRANSFERRED: ("所有权已转移", "title transferred"),
            Stage.REPOSSESSED: ("已收回", "repossessed"),
            Stage.CANCELLED: ("已取消", "cancelled"),
        }.items()
    },
}


@dataclass(frozen=True)
class Bar:
    x: float
    principal_h: float
    interest_h: float
    paid: bool


@dataclass(frozen=True)
class Chart:
    w: int
    h: int
    bar_w: float
    bars: list[Bar]


def schedule_chart(rows: list[ScheduleRow], w: int = 720, h: int = 160) -> Chart:
    """Stacked bars, principal under interest, one per rent, scaled to the largest rent."""
    top = max((r.rent for r in rows), default=Decimal(1)) or Decimal(1)
    step = w / max(len(rows), 1)
    bars = [
        Bar(
            x=round(n * step, 2),
            principal_h=round(float(r.principal / top) * (h - 4), 2),
            interest_h=round(float(r.interest / top) * (h - 4), 2),
            paid=r.paid,
        )
        for n, r in enumerate(rows)
    ]
    return Chart(w, h, round(max(step - 1, 1), 2), bars)


def _statement(uow: UnitDep, contract: LeaseContract) -> dict[str, Any]:
    session = uow.session
    terms = service.terms_of(contract)
    plan = finance.schedule(terms)
    today = service.today(uow.now())
    state = service.position(session=session, contract=contract, as_of=today, plan=plan)
    paid = state.settled
    rows = service.schedule_rows(terms, plan, state)
    quote = None
    if contract.stage is Stage.ACTIVE and paid < len(rows):
        quote = service.buy_out_at(contract, state, plan, today)
    return {
        "state": state,
        "today": today,
        "c": contract,
        "terms": terms,
        "rent": plan.level,
        "rows": rows,
        "paid": paid,
        "next_due": rows[paid].due if paid < len(rows) else None,
        "quote": quote,
        "chart": schedule_chart(rows),
    }


@router.get("/leasing", response_class=HTMLResponse, response_model=None)
@page
def contracts(
    request: Request, uow: UnitDep, stage: Annotated[Stage | None, Query()] = None
) -> Response:
    principal = console_principal(request, uow)
    if principal.role not in service.LESSOR_ROLES:
        raise NotFound("no such page")
    rows = [
        _statement(uow, c)
        for c in service.list_contracts(session=uow.session, principal=principal, stage=stage)
    ]
    return render(request, "leasing/contracts.html", rows=rows, stage=stage, stages=list(Stage))


@router.get("/leasing/contracts/{contract_id}", response_class=HTMLResponse, response_model=None)
@page
def contract_page(request: Request, uow: UnitDep, contract_id: str) -> Response:
    principal = console_principal(request, uow)
    contract = service.get_contract(
        session=uow.session, principal=principal, contract_id=contract_id
    )
    data = _statement(uow, contract)
    terms = data["terms"]
    assert isinstance(terms, finance.LeaseTerms)
    return render(
        request,
        "leasing/contract.html",
        **data,
        lessor=finance.lessor_accounts(terms),
        lessee=finance.lessee_accounts(terms),
        assets=service.assets_of(session=uow.session, contract_id=contract.id),
        path=PATH,
        reached=PATH.index(contract.stage) if contract.stage in PATH else -1,
        can_act=principal.role in service.LESSOR_ROLES
        and contract.organisation_id == principal.organisation_id,
        next_stage=NEXT.get(contract.stage),
        alarms=list_alarms(
            uow=uow, principal=principal, owner_kind="lease", owner_id=contract.id, limit=20
        ),
    )


@router.get("/leasing/statement", response_class=HTMLResponse, response_model=None)
@page
def statement(request: Request, uow: UnitDep) -> Response:
    """The lessee's own leases: what is paid, what is due, and the buy-out price today."""
    principal = console_principal(request, uow)
    mine = [
        c
        for c in service.list_contracts(session=uow.session, principal=principal)
        if c.lessee_user_id == principal.user_id
    ]
    return render(request, "leasing/statement.html", leases=[_statement(uow, c) for c in mine])


# --- the lessor's actions ---------------------------------------------------------------------

NEXT = {
    Stage.QUOTE: Stage.APPROVED,
    Stage.APPROVED: Stage.ORDERED,
    Stage.ORDERED: Stage.VENDOR_PAID,
}


def _back(contract_id: str) -> RedirectResponse:
    return RedirectResponse(f"/leasing/contracts/{contract_id}", status_code=303)


@router.post("/leasing/contracts/{contract_id}/advance", response_model=None)
@page
def advance(request: Request, uow: UnitDep, contract_id: str) -> Response:
    """The next step before delivery: approval, the vendor's order, the vendor's payment."""
    principal = console_principal(request, uow)
    contract = service.get_contract(
        session=uow.session, principal=principal, contract_id=contract_id
    )
    target = NEXT.get(contract.stage)
    if target is None:
        raise InvalidInput.field("stage", "no step to take from here on this page")
    service.move(uow=uow, principal=principal, contract_id=contract_id, stage=target)
    return _back(contract_id)


@router.post("/leasing/contracts/{contract_id}/accept", response_model=None)
@page
def accept(
    request: Request,
    uow: UnitDep,
    contract_id: str,
    # Defaults, so a visitor without a session is sent to log in before the form is judged.
    asset_ids: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 - never mutated
    serials: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 - never mutated
) -> Response:
    principal = console_principal(request, uow)
    if (
        not asset_ids
        or len(asset_ids) != len(serials)
        or any(not s.strip() or len(s) > 80 for s in serials)
    ):
        raise InvalidInput.field("serials", "every machine needs its serial (1–80 characters)")
    service.accept_delivery(
        uow=uow,
        principal=principal,
        contract_id=contract_id,
        serials={a: s.strip() for a, s in zip(asset_ids, serials, strict=True)},
    )
    return _back(contract_id)


@router.post("/leasing/contracts/{contract_id}/rent", response_model=None)
@page
def rent_received(request: Request, uow: UnitDep, contract_id: str) -> Response:
    """The next rent's balance (and any penalty owed) received on its due date, or on the
    last payment's date or today when that is later or earlier."""
    principal = console_principal(request, uow)
    contract = service.get_contract(
        session=uow.session, principal=principal, contract_id=contract_id
    )
    data = _statement(uow, contract)
    state, today = data["state"], data["today"]
    paid = state.settled
    if paid >= len(state.rows):
        raise InvalidInput.field("rent", "every rent is paid")
    payments = service.payments_of(session=uow.session, contract_id=contract.id)
    last = payments[-1].paid_on if payments else state.rows[paid].rent.due
    on = min(today, max(state.rows[paid].rent.due, last))
    at = service.position(session=uow.session, contract=contract, as_of=on)
    amount = at.rows[paid].unpaid + sum((at.penalty(r) for r in at.rows[: paid + 1]), Decimal(0))
    service.record_payment(
        uow=uow, principal=principal, contract_id=contract_id, paid_on=on, amount=amount
    )
    return _back(contract_id)


@router.post("/leasing/contracts/{contract_id}/payment", response_model=None)
@page
def payment_received(
    request: Request,
    uow: UnitDep,
    contract_id: str,
    # Defaults, so a visitor without a session is sent to log in before the form is judged.
    amount: Annotated[str, Form(max_length=40)] = "",
    paid_on: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A payment of any amount (part of a rent, or several) on a date."""
    principal = console_principal(request, uow)
    try:
        data = RentPaid.model_validate({"amount": amount.strip(), "paid_on": paid_on.strip()})
    except ValidationError as exc:
        raise form_errors(exc) from None
    service.record_payment(
        uow=uow,
        principal=principal,
        contract_id=contract_id,
        paid_on=data.paid_on,
        amount=data.amount,
    )
    return _back(contract_id)
