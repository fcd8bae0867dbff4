"""The bank's collateral pages: the dashboard of pledges, and per pledge a live chart of stock
value against the loan with the warning and margin-call lines, the movement log, release
approval and alarms.

Server-rendered. `live.js` refetches every ``data-live-src`` fragment when the SSE stream
reports an alarm change the viewer may see (an unauthorised removal appears within a second);
the chart and log also refresh every 10 s, since a movement without an alarm sends no event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.collateral import service
from anxin.collateral.alarms import OWNER_KIND
from anxin.collateral.models import (
    Commodity,
    Loan,
    PledgeRow,
    StockOwner,
    Valuation,
    Warehouse,
    WarehouseZone,
)
from anxin.collateral.schemas import ReleaseCreate
from anxin.core.clock import SHANGHAI
from anxin.core.domain import NavLink
from anxin.core.errors import InvalidInput, PermissionDenied
from anxin.core.owners import OwnerLink
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people.deps import ContextDep, UnitDep
from anxin.ui import charts
from anxin.ui.console import console_of, console_principal, language, page, render

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)

DASHBOARD_ROLES = frozenset(
    {Role.SCF_OFFICER, Role.RISK_OFFICER, Role.LOAN_OFFICER, Role.WAREHOUSE_OPERATOR, Role.ADMIN}
)
NAV = [NavLink("/console/collateral", "collateral", DASHBOARD_ROLES)]

LABELS: dict[str, tuple[str, str]] = {
    "owner_pledge": ("质押", "Pledge"),
    "owner_warehouse": ("仓库", "Warehouse"),
    "pledge_active": ("生效", "Active"),
    "pledge_closed": ("已结清", "Closed"),
    "receipt_issued": ("已签发", "Issued"),
    "receipt_pledged": ("已质押", "Pledged"),
    "receipt_released": ("已解押", "Released"),
    "receipt_cancelled": ("已注销", "Cancelled"),
    "collateral": ("质押监管", "Collateral"),
    "pledges": ("质押", "Pledges"),
    "pledge": ("质押", "Pledge"),
    "no_pledges": ("暂无质押", "No pledges"),
    "loan": ("贷款", "Loan"),
    "borrower": ("借款人", "Borrower"),
    "commodity": ("品种", "Commodity"),
    "stock_t": ("库存(吨)", "Stock (t)"),
    "market_value": ("市值", "Market value"),
    "lending_value": ("可贷价值", "Lending value"),
    "outstanding": ("贷款余额", "Outstanding"),
    "status_ok": ("正常", "OK"),
    "status_warning": ("预警", "Warning"),
    "status_margin_call": ("补仓", "Margin call"),
    "status_liquidation": ("平仓", "Liquidation"),
    "status_unpriced": ("无价格", "No price"),
    "below_minimum": ("低于最低库存", "Under minimum stock"),
    "lines": ("警戒线", "Lines"),
    "warning_line": ("警戒线", "Warning line"),
    "margin_call_line": ("补仓线", "Margin-call line"),
    "liquidation_line": ("平仓线", "Liquidation line"),
    "haircut": ("折扣率", "Haircut"),
    "min_stock": ("最低库存", "Minimum stock"),
    "value_chart": ("货值与贷款", "Stock value against the loan"),
    "no_valuation": ("暂无估值", "No valuation yet"),
    "valuations": ("次估值", "valuations"),
    "releases": ("放货申请", "Release orders"),
    "request_release": ("申请放货", "Request a release"),
    "requested_at": ("申请时间", "Requested"),
    "quantity_t": ("数量(吨)", "Quantity (t)"),
    "consumed_t": ("已出库(吨)", "Taken out (t)"),
    "approve": ("批准", "Approve"),
    "reject": ("拒绝", "Reject"),
    "no_releases": ("暂无放货申请", "No release orders"),
    "release_requested": ("待审批", "Awaiting approval"),
    "release_approved": ("已批准", "Approved"),
    "release_rejected": ("已拒绝", "Rejected"),
    "release_consumed": ("已提完", "Taken out"),
    "release_cancelled": ("已撤销", "Cancelled"),
    "movements": ("出入库记录", "Movement log"),
    "no_movements": ("暂无出入库", "No movements"),
    "direction": ("方向", "Direction"),
    "from_to": ("起止", "From → to"),
    "dir_inbound": ("入库", "Inbound"),
    "dir_outbound": ("出库", "Outbound"),
    "dir_internal": ("移库", "Internal move"),
    "dir_cross_dock": ("直转", "Cross-dock"),
    "dir_unknown": ("未知", "Unknown"),
    "dir_opening": ("期初", "Opening"),
    "dir_adjustment": ("盘点调整", "Stocktake adjustment"),
    "unauthorised": ("未经放货", "Not released"),
    "released": ("已放货", "Released"),
    "receipts": ("仓单", "Warehouse receipts"),
}


def pledge_links(session: Session, pledge_ids: Sequence[str]) -> dict[str, OwnerLink]:
    """An alarm on a pledge names its loan and links to the pledge's page."""
    rows = session.execute(
        select(PledgeRow.id, Loan.reference)
        .join(Loan, Loan.id == PledgeRow.loan_id)
        .where(PledgeRow.id.in_(pledge_ids))
    )
    return {pid: OwnerLink(ref, f"/console/collateral/pledges/{pid}") for pid, ref in rows}


def _principal(request: Request, uow: UnitOfWork) -> Principal:
    principal = console_principal(request, uow)
    if principal.role not in DASHBOARD_ROLES:
        raise PermissionDenied("the collateral dashboard is for banks and warehouse operators")
    return principal


def _names(uow: UnitOfWork, pledge: PledgeRow) -> dict[str, Any]:
    loan = pledge.loan  # loaded with the list (service.list_pledges), not one query a row
    owner = uow.session.get(StockOwner, pledge.borrower_id)
    commodity = uow.session.get(Commodity, pledge.commodity_id)
    warehouse = uow.session.get(Warehouse, pledge.warehouse_id)
    return {"loan": loan, "borrower": owner, "commodity": commodity, "warehouse": warehouse}


def _pledge_rows(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    return [
        {"pledge": p, **_names(uow, p)}
        for p in service.list_pledges(session=uow.session, principal=principal)
    ]


def _alarms(uow: UnitOfWork, principal: Principal, pledge_id: str | None) -> list[Any]:
    return alerts.list_alarms(
        uow=uow,
        principal=principal,
        owner_kind=OWNER_KIND,
        owner_id=pledge_id,
        active=True,
        limit=100,
    )


def chart(
    history: list[Valuation],
    pledge: PledgeRow,
    t: Callable[[str], str],
    now: datetime,
    tz: ZoneInfo = SHANGHAI,
) -> charts.Option:
    """Market value over time against the loan, and the market values at which the LTV
    (outstanding / market value) reaches the warning, margin-call and liquidation lines.
    A valuation holds until the next one, so the lines are steps and the last one runs on
    to now (one valuation is a level line, not a dot)."""
    points = [v for v in history if v.market_value is not None]
    if points and now > points[-1].at:
        last = points[-1]
        points.append(
            Valuation(at=now, market_value=last.market_value, outstanding=last.outstanding)
        )

    def line(name: str, colour: str, values: list[Decimal], dashed: bool = True) -> charts.Line:
        pairs = [(v.at, float(value)) for v, value in zip(points, values, strict=True)]
        return charts.Line(t(name), pairs, colour, dashed=dashed, step=True, width=1.5)

    outstanding = [Decimal(v.outstanding) for v in points]
    limits = [
        ("warning_line", charts.AMBER, pledge.warning_ltv),
        ("margin_call_line", charts.ORANGE, pledge.margin_call_ltv),
        ("liquidation_line", charts.RED, pledge.liquidation_ltv),
    ]
    return charts.time_chart(
        title=t("value_chart"),
        lines=[
            charts.Line(
                t("market_value"),
                [(v.at, float(v.market_value or 0)) for v in points],
                charts.GREEN,
                step=True,
                width=2.5,
            ),
            line("outstanding", charts.GREY, outstanding, dashed=False),
            *(
                line(name, colour, [o / Decimal(ltv) for o in outstanding])
                for name, colour, ltv in limits
                if ltv  # a pledge may have no liquidation line
            ),
        ],
        axes=[charts.Axis("¥", unit="¥{value}")],
        zoom=len(points) > 50,
        tz=tz,
    )


def _detail(
    request: Request, uow: UnitOfWork, principal: Principal, pledge_id: str
) -> dict[str, Any]:
    pledge = service.get_pledge(session=uow.session, principal=principal, pledge_id=pledge_id)
    zones = {
        z.id: z.code
        for z in uow.session.scalars(
            select(WarehouseZone).where(WarehouseZone.warehouse_id == pledge.warehouse_id)
        )
    }
    history = service.valuation_history(uow.session, pledge.id, limit=300)
    console, lang = console_of(request), language(request)
    catalog, tz = console.catalog, console.tz
    return {
        "pledge": pledge,
        **_names(uow, pledge),
        "chart": charts.chart_element(
            chart(history, pledge, lambda key: catalog.label(key, lang), uow.now(), tz),
            element_id="value-chart",
            label=catalog.label("value_chart", lang),
        )
        if any(v.market_value is not None for v in history)
        else None,
        "valuations": history,
        "movements": service.list_movements(
            session=uow.session, principal=principal, pledge_id=pledge.id, limit=50
        ),
        "zones": zones,
        "releases": service.list_releases(
            session=uow.session, principal=principal, pledge_id=pledge.id
        ),
        "receipts": service.pledge_receipts(uow.session, pledge.id),
        "alarms": _alarms(uow, principal, pledge.id),
        "can_decide": principal.role == Role.SCF_OFFICER
        and principal.organisation_id == pledge.lender_org_id,
        "can_request": principal.role in (Role.WAREHOUSE_OPERATOR, Role.SCF_OFFICER, Role.ADMIN),
        "t_of": lambda kg: f"{Decimal(kg) / 1000:,.3f}",
    }


@router.get("/console/collateral", response_class=HTMLResponse, response_model=None)
@page
def dashboard(request: Request, uow: UnitDep) -> Response:
    return _render_overview(request, uow, "collateral/dashboard.html")


@router.get("/console/collateral/parts/overview", response_class=HTMLResponse, response_model=None)
@page
def overview_part(request: Request, uow: UnitDep) -> Response:
    return _render_overview(request, uow, "collateral/_overview.html")


def _render_overview(request: Request, uow: UnitOfWork, template: str) -> Response:
    """The dashboard and its live-refreshed part show the same pledges and alarms."""
    principal = _principal(request, uow)
    return render(
        request,
        template,
        rows=_pledge_rows(uow, principal),
        alarms=_alarms(uow, principal, None),
    )


@router.get(
    "/console/collateral/pledges/{pledge_id}", response_class=HTMLResponse, response_model=None
)
@page
def pledge_page(pledge_id: str, request: Request, uow: UnitDep) -> Response:
    principal = _principal(request, uow)
    return render(request, "collateral/pledge.html", **_detail(request, uow, principal, pledge_id))


@router.get(
    "/console/collateral/pledges/{pledge_id}/live", response_class=HTMLResponse, response_model=None
)
@page
def pledge_live(pledge_id: str, request: Request, uow: UnitDep) -> Response:
    principal = _principal(request, uow)
    return render(
        request, "collateral/_pledge_live.html", **_detail(request, uow, principal, pledge_id)
    )


@router.post("/console/collateral/pledges/{pledge_id}/releases", response_model=None)
@page
def request_release(
    pledge_id: str,
    request: Request,
    uow: UnitDep,
    context: ContextDep,
    quantity_t: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    principal = _principal(request, uow)
    try:
        data = ReleaseCreate(quantity_t=Decimal(quantity_t.strip()), note=note)
    except Exception as exc:
        raise InvalidInput(f"not a quantity in tonnes: {quantity_t!r}") from exc
    service.request_release(
        session=uow.session,
        principal=principal,
        pledge_id=pledge_id,
        data=data,
        now=context.clock.now(),
    )
    return RedirectResponse(f"/console/collateral/pledges/{pledge_id}", status_code=303)


def _decide(
    request: Request, uow: UnitOfWork, context: Any, release_id: str, approve: bool, note: str
) -> Response:
    principal = _principal(request, uow)
    release = service.decide_release(
        session=uow.session,
        principal=principal,
        release_id=release_id,
        approve=approve,
        note=note.strip(),
        now=context.clock.now(),
    )
    return RedirectResponse(f"/console/collateral/pledges/{release.pledge_id}", status_code=303)


@router.post("/console/collateral/releases/{release_id}/approve", response_model=None)
@page
def approve(
    release_id: str,
    request: Request,
    uow: UnitDep,
    context: ContextDep,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _decide(request, uow, context, release_id, True, note)


@router.post("/console/collateral/releases/{release_id}/reject", response_model=None)
@page
def reject(
    release_id: str,
    request: Request,
    uow: UnitDep,
    context: ContextDep,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _decide(request, uow, context, release_id, False, note)
