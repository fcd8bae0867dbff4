"""Warehouse receipts on the transparency ledger.

A receipt stands for the stock of one commodity and owner in one bay; at most one is live per
bay and commodity. Each step of its life (issue, pledge, release, cancel) is anchored as a
``collateral.receipt`` fact in the ledger, so any lender holding a checkpoint can check for
double pledges itself (``double_pledges``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.collateral.models import PledgeRow, Receipt, ReceiptStatus, ZoneKind
from anxin.collateral.schemas import ReceiptCreate
from anxin.collateral.service.common import locked_position, operator_of, visible_pledges_clause
from anxin.collateral.service.reference import commodity_by_code, get_owner
from anxin.collateral.service.warehouses import get_warehouse, own_warehouse, zone_by_code
from anxin.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from anxin.core.security import Principal
from anxin.ledger.service import append_entry

RECEIPT_ENTRY = "collateral.receipt"


def _stock_key(receipt: Receipt) -> str:
    return f"{receipt.warehouse_id}:{receipt.zone_id}:{receipt.commodity_id}"


def anchor(
    session: Session,
    receipt: Receipt,
    action: str,
    organisation_id: str,
    now: datetime,
    **extra: Any,
) -> int:
    body = {
        "receipt": receipt.number,
        "action": action,
        "stock_key": _stock_key(receipt),
        "warehouse": receipt.warehouse_id,
        "zone": receipt.zone_id,
        "commodity": receipt.commodity_id,
        "owner": receipt.owner_id,
        "quantity_kg": int(receipt.quantity_kg),
        "at": now.isoformat(),
        **extra,
    }
    entry = append_entry(
        session=session,
        entry_type=RECEIPT_ENTRY,
        organisation_id=organisation_id,
        body=body,
        now=now,
    )
    receipt.ledger_seqs = [*receipt.ledger_seqs, {"action": action, "seq": entry.seq}]
    return int(entry.seq)


def issue_receipt(
    *,
    session: Session,
    principal: Principal,
    warehouse_id: str,
    data: ReceiptCreate,
    now: datetime,
) -> Receipt:
    warehouse = own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    if zone.kind != ZoneKind.BAY:
        raise InvalidInput.field("zone", "receipts are issued for stock in a bay")
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = locked_position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
    key = f"{warehouse.id}:{zone.id}:{commodity.id}"
    if session.scalar(select(Receipt).where(Receipt.live_key == key)) is not None:
        raise Conflict(f"bay {zone.code} already has a live receipt for {commodity.code}")
    count = session.scalar(select(func.count()).select_from(Receipt)) or 0
    receipt = Receipt(
        number=f"WR-{warehouse.code}-{now:%Y%m%d}-{count + 1:05d}",
        warehouse_id=warehouse.id,
        zone_id=zone.id,
        commodity_id=commodity.id,
        owner_id=data.owner_id,
        quantity_kg=int(position.quantity_kg),
        status=ReceiptStatus.ISSUED,
        live_key=key,
        ledger_seqs=[],
        issued_at=now,
    )
    session.add(receipt)
    session.flush()
    anchor(session, receipt, "issue", warehouse.organisation_id, now)
    session.flush()
    return receipt


def cancel_receipt(
    *, session: Session, principal: Principal, receipt_id: str, now: datetime
) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(f"no receipt {receipt_id}")
    warehouse = own_warehouse(session, principal, receipt.warehouse_id)
    if receipt.status == ReceiptStatus.PLEDGED:
        raise RuleViolation("a pledged receipt cannot be cancelled; the bank must close the pledge")
    if receipt.status == ReceiptStatus.CANCELLED:
        raise RuleViolation("the receipt is already cancelled")
    receipt.status = ReceiptStatus.CANCELLED
    receipt.live_key = None
    anchor(session, receipt, "cancel", warehouse.organisation_id, now)
    session.flush()
    return receipt


def list_receipts(*, session: Session, principal: Principal, warehouse_id: str) -> list[Receipt]:
    get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    stmt = select(Receipt).where(Receipt.warehouse_id == warehouse_id).order_by(Receipt.number)
    if not operator_of(session, principal, warehouse_id):
        stmt = stmt.where(
            Receipt.pledge_id.in_(select(PledgeRow.id).where(visible_pledges_clause(principal)))
        )
    return list(session.scalars(stmt))


def double_pledges(bodies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check receipt facts from the ledger, in log order: a ``pledge`` of a stock key that is
    already pledged (no ``release`` or ``cancel`` since) is a double pledge. Any lender that
    holds a checkpoint can fetch the entries, verify their inclusion, and run this."""
    pledged: dict[str, dict[str, Any]] = {}
    conflicts = []
    for body in bodies:
        key = str(body.get("stock_key"))
        action = body.get("action")
        if action == "pledge":
            if key in pledged:
                conflicts.append({"stock_key": key, "first": pledged[key], "second": body})
            else:
                pledged[key] = body
        elif action in ("release", "cancel"):
            pledged.pop(key, None)
    return conflicts
