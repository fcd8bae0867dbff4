"""Products (GTIN), lots and serialised units (SGTIN) of the brand.

Serials are issued per product as decimal numbers counting up from the highest issued, so
they are unguessable only together with the signature on the label (a later slice); a
scanned serial that was never issued is itself a counterfeit sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from anxin.core.db import new_id
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.trace import vocab
from anxin.trace.models import Farm, Lot, Plot, Product, Unit
from anxin.trace.schemas import LotCreate, ProductCreate, UnitsIssue, UnitsIssued
from anxin.trace.service import READERS, get_farm

BRAND = frozenset({Role.ADMIN})


def _brand(principal: Principal) -> None:
    if principal.role not in BRAND:
        raise PermissionDenied("only the brand's administrator manages products and labels")


def create_product(*, uow: UnitOfWork, principal: Principal, data: ProductCreate) -> Product:
    _brand(principal)
    if not vocab.valid_gtin(data.gtin):
        raise InvalidInput.field("gtin", "the check digit is wrong")
    gtin = data.gtin.zfill(14)
    if uow.session.scalar(select(Product.id).where(Product.gtin == gtin)) is not None:
        raise Conflict(f"GTIN {gtin} is already registered")
    product = Product(
        organisation_id=principal.organisation_id,
        gtin=gtin,
        name_zh=data.name_zh,
        name_en=data.name_en,
        sales_region=data.sales_region.model_dump() if data.sales_region else None,
        created_at=uow.now(),
    )
    uow.session.add(product)
    uow.session.flush()
    return product


def list_products(*, session: Session, principal: Principal) -> list[Product]:
    if principal.role not in READERS:
        raise PermissionDenied("traceability is for farmers, the brand and claims handlers")
    stmt = select(Product).where(Product.organisation_id == principal.organisation_id)
    return list(session.scalars(stmt.order_by(Product.gtin)))


def _product(session: Session, principal: Principal, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.organisation_id != principal.organisation_id:
        raise NotFound(f"no product {product_id}")
    return product


def create_lot(*, uow: UnitOfWork, principal: Principal, data: LotCreate) -> Lot:
    if principal.role not in (Role.ADMIN, Role.FARMER):
        raise PermissionDenied("lots are opened by the brand or the farmer")
    product = _product(uow.session, principal, data.product_id)
    farm = get_farm(session=uow.session, principal=principal, farm_id=data.farm_id)
    if data.plot_id is not None:
        plot = uow.session.get(Plot, data.plot_id)
        if plot is None or plot.farm_id != farm.id:
            raise InvalidInput.field("plot_id", "not a plot of this farm")
    lot = Lot(
        product_id=product.id,
        farm_id=farm.id,
        plot_id=data.plot_id,
        code=data.code,
        created_at=uow.now(),
    )
    uow.session.add(lot)
    uow.session.flush()
    return lot


def get_lot(*, session: Session, principal: Principal, lot_id: str) -> Lot:
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id}")
    get_farm(session=session, principal=principal, farm_id=lot.farm_id)  # 404 if not visible
    return lot


def issue_units(
    *, uow: UnitOfWork, principal: Principal, lot_id: str, data: UnitsIssue
) -> UnitsIssued:
    _brand(principal)
    lot = get_lot(session=uow.session, principal=principal, lot_id=lot_id)
    product = uow.session.get(Product, lot.product_id)
    assert product is not None
    # Serials count up per GTIN from a counter on the product row, locked so that two issues
    # at once cannot hand out the same numbers.
    locked = uow.session.scalar(select(Product).where(Product.id == product.id).with_for_update())
    assert locked is not None
    start = locked.next_serial
    locked.next_serial = start + data.count
    now = uow.now()
    printed = now if data.printed else None
    rows = [
        {
            "id": new_id(),
            "lot_id": lot.id,
            "gtin": product.gtin,
            "serial": str(n),
            "issued_at": now,
            "printed_at": printed,
        }
        for n in range(start, start + data.count)
    ]
    uow.session.execute(insert(Unit), rows)
    return UnitsIssued(
        lot_id=lot.id,
        gtin=product.gtin,
        first_serial=str(start),
        last_serial=str(start + data.count - 1),
        count=data.count,
    )


@dataclass(frozen=True)
class LotFacts:
    """What another domain (the market) shows of a lot: no principal check here, the caller
    decides who may see its listing of the lot."""

    lot_id: str
    organisation_id: str
    gtin: str
    code: str
    product_zh: str
    product_en: str
    farm_id: str
    farm_name: str
    farm_location: str
    crop: str | None
    first_serial: str | None  # a unit whose public page shows the lot's trace


def lot_ids_of(session: Session, organisation_id: str, limit: int = 200) -> list[str]:
    """The organisation's lots, newest first: what its administrator may list for sale (the
    market's listing form)."""
    return list(
        session.scalars(
            select(Lot.id)
            .join(Product, Product.id == Lot.product_id)
            .where(Product.organisation_id == organisation_id)
            .order_by(Lot.created_at.desc(), Lot.id)
            .limit(limit)
        )
    )


def lot_facts(session: Session, lot_id: str) -> LotFacts | None:
    lot = session.get(Lot, lot_id)
    if lot is None:
        return None
    product = session.get(Product, lot.product_id)
    farm = session.get(Farm, lot.farm_id)
    assert product is not None and farm is not None
    plot = session.get(Plot, lot.plot_id) if lot.plot_id else None
    first = session.scalar(
        select(Unit.serial).where(Unit.lot_id == lot.id).order_by(Unit.issued_at, Unit.id).limit(1)
    )
    return LotFacts(
        lot_id=lot.id,
        organisation_id=product.organisation_id,
        gtin=product.gtin,
        code=lot.code,
        product_zh=product.name_zh,
        product_en=product.name_en,
        farm_id=farm.id,
        farm_name=farm.name,
        farm_location=farm.location,
        crop=plot.crop if plot else None,
        first_serial=first,
    )
