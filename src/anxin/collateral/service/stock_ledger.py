"""The stock ledger: live positions per bay, opening balances, lifts booked as movements, and
stocktakes that reconcile a count against the book.

A finished lift is booked once, as a movement between bays (or in or out at a gate). A lift
out of a pledged bay is weighed against the pledge's approved releases; what no release covers
is an alarm to the lender. Lifts and stocktakes that touch pledged stock re-value the pledge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from anxin.collateral import alarms
from anxin.collateral.lifts import Direction, Lift, LiftConfig
from anxin.collateral.models import (
    Commodity,
    Crane,
    Movement,
    MovementKind,
    PledgeRow,
    PledgeState,
    Receipt,
    ReceiptStatus,
    ReleaseStatus,
    StockOwner,
    StockPosition,
    Stocktake,
    Warehouse,
    WarehouseZone,
)
from anxin.collateral.schemas import OpeningBalance, StocktakeCreate
from anxin.collateral.service.common import (
    is_operator,
    kg_to_t,
    locked_position,
    operator_of,
    visible_pledges_clause,
)
from anxin.collateral.service.pledges import get_pledge, revalue_pledges
from anxin.collateral.service.reference import commodity_by_code, get_owner
from anxin.collateral.service.releases import (
    approved_releases,
    release_remaining_kg,
    release_tolerance_kg,
)
from anxin.collateral.service.warehouses import get_warehouse, own_warehouse, zone_by_code, zones_of
from anxin.core.errors import InvalidInput
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork

# --- stock ------------------------------------------------------------------------------


def _adjust(
    session: Session,
    warehouse_id: str,
    zone_id: str,
    commodity_id: str,
    owner_id: str,
    delta_kg: int,
    now: datetime,
) -> StockPosition:
    row = locked_position(session, warehouse_id, zone_id, commodity_id, owner_id, now)
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
    warehouse = own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = locked_position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
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
        is_operator(principal) and warehouse.organisation_id == principal.organisation_id
    )
    mine = set(session.scalars(select(PledgeRow.id).where(visible_pledges_clause(principal))))
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
    *,
    uow: UnitOfWork,
    crane: Crane,
    lift: Lift,
    now: datetime,
) -> bool:
    """A load from a pledged bay is over a gate (maybe still on the hook): alarm at once unless
    an approved release still has quantity left. Returns True if an alarm was raised."""
    session = uow.session
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
        uow=uow,
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
        title_suffix=f" — {crane.code} {lift.pick_zone}→{lift.set_zone}",
    )
    return True


def apply_lift(
    *,
    uow: UnitOfWork,
    crane: Crane,
    lift: Lift,
    now: datetime,
    already_alarmed: bool = False,
) -> LiftOutcome:
    """Book a finished lift as a stock movement (once: its id is the lift id)."""
    session = uow.session
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
        _consume_releases(uow, pledge, movement, qty, now, already_alarmed, out)
    elif lift.direction == Direction.UNKNOWN or (
        lift.direction == Direction.OUTBOUND and not lift.weight_ok
    ):
        out.alarms.append("lift_review")
        alarms.raise_for_pledge(
            uow=uow,
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
        )
    session.flush()
    out.alarms += revalue_pledges(uow=uow, pledge_ids=[pledge.id], now=now, cause="movement").alarms
    return out


def _consume_releases(
    uow: UnitOfWork,
    pledge: PledgeRow,
    movement: Movement,
    qty: int,
    now: datetime,
    already_alarmed: bool,
    out: LiftOutcome,
) -> None:
    session = uow.session
    need = qty
    covered_by: str | None = None
    for release in approved_releases(session, pledge.id):
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
        uow=uow,
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
        if not operator_of(session, principal, warehouse_id):
            mine = select(PledgeRow.id).where(visible_pledges_clause(principal))
            stmt = stmt.where(Movement.pledge_id.in_(mine))
    else:
        raise InvalidInput("give a warehouse or a pledge")
    return list(session.scalars(stmt))


def _own_warehouse_or_visible(
    session: Session, principal: Principal, warehouse_id: str
) -> Warehouse:
    return get_warehouse(session=session, principal=principal, warehouse_id=warehouse_id)


# --- stocktakes -------------------------------------------------------------------------


def record_stocktake(
    *,
    uow: UnitOfWork,
    principal: Principal,
    warehouse_id: str,
    data: StocktakeCreate,
    now: datetime,
) -> Stocktake:
    """Reconcile a count against the book. Within the weighing tolerance of the lifts since
    the last count: matched. Else, if lifts the detector could not weigh or place (flagged)
    could account for it: explained, with those lifts named. Else: raised (an alarm to the
    lender if the stock is pledged). The book is then set to the count."""
    session = uow.session
    warehouse = own_warehouse(session, principal, warehouse_id)
    zone = zone_by_code(session, warehouse.id, data.zone)
    commodity = commodity_by_code(session, data.commodity)
    get_owner(session, data.owner_id)
    position = locked_position(session, warehouse.id, zone.id, commodity.id, data.owner_id, now)
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
                uow=uow,
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
            )
        session.flush()
        revalue_pledges(uow=uow, pledge_ids=[pledge.id], now=now, cause="stocktake")
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
