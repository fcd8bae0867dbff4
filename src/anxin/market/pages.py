"""The market's console pages: listings with trace badges, the order page (offer, contract,
deliveries, quality acceptance, disputes, what is owed), and the cooperative's forecast page
(history, forecast, intervals, back-test errors, price band and production suggestion).
Forms post here and call the same services as the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Form, Request
from fastapi import Path as InPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from anxin.core.domain import NavLink
from anxin.core.errors import InvalidInput
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.market import disputes, forecasting, grades, service
from anxin.market import forecast as fc
from anxin.market.models import ForecastRun, OrderStatus, Outcome, PaymentTerm, ShipmentStatus
from anxin.market.schemas import (
    ListingCreate,
    OrderCreate,
    PaymentCreate,
    ProposalCreate,
    RfqCreate,
    SampleResult,
    ShipmentCreate,
)
from anxin.people.deps import UnitDep
from anxin.ui import charts
from anxin.ui.console import (
    console_of,
    console_principal,
    field_reasons,
    form_model,
    language,
    page,
    render,
)

TEMPLATES = Path(__file__).parent / "templates"
Seq = Annotated[int, InPath(ge=1, le=100_000)]  # a delivery's number in its order
router = APIRouter(tags=["console"], include_in_schema=False)

NAV = [
    NavLink("/market", "market_listings", frozenset({Role.BUYER, Role.ADMIN})),
    NavLink("/market/orders", "market_orders", frozenset({Role.BUYER, Role.ADMIN})),
    NavLink("/market/forecasts", "market_forecasts", frozenset({Role.ADMIN})),
]

LABELS: dict[str, tuple[str, str]] = {
    "market_listings": ("农产品交易", "Farm trade"),
    "market_orders": ("交易订单", "Trade orders"),
    "market_forecasts": ("供需预测", "Supply & demand forecast"),
    "market_not_trader": ("此页面供采购商与合作社使用", "This page is for buyers and cooperatives"),
    "market_lot": ("批次", "Lot"),
    "market_product": ("产品", "Product"),
    "market_farm": ("产地", "Farm"),
    "market_grade": ("等级", "Grade"),
    "market_grade_premium": ("特级", "Premium"),
    "market_grade_first": ("一级", "First grade"),
    "market_grade_second": ("二级", "Second grade"),
    "market_available": ("可售(公斤)", "Available (kg)"),
    "market_quantity": ("数量(公斤)", "Quantity (kg)"),
    "market_price": ("单价(元/公斤)", "Price (¥/kg)"),
    "market_window": ("交货期", "Delivery window"),
    "market_region": ("区域", "Region"),
    "market_trace": ("溯源", "Trace"),
    "market_trace_view": ("查看溯源时间线", "View trace timeline"),
    "market_verdict_pass": ("交叉验证通过", "Cross-checks passed"),
    "market_verdict_warn": ("交叉验证有提示", "Cross-checks: warnings"),
    "market_verdict_fail": ("交叉验证不通过", "Cross-checks failed"),
    "market_verdict_unchecked": ("未做交叉验证", "Not cross-checked"),
    "market_checks": ("通过/提示/不通过", "pass/warn/fail"),
    "market_term": ("付款条件", "Payment terms"),
    "market_term_prepayment": ("预付款", "Prepayment"),
    "market_term_on_delivery": ("货到付款", "On delivery"),
    "market_term_net_30": ("30天账期", "Net 30"),
    "market_tolerance": ("水分容差(百分点)", "Moisture tolerance (points)"),
    "market_order_now": ("下单", "Place order"),
    "market_none": ("暂无", "None yet"),
    "market_rfqs": ("询价单", "Requests for quotes"),
    "market_status": ("状态", "Status"),
    "market_status_offered": ("待确认", "Offered"),
    "market_status_rejected": ("已拒绝", "Rejected"),
    "market_status_contracted": ("已签约", "Contracted"),
    "market_status_settled": ("已结清", "Settled"),
    "market_status_open": ("开放", "Open"),
    "market_status_closed": ("已关闭", "Closed"),
    "market_contract": ("合同", "Contract"),
    "market_open": ("打开", "Open"),
    "market_order": ("订单", "Order"),
    "market_accept_offer": ("接受报价并签约", "Accept and sign"),
    "market_reject_offer": ("拒绝", "Reject"),
    "market_shipments": ("发货与验收", "Deliveries and acceptance"),
    "market_ship": ("发货", "Ship"),
    "market_receive": ("确认收货", "Confirm receipt"),
    "market_accept_quality": ("提交抽检结果", "Submit sample test"),
    "market_ship_status_shipped": ("运输中", "In transit"),
    "market_ship_status_received": ("已收货", "Received"),
    "market_ship_status_accepted": ("验收合格", "Accepted"),
    "market_ship_status_rejected": ("验收不合格", "Rejected"),
    "market_lab": ("检测机构", "Laboratory"),
    "market_sample_id": ("样品编号", "Sample no."),
    "market_param_moisture_pct": ("水分 %", "Moisture %"),
    "market_param_broken_pct": ("碎米 %", "Broken kernels %"),
    "market_param_impurity_pct": ("杂质 %", "Impurities %"),
    "market_param_acidity_pct": ("酸值 %", "Acidity %"),
    "market_param_peroxide_meq": ("过氧化值 meq/kg", "Peroxide meq/kg"),
    "market_limit": ("限值", "Limit"),
    "market_disputes": ("争议", "Disputes"),
    "market_dispute_open": ("争议处理中", "Dispute open"),
    "market_dispute_resolved": ("已解决", "Resolved"),
    "market_evidence": ("证据", "Evidence"),
    "market_owed": ("应付款", "Amounts due"),
    "market_due": ("到期日", "Due"),
    "market_amount": ("金额(元)", "Amount (¥)"),
    "market_paid": ("已付", "Paid"),
    "market_pay": ("付款", "Pay"),
    "market_paid_on": ("付款日", "Paid on"),
    "market_delivery": ("批次", "Delivery"),
    "market_prepayment_line": ("合同预付", "Contract prepayment"),
    "market_history": ("历史", "History"),
    "market_forecast": ("预测", "Forecast"),
    "market_lo": ("下限", "low"),
    "market_hi": ("上限", "high"),
    "market_backtest": ("回测误差(滚动起点)", "Back-test errors (rolling origin)"),
    "market_model": ("模型", "Model"),
    "market_chosen": ("已选", "chosen"),
    "market_beats": ("优于季节性朴素基准", "beats the seasonal-naive baseline"),
    "market_not_beats": ("未优于基准", "does not beat the baseline"),
    "market_run": ("重新预测", "Run the forecasts"),
    "market_no_forecast": ("尚无预测:历史不足或未运行", "No forecast yet (too little history)"),
    "market_series_demand": ("需求", "Demand"),
    "market_series_supply": ("供给", "Supply"),
    "market_price_band": ("价格区间", "Price band"),
    "market_suggestion": ("种植建议", "Production suggestion"),
    "market_reasoning": ("依据", "Reasoning"),
    "market_kg_week": ("公斤/周", "kg/week"),
    "market_new_rfq": ("发布询价", "Request quotes"),
    "market_crop": ("作物", "Crop"),
    "market_target_price": ("目标单价(元/公斤)", "Target price (¥/kg)"),
    "market_delivery_by": ("最晚交货日", "Deliver by"),
    "market_offer": ("报价", "Make an offer"),
    "market_new_listing": ("新建挂牌", "New listing"),
    "market_listing_lot": ("溯源批次", "Traced lot"),
    "market_delivery_from": ("最早交货日", "Deliver from"),
    "market_delivery_to": ("最晚交货日", "Deliver until"),
    "market_list_now": ("挂牌出售", "List for sale"),
    "market_no_lots": ("暂无可挂牌的溯源批次", "No traced lots to list"),
    "market_fix_fields": ("请修改标出的字段", "Please correct the marked fields"),
    # why a listing's field is refused (the service's codes; `console.field_reasons`)
    "reason_market_not_a_grade": ("该批次的作物没有这个等级", "Not a grade of this lot's crop"),
    "reason_market_window_reversed": ("不能早于最早交货日",
                                      "Must not be before the earliest delivery day"),
    "market_outcome": ("处理方案", "Outcome"),
    "market_outcome_reduction": ("降价", "Price reduction"),
    "market_outcome_return": ("退货", "Return"),
    "market_outcome_withdrawn": ("撤回索赔", "Claim withdrawn"),
    "market_reduction_amount": ("降价金额(元)", "Reduction (¥)"),
    "market_reduction_percent": ("或降价比例(%)", "or reduction (%)"),
    "market_return_kg": ("退货数量(公斤)", "Return (kg)"),
    "market_note": ("备注", "Note"),
    "market_propose": ("提出方案", "Propose"),
    "market_proposals": ("协商记录", "Negotiation"),
    "market_proposed_by": ("提出方", "Proposed by"),
    "market_side_buyer": ("采购方", "Buyer"),
    "market_side_seller": ("供货方", "Seller"),
    "market_adjustment": ("扣减(元)", "Deduction (¥)"),
    "market_proposal_pending": ("待对方确认", "Waiting"),
    "market_proposal_accepted": ("已接受", "Accepted"),
    "market_proposal_rejected": ("已拒绝", "Rejected"),
    "market_proposal_superseded": ("已被新方案取代", "Superseded"),
    "market_accept_proposal": ("接受方案", "Accept"),
    "market_reject_proposal": ("拒绝方案", "Reject"),
    "market_waiting_other": ("等待对方回复", "Waiting for the other side's answer"),
    "market_resolution": ("处理结果", "Resolution"),
    "market_refunded": ("已退款", "Refunded"),
    "market_refund_due": ("应退还采购方", "Owed back to the buyer"),
    "market_refund": ("退款", "Refund"),
    "market_refunded_on": ("退款日", "Refunded on"),
    "market_withdraw_rfq": ("撤回询价", "Withdraw"),
    "market_quotes_by": ("报价截止", "Quotes by"),
    "market_closed_accepted": ("已接受报价", "Quote accepted"),
    "market_closed_withdrawn": ("已撤回", "Withdrawn"),
    "market_closed_expired": ("已过报价截止日", "Past the quote deadline"),
    # why the dispute's alarm cleared (alerts shows `clear_reason_<code>`)
    "clear_reason_market_dispute_resolved": ("争议已协商解决", "Dispute resolved by agreement"),
}  # fmt: skip

# The planning assumptions the forecast page states with its numbers.
YIELD_KG_PER_M2 = {"rice": 0.48, "olive": 0.6}  # milled rice per m² a season (Jiangnan paddy)
ELASTICITY = 1.5


def _trades(uow: UnitOfWork, principal: Principal) -> bool:
    """Every administrator has the market in the navigation (a link is per role); one whose
    organisation has no farms gets a notice instead of a refusal."""
    return principal.role == Role.BUYER or service.is_seller(uow.session, principal)


@router.get("/market", response_class=HTMLResponse, response_model=None)
@page
def listings_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if not _trades(uow, principal):
        return render(request, "market/notice.html")
    rows = service.list_listings(session=uow.session, principal=principal, now=uow.now())
    rfqs = service.list_rfqs(session=uow.session, principal=principal)
    return render(
        request,
        "market/listings.html",
        listings=[(r, service.trace_of(uow.session, r)) for r in rows],
        rfqs=rfqs,
        buyer=principal.role == Role.BUYER,
        terms=[t.value for t in PaymentTerm],
        grades=sorted(grades.NAMES),
        open_listings=[r for r in rows if r.status.value == "open"],
        seller=service.is_seller(uow.session, principal),
    )


def _today(uow: UnitOfWork) -> date:
    return uow.now().astimezone(service.CST).date()


def _listing_form(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    return render(
        request,
        "market/listing_form.html",
        status_code=422 if errors else 200,
        lots=service.lots_for_sale(session=uow.session, principal=principal),
        grades=sorted(grades.NAMES),
        values=values,
        errors=errors,
    )


@router.get("/market/listings/new", response_class=HTMLResponse, response_model=None)
@page
def listing_form_page(request: Request, uow: UnitDep) -> Response:
    """A cooperative lists one of its traced lots: grade, quantity, price, delivery window."""
    principal = console_principal(request, uow)
    if not service.is_seller(uow.session, principal):
        return render(request, "market/notice.html")
    today = _today(uow)
    values = {
        "region": "east",
        "delivery_from": today.isoformat(),
        "delivery_to": (today + timedelta(days=30)).isoformat(),
    }
    return _listing_form(request, uow, principal, values, {})


@router.post("/market/listings", response_model=None)
@page
def listing_post(
    request: Request,
    uow: UnitDep,
    lot_id: Annotated[str, Form(max_length=64)] = "",
    grade: Annotated[str, Form(max_length=16)] = "",
    quantity_kg: Annotated[str, Form(max_length=20)] = "",
    price_per_kg: Annotated[str, Form(max_length=20)] = "",
    region: Annotated[str, Form(max_length=40)] = "",
    delivery_from: Annotated[str, Form(max_length=10)] = "",
    delivery_to: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The listing; a field that does not fit comes back on the form, marked, with its reason."""
    principal = console_principal(request, uow)
    given = {
        "lot_id": lot_id, "grade": grade, "quantity_kg": quantity_kg,
        "price_per_kg": price_per_kg, "region": region, "delivery_from": delivery_from,
        "delivery_to": delivery_to,
    }  # fmt: skip
    values = {k: v.strip() for k, v in given.items()}
    try:
        data = form_model(ListingCreate, values)
        service.create_listing(uow=uow, principal=principal, data=data)
    except InvalidInput as exc:
        errors = field_reasons(request, exc.fields) or {"form": exc.message}
        return _listing_form(request, uow, principal, values, errors)
    return RedirectResponse("/market", status_code=303)


@router.post("/market/rfqs/{rfq_id}/withdraw", response_model=None)
@page
def rfq_withdraw_post(rfq_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.withdraw_rfq(uow=uow, principal=principal, rfq_id=rfq_id)
    return RedirectResponse("/market", status_code=303)


@router.post("/market/orders", response_model=None)
@page
def order_post(
    request: Request,
    uow: UnitDep,
    listing_id: Annotated[str, Form(max_length=64)] = "",
    quantity_kg: Annotated[str, Form(max_length=20)] = "",
    payment_term: Annotated[str, Form(max_length=16)] = "",
    moisture_tolerance: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    principal = console_principal(request, uow)
    tolerances = {"moisture_pct": moisture_tolerance} if moisture_tolerance.strip() else {}
    data = form_model(
        OrderCreate,
        {
            "listing_id": listing_id,
            "quantity_kg": quantity_kg.strip(),
            "payment_term": payment_term,
            "tolerances": tolerances,
        },
    )
    order = service.place_order(uow=uow, principal=principal, data=data)
    return RedirectResponse(f"/market/orders/{order.id}", status_code=303)


@router.post("/market/rfqs", response_model=None)
@page
def rfq_post(
    request: Request,
    uow: UnitDep,
    crop: Annotated[str, Form(max_length=80)] = "",
    grade: Annotated[str, Form(max_length=16)] = "",
    quantity_kg: Annotated[str, Form(max_length=20)] = "",
    target_price_per_kg: Annotated[str, Form(max_length=20)] = "",
    region: Annotated[str, Form(max_length=40)] = "",
    delivery_by: Annotated[str, Form(max_length=10)] = "",
    quotes_by: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A buyer's request for quotes."""
    principal = console_principal(request, uow)
    data = form_model(
        RfqCreate,
        {
            "crop": crop.strip(),
            "grade": grade,
            "quantity_kg": quantity_kg.strip(),
            "target_price_per_kg": target_price_per_kg.strip() or None,
            "region": region.strip(),
            "delivery_by": delivery_by.strip(),
            "quotes_by": quotes_by.strip() or None,
        },
    )
    service.create_rfq(uow=uow, principal=principal, data=data)
    return RedirectResponse("/market", status_code=303)


@router.post("/market/rfqs/{rfq_id}/offer", response_model=None)
@page
def rfq_offer_post(
    rfq_id: str,
    request: Request,
    uow: UnitDep,
    listing_id: Annotated[str, Form(max_length=64)] = "",
    quantity_kg: Annotated[str, Form(max_length=20)] = "",
    price_per_kg: Annotated[str, Form(max_length=20)] = "",
    payment_term: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The cooperative's offer in answer to a request: the buyer accepts it on the order page."""
    principal = console_principal(request, uow)
    data = form_model(
        OrderCreate,
        {
            "listing_id": listing_id,
            "rfq_id": rfq_id,
            "quantity_kg": quantity_kg.strip(),
            "price_per_kg": price_per_kg.strip() or None,
            "payment_term": payment_term,
        },
    )
    order = service.place_order(uow=uow, principal=principal, data=data)
    return RedirectResponse(f"/market/orders/{order.id}", status_code=303)


@router.get("/market/orders", response_class=HTMLResponse, response_model=None)
@page
def orders_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if not _trades(uow, principal):
        return render(request, "market/notice.html")
    orders = service.list_orders(session=uow.session, principal=principal)
    # The demo's settled history is hundreds of rows: live orders first, a short tail after.
    live = [o for o in orders if not (o.contract_no or "").startswith("H")]
    return render(request, "market/orders.html", orders=live[:100])


@router.get("/market/orders/{order_id}", response_class=HTMLResponse, response_model=None)
@page
def order_page(order_id: str, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    session = uow.session
    order = service.get_order(session=session, principal=principal, order_id=order_id)
    listing = service.get_listing_of(session=session, order=order)
    side = "buyer" if principal.role == Role.BUYER else "seller"
    shipped = sum((s.quantity_kg for s in service.shipments_of(session, order.id)), Decimal(0))
    opened = service.disputes_of(session, order.id)
    return render(
        request,
        "market/order.html",
        order=order,
        listing=listing,
        trace=service.trace_of(session, listing),
        side=side,
        can_decide=order.status == OrderStatus.OFFERED and side != order.offered_by,
        shipments=service.shipments_of(session, order.id),
        disputes=opened,
        proposals={d.id: disputes.proposals_of(session, d.id) for d in opened},
        pending={d.id: disputes.pending_of(session, d.id) for d in opened},
        outcomes=[o.value for o in Outcome],
        seq_of={s.id: s.seq for s in service.shipments_of(session, order.id)},
        # A fresh key per rendered form: submitting it twice records one payment.
        idempotency_key=uuid4().hex,
        account=service.account_of(session, order),
        left_to_ship=order.quantity_kg - shipped,
        parameters=sorted(grades.limits(listing.crop, listing.grade) or {}),
        limits=grades.limits(listing.crop, listing.grade) or {},
        today=_today(uow).isoformat(),
        Shipped=ShipmentStatus,
    )


def _back(order_id: str) -> RedirectResponse:
    return RedirectResponse(f"/market/orders/{order_id}", status_code=303)


@router.post("/market/orders/{order_id}/decision", response_model=None)
@page
def decision_post(
    order_id: str,
    request: Request,
    uow: UnitDep,
    accept: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    principal = console_principal(request, uow)
    service.decide_offer(uow=uow, principal=principal, order_id=order_id, accept=accept == "yes")
    return _back(order_id)


@router.post("/market/orders/{order_id}/ship", response_model=None)
@page
def ship_post(
    order_id: str,
    request: Request,
    uow: UnitDep,
    quantity_kg: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    principal = console_principal(request, uow)
    data = form_model(ShipmentCreate, {"quantity_kg": quantity_kg.strip()})
    service.ship(uow=uow, principal=principal, order_id=order_id, data=data)
    return _back(order_id)


@router.post("/market/orders/{order_id}/shipments/{seq}/receive", response_model=None)
@page
def receive_post(order_id: str, seq: Seq, request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    service.receive(uow=uow, principal=principal, order_id=order_id, seq=seq)
    return _back(order_id)


@router.post("/market/orders/{order_id}/shipments/{seq}/accept", response_model=None)
@page
def accept_post(
    order_id: str,
    seq: Seq,
    request: Request,
    uow: UnitDep,
    lab: Annotated[str, Form(max_length=120)] = "",
    sample_id: Annotated[str, Form(max_length=60)] = "",
    p_moisture_pct: Annotated[str, Form(max_length=12)] = "",
    p_broken_pct: Annotated[str, Form(max_length=12)] = "",
    p_impurity_pct: Annotated[str, Form(max_length=12)] = "",
    p_acidity_pct: Annotated[str, Form(max_length=12)] = "",
    p_peroxide_meq: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    principal = console_principal(request, uow)
    given = {
        "moisture_pct": p_moisture_pct,
        "broken_pct": p_broken_pct,
        "impurity_pct": p_impurity_pct,
        "acidity_pct": p_acidity_pct,
        "peroxide_meq": p_peroxide_meq,
    }
    values = {k: v.strip() for k, v in given.items() if v.strip()}
    data = form_model(
        SampleResult, {"values": values, "lab": lab.strip(), "sample_id": sample_id.strip()}
    )
    service.accept_quality(uow=uow, principal=principal, order_id=order_id, seq=seq, data=data)
    return _back(order_id)


# The buyer's payment and the cooperative's refund: one form, the path says which way.
MONEY_MOVES = {"pay": service.pay, "refund": service.refund}


@router.post("/market/orders/{order_id}/pay", response_model=None)
@router.post("/market/orders/{order_id}/refund", response_model=None)
@page
def money_post(
    order_id: str,
    request: Request,
    uow: UnitDep,
    amount: Annotated[str, Form(max_length=20)] = "",
    paid_on: Annotated[str, Form(max_length=10)] = "",
    idempotency_key: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    principal = console_principal(request, uow)
    data = form_model(
        PaymentCreate,
        {"amount": amount.strip(), "paid_on": paid_on.strip(), "idempotency_key": idempotency_key},
    )
    move = MONEY_MOVES[request.url.path.rsplit("/", 1)[-1]]
    move(uow=uow, principal=principal, order_id=order_id, data=data)
    return _back(order_id)


@router.post("/market/orders/{order_id}/disputes/{dispute_id}/propose", response_model=None)
@page
def propose_post(
    order_id: str,
    dispute_id: str,
    request: Request,
    uow: UnitDep,
    outcome: Annotated[str, Form(max_length=16)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    percent: Annotated[str, Form(max_length=10)] = "",
    return_kg: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """One side proposes an outcome; only the fields the outcome uses are sent on."""
    principal = console_principal(request, uow)
    given = {"amount": amount, "percent": percent, "return_kg": return_kg, "note": note}
    filled = {k: v.strip() for k, v in given.items() if v.strip()}
    data = form_model(ProposalCreate, {"outcome": outcome, **filled})
    disputes.propose(
        uow=uow, principal=principal, order_id=order_id, dispute_id=dispute_id, data=data
    )
    return _back(order_id)


@router.post(
    "/market/orders/{order_id}/disputes/{dispute_id}/proposals/{proposal_id}/decision",
    response_model=None,
)
@page
def proposal_decision_post(
    order_id: str,
    dispute_id: str,
    proposal_id: str,
    request: Request,
    uow: UnitDep,
    accept: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    principal = console_principal(request, uow)
    disputes.decide(
        uow=uow,
        principal=principal,
        order_id=order_id,
        dispute_id=dispute_id,
        proposal_id=proposal_id,
        accept=accept == "yes",
    )
    return _back(order_id)


# --- forecasts --------------------------------------------------------------------------


def _chart(row: ForecastRun, title: str, labels: dict[str, str]) -> Any:
    r = row.result
    start = date.fromisoformat(r["starts"])

    def at(i: int) -> datetime:
        day = start + timedelta(weeks=i)
        return datetime(day.year, day.month, day.day, 12, tzinfo=service.CST)

    n = len(r["history"])
    future = range(n, n + len(r["mean"]))
    past = [(at(i), v) for i, v in enumerate(r["history"])]
    ahead = [(at(i), v) for i, v in zip(future, r["mean"], strict=True)]
    lines = [
        charts.Line(labels["history"], past, charts.GREY),
        charts.Line(labels["forecast"], ahead, charts.BLUE),
    ]
    for level, colour in (("95", charts.AMBER), ("80", charts.ORANGE)):
        if level in r["intervals"]:
            lo, hi = r["intervals"][level]
            for name, values in ((labels["lo"], lo), (labels["hi"], hi)):
                lines.append(
                    charts.Line(
                        f"{level}% {name}",
                        [(at(i), v) for i, v in zip(future, values, strict=True)],
                        colour,
                        dashed=True,
                        width=1.0,
                    )
                )
    option = charts.time_chart(
        title=title, lines=lines, axes=[charts.Axis(labels["unit"])], zoom=True
    )
    return charts.chart_element(
        option, element_id=f"chart-{row.key.replace(':', '-')}", label=title
    )


def _stored(row: ForecastRun) -> fc.Forecast:
    r = row.result
    return fc.Forecast(
        key=row.key,
        chosen=row.chosen,
        backtest={},
        mean=list(r["mean"]),
        intervals={int(k): (v[0], v[1]) for k, v in r["intervals"].items()},
    )


def _sums(columns: list[list[float]]) -> list[float]:
    return [sum(v) for v in zip(*columns, strict=True)]


def plan(
    rows: list[ForecastRun], planted: dict[str, float], prices: dict[str, Decimal]
) -> tuple[list[Any], list[Any]]:
    """Price bands per crop (demand quantiles against forecast supply) and a production
    suggestion per crop (total demand against the area planted)."""
    by_crop: dict[str, dict[str, list[ForecastRun]]] = {}
    for row in rows:
        kind, crop, *_ = row.key.split(":")
        by_crop.setdefault(crop, {}).setdefault(kind, []).append(row)
    bands, suggestions = [], []
    for crop, kinds in sorted(by_crop.items()):
        demand = kinds.get("demand", [])
        if not demand:
            continue
        stored = [_stored(r) for r in demand]
        total = fc.Forecast(
            key=f"demand:{crop}",
            chosen="+".join(sorted({r.chosen for r in demand})),
            backtest={},
            mean=_sums([f.mean for f in stored]),
            intervals={
                80: (
                    _sums([f.intervals[80][0] for f in stored]),
                    _sums([f.intervals[80][1] for f in stored]),
                )
            },
        )
        supply = kinds.get("supply", [])
        supply_total = sum(_stored(supply[0]).mean) if supply else sum(total.mean)
        if supply_total > 0 and crop in prices:
            band = fc.price_band(
                reference_price=prices[crop],
                demand=total,
                supply_total=supply_total,
                elasticity=ELASTICITY,
            )
            bands.append((crop, band))
        if crop in YIELD_KG_PER_M2 and planted.get(crop, 0.0) > 0:
            # The forecast horizon is weeks; a season's demand is that rate over 26 weeks.
            weeks = len(total.mean)
            season = fc.Forecast(
                total.key, total.chosen, {}, [v * 26 / weeks for v in total.mean], {}
            )
            suggestions.append(
                fc.production_suggestion(crop=crop, current_m2=planted[crop],
                                         yield_kg_per_m2=YIELD_KG_PER_M2[crop], demand=season)
            )  # fmt: skip
    return bands, suggestions


@router.get("/market/forecasts", response_class=HTMLResponse, response_model=None)
@page
def forecasts_page(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    if not service.is_seller(uow.session, principal):
        return render(request, "market/notice.html")
    rows = forecasting.latest(session=uow.session, principal=principal)
    catalog, lang = console_of(request).catalog, language(request)
    labels = {
        k: catalog.label(f"market_{k}", lang)
        for k in ("history", "forecast", "lo", "hi", "kg_week")
    }
    labels["unit"] = labels["kg_week"]
    session = uow.session
    bands, suggestions = plan(
        rows,
        service.planted_m2(session=session, principal=principal),
        service.reference_prices(session=session, principal=principal),
    )
    return render(
        request,
        "market/forecasts.html",
        rows=[(r, _chart(r, r.key, labels)) for r in rows],
        bands=bands,
        suggestions=suggestions,
        scripts=charts.SCRIPTS,
    )


@router.post("/market/forecasts", response_model=None)
@page
def forecasts_run(request: Request, uow: UnitDep) -> Response:
    principal = console_principal(request, uow)
    forecasting.run(uow=uow, principal=principal)
    return RedirectResponse("/market/forecasts", status_code=303)
