"""The supply-chain-finance demo: a steel trader borrows 30 million yuan from a bank against
12,000 t of rebar in a port warehouse watched by two cranes. Idempotent: a second call finds
everything and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.collateral import service
from anxin.collateral.cranesim import DEFAULT_CRANES, default_layout
from anxin.collateral.models import Crane, PledgeRow, Receipt, StockOwner, Warehouse
from anxin.collateral.schemas import (
    CraneCreate,
    OpeningBalance,
    PledgeCreate,
    PriceMarkIn,
    ReceiptCreate,
    WarehouseCreate,
    ZoneCreate,
)
from anxin.core.clock import to_local
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.people import service as people
from anxin.people.models import OrganisationKind

BANK_ORG = "安信银行 Anxin Bank"
WAREHOUSE_ORG = "南通港物流园 Nantong Port Logistics Park"
TRADER = "南通钢贸有限公司 Nantong Steel Trading Co."
COIL_TRADER = "江苏卷板贸易 Jiangsu Coil Trading"
WAREHOUSE_CODE = "NTP-W1"
LOAN_REFERENCE = "SCF-2026-0001"
LOAN_AMOUNT = Decimal("30000000.00")
REBAR_PER_BAY_KG = 1_500_000  # 8 bays: 12,000 t of rebar
COIL_PER_BAY_KG = 800_000
PRICES = {
    "rebar": "3650.00",
    "steel_coil": "4100.00",
    "rubber": "14500.00",
    "aluminium_ingot": "19200.00",
}
# (username, display name, role, password, organisation)
LOGINS: tuple[tuple[str, str, Role, str, str], ...] = (
    ("bank", "信贷员 王敏 Wang Min (SCF)", Role.SCF_OFFICER, "demo-bank-pass", BANK_ORG),
    ("bank-risk", "风控 周强 Zhou Qiang", Role.RISK_OFFICER, "demo-bank-risk-pass", BANK_ORG),
    (
        "warehouse",
        "仓管 孙磊 Sun Lei",
        Role.WAREHOUSE_OPERATOR,
        "demo-warehouse-pass",
        WAREHOUSE_ORG,
    ),
)


@dataclass
class CollateralDemo:
    bank_org_id: str
    warehouse_org_id: str
    warehouse_id: str
    pledge_id: str
    trader_id: str
    crane_ids: dict[str, str]
    crane_tokens: dict[str, dict[str, str]] = field(default_factory=dict)


def _owner(session: Session, name: str, code: str, now: datetime) -> StockOwner:
    owner = session.scalar(select(StockOwner).where(StockOwner.name == name))
    if owner is None:
        owner = StockOwner(name=name, credit_code=code, created_at=now)
        session.add(owner)
        session.flush()
    return owner


# The rebar price over the last week, as a share of today's (PRICES): drifting down to today,
# never far enough to cross the warning line (the demo's alarms come from the crane day).
PRICE_WEEK = ("1.06", "1.05", "1.03", "1.04", "1.02", "1.01", "0.99", "1.00")


def _mark_prices(uow: UnitOfWork, officer: Principal, at: datetime, factor: str) -> None:
    service.add_price_marks(
        uow=uow,
        principal=officer,
        marks=[
            PriceMarkIn(
                commodity=c,
                as_of=to_local(at).date(),
                price=(Decimal(p) * Decimal(factor)).quantize(Decimal("0.01")),
                source="demo",
            )
            for c, p in PRICES.items()
        ],
        now=at,
    )


def seed_collateral(*, uow: UnitOfWork, now: datetime) -> CollateralDemo:
    """Create the bank, the warehouse, the trader, the stock, the receipts and the pledge a
    week before `now` (opening balances before any crane movement the simulator replays),
    then a daily price mark up to today's."""
    session = uow.session
    opened = now - timedelta(days=len(PRICE_WEEK) - 1, hours=1)
    bank = ensure_organisation(session, BANK_ORG, OrganisationKind.BANK, now)
    park = ensure_organisation(session, WAREHOUSE_ORG, OrganisationKind.WAREHOUSE, now)
    users = {
        username: ensure_user(
            session, bank.id if org == BANK_ORG else park.id, username, name, role, password, now
        )
        for username, name, role, password, org in LOGINS
    }
    officer = people.principal_of(users["bank"])
    operator = people.principal_of(users["warehouse"])
    service.ensure_commodities(session=session, now=now)
    trader = _owner(session, TRADER, "91320600MA1TRADER", now)
    coil_trader = _owner(session, COIL_TRADER, "91320600MA1COILTR", now)
    warehouse = session.scalar(select(Warehouse).where(Warehouse.code == WAREHOUSE_CODE))
    tokens: dict[str, dict[str, str]] = {}
    if warehouse is None:
        warehouse = service.create_warehouse(
            session=session,
            principal=operator,
            data=WarehouseCreate(
                code=WAREHOUSE_CODE,
                name="南通港一号钢材库 Steel shed No. 1",
                address="南通市通州湾港区 Tongzhou Bay port, Nantong",
            ),
            now=opened,
        )
        for zone in default_layout().zones:
            is_b = zone.zone_id.startswith("B")
            bay = zone.kind.value == "bay"
            service.add_zone(
                session=session,
                principal=operator,
                warehouse_id=warehouse.id,
                data=ZoneCreate(
                    code=zone.zone_id,
                    kind=zone.kind.value,
                    polygon=list(zone.polygon),
                    commodity=("rebar" if is_b else "steel_coil") if bay else None,
                    owner_id=(trader.id if is_b else coil_trader.id) if bay else None,
                ),
                now=opened,
            )
        for spec in DEFAULT_CRANES:
            crane, crane_tokens = service.register_crane(
                session=session,
                principal=operator,
                warehouse_id=warehouse.id,
                data=CraneCreate(code=spec.crane_id, hook_tare_kg=spec.hook_tare_kg),
                now=opened,
            )
            tokens[crane.code] = crane_tokens
        for zone in default_layout().bays():
            is_b = zone.zone_id.startswith("B")
            service.set_opening_balance(
                session=session,
                principal=operator,
                warehouse_id=warehouse.id,
                data=OpeningBalance(
                    zone=zone.zone_id,
                    commodity="rebar" if is_b else "steel_coil",
                    owner_id=trader.id if is_b else coil_trader.id,
                    quantity_kg=REBAR_PER_BAY_KG if is_b else COIL_PER_BAY_KG,
                ),
                now=opened,
            )
        receipts = [
            service.issue_receipt(
                session=session,
                principal=operator,
                warehouse_id=warehouse.id,
                data=ReceiptCreate(zone=f"B{i:02d}", commodity="rebar", owner_id=trader.id),
                now=opened,
            )
            for i in range(1, 9)
        ]
        _mark_prices(uow, officer, opened, PRICE_WEEK[0])
        service.create_pledge(
            uow=uow,
            principal=officer,
            data=PledgeCreate(
                borrower_id=trader.id,
                loan_reference=LOAN_REFERENCE,
                loan_amount=LOAN_AMOUNT,
                receipt_ids=[r.id for r in receipts],
                haircut=Decimal("0.2500"),
                warning_ltv=Decimal("0.7500"),
                margin_call_ltv=Decimal("0.8000"),
                liquidation_ltv=Decimal("0.8500"),
                min_quantity_t=Decimal("10000.000"),
            ),
            now=opened,
        )
        # a week of daily marks after it: the bank's chart has a history on a fresh demo
        for day, factor in enumerate(PRICE_WEEK[1:], start=1):
            _mark_prices(uow, officer, opened + timedelta(days=day), factor)
    pledge = session.scalar(
        select(PledgeRow)
        .join(Receipt, Receipt.pledge_id == PledgeRow.id)
        .where(PledgeRow.warehouse_id == warehouse.id)
        .limit(1)
    )
    assert pledge is not None
    cranes = {
        c.code: c.id
        for c in session.scalars(select(Crane).where(Crane.warehouse_id == warehouse.id))
    }
    session.flush()
    return CollateralDemo(bank.id, park.id, warehouse.id, pledge.id, trader.id, cranes, tokens)
