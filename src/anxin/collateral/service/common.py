"""What several collateral service modules share: roles, units, visibility, stock positions.

Bank and operator roles; kilograms (the stock ledger) to tonnes (valuation) and back; who sees
which pledges and warehouses (also registered as the ``pledge`` and ``warehouse`` owner scopes,
which decide who sees the devices and alarms they own); and the locked stock position that
opening balances, receipts, lifts and stocktakes all go through.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from anxin.collateral import valuation
from anxin.collateral.models import PledgeRow, PledgeState, StockPosition, Warehouse
from anxin.core.errors import InvalidInput
from anxin.core.security import Principal, Role

BANK_ROLES = frozenset({Role.SCF_OFFICER, Role.RISK_OFFICER, Role.LOAN_OFFICER})
OPERATOR_ROLES = frozenset({Role.WAREHOUSE_OPERATOR})
KG_PER_T = 1000


def kg_to_t(kg: int) -> Decimal:
    return (Decimal(kg) / KG_PER_T).quantize(valuation.QTY_STEP)


def t_to_kg(t: Decimal) -> int:
    kg = t * KG_PER_T
    if kg != kg.to_integral_value():
        raise InvalidInput.field("quantity_t", "at most three decimal places (kilograms)")
    return int(kg)


# --- who sees what ----------------------------------------------------------------------


def is_operator(principal: Principal) -> bool:
    return principal.role in OPERATOR_ROLES or principal.role == Role.ADMIN


def is_bank(principal: Principal) -> bool:
    return principal.role in BANK_ROLES or principal.role == Role.ADMIN


def in_receipt_finance(session: Session, organisation_id: str) -> bool:
    """Whether an organisation keeps a warehouse or lends on a pledge: an admin of one that
    does neither takes no part in receipt finance (admins are not ledger readers of all)."""
    keeps = select(Warehouse.id).where(Warehouse.organisation_id == organisation_id)
    lends = select(PledgeRow.id).where(PledgeRow.lender_org_id == organisation_id)
    return session.scalar(keeps.union_all(lends).limit(1)) is not None


def visible_pledges_clause(principal: Principal) -> Any:
    clauses = []
    if is_bank(principal):
        clauses.append(PledgeRow.lender_org_id == principal.organisation_id)
    if is_operator(principal):
        mine = select(Warehouse.id).where(Warehouse.organisation_id == principal.organisation_id)
        clauses.append(PledgeRow.warehouse_id.in_(mine))
    return or_(*clauses) if clauses else PledgeRow.id.is_(None)


def visible_pledge_ids(session: Session, principal: Principal) -> Collection[str] | None:
    # Alarms of pledges live in the lender's organisation; its bank staff see them all.
    if is_bank(principal):
        return None
    return ()


def visible_warehouse_ids(session: Session, principal: Principal) -> Collection[str] | None:
    if is_operator(principal):
        return None  # every warehouse of the caller's (operator's) organisation
    if principal.role in BANK_ROLES:
        return set(
            session.scalars(
                select(PledgeRow.warehouse_id).where(
                    PledgeRow.lender_org_id == principal.organisation_id,
                    PledgeRow.state == PledgeState.ACTIVE,
                )
            )
        )
    return ()


def operator_of(session: Session, principal: Principal, warehouse_id: str) -> bool:
    row = session.get(Warehouse, warehouse_id)
    return (
        row is not None
        and row.organisation_id == principal.organisation_id
        and is_operator(principal)
    )


# --- stock positions --------------------------------------------------------------------


def locked_position(
    session: Session,
    warehouse_id: str,
    zone_id: str,
    commodity_id: str,
    owner_id: str,
    now: datetime,
) -> StockPosition:
    row = session.scalar(
        select(StockPosition)
        .where(
            StockPosition.zone_id == zone_id,
            StockPosition.commodity_id == commodity_id,
            StockPosition.owner_id == owner_id,
        )
        .with_for_update()
    )
    if row is None:
        row = StockPosition(
            warehouse_id=warehouse_id,
            zone_id=zone_id,
            commodity_id=commodity_id,
            owner_id=owner_id,
            quantity_kg=0,
            updated_at=now,
        )
        session.add(row)
        session.flush()
    return row
