"""JSON API of the collateral domain: thin wrappers over `service`, each returning a read
model from `schemas` (so the OpenAPI document describes every response)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from anxin.collateral import service
from anxin.collateral.schemas import (
    CommodityCreate,
    CommodityRead,
    CraneCreate,
    CraneRead,
    CraneRegistered,
    Decision,
    DoublePledge,
    MovementRead,
    OpeningBalance,
    OwnerCreate,
    OwnerRead,
    PledgeCreate,
    PledgeDetail,
    PledgeRead,
    PriceMarkRead,
    PriceMarks,
    ReceiptCreate,
    ReceiptFact,
    ReceiptFacts,
    ReceiptRead,
    ReleaseCreate,
    ReleaseRead,
    RevaluationRead,
    StockLineRead,
    StocktakeCreate,
    StocktakeRead,
    ValuationRead,
    WarehouseCreate,
    WarehouseDetail,
    WarehouseRead,
    ZoneCreate,
    ZoneRead,
)
from anxin.core.errors import PermissionDenied
from anxin.core.security import Role
from anxin.ledger.access import may_read_body
from anxin.ledger.service import entry_body, find_entries
from anxin.people.deps import ContextDep, CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/collateral", tags=["collateral"])


@router.get("/commodities")
def list_commodities(principal: CurrentPrincipal, session: SessionDep) -> list[CommodityRead]:
    return [CommodityRead.model_validate(c) for c in service.list_commodities(session=session)]


@router.post("/commodities", status_code=201)
def create_commodity(
    data: CommodityCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> CommodityRead:
    return CommodityRead.model_validate(
        service.create_commodity(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.post("/owners", status_code=201)
def create_owner(
    data: OwnerCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> OwnerRead:
    return OwnerRead.model_validate(
        service.create_owner(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.get("/warehouses")
def list_warehouses(principal: CurrentPrincipal, session: SessionDep) -> list[WarehouseRead]:
    return [
        WarehouseRead.model_validate(w)
        for w in service.list_warehouses(session=session, principal=principal)
    ]


@router.post("/warehouses", status_code=201)
def create_warehouse(
    data: WarehouseCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> WarehouseRead:
    return WarehouseRead.model_validate(
        service.create_warehouse(
            session=session, principal=principal, data=data, now=context.clock.now()
        )
    )


@router.get("/warehouses/{warehouse_id}")
def get_warehouse(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> WarehouseDetail:
    w = service.get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    return WarehouseDetail(
        **WarehouseRead.model_validate(w).model_dump(),
        zones=[ZoneRead.model_validate(z) for z in service.zones_of(session, w.id)],
        cranes=[CraneRead.model_validate(c) for c in service.cranes_of(session, w.id)],
    )


@router.post("/warehouses/{warehouse_id}/zones", status_code=201)
def add_zone(
    warehouse_id: str,
    data: ZoneCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> ZoneRead:
    return ZoneRead.model_validate(
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
) -> CraneRegistered:
    crane, tokens = service.register_crane(
        session=session,
        principal=principal,
        warehouse_id=warehouse_id,
        data=data,
        now=context.clock.now(),
    )
    return CraneRegistered(**CraneRead.model_validate(crane).model_dump(), device_tokens=tokens)


@router.post("/warehouses/{warehouse_id}/opening-balances", status_code=201)
def opening_balance(
    warehouse_id: str,
    data: OpeningBalance,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> MovementRead:
    m = service.set_opening_balance(
        session=session,
        principal=principal,
        warehouse_id=warehouse_id,
        data=data,
        now=context.clock.now(),
    )
    return MovementRead.model_validate(m)


@router.get("/warehouses/{warehouse_id}/stock")
def stock(
    warehouse_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[StockLineRead]:
    return [
        StockLineRead.model_validate(line)
        for line in service.stock(session=session, principal=principal, warehouse_id=warehouse_id)
    ]


@router.get("/warehouses/{warehouse_id}/movements")
def warehouse_movements(
    warehouse_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: int = Query(200, ge=1, le=2000),
) -> list[MovementRead]:
    return [
        MovementRead.model_validate(m)
        for m in service.list_movements(
            session=session, principal=principal, warehouse_id=warehouse_id, limit=limit
        )
    ]


@router.post("/warehouses/{warehouse_id}/receipts", status_code=201)
def issue_receipt(
    warehouse_id: str,
    data: ReceiptCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> ReceiptRead:
    return ReceiptRead.model_validate(
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
) -> list[ReceiptRead]:
    return [
        ReceiptRead.model_validate(r)
        for r in service.list_receipts(
            session=session, principal=principal, warehouse_id=warehouse_id
        )
    ]


@router.post("/receipts/{receipt_id}/cancel")
def cancel_receipt(
    receipt_id: str, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> ReceiptRead:
    return ReceiptRead.model_validate(
        service.cancel_receipt(
            session=session, principal=principal, receipt_id=receipt_id, now=context.clock.now()
        )
    )


# Who takes part in warehouse-receipt finance, and so may see that a stock is pledged.
RECEIPT_FACT_ROLES = frozenset(
    {Role.ADMIN, Role.SUPERVISOR, Role.SCF_OFFICER, Role.RISK_OFFICER, Role.WAREHOUSE_OPERATOR}
)


def _fact(seq: int, body: Any, show: bool) -> ReceiptFact:
    facts = body if isinstance(body, dict) else {}
    return ReceiptFact(
        seq=seq,
        action=facts.get("action"),
        stock_key=facts.get("stock_key"),
        body=body if show else None,
    )


@router.get("/ledger/receipts")
def receipt_facts(
    principal: CurrentPrincipal, session: SessionDep, limit: int = Query(1000, ge=1, le=1000)
) -> ReceiptFacts:
    """Every receipt fact on the ledger, in log order, and the double pledges they show.

    Lenders and warehouses see each fact's action and stock key, which is all the double-pledge
    check needs; the body (loan, lender, owner, quantities) only where the ledger would show it
    (``/api/v1/ledger/entries/{seq}``: their own organisation's entries). A lender verifies its
    own entries' inclusion with ``/api/v1/ledger/entries/{seq}/bundle``, offline."""
    if principal.role not in RECEIPT_FACT_ROLES or (
        principal.role == Role.ADMIN
        and not service.in_receipt_finance(session, principal.organisation_id)
    ):
        raise PermissionDenied(f"role {principal.role.value!r} takes no part in receipt finance")
    entries = sorted(
        find_entries(session=session, entry_type=service.RECEIPT_ENTRY, limit=limit),
        key=lambda e: e.seq,
    )
    parsed = [(e, entry_body(e)) for e in entries]
    facts = {
        e.seq: _fact(
            e.seq, body, may_read_body(principal.role, principal.organisation_id, e.organisation_id)
        )
        for e, body in parsed
    }
    # the check runs on every body; its answer names facts only as the caller may see them
    bodies = [{**body, "seq": e.seq} for e, body in parsed if isinstance(body, dict)]
    return ReceiptFacts(
        entries=list(facts.values()),
        double_pledges=[
            DoublePledge(
                stock_key=c["stock_key"],
                first=facts[c["first"]["seq"]],
                second=facts[c["second"]["seq"]],
            )
            for c in service.double_pledges(bodies)
        ],
    )


@router.get("/pledges")
def list_pledges(
    principal: CurrentPrincipal, session: SessionDep, active: bool | None = None
) -> list[PledgeRead]:
    return [
        PledgeRead.model_validate(p)
        for p in service.list_pledges(session=session, principal=principal, active=active)
    ]


@router.post("/pledges", status_code=201)
def create_pledge(
    data: PledgeCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> PledgeRead:
    pledge = service.create_pledge(uow=uow, principal=principal, data=data, now=context.clock.now())
    session.refresh(pledge)
    return PledgeRead.model_validate(pledge)


@router.get("/pledges/{pledge_id}")
def get_pledge(pledge_id: str, principal: CurrentPrincipal, session: SessionDep) -> PledgeDetail:
    pledge = service.get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    return PledgeDetail(
        **PledgeRead.model_validate(pledge).model_dump(),
        receipts=[
            ReceiptRead.model_validate(r) for r in service.pledge_receipts(session, pledge.id)
        ],
        valuations=[
            ValuationRead.model_validate(v) for v in service.valuation_history(session, pledge.id)
        ],
    )


@router.post("/pledges/{pledge_id}/close")
def close_pledge(
    pledge_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> PledgeRead:
    pledge = service.close_pledge(
        uow=uow,
        principal=principal,
        pledge_id=pledge_id,
        now=context.clock.now(),
    )
    return PledgeRead.model_validate(pledge)


@router.get("/pledges/{pledge_id}/movements")
def pledge_movements(
    pledge_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: int = Query(200, ge=1, le=2000),
) -> list[MovementRead]:
    return [
        MovementRead.model_validate(m)
        for m in service.list_movements(
            session=session, principal=principal, pledge_id=pledge_id, limit=limit
        )
    ]


@router.get("/pledges/{pledge_id}/releases")
def list_releases(
    pledge_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[ReleaseRead]:
    return [
        ReleaseRead.model_validate(r)
        for r in service.list_releases(session=session, principal=principal, pledge_id=pledge_id)
    ]


@router.post("/pledges/{pledge_id}/releases", status_code=201)
def request_release(
    pledge_id: str,
    data: ReleaseCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> ReleaseRead:
    return ReleaseRead.model_validate(
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
) -> ReleaseRead:
    return ReleaseRead.model_validate(
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
) -> ReleaseRead:
    return ReleaseRead.model_validate(
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
def list_prices(principal: CurrentPrincipal, session: SessionDep) -> list[PriceMarkRead]:
    return [PriceMarkRead.of(m, code) for m, code in service.list_marks(session=session)]


@router.post("/prices")
def add_prices(
    data: PriceMarks,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> RevaluationRead:
    report = service.add_price_marks(
        uow=uow,
        principal=principal,
        marks=data.marks,
        now=context.clock.now(),
    )
    return RevaluationRead.model_validate(report)


@router.post("/warehouses/{warehouse_id}/stocktakes", status_code=201)
def record_stocktake(
    warehouse_id: str,
    data: StocktakeCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    uow: UnitDep,
    context: ContextDep,
) -> StocktakeRead:
    return StocktakeRead.model_validate(
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
) -> list[StocktakeRead]:
    return [
        StocktakeRead.model_validate(s)
        for s in service.list_stocktakes(
            session=session, principal=principal, warehouse_id=warehouse_id
        )
    ]
