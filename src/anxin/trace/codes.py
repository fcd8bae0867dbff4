"""Package codes as a service: a unit's signed Digital Link and QR, label sheets, checking a
scanned code, and the brands' public keys (see ``labels`` for the scheme)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anxin.core.errors import InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.trace import labels
from anxin.trace.catalogue import get_lot
from anxin.trace.models import Lot, Product, Unit
from anxin.trace.schemas import BrandKeyRead, CodeRead, CodeVerdict, LabelsPrint


def _product_of(session: Session, lot: Lot) -> Product:
    product = session.get(Product, lot.product_id)
    assert product is not None
    return product


def unit_code(
    *, session: Session, principal: Principal, lot_id: str, serial: str, base: str, secret: str
) -> CodeRead:
    lot = get_lot(session=session, principal=principal, lot_id=lot_id)
    product = _product_of(session, lot)
    unit = session.scalar(select(Unit.id).where(Unit.lot_id == lot.id, Unit.serial == serial))
    if unit is None:
        raise NotFound(f"no serial {serial} in lot {lot.code}")
    key = labels.brand_key(secret, product.organisation_id)
    link = labels.digital_link(base, key, product.gtin, lot.code, serial)
    return CodeRead(link=link, svg=labels.qr_svg(link), key_id=key.key_id)


def print_sheet(
    *,
    uow: UnitOfWork,
    principal: Principal,
    lot_id: str,
    data: LabelsPrint,
    base: str,
    secret: str,
) -> bytes:
    """The label sheet for a run of serials; those serials count as printed from now on."""
    if principal.role != Role.ADMIN:
        raise PermissionDenied("only the brand's administrator prints labels")
    session = uow.session
    lot = get_lot(session=session, principal=principal, lot_id=lot_id)
    product = _product_of(session, lot)
    wanted = [str(n) for n in range(data.first_serial, data.first_serial + data.count)]
    found = set(
        session.scalars(select(Unit.serial).where(Unit.lot_id == lot.id, Unit.serial.in_(wanted)))
    )
    serials = [s for s in wanted if s in found]
    if not serials:
        raise InvalidInput.field("first_serial", f"no serials of lot {lot.code} in that range")
    session.execute(
        update(Unit)
        .where(Unit.lot_id == lot.id, Unit.serial.in_(serials), Unit.printed_at.is_(None))
        .values(printed_at=uow.now())
        .execution_options(synchronize_session=False)
    )
    key = labels.brand_key(secret, product.organisation_id)
    return labels.label_sheet(
        title=product.name_zh,
        subtitle=product.name_en,
        lot=lot.code,
        labels=[
            labels.Label(labels.digital_link(base, key, product.gtin, lot.code, s), s)
            for s in serials
        ],
    )


def check_code(*, session: Session, link: str, secret: str) -> CodeVerdict:
    """Public: is this a code our brand signed? (Says nothing of how often it was seen.)"""
    try:
        parsed = labels.parse(link)
    except labels.LabelError as exc:
        raise InvalidInput.field("link", str(exc)) from exc
    ids = {"gtin": parsed.gtin, "lot": parsed.lot, "serial": parsed.serial}
    product = session.scalar(select(Product).where(Product.gtin == parsed.gtin))
    if product is None:
        return CodeVerdict(valid=False, reason="no brand here issues this GTIN", **ids)
    key = labels.brand_key(secret, product.organisation_id)
    if not labels.verify(key.public_raw, parsed):
        return CodeVerdict(
            valid=False, reason="the signature does not match", key_id=key.key_id, **ids
        )
    return CodeVerdict(valid=True, reason="signed by the brand's key", key_id=key.key_id, **ids)


def brand_keys(*, session: Session, secret: str) -> list[BrandKeyRead]:
    prefixes: dict[str, list[str]] = {}
    for org, gtin in session.execute(
        select(Product.organisation_id, Product.gtin).order_by(Product.gtin)
    ):
        prefixes.setdefault(org, []).append(gtin)
    out = []
    for org, gtins in prefixes.items():
        key = labels.brand_key(secret, org)
        out.append(
            BrandKeyRead(
                gtin_prefixes=gtins,
                key_id=key.key_id,
                public_key=labels.b64url(key.public_raw),
            )
        )
    return out
