"""JSON API of the collateral domain: thin wrappers over `service`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from anxin.collateral import service
from anxin.collateral.models import (
    Commodity,
    Crane,
    Movement,
    PledgeRow,
    Receipt,
    ReleaseOrder,
    StockOwner,
    Stocktake,
    Valuation,
    Warehouse,
    WarehouseZone,
)
from anxin.collateral.schemas import (
    CommodityCreate,
    CraneCreate,
    Decision,
    MovementRead,
    OpeningBalance,
    OwnerCreate,
    PledgeCreate,
    PriceMarks,
    ReceiptCreate,
    ReleaseCreate,
    StocktakeCreate,
    WarehouseCreate,
    ZoneCreate,
)
from anxin.ledger.service import entry_body, find_entries
from anxin.people.deps import ContextDep, CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/collateral", tags=["collateral"])


def commodity_json(c: Commodity) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "unit": c.unit}


def warehouse_json(w: Warehouse) -> dict[str, Any]:
    return {
        "id": w.id,
        "code": w.code,
        "name": w.name,
        "address": w.address,
        "organisation_id": w.organisation_id,
    }


def zone_json(z: WarehouseZone) -> dict[str, Any]:
    return {
        "id": z.id,
        "code": z.code,
        "kind": z.kind.value,
        "polygon": z.polygon,
        "commodity_id": z.commodity_id,
        "owner_id": z.owner_id,
    }


def crane_json(c: Crane) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        "scale_device_id": c.scale_device_id,
        "positioner_device_id": c.positioner_device_id,
        "hook_tare_kg": c.config.get("hook_tare_kg"),
    }


def receipt_json(r: Receipt) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "zone_id": r.zone_id,
        "commodity_id": r.commodity_id,
        "owner_id": r.owner_id,
        "quantity_kg": r.quantity_kg,
        "status": r.status.value,
        "pledge_id": r.pledge_id,
        "ledger": r.ledger_seqs,
    }


def pledge_json(session: Session, p: PledgeRow) -> dict[str, Any]:
    from anxin.collateral.models import Loan

    loan = session.get(Loan, p.loan_id)
    return {
        "id": p.id,
        "loan_reference": loan.reference if loan else None,
        "loan_amount": str(loan.principal) if loan else None,
        "outstanding": str(loan.outstanding) if loan else None,
        "lender_org_id": p.lender_org_id,
        "borrower_id": p.borrower_id,
        "warehouse_id": p.warehouse_id,
        "commodity_id": p.commodity_id,
        "haircut": str(p.haircut),
        "warning_ltv": str(p.warning_ltv),
        "margin_call_ltv": str(p.margin_call_ltv),
        "liquidation_ltv": None if p.liquidation_ltv is None else str(p.liquidation_ltv),
        "min_quantity_kg": p.min_quantity_kg,
        "state": p.state.value,
        "status": p.status,
        "quantity_kg": p.quantity_kg,
        "market_value": None if p.market_value is None else str(p.market_value),
        "lending_value": None if p.lending_value is None else str(p.lending_value),
        "ltv": None if p.ltv is None else str(p.ltv),
        "below_minimum": p.below_minimum,
        "valued_at": p.valued_at,
        "created_at": p.created_at,
    }


def release_json(r: ReleaseOrder) -> dict[str, Any]:
    return {
        "id": r.id,
        "pledge_id": r.pledge_id,
        "quantity_kg": r.quantity_kg,
        "consumed_kg": r.consumed_kg,
        "status": r.status.value,
        "note": r.note,
        "requested_at": r.requested_at,
        "decided_at": r.decided_at,
        "decision_note": r.decision_note,
    }


def valuation_json(v: Valuation) -> dict[str, Any]:
    return {
        "at": v.at,
        "quantity_kg": v.quantity_kg,
        "price": None if v.price is None else str(v.price),
        "market_value": None if v.market_value is None else str(v.market_value),
        "lending_value": None if v.lending_value is None else str(v.lending_value),
        "outstanding": str(v.outstanding),
        "ltv": None if v.ltv is None else str(v.ltv),
        "status": v.status,
        "cause": v.cause,
    }


def stocktake_json(s: Stocktake) -> dict[str, Any]:
    return {
        "id": s.id,
        "zone_id": s.zone_id,
        "commodity_id": s.commodity_id,
        "owner_id": s.owner_id,
        "counted_kg": s.counted_kg,
        "book_kg": s.book_kg,
        "difference_kg": s.difference_kg,
        "tolerance_kg": s.tolerance_kg,
        "lifts_since": s.lifts_since,
        "outcome": s.outcome,
        "explanation": s.explanation,
        "counted_at": s.counted_at,
    }


def owner_json(o: StockOwner) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "credit_code": o.credit_code}


@router.get("/commodities")
def list_commodities(principal: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    return [commodity_json(c) for c in service.list_commodities(session=session)]


@router.post("/commodities", status_code=201)
def create_commodity(
    data: CommodityCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    return commodity_json(
        service.create_commodity(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.post("/owners", status_code=201)
def create_owner(
    data: OwnerCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    return owner_json(
        service.create_owner(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.get("/warehouses")
def list_warehouses(principal: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    return [
        warehouse_json(w) for w in service.list_warehouses(session=session, principal=principal)
    ]


@router.post("/warehouses", status_code=201)
def create_warehouse(
    data: WarehouseCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    return warehouse_json(
        service.create_warehouse(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.get("/warehouses/{warehouse_id}")
def get_warehouse(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    w = service.get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    return {
        **warehouse_json(w),
        "zones": [zone_json(z) for z in service.zones_of(session, w.id)],
        "cranes": [crane_json(c) for c in service.cranes_of(session, w.id)],
    }


@router.post("/warehouses/{warehouse_id}/zones", status_code=201)
def add_zone(
    warehouse_id: str,
    data: ZoneCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    return zone_json(
        service.add_zone(
            session=session,
            principal=principal,
            warehouse_id=warehouse_id,
            data=data,
            now=context.clock.now(),
        )
    )


@router.post("/warehouses/{warehouse_id}/cranes", status_code=201)
def register_crane(
    warehouse_id: str,
    data: CraneCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    crane, tokens = service.register_crane(
        session=session,
        principal=principal,
        warehouse_id=warehouse_id,
        data=data,
        now=context.clock.now(),
    )
    return {**crane_json(crane), "device_tokens": tokens}


@router.post("/warehouses/{warehouse_id}/opening-balances", status_code=201)
def opening_balance(
    warehouse_id: str,
    data: OpeningBalance,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    m = service.set_opening_balance(
        session=session,
        principal=principal,
        warehouse_id=warehouse_id,
        data=data,
        now=context.clock.now(),
    )
    return MovementRead.model_validate(m).model_dump(mode="json")


@router.get("/warehouses/{warehouse_id}/stock")
def stock(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[dict[str, Any]]:
    return service.stock(session=session, principal=principal, warehouse_id=warehouse_id)


@router.get("/warehouses/{warehouse_id}/movements", response_model=list[MovementRead])
def warehouse_movements(
    warehouse_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: int = Query(200, ge=1, le=2000),
) -> list[Movement]:
    return service.list_movements(
        session=session, principal=principal, warehouse_id=warehouse_id, limit=limit
    )


@router.post("/warehouses/{warehouse_id}/receipts", status_code=201)
def issue_receipt(
    warehouse_id: str,
    data: ReceiptCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    return receipt_json(
        service.issue_receipt(
            session=session,
            principal=principal,
            warehouse_id=warehouse_id,
            data=data,
            now=context.clock.now(),
        )
    )


@router.get("/warehouses/{warehouse_id}/receipts")
def list_receipts(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[dict[str, Any]]:
    return [
        receipt_json(r)
        for r in service.list_receipts(
            session=session, principal=principal, warehouse_id=warehouse_id
        )
    ]


@router.post("/receipts/{receipt_id}/cancel")
def cancel_receipt(
    receipt_id: str, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    return receipt_json(
        service.cancel_receipt(
            session=session, principal=principal, receipt_id=receipt_id, now=context.clock.now()
        )
    )


@router.get("/ledger/receipts")
def receipt_facts(
    principal: CurrentPrincipal, session: SessionDep, limit: int = Query(1000, ge=1, le=1000)
) -> dict[str, Any]:
    """Every receipt fact on the ledger (seq + body), and the double pledges they show.

    Any lender can verify each entry's inclusion against a checkpoint it holds
    (``/api/v1/ledger/entries/{seq}/bundle``) and re-run the same check offline."""
    entries = sorted(
        find_entries(session=session, entry_type=service.RECEIPT_ENTRY, limit=limit),
        key=lambda e: e.seq,
    )
    bodies = [entry_body(e) for e in entries]
    return {
        "entries": [{"seq": e.seq, "body": b} for e, b in zip(entries, bodies, strict=True)],
        "double_pledges": service.double_pledges(b for b in bodies if isinstance(b, dict)),
    }


@router.get("/pledges")
def list_pledges(
    principal: CurrentPrincipal, session: SessionDep, active: bool | None = None
) -> list[dict[str, Any]]:
    return [
        pledge_json(session, p)
        for p in service.list_pledges(session=session, principal=principal, active=active)
    ]


@router.post("/pledges", status_code=201)
def create_pledge(
    data: PledgeCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> dict[str, Any]:
    pledge = service.create_pledge(uow=uow, principal=principal, data=data, now=context.clock.now())
    session.refresh(pledge)
    return pledge_json(session, pledge)


@router.get("/pledges/{pledge_id}")
def get_pledge(pledge_id: str, principal: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    pledge = service.get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    return {
        **pledge_json(session, pledge),
        "receipts": [receipt_json(r) for r in service.pledge_receipts(session, pledge.id)],
        "valuations": [valuation_json(v) for v in service.valuation_history(session, pledge.id)],
    }


@router.post("/pledges/{pledge_id}/close")
def close_pledge(
    pledge_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> dict[str, Any]:
    pledge = service.close_pledge(
        uow=uow,
        principal=principal,
        pledge_id=pledge_id,
        now=context.clock.now(),
    )
    return pledge_json(session, pledge)


@router.get("/pledges/{pledge_id}/movements", response_model=list[MovementRead])
def pledge_movements(
    pledge_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: int = Query(200, ge=1, le=2000),
) -> list[Movement]:
    return service.list_movements(
        session=session, principal=principal, pledge_id=pledge_id, limit=limit
    )


@router.get("/pledges/{pledge_id}/releases")
def list_releases(
    pledge_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[dict[str, Any]]:
    return [
        release_json(r)
        for r in service.list_releases(session=session, principal=principal, pledge_id=pledge_id)
    ]


@router.post("/pledges/{pledge_id}/releases", status_code=201)
def request_release(
    pledge_id: str,
    data: ReleaseCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    return release_json(
        service.request_release(
            session=session,
            principal=principal,
            pledge_id=pledge_id,
            data=data,
            now=context.clock.now(),
        )
    )


@router.post("/releases/{release_id}/approve")
def approve_release(
    release_id: str,
    data: Decision,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    return release_json(
        service.decide_release(
            session=session,
            principal=principal,
            release_id=release_id,
            approve=True,
            note=data.note,
            now=context.clock.now(),
        )
    )


@router.post("/releases/{release_id}/reject")
def reject_release(
    release_id: str,
    data: Decision,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> dict[str, Any]:
    return release_json(
        service.decide_release(
            session=session,
            principal=principal,
            release_id=release_id,
            approve=False,
            note=data.note,
            now=context.clock.now(),
        )
    )


@router.get("/prices")
def list_prices(principal: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    return [
        {"commodity": code, "as_of": m.as_of.isoformat(), "price": str(m.price), "source": m.source}
        for m, code in service.list_marks(session=session)
    ]


@router.post("/prices")
def add_prices(
    data: PriceMarks,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> dict[str, Any]:
    report = service.add_price_marks(
        uow=uow,
        principal=principal,
        marks=data.marks,
        now=context.clock.now(),
    )
    return {
        "valued": report.valued,
        "unpriced": report.unpriced,
        "worsened": report.worsened,
        "improved": report.improved,
        "alarms": report.alarms,
    }


@router.post("/warehouses/{warehouse_id}/stocktakes", status_code=201)
def record_stocktake(
    warehouse_id: str,
    data: StocktakeCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> dict[str, Any]:
    return stocktake_json(
        service.record_stocktake(
            uow=uow,
            principal=principal,
            warehouse_id=warehouse_id,
            data=data,
            now=context.clock.now(),
        )
    )


@router.get("/warehouses/{warehouse_id}/stocktakes")
def list_stocktakes(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[dict[str, Any]]:
    return [
        stocktake_json(s)
        for s in service.list_stocktakes(
            session=session, principal=principal, warehouse_id=warehouse_id
        )
    ]
