"""Warehouses, their zones (bays and gates, as polygons) and cranes with their two devices.

The operator's organisation owns its warehouses; only its operators change them. A bank sees
the warehouses that hold stock it lends against (``get_warehouse``, ``list_warehouses``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from anxin.collateral.geometry import Layout, Zone
from anxin.collateral.geometry import ZoneKind as GeoKind
from anxin.collateral.lifts import LiftConfig
from anxin.collateral.models import Crane, CraneState, Warehouse, WarehouseZone
from anxin.collateral.schemas import CraneCreate, WarehouseCreate, ZoneCreate
from anxin.collateral.service.common import is_operator, visible_warehouse_ids
from anxin.collateral.service.reference import commodity_by_code, get_owner
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal
from anxin.iot import service as iot
from anxin.iot.schemas import DeviceCreate


def create_warehouse(
    *, session: Session, principal: Principal, data: WarehouseCreate, now: datetime
) -> Warehouse:
    if not is_operator(principal):
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
    if row.organisation_id == principal.organisation_id and is_operator(principal):
        return row
    visible = visible_warehouse_ids(session, principal)
    if visible is not None and row.id in visible:
        return row
    raise NotFound(f"no warehouse {warehouse_id}")


def own_warehouse(session: Session, principal: Principal, warehouse_id: str) -> Warehouse:
    row = session.get(Warehouse, warehouse_id)
    if row is None or row.organisation_id != principal.organisation_id:
        raise NotFound(f"no warehouse {warehouse_id}")
    if not is_operator(principal):
        raise PermissionDenied("only the warehouse operator may change the warehouse")
    return row


def list_warehouses(*, session: Session, principal: Principal) -> list[Warehouse]:
    stmt = select(Warehouse).order_by(Warehouse.code)
    if is_operator(principal):
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
    warehouse = own_warehouse(session, principal, warehouse_id)
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
    warehouse = own_warehouse(session, principal, warehouse_id)
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
