"""Warehouses, live stock, receipts, pledges, releases, price marks and stocktakes.

Keyword-only functions on the caller's session; they flush, never commit. Who may do what:

* the warehouse operator's organisation owns its warehouses, bays, cranes and stock; its
  ``warehouse_operator`` users (and admins) manage them and request releases;
* a bank (the lender's organisation) sees only the pledges it lent against — any other pledge
  is a 404 — and its ``scf_officer`` users create pledges, approve or reject releases and
  close pledges; risk and loan officers read;
* price marks are market data: any bank officer or admin may enter them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from anxin.collateral import alarms, valuation
from anxin.collateral.geometry import Layout, Zone
from anxin.collateral.geometry import ZoneKind as GeoKind
from anxin.collateral.lifts import Direction, Lift, LiftConfig
from anxin.collateral.models import (
    Commodity,
    Crane,
    CraneState,
    Loan,
    Movement,
    MovementKind,
    PledgeRow,
    PledgeState,
    PriceMark,
    Receipt,
    ReceiptStatus,
    ReleaseOrder,
    ReleaseStatus,
    StockOwner,
    StockPosition,
    Stocktake,
    Valuation,
    Warehouse,
    WarehouseZone,
    ZoneKind,
)
from anxin.collateral.schemas import (
    CommodityCreate,
    CraneCreate,
    OpeningBalance,
    OwnerCreate,
    PledgeCreate,
    PriceMarkIn,
    ReceiptCreate,
    ReleaseCreate,
    StocktakeCreate,
    WarehouseCreate,
    ZoneCreate,
)
from anxin.core.access import register_owner_scope
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.events import EventBus
from anxin.core.money import to_money
from anxin.core.security import Principal, Role
from anxin.iot import service as iot
from anxin.iot.schemas import DeviceCreate
from anxin.ledger.service import append_entry

log = logging.getLogger(__name__)

BANK_ROLES = frozenset({Role.SCF_OFFICER, Role.RISK_OFFICER, Role.LOAN_OFFICER})
OPERATOR_ROLES = frozenset({Role.WAREHOUSE_OPERATOR})
PRICE_ROLES = frozenset({Role.SCF_OFFICER, Role.RISK_OFFICER, Role.ADMIN})
RECEIPT_ENTRY = "collateral.receipt"
DEFAULT_COMMODITIES = (
    ("steel_coil", "钢卷", "Steel coil"),
    ("rebar", "螺纹钢", "Rebar"),
    ("rubber", "天然橡胶", "Natural rubber"),
    ("aluminium_ingot", "铝锭", "Aluminium ingot"),
)
KG_PER_T = 1000


def kg_to_t(kg: int) -> Decimal:
    return (Decimal(kg) / KG_PER_T).quantize(valuation.QTY_STEP)


def t_to_kg(t: Decimal) -> int:
    kg = t * KG_PER_T
    if kg != kg.to_integral_value():
        raise InvalidInput.field("quantity_t", "at most three decimal places (kilograms)")
    return int(kg)


# --- who sees what ----------------------------------------------------------------------


def _is_operator(principal: Principal) -> bool:
    return principal.role in OPERATOR_ROLES or principal.role == Role.ADMIN


def _is_bank(principal: Principal) -> bool:
    return principal.role in BANK_ROLES or principal.role == Role.ADMIN


def _visible_pledges_clause(principal: Principal) -> Any:
    clauses = []
    if _is_bank(principal):
        clauses.append(PledgeRow.lender_org_id == principal.organisation_id)
    if _is_operator(principal):
        mine = select(Warehouse.id).where(Warehouse.organisation_id == principal.organisation_id)
        clauses.append(PledgeRow.warehouse_id.in_(mine))
    return or_(*clauses) if clauses else PledgeRow.id.is_(None)


def visible_pledge_ids(session: Session, principal: Principal) -> Collection[str] | None:
    # Alarms of pledges live in the lender's organisation; its bank staff see them all.
    if _is_bank(principal):
        return None
    return ()


def visible_warehouse_ids(session: Session, principal: Principal) -> Collection[str] | None:
    if _is_operator(principal):
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


register_owner_scope("pledge", visible_pledge_ids)
register_owner_scope("warehouse", visible_warehouse_ids)


# --- reference data ---------------------------------------------------------------------


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
    if not (_is_operator(principal) or _is_bank(principal)):
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


# --- warehouses, zones, cranes ----------------------------------------------------------


def create_warehouse(
    *, session: Session, principal: Principal, data: WarehouseCreate, now: datetime
) -> Warehouse:
    if not _is_operator(principal):
        raise PermissionDenied("only warehouse operators create warehouses")
    if session.scalar(select(Warehouse).where(Warehouse.code == data.code)) is not None:
        raise Conflict(f"warehouse {data.code!r} exists")
    row = Warehouse(organisation_id=principal.organisation_id, created_at=now, **data.model_dump())
    session.add(row)
    session.flush()
    return row


def get_warehouse(*, session: Session, principal: Principal, warehouse_id: str) -> Warehouse:
    row = session.get(Warehouse, warehouse_id)
    if row is None:
        raise NotFound(f"no warehouse {warehouse_id}")
    if row.organisation_id == principal.organisation_id and _is_operator(principal):
        return row
    visible = visible_warehouse_ids(session, principal)
    if visible is not None and row.id in visible:
        return row
    raise NotFound(f"no warehouse {warehouse_id}")


def _own_warehouse(session: Session, principal: Principal, warehouse_id: str) -> Warehouse:
    row = session.get(Warehouse, warehouse_id)
    if row is None or row.organisation_id != principal.organisation_id:
        raise NotFound(f"no warehouse {warehouse_id}")
    if not _is_operator(principal):
        raise PermissionDenied("only the warehouse operator may change the warehouse")
    return row


def list_warehouses(*, session: Session, principal: Principal) -> list[Warehouse]:
    stmt = select(Warehouse).order_by(Warehouse.code)
    if _is_operator(principal):
        own = Warehouse.organisation_id == principal.organisation_id
        visible = visible_warehouse_ids(session, principal)
        stmt = stmt.where(own if visible is None else or_(own, Warehouse.id.in_(list(visible))))
    else:
        visible = visible_warehouse_ids(session, principal)
        stmt = stmt.where(Warehouse.id.in_(list(visible or ())))
    return list(session.scalars(stmt))


def add_zone(
    *, session: Session, principal: Principal, warehouse_id: str, data: ZoneCreate, now: datetime
) -> WarehouseZone:
    warehouse = _own_warehouse(session, principal, warehouse_id)
    existing = zones_of(session, warehouse.id)
    if any(z.code == data.code for z in existing):
        raise Conflict(f"zone {data.code!r} exists in {warehouse.code}")
    try:
        candidate = Zone(data.code, GeoKind(data.kind.value), tuple(data.polygon))
        Layout.of([*(geo_zone(z) for z in existing), candidate])
    except ValueError as exc:
        raise InvalidInput.field("polygon", str(exc)) from exc
    commodity_id = commodity_by_code(session, data.commodity).id if data.commodity else None
    if data.owner_id:
        get_owner(session, data.owner_id)
    row = WarehouseZone(
        warehouse_id=warehouse.id,
        code=data.code,
        kind=data.kind,
        polygon=[list(p) for p in data.polygon],
        commodity_id=commodity_id,
        owner_id=data.owner_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def zones_of(session: Session, warehouse_id: str) -> list[WarehouseZone]:
    return list(
        session.scalars(
            select(WarehouseZone)
            .where(WarehouseZone.warehouse_id == warehouse_id)
            .order_by(WarehouseZone.code)
        )
    )


def geo_zone(row: WarehouseZone) -> Zone:
    return Zone(
        row.code, GeoKind(row.kind.value), tuple((float(x), float(y)) for x, y in row.polygon)
    )


def layout_of(session: Session, warehouse_id: str) -> Layout:
    return Layout.of(geo_zone(z) for z in zones_of(session, warehouse_id))


def zone_by_code(session: Session, warehouse_id: str, code: str) -> WarehouseZone:
    row = session.scalar(
        select(WarehouseZone).where(
            WarehouseZone.warehouse_id == warehouse_id, WarehouseZone.code == code
        )
    )
    if row is None:
        raise InvalidInput.field("zone", f"no zone {code!r} in this warehouse")
    return row


def register_crane(
    *, session: Session, principal: Principal, warehouse_id: str, data: CraneCreate, now: datetime
) -> tuple[Crane, dict[str, str]]:
    """A crane with its hook scale and positioner; returns the devices' tokens (shown once)."""
    warehouse = _own_warehouse(session, principal, warehouse_id)
    try:
        config = LiftConfig.from_dict({**data.config, "hook_tare_kg": data.hook_tare_kg})
    except (TypeError, ValueError) as exc:
        raise InvalidInput.field("config", str(exc)) from exc
    tokens: dict[str, str] = {}
    devices = {}
    for device_type, label in (
        ("crane_hook_scale", "吊钩秤 hook scale"),
        ("crane_positioner", "定位器 positioner"),
    ):
        device, token = iot.register_device(
            session=session,
            organisation_id=warehouse.organisation_id,
            data=DeviceCreate(
                device_type=device_type,
                name=f"{warehouse.code} {data.code} {label}",
                owner_kind="warehouse",
                owner_id=warehouse.id,
                attributes={"crane": data.code},
            ),
            now=now,
        )
        devices[device_type] = device
        tokens[device_type] = token
    crane = Crane(
        warehouse_id=warehouse.id,
        code=data.code,
        scale_device_id=devices["crane_hook_scale"].id,
        positioner_device_id=devices["crane_positioner"].id,
        config=config.to_dict(),
        created_at=now,
    )
    session.add(crane)
    session.flush()
    # The detector's state row exists from the start, so concurrent batches lock, not race.
    from anxin.collateral.lifts import LiftDetector

    detector = LiftDetector(crane.code, layout_of(session, warehouse.id), config)
    session.add(
        CraneState(crane_id=crane.id, state=detector.state_dict(), alarmed=[], updated_at=now)
    )
    session.flush()
    return crane, tokens


def cranes_of(session: Session, warehouse_id: str) -> list[Crane]:
    return list(
        session.scalars(
            select(Crane).where(Crane.warehouse_id == warehouse_id).order_by(Crane.code)
        )
    )


def crane_for_device(session: Session, device_id: str) -> Crane | None:
    return session.scalar(
        select(Crane).where(
            or_(Crane.scale_device_id == device_id, Crane.positioner_device_id == device_id)
        )
    )


def crane_state(session: Session, crane_id: str, *, lock: bool) -> CraneState | None:
    stmt = select(CraneState).where(CraneState.crane_id == crane_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


# --- stock ------------------------------------------------------------------------------


def _position(
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


def _adjust(
    session: Session,
    warehouse_id: str,
    zone_id: str,
    commodity_id: str,
    owner_id: str,
    delta_kg: int,
    now: datetime,
) -> StockPosition:
    row = _position(session, warehouse_id, zone_id, commodity_id, owner_id, now)
    row.quantity_kg = int(row.quantity_kg) + delta_kg
    row.updated_at = now
    return row


def set_opening_balance(
    *,
    session: Session,
    principal: Principal,
    warehouse_id: str,
    data: OpeningBalance,
    now: datetime,
) -> Movement:
    warehouse = _own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = _position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
    delta = data.quantity_kg - int(position.quantity_kg)
    position.quantity_kg = data.quantity_kg
    position.updated_at = now
    movement = Movement(
        id=f"opening-{uuid.uuid4()}",
        warehouse_id=warehouse.id,
        kind=MovementKind.OPENING,
        direction="opening",
        to_zone_id=zone.id,
        commodity_id=commodity.id,
        owner_id=data.owner_id,
        quantity_kg=delta,
        occurred_at=now,
        recorded_at=now,
        details={"balance_kg": data.quantity_kg},
    )
    session.add(movement)
    session.flush()
    return movement


def stock(*, session: Session, principal: Principal, warehouse_id: str) -> list[dict[str, Any]]:
    """Live stock per bay, commodity and owner, with the pledge (if any) holding it."""
    warehouse = get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    rows = session.execute(
        select(StockPosition, WarehouseZone.code, Commodity.code, StockOwner.name, Receipt)
        .join(WarehouseZone, WarehouseZone.id == StockPosition.zone_id)
        .join(Commodity, Commodity.id == StockPosition.commodity_id)
        .join(StockOwner, StockOwner.id == StockPosition.owner_id)
        .outerjoin(
            Receipt,
            and_(
                Receipt.zone_id == StockPosition.zone_id,
                Receipt.commodity_id == StockPosition.commodity_id,
                Receipt.owner_id == StockPosition.owner_id,
                Receipt.live_key.is_not(None),
            ),
        )
        .where(StockPosition.warehouse_id == warehouse.id)
        .order_by(WarehouseZone.code, Commodity.code)
    )
    bank_only = not (
        _is_operator(principal) and warehouse.organisation_id == principal.organisation_id
    )
    mine = set(session.scalars(select(PledgeRow.id).where(_visible_pledges_clause(principal))))
    out = []
    for pos, zone_code, commodity_code, owner_name, receipt in rows:
        pledge_id = (
            receipt.pledge_id
            if receipt is not None and receipt.status == ReceiptStatus.PLEDGED
            else None
        )
        if bank_only and pledge_id not in mine:
            continue  # a bank sees only the stock it holds in pledge
        out.append(
            {
                "zone": zone_code,
                "commodity": commodity_code,
                "owner_id": pos.owner_id,
                "owner": owner_name,
                "quantity_kg": int(pos.quantity_kg),
                "quantity_t": str(kg_to_t(int(pos.quantity_kg))),
                "receipt": receipt.number if receipt is not None else None,
                "pledge_id": pledge_id if pledge_id in mine else ("pledged" if pledge_id else None),
            }
        )
    return out


def _pledged_receipt(
    session: Session, zone_id: str, commodity_id: str, owner_id: str
) -> Receipt | None:
    return session.scalar(
        select(Receipt).where(
            Receipt.zone_id == zone_id,
            Receipt.commodity_id == commodity_id,
            Receipt.owner_id == owner_id,
            Receipt.status == ReceiptStatus.PLEDGED,
        )
    )


def _bay_goods(session: Session, zone: WarehouseZone) -> tuple[str | None, str | None]:
    """What a lift out of this bay carries: its largest holding, else its assigned goods."""
    row = session.execute(
        select(StockPosition.commodity_id, StockPosition.owner_id)
        .where(StockPosition.zone_id == zone.id, StockPosition.quantity_kg > 0)
        .order_by(StockPosition.quantity_kg.desc())
        .limit(1)
    ).first()
    if row is not None:
        return row[0], row[1]
    return zone.commodity_id, zone.owner_id


# --- lifts become movements -------------------------------------------------------------


@dataclass
class LiftOutcome:
    movement: Movement | None
    alarms: list[str] = field(default_factory=list)
    duplicate: bool = False


def _approved_releases(session: Session, pledge_id: str) -> list[ReleaseOrder]:
    return list(
        session.scalars(
            select(ReleaseOrder)
            .where(
                ReleaseOrder.pledge_id == pledge_id, ReleaseOrder.status == ReleaseStatus.APPROVED
            )
            .order_by(ReleaseOrder.decided_at, ReleaseOrder.id)
            .with_for_update()
        )
    )


def release_remaining_kg(session: Session, pledge_id: str) -> int:
    return sum(r.quantity_kg - r.consumed_kg for r in _approved_releases(session, pledge_id))


def release_tolerance_kg(quantity_kg: int) -> int:
    """What a weighed lift may exceed its release by: the scale's own uncertainty (1 %, ≥ 20 kg)."""
    return max(20, abs(quantity_kg) // 100)


def pledge_of_bay(session: Session, zone_id: str | None) -> tuple[PledgeRow, Receipt] | None:
    """The active pledge holding stock in this bay (any commodity), if any."""
    if zone_id is None:
        return None
    row = session.execute(
        select(PledgeRow, Receipt)
        .join(Receipt, Receipt.pledge_id == PledgeRow.id)
        .where(
            Receipt.zone_id == zone_id,
            Receipt.status == ReceiptStatus.PLEDGED,
            PledgeRow.state == PledgeState.ACTIVE,
        )
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def provisional_outbound(
    *, session: Session, crane: Crane, lift: Lift, now: datetime, bus: EventBus | None
) -> bool:
    """A load from a pledged bay is over a gate (maybe still on the hook): alarm at once unless
    an approved release still has quantity left. Returns True if an alarm was raised."""
    if lift.direction != Direction.OUTBOUND:
        return False
    zone = session.scalar(
        select(WarehouseZone).where(
            WarehouseZone.warehouse_id == crane.warehouse_id, WarehouseZone.code == lift.pick_zone
        )
    )
    held = pledge_of_bay(session, zone.id if zone else None)
    if held is None:
        return False
    pledge, receipt = held
    if release_remaining_kg(session, pledge.id) > 0:
        return False  # the final lift will be weighed against the release
    alarms.raise_for_pledge(
        session=session,
        pledge=pledge,
        alarm_type="unauthorised_removal",
        source_kind="lift",
        source_id=lift.lift_id,
        details={
            "lift_id": lift.lift_id,
            "crane": crane.code,
            "from": lift.pick_zone,
            "to": lift.set_zone,
            "estimated_kg": round(lift.net_kg),
            "provisional": True,
            "receipt": receipt.number,
            "picked_at": lift.picked_at.isoformat(),
        },
        now=now,
        bus=bus,
        title_suffix=f" — {crane.code} {lift.pick_zone}→{lift.set_zone}",
    )
    return True


def apply_lift(
    *,
    session: Session,
    crane: Crane,
    lift: Lift,
    now: datetime,
    bus: EventBus | None,
    already_alarmed: bool = False,
) -> LiftOutcome:
    """Book a finished lift as a stock movement (once: its id is the lift id)."""
    if session.get(Movement, lift.lift_id) is not None:
        return LiftOutcome(None, duplicate=True)
    config = LiftConfig.from_dict(crane.config)
    qty = int(lift.quantity_kg(config.resolution_kg))
    codes = {z.code: z for z in zones_of(session, crane.warehouse_id)}
    src = codes.get(lift.pick_zone) if lift.pick_zone else None
    dst = codes.get(lift.set_zone) if lift.set_zone else None
    commodity_id: str | None = None
    owner_id: str | None = None
    flags = [f.value for f in lift.flags]
    changes: list[tuple[WarehouseZone, int]] = []
    if lift.direction in (Direction.OUTBOUND, Direction.INTERNAL) and src is not None:
        commodity_id, owner_id = _bay_goods(session, src)
        changes.append((src, -qty))
        if lift.direction == Direction.INTERNAL and dst is not None:
            changes.append((dst, qty))
    elif lift.direction == Direction.INBOUND and dst is not None:
        commodity_id, owner_id = dst.commodity_id, dst.owner_id
        if commodity_id is None or owner_id is None:
            commodity_id, owner_id = _bay_goods(session, dst)
        changes.append((dst, qty))
    pledge_hit: tuple[PledgeRow, Receipt] | None = None
    if commodity_id is None or owner_id is None:
        changes = []
        if lift.direction != Direction.CROSS_DOCK:
            flags.append("NO_GOODS_KNOWN")
    else:
        for zone, delta in changes:
            _adjust(session, crane.warehouse_id, zone.id, commodity_id, owner_id, delta, now)
            receipt = _pledged_receipt(session, zone.id, commodity_id, owner_id)
            if receipt is not None and receipt.pledge_id is not None and pledge_hit is None:
                pledge = session.get(PledgeRow, receipt.pledge_id)
                if pledge is not None and pledge.state == PledgeState.ACTIVE:
                    pledge_hit = (pledge, receipt)
    if src is not None and pledge_hit is None and lift.direction == Direction.UNKNOWN:
        pledge_hit = pledge_of_bay(session, src.id)
    movement = Movement(
        id=lift.lift_id,
        warehouse_id=crane.warehouse_id,
        crane_id=crane.id,
        kind=MovementKind.LIFT,
        direction=lift.direction.value,
        from_zone_id=src.id if src else None,
        to_zone_id=dst.id if dst else None,
        commodity_id=commodity_id,
        owner_id=owner_id,
        quantity_kg=qty,
        weight_ok=lift.weight_ok,
        flags=flags,
        authorised=True,
        occurred_at=lift.set_at,
        recorded_at=now,
        details={
            "net_kg": round(lift.net_kg, 1),
            "tare_kg": round(lift.tare_kg, 1),
            "picked_at": lift.picked_at.isoformat(),
            "from": lift.pick_zone,
            "to": lift.set_zone,
            "crane": crane.code,
            "n_stable": lift.n_stable,
        },
    )
    session.add(movement)
    out = LiftOutcome(movement)
    if pledge_hit is None:
        session.flush()
        return out
    pledge, receipt = pledge_hit
    movement.pledge_id = pledge.id
    leaving = lift.direction == Direction.OUTBOUND and src is not None and src.id == receipt.zone_id
    if leaving:
        _consume_releases(session, pledge, movement, qty, now, bus, already_alarmed, out)
    elif lift.direction == Direction.UNKNOWN or (
        lift.direction == Direction.OUTBOUND and not lift.weight_ok
    ):
        out.alarms.append("lift_review")
        alarms.raise_for_pledge(
            session=session,
            pledge=pledge,
            alarm_type="lift_review",
            source_kind="lift",
            source_id=lift.lift_id,
            details={
                "lift_id": lift.lift_id,
                "flags": flags,
                "crane": crane.code,
                "from": lift.pick_zone,
                "to": lift.set_zone,
                "quantity_kg": qty,
            },
            now=now,
            bus=bus,
        )
    session.flush()
    out.alarms += revalue_pledges(
        session=session, pledge_ids=[pledge.id], now=now, bus=bus, cause="movement"
    ).alarms
    return out


def _consume_releases(
    session: Session,
    pledge: PledgeRow,
    movement: Movement,
    qty: int,
    now: datetime,
    bus: EventBus | None,
    already_alarmed: bool,
    out: LiftOutcome,
) -> None:
    need = qty
    covered_by: str | None = None
    for release in _approved_releases(session, pledge.id):
        if need <= 0:
            break
        take = min(need, release.quantity_kg - release.consumed_kg)
        if take <= 0:
            continue
        release.consumed_kg += take
        need -= take
        covered_by = covered_by or release.id
        if release.quantity_kg - release.consumed_kg <= release_tolerance_kg(release.quantity_kg):
            release.status = ReleaseStatus.CONSUMED
    movement.release_id = covered_by
    if need <= release_tolerance_kg(qty) and covered_by is not None:
        return
    movement.authorised = False
    kind = "release_exceeded" if covered_by is not None else "unauthorised_removal"
    movement.details = {**movement.details, "unreleased_kg": need}
    out.alarms.append(kind)
    if already_alarmed and kind == "unauthorised_removal":
        return  # raised already while the load was on the hook
    details = movement.details
    alarms.raise_for_pledge(
        session=session,
        pledge=pledge,
        alarm_type=kind,
        source_kind="lift",
        source_id=movement.id,
        details={
            "lift_id": movement.id,
            "quantity_kg": qty,
            "unreleased_kg": need,
            "from": details.get("from"),
            "to": details.get("to"),
            "crane": details.get("crane"),
            "picked_at": details.get("picked_at"),
        },
        now=now,
        bus=bus,
        title_suffix=f" — {details.get('crane')} {details.get('from')}→{details.get('to')}",
    )


def list_movements(
    *,
    session: Session,
    principal: Principal,
    warehouse_id: str | None = None,
    pledge_id: str | None = None,
    limit: int = 200,
) -> list[Movement]:
    stmt = (
        select(Movement).order_by(Movement.occurred_at.desc(), Movement.id).limit(min(limit, 2000))
    )
    if pledge_id is not None:
        get_pledge(session=session, principal=principal, pledge_id=pledge_id)
        pledge_zones = select(Receipt.zone_id).where(Receipt.pledge_id == pledge_id)
        stmt = stmt.where(
            or_(
                Movement.pledge_id == pledge_id,
                Movement.from_zone_id.in_(pledge_zones),
                Movement.to_zone_id.in_(pledge_zones),
            )
        )
    elif warehouse_id is not None:
        _own_warehouse_or_visible(session, principal, warehouse_id)
        stmt = stmt.where(Movement.warehouse_id == warehouse_id)
        if not _operator_of(session, principal, warehouse_id):
            mine = select(PledgeRow.id).where(_visible_pledges_clause(principal))
            stmt = stmt.where(Movement.pledge_id.in_(mine))
    else:
        raise InvalidInput("give a warehouse or a pledge")
    return list(session.scalars(stmt))


def _operator_of(session: Session, principal: Principal, warehouse_id: str) -> bool:
    row = session.get(Warehouse, warehouse_id)
    return (
        row is not None
        and row.organisation_id == principal.organisation_id
        and _is_operator(principal)
    )


def _own_warehouse_or_visible(
    session: Session, principal: Principal, warehouse_id: str
) -> Warehouse:
    return get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)


# --- receipts on the ledger -------------------------------------------------------------


def _stock_key(receipt: Receipt) -> str:
    return f"{receipt.warehouse_id}:{receipt.zone_id}:{receipt.commodity_id}"


def _anchor(
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
    warehouse = _own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    if zone.kind != ZoneKind.BAY:
        raise InvalidInput.field("zone", "receipts are issued for stock in a bay")
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = _position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
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
    _anchor(session, receipt, "issue", warehouse.organisation_id, now)
    session.flush()
    return receipt


def cancel_receipt(
    *, session: Session, principal: Principal, receipt_id: str, now: datetime
) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(f"no receipt {receipt_id}")
    warehouse = _own_warehouse(session, principal, receipt.warehouse_id)
    if receipt.status == ReceiptStatus.PLEDGED:
        raise RuleViolation("a pledged receipt cannot be cancelled; the bank must close the pledge")
    if receipt.status == ReceiptStatus.CANCELLED:
        raise RuleViolation("the receipt is already cancelled")
    receipt.status = ReceiptStatus.CANCELLED
    receipt.live_key = None
    _anchor(session, receipt, "cancel", warehouse.organisation_id, now)
    session.flush()
    return receipt


def list_receipts(*, session: Session, principal: Principal, warehouse_id: str) -> list[Receipt]:
    get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    stmt = select(Receipt).where(Receipt.warehouse_id == warehouse_id).order_by(Receipt.number)
    if not _operator_of(session, principal, warehouse_id):
        stmt = stmt.where(
            Receipt.pledge_id.in_(select(PledgeRow.id).where(_visible_pledges_clause(principal)))
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


# --- pledges ----------------------------------------------------------------------------


def create_pledge(
    *,
    session: Session,
    principal: Principal,
    data: PledgeCreate,
    now: datetime,
    bus: EventBus | None,
) -> PledgeRow:
    if principal.role not in (Role.SCF_OFFICER, Role.ADMIN):
        raise PermissionDenied("only a supply-chain-finance officer takes pledges")
    try:
        valuation.PledgeTerms(data.warning_ltv, data.margin_call_ltv, data.liquidation_ltv)
        valuation.Holding("x", Decimal(0), data.haircut, data.min_quantity_t)
    except valuation.ValuationError as exc:
        raise InvalidInput(str(exc)) from exc
    borrower = get_owner(session, data.borrower_id)
    if session.scalar(select(Loan).where(Loan.reference == data.loan_reference)) is not None:
        raise Conflict(f"loan {data.loan_reference!r} exists")
    receipts = []
    for rid in dict.fromkeys(data.receipt_ids):
        receipt = session.scalar(select(Receipt).where(Receipt.id == rid).with_for_update())
        if receipt is None:
            raise InvalidInput.field("receipt_ids", f"no receipt {rid}")
        if receipt.status == ReceiptStatus.PLEDGED:
            raise Conflict(f"receipt {receipt.number} already backs an active pledge")
        if receipt.status == ReceiptStatus.CANCELLED or receipt.live_key is None:
            raise RuleViolation(f"receipt {receipt.number} is cancelled")
        if receipt.owner_id != borrower.id:
            raise RuleViolation(f"receipt {receipt.number} is for another owner's goods")
        receipts.append(receipt)
    if len({(r.warehouse_id, r.commodity_id) for r in receipts}) != 1:
        raise RuleViolation("one pledge covers one commodity in one warehouse")
    loan = Loan(
        lender_org_id=principal.organisation_id,
        borrower_id=borrower.id,
        reference=data.loan_reference,
        principal=data.loan_amount,
        outstanding=data.loan_amount,
        created_at=now,
    )
    session.add(loan)
    session.flush()
    pledge = PledgeRow(
        loan_id=loan.id,
        lender_org_id=principal.organisation_id,
        borrower_id=borrower.id,
        warehouse_id=receipts[0].warehouse_id,
        commodity_id=receipts[0].commodity_id,
        haircut=data.haircut,
        warning_ltv=data.warning_ltv,
        margin_call_ltv=data.margin_call_ltv,
        liquidation_ltv=data.liquidation_ltv,
        min_quantity_kg=t_to_kg(data.min_quantity_t),
        state=PledgeState.ACTIVE,
        status="ok",
        quantity_kg=0,
        created_at=now,
    )
    session.add(pledge)
    session.flush()
    for receipt in receipts:
        # Guarded update: a concurrent pledge of the same receipt loses here (0 rows).
        done = session.execute(
            update(Receipt)
            .where(
                Receipt.id == receipt.id,
                Receipt.status != ReceiptStatus.PLEDGED,
                Receipt.live_key.is_not(None),
            )
            .values(status=ReceiptStatus.PLEDGED, pledge_id=pledge.id)
            .execution_options(synchronize_session="fetch")
        )
        if cast(Any, done).rowcount != 1:
            raise Conflict(f"receipt {receipt.number} already backs an active pledge")
        session.refresh(receipt)
        position = session.scalar(
            select(StockPosition.quantity_kg).where(
                StockPosition.zone_id == receipt.zone_id,
                StockPosition.commodity_id == receipt.commodity_id,
                StockPosition.owner_id == receipt.owner_id,
            )
        )
        _anchor(
            session,
            receipt,
            "pledge",
            principal.organisation_id,
            now,
            pledge=pledge.id,
            loan=loan.reference,
            lender=principal.organisation_id,
            quantity_now_kg=int(position or 0),
        )
    session.flush()
    revalue_pledges(session=session, pledge_ids=[pledge.id], now=now, bus=bus, cause="pledged")
    return pledge


def close_pledge(
    *,
    session: Session,
    principal: Principal,
    pledge_id: str,
    now: datetime,
    bus: EventBus | None,
) -> PledgeRow:
    pledge = get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    if (
        principal.role not in (Role.SCF_OFFICER, Role.ADMIN)
        or pledge.lender_org_id != principal.organisation_id
    ):
        raise PermissionDenied("only the lender's officer closes a pledge")
    if pledge.state != PledgeState.ACTIVE:
        raise RuleViolation("the pledge is already closed")
    for receipt in session.scalars(select(Receipt).where(Receipt.pledge_id == pledge.id)):
        if receipt.status == ReceiptStatus.PLEDGED:
            receipt.status = ReceiptStatus.RELEASED
            _anchor(session, receipt, "release", principal.organisation_id, now, pledge=pledge.id)
    pledge.state = PledgeState.CLOSED
    pledge.closed_at = now
    for kind in ("ltv_warning", "margin_call", "liquidation", "below_minimum_stock"):
        alarms.clear_for_pledge(
            session=session,
            pledge=pledge,
            alarm_type=kind,
            now=now,
            reason="pledge closed",
            bus=bus,
        )
    session.flush()
    return pledge


def get_pledge(*, session: Session, principal: Principal, pledge_id: str) -> PledgeRow:
    row = session.scalar(
        select(PledgeRow).where(PledgeRow.id == pledge_id, _visible_pledges_clause(principal))
    )
    if row is None:
        raise NotFound(f"no pledge {pledge_id}")
    return row


def list_pledges(
    *, session: Session, principal: Principal, active: bool | None = None
) -> list[PledgeRow]:
    stmt = select(PledgeRow).where(_visible_pledges_clause(principal))
    if active is not None:
        stmt = stmt.where(PledgeRow.state == (PledgeState.ACTIVE if active else PledgeState.CLOSED))
    return list(session.scalars(stmt.order_by(PledgeRow.created_at, PledgeRow.id)))


def pledge_receipts(session: Session, pledge_id: str) -> list[Receipt]:
    return list(session.scalars(select(Receipt).where(Receipt.pledge_id == pledge_id)))


def valuation_history(session: Session, pledge_id: str, limit: int = 500) -> list[Valuation]:
    rows = session.scalars(
        select(Valuation)
        .where(Valuation.pledge_id == pledge_id)
        .order_by(Valuation.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def latest_marks(session: Session, as_of: date | None = None) -> dict[str, Decimal]:
    """Commodity id -> the latest price mark on or before `as_of` (CNY per tonne)."""
    newest = select(PriceMark.commodity_id, func.max(PriceMark.as_of).label("d")).group_by(
        PriceMark.commodity_id
    )
    if as_of is not None:
        newest = newest.where(PriceMark.as_of <= as_of)
    sub = newest.subquery()
    rows = session.execute(
        select(PriceMark.commodity_id, PriceMark.price).join(
            sub, and_(PriceMark.commodity_id == sub.c.commodity_id, PriceMark.as_of == sub.c.d)
        )
    )
    return {cid: Decimal(price) for cid, price in rows}


def pledged_quantities(session: Session, pledge_ids: Sequence[str] | None) -> dict[str, int]:
    stmt = (
        select(Receipt.pledge_id, func.coalesce(func.sum(StockPosition.quantity_kg), 0))
        .join(
            StockPosition,
            and_(
                StockPosition.zone_id == Receipt.zone_id,
                StockPosition.commodity_id == Receipt.commodity_id,
                StockPosition.owner_id == Receipt.owner_id,
            ),
        )
        .where(Receipt.status == ReceiptStatus.PLEDGED)
        .group_by(Receipt.pledge_id)
    )
    out: dict[str, int] = {}
    ids = list(pledge_ids) if pledge_ids is not None else None
    chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)] if ids is not None else [None]
    for chunk in chunks:
        q = stmt if chunk is None else stmt.where(Receipt.pledge_id.in_(chunk))
        out.update({str(pid): int(kg) for pid, kg in session.execute(q)})
    return out


def pure_pledge(pledge: PledgeRow, outstanding: Decimal, quantity_kg: int) -> valuation.Pledge:
    return valuation.Pledge(
        pledge.id,
        to_money(outstanding),
        (
            valuation.Holding(
                pledge.commodity_id,
                kg_to_t(max(quantity_kg, 0)),
                Decimal(pledge.haircut).quantize(valuation.RATE_STEP),
                kg_to_t(pledge.min_quantity_kg),
            ),
        ),
        valuation.PledgeTerms(
            Decimal(pledge.warning_ltv).quantize(valuation.RATE_STEP),
            Decimal(pledge.margin_call_ltv).quantize(valuation.RATE_STEP),
            None
            if pledge.liquidation_ltv is None
            else Decimal(pledge.liquidation_ltv).quantize(valuation.RATE_STEP),
        ),
    )


@dataclass
class RevaluationReport:
    valued: int = 0
    unpriced: int = 0
    worsened: int = 0
    improved: int = 0
    alarms: list[str] = field(default_factory=list)


_STATUS_ORDER = {"ok": 0, "warning": 1, "margin_call": 2, "liquidation": 3, "unpriced": -1}


def revalue_pledges(
    *,
    session: Session,
    pledge_ids: Sequence[str] | None,
    now: datetime,
    bus: EventBus | None,
    cause: str,
) -> RevaluationReport:
    """Re-value active pledges (all of them when `pledge_ids` is None) with the latest marks and
    live stock; store the result and its history row; alarm on what got worse, clear what
    got better."""
    session.flush()
    stmt = (
        select(PledgeRow, Loan.outstanding)
        .join(Loan, Loan.id == PledgeRow.loan_id)
        .where(PledgeRow.state == PledgeState.ACTIVE)
    )
    if pledge_ids is not None:
        stmt = stmt.where(PledgeRow.id.in_(list(pledge_ids)))
    rows = list(session.execute(stmt))
    marks = latest_marks(session, now.date())
    quantities = pledged_quantities(
        session, None if pledge_ids is None else [p.id for p, _ in rows]
    )
    report = RevaluationReport()
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    for pledge, outstanding in rows:
        qty = quantities.get(pledge.id, 0)
        price = marks.get(pledge.commodity_id)
        pure = pure_pledge(pledge, Decimal(outstanding), qty)
        before = pledge.status
        below_before = pledge.below_minimum
        if price is None:
            report.unpriced += 1
            status, mv, lv, ltv = "unpriced", None, None, None
            below = qty < pledge.min_quantity_kg
        else:
            value = valuation.value_pledge(pure, {pledge.commodity_id: price})
            status = value.status.label
            mv, lv, ltv = value.market_value, value.lending_value, value.ltv
            below = bool(value.below_minimum)
        report.valued += 1
        updates.append(
            {
                "b_id": pledge.id,
                "status": status,
                "quantity_kg": qty,
                "market_value": mv,
                "lending_value": lv,
                "ltv": ltv,
                "below_minimum": below,
                "valued_at": now,
            }
        )
        history.append(
            {
                "pledge_id": pledge.id,
                "at": now,
                "quantity_kg": qty,
                "price": price,
                "market_value": mv,
                "lending_value": lv,
                "outstanding": Decimal(outstanding),
                "ltv": ltv,
                "status": status,
                "cause": cause,
            }
        )
        report.alarms += _status_alarms(
            session,
            pledge,
            before,
            status,
            below_before,
            below,
            {
                "ltv": str(ltv) if ltv is not None else None,
                "market_value": str(mv) if mv is not None else None,
                "outstanding": str(outstanding),
                "quantity_kg": qty,
                "price": str(price) if price is not None else None,
                "cause": cause,
            },
            now,
            bus,
        )
        if _STATUS_ORDER[status] > _STATUS_ORDER.get(before, 0):
            report.worsened += 1
        elif _STATUS_ORDER[status] < _STATUS_ORDER.get(before, 0):
            report.improved += 1
    table = cast(Table, PledgeRow.__table__)
    for start in range(0, len(updates), 1000):
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                status=bindparam("status"),
                quantity_kg=bindparam("quantity_kg"),
                market_value=bindparam("market_value"),
                lending_value=bindparam("lending_value"),
                ltv=bindparam("ltv"),
                below_minimum=bindparam("below_minimum"),
                valued_at=bindparam("valued_at"),
            )
            .execution_options(synchronize_session=False),
            updates[start : start + 1000],
        )
    if history:
        for start in range(0, len(history), 1000):
            session.execute(insert(Valuation), history[start : start + 1000])
    for pledge, _ in rows:
        session.expire(pledge)
    return report


def _status_alarms(
    session: Session,
    pledge: PledgeRow,
    before: str,
    after: str,
    below_before: bool,
    below: bool,
    details: dict[str, Any],
    now: datetime,
    bus: EventBus | None,
) -> list[str]:
    raised: list[str] = []
    b, a = _STATUS_ORDER.get(before, 0), _STATUS_ORDER[after]
    if a > b and after in alarms.STATUS_ALARMS:
        kind = alarms.STATUS_ALARMS[after]
        alarms.raise_for_pledge(
            session=session,
            pledge=pledge,
            alarm_type=kind,
            source_kind=alarms.OWNER_KIND,
            source_id=pledge.id,
            details=details,
            now=now,
            bus=bus,
        )
        raised.append(kind)
    if a < b:
        for status, kind in alarms.STATUS_ALARMS.items():
            if _STATUS_ORDER[status] > a:
                alarms.clear_for_pledge(
                    session=session,
                    pledge=pledge,
                    alarm_type=kind,
                    now=now,
                    reason=f"LTV back to {after}",
                    bus=bus,
                )
    if below and not below_before:
        alarms.raise_for_pledge(
            session=session,
            pledge=pledge,
            alarm_type="below_minimum_stock",
            source_kind=alarms.OWNER_KIND,
            source_id=pledge.id,
            details={**details, "min_quantity_kg": pledge.min_quantity_kg},
            now=now,
            bus=bus,
        )
        raised.append("below_minimum_stock")
    elif below_before and not below:
        alarms.clear_for_pledge(
            session=session,
            pledge=pledge,
            alarm_type="below_minimum_stock",
            now=now,
            reason="stock back above the minimum",
            bus=bus,
        )
    return raised


# --- price marks ------------------------------------------------------------------------


def add_price_marks(
    *,
    session: Session,
    principal: Principal | None,
    marks: Sequence[PriceMarkIn],
    now: datetime,
    bus: EventBus | None,
) -> RevaluationReport:
    """Store marks (a repeat for the same commodity and day replaces it) and re-value every
    active pledge. `principal` None is the system (the CSV feed command)."""
    if principal is not None and principal.role not in PRICE_ROLES:
        raise PermissionDenied("only bank officers and admins enter price marks")
    for mark in marks:
        commodity = commodity_by_code(session, mark.commodity)
        row = session.scalar(
            select(PriceMark).where(
                PriceMark.commodity_id == commodity.id, PriceMark.as_of == mark.as_of
            )
        )
        if row is None:
            session.add(
                PriceMark(
                    commodity_id=commodity.id,
                    as_of=mark.as_of,
                    price=mark.price,
                    source=mark.source,
                    created_at=now,
                )
            )
        else:
            row.price = mark.price
            row.source = mark.source
    session.flush()
    return revalue_pledges(session=session, pledge_ids=None, now=now, bus=bus, cause="price")


def list_marks(*, session: Session, limit: int = 200) -> list[tuple[PriceMark, str]]:
    rows = session.execute(
        select(PriceMark, Commodity.code)
        .join(Commodity, Commodity.id == PriceMark.commodity_id)
        .order_by(PriceMark.as_of.desc(), Commodity.code)
        .limit(limit)
    )
    return [(m, c) for m, c in rows]


def parse_price_csv(text: str) -> list[PriceMarkIn]:
    """``date,commodity,price_cny_per_t[,source]`` with a header line; errors name the line."""
    import csv
    import io

    from pydantic import ValidationError

    reader = csv.reader(io.StringIO(text))
    out: list[PriceMarkIn] = []
    problems: list[str] = []
    for n, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if n == 1 and row[0].strip().lower() in ("date", "as_of"):
            continue
        if len(row) < 3:
            problems.append(f"line {n}: need date,commodity,price")
            continue
        try:
            out.append(
                PriceMarkIn(
                    as_of=row[0].strip(),
                    commodity=row[1].strip(),
                    price=Decimal(row[2].strip()),
                    source=(row[3].strip() if len(row) > 3 else "csv"),
                )
            )
        except (ValidationError, ArithmeticError, ValueError) as exc:
            problems.append(f"line {n}: {exc}".splitlines()[0])
    if problems:
        raise InvalidInput("; ".join(problems[:20]))
    if not out:
        raise InvalidInput("the CSV holds no price marks")
    return out


# --- release orders ---------------------------------------------------------------------


def request_release(
    *, session: Session, principal: Principal, pledge_id: str, data: ReleaseCreate, now: datetime
) -> ReleaseOrder:
    pledge = get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    if pledge.state != PledgeState.ACTIVE:
        raise RuleViolation("the pledge is closed")
    if principal.role not in (Role.WAREHOUSE_OPERATOR, Role.SCF_OFFICER, Role.ADMIN):
        raise PermissionDenied("releases are requested by the warehouse operator for the borrower")
    release = ReleaseOrder(
        pledge_id=pledge.id,
        quantity_kg=t_to_kg(data.quantity_t),
        consumed_kg=0,
        status=ReleaseStatus.REQUESTED,
        note=data.note,
        requested_by=principal.user_id,
        requested_at=now,
    )
    session.add(release)
    session.flush()
    return release


def _release(
    session: Session, principal: Principal, release_id: str
) -> tuple[ReleaseOrder, PledgeRow]:
    release = session.get(ReleaseOrder, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    pledge = get_pledge(session=session, principal=principal, pledge_id=release.pledge_id)
    return release, pledge


def decide_release(
    *,
    session: Session,
    principal: Principal,
    release_id: str,
    approve: bool,
    note: str,
    now: datetime,
) -> ReleaseOrder:
    release, pledge = _release(session, principal, release_id)
    if principal.role != Role.SCF_OFFICER or pledge.lender_org_id != principal.organisation_id:
        raise PermissionDenied(
            "only the lending bank's supply-chain-finance officer decides releases"
        )
    if release.status != ReleaseStatus.REQUESTED:
        raise RuleViolation(f"the release is {release.status.value}, not awaiting a decision")
    if approve:
        loan = session.get(Loan, pledge.loan_id)
        assert loan is not None
        marks = latest_marks(session, now.date())
        if pledge.commodity_id not in marks:
            raise RuleViolation("no price mark for the commodity: cannot judge the release")
        qty = pledged_quantities(session, [pledge.id]).get(pledge.id, 0)
        pending = release_remaining_kg(session, pledge.id)
        pure = pure_pledge(pledge, Decimal(loan.outstanding), max(qty - pending, 0))
        check = valuation.check_release(
            pure,
            pledge.commodity_id,
            kg_to_t(release.quantity_kg),
            {pledge.commodity_id: marks[pledge.commodity_id]},
        )
        if not check.allowed:
            raise RuleViolation("release refused: " + "; ".join(check.reasons))
    release.status = ReleaseStatus.APPROVED if approve else ReleaseStatus.REJECTED
    release.decided_by = principal.user_id
    release.decided_at = now
    release.decision_note = note
    session.flush()
    return release


def list_releases(*, session: Session, principal: Principal, pledge_id: str) -> list[ReleaseOrder]:
    get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    return list(
        session.scalars(
            select(ReleaseOrder)
            .where(ReleaseOrder.pledge_id == pledge_id)
            .order_by(ReleaseOrder.requested_at.desc(), ReleaseOrder.id)
        )
    )


# --- stocktakes -------------------------------------------------------------------------


def record_stocktake(
    *,
    session: Session,
    principal: Principal,
    warehouse_id: str,
    data: StocktakeCreate,
    now: datetime,
    bus: EventBus | None,
) -> Stocktake:
    """Reconcile a count against the book. Within the weighing tolerance of the lifts since
    the last count: matched. Else, if lifts the detector could not weigh or place (flagged)
    could account for it: explained, with those lifts named. Else: raised (an alarm to the
    lender if the stock is pledged). The book is then set to the count."""
    warehouse = _own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = _position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
    book = int(position.quantity_kg)
    diff = data.counted_kg - book
    last = session.scalar(
        select(func.max(Stocktake.counted_at)).where(
            Stocktake.zone_id == zone.id,
            Stocktake.commodity_id == commodity.id,
            Stocktake.owner_id == data.owner_id,
        )
    )
    lifts_q = select(Movement).where(
        Movement.kind == MovementKind.LIFT,
        or_(Movement.from_zone_id == zone.id, Movement.to_zone_id == zone.id),
    )
    if last is not None:
        lifts_q = lifts_q.where(Movement.recorded_at > last)
    lifts = list(session.scalars(lifts_q))
    gross = sum(abs(m.quantity_kg) for m in lifts)
    # Each booked lift is rounded to the 10 kg division and weighed within ~0.5 %.
    tolerance = max(10, 5 * len(lifts) + gross // 200)
    doubtful = [
        m
        for m in lifts
        if not m.weight_ok
        or m.direction == Direction.UNKNOWN.value
        or any(f.startswith("STALE") or f.startswith("NO_") for f in m.flags)
    ]
    doubtful_kg = sum(abs(m.quantity_kg) for m in doubtful)
    if abs(diff) <= tolerance:
        outcome = "matched"
        explanation = (
            f"差异在称重容差内 within weighing tolerance ±{tolerance} kg over {len(lifts)} lifts"
        )
    elif doubtful and abs(diff) <= doubtful_kg + tolerance:
        outcome = "explained"
        explanation = (
            f"可由 {len(doubtful)} 次待复核吊装解释 explained by {len(doubtful)} flagged lifts "
            f"({doubtful_kg} kg): " + ", ".join(m.id[:8] for m in doubtful[:10])
        )
    else:
        outcome = "raised"
        explanation = (
            f"无法解释的差异 unexplained difference {diff:+d} kg "
            f"(tolerance ±{tolerance} kg, flagged lifts {doubtful_kg} kg)"
        )
    take = Stocktake(
        warehouse_id=warehouse.id,
        zone_id=zone.id,
        commodity_id=commodity.id,
        owner_id=data.owner_id,
        counted_kg=data.counted_kg,
        book_kg=book,
        difference_kg=diff,
        tolerance_kg=tolerance,
        lifts_since=len(lifts),
        outcome=outcome,
        explanation=explanation,
        counted_by=principal.user_id,
        counted_at=now,
    )
    session.add(take)
    session.flush()
    if diff:
        position.quantity_kg = data.counted_kg
        position.updated_at = now
        session.add(
            Movement(
                id=f"stocktake-{take.id}",
                warehouse_id=warehouse.id,
                kind=MovementKind.STOCKTAKE,
                direction="adjustment",
                to_zone_id=zone.id,
                commodity_id=commodity.id,
                owner_id=data.owner_id,
                quantity_kg=diff,
                occurred_at=now,
                recorded_at=now,
                details={"stocktake": take.id, "outcome": outcome},
            )
        )
    receipt = _pledged_receipt(session, zone.id, commodity.id, data.owner_id)
    pledge = session.get(PledgeRow, receipt.pledge_id) if receipt and receipt.pledge_id else None
    if pledge is not None and pledge.state == PledgeState.ACTIVE:
        if outcome == "raised":
            alarms.raise_for_pledge(
                session=session,
                pledge=pledge,
                alarm_type="stocktake_discrepancy",
                source_kind="stocktake",
                source_id=take.id,
                details={
                    "zone": zone.code,
                    "book_kg": book,
                    "counted_kg": data.counted_kg,
                    "difference_kg": diff,
                    "tolerance_kg": tolerance,
                },
                now=now,
                bus=bus,
            )
        session.flush()
        revalue_pledges(
            session=session, pledge_ids=[pledge.id], now=now, bus=bus, cause="stocktake"
        )
    session.flush()
    return take


def list_stocktakes(
    *, session: Session, principal: Principal, warehouse_id: str
) -> list[Stocktake]:
    get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)
    return list(
        session.scalars(
            select(Stocktake)
            .where(Stocktake.warehouse_id == warehouse_id)
            .order_by(Stocktake.counted_at.desc())
            .limit(200)
        )
    )
