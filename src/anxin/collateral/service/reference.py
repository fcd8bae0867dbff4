"""Reference data: commodities (with the default set) and stock owners (the traders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.collateral.models import Commodity, StockOwner
from anxin.collateral.schemas import CommodityCreate, OwnerCreate
from anxin.collateral.service.common import OPERATOR_ROLES, is_bank, is_operator
from anxin.core.errors import Conflict, InvalidInput, PermissionDenied
from anxin.core.security import Principal, Role

DEFAULT_COMMODITIES = (
    ("steel_coil", "钢卷", "Steel coil"),
    ("rebar", "螺纹钢", "Rebar"),
    ("rubber", "天然橡胶", "Natural rubber"),
    ("aluminium_ingot", "铝锭", "Aluminium ingot"),
)


def ensure_commodities(*, session: Session, now: datetime) -> list[Commodity]:
    out = []
    for code, zh, en in DEFAULT_COMMODITIES:
        row = session.scalar(select(Commodity).where(Commodity.code == code))
        if row is None:
            row = Commodity(code=code, name_zh=zh, name_en=en, unit="t", created_at=now)
            session.add(row)
        out.append(row)
    session.flush()
    return out


def create_commodity(
    *, session: Session, principal: Principal, data: CommodityCreate, now: datetime
) -> Commodity:
    if principal.role not in {Role.ADMIN, *OPERATOR_ROLES}:
        raise PermissionDenied("only admins and warehouse operators add commodities")
    if session.scalar(select(Commodity).where(Commodity.code == data.code)) is not None:
        raise Conflict(f"commodity {data.code!r} exists")
    row = Commodity(**data.model_dump(), created_at=now)
    session.add(row)
    session.flush()
    return row


def list_commodities(*, session: Session) -> list[Commodity]:
    return list(session.scalars(select(Commodity).order_by(Commodity.code)))


def commodity_by_code(session: Session, code: str) -> Commodity:
    row = session.scalar(select(Commodity).where(Commodity.code == code))
    if row is None:
        raise InvalidInput.field("commodity", f"unknown commodity {code!r}")
    return row


def create_owner(
    *, session: Session, principal: Principal, data: OwnerCreate, now: datetime
) -> StockOwner:
    if not (is_operator(principal) or is_bank(principal)):
        raise PermissionDenied("only warehouse operators and bank officers register traders")
    if session.scalar(select(StockOwner).where(StockOwner.name == data.name)) is not None:
        raise Conflict(f"owner {data.name!r} exists")
    row = StockOwner(name=data.name, credit_code=data.credit_code, created_at=now)
    session.add(row)
    session.flush()
    return row


def get_owner(session: Session, owner_id: str) -> StockOwner:
    row = session.get(StockOwner, owner_id)
    if row is None:
        raise InvalidInput.field("owner_id", f"unknown owner {owner_id}")
    return row
