"""Crane telemetry becomes lifts, lifts become stock movements, and pledged stock leaving
without a release becomes an alarm to the bank.

`iot` publishes ``iot.telemetry.crane_hook_scale`` and ``iot.telemetry.crane_positioner``
inside the ingesting transaction. For each batch this flow locks the crane's detector state
row, restores the streaming `LiftDetector`, feeds it the readings, books every lift it
finishes (idempotent by lift id), then *peeks* at the lift still in the air: a load from a
pledged bay hanging over a gate with no approved release left raises the alarm before it is
set down on the truck. The state is written back in the same transaction, so a restart (or a
rolled-back batch) resumes exactly where the committed stream stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from anxin.alerts.service import clear_alarm
from anxin.collateral import service
from anxin.collateral.lifts import LiftDetector, PositionFix, WeightReading
from anxin.collateral.models import Crane, CraneState
from anxin.core.events import Event
from anxin.core.unit import UnitOfWork

log = logging.getLogger(__name__)

SUBJECTS = ("iot.telemetry.crane_hook_scale", "iot.telemetry.crane_positioner")
MAX_ALARMED = 200  # provisional lift ids remembered per crane
MAX_SKEW_MS = 600_000  # one device may lag the other by up to 10 minutes


def watermark(scale_ms: int | None, fix_ms: int | None) -> int:
    """How far the detector may take its clock (POSIX ms): as far as *both* devices have
    reported, since each posts its own batches and one may run ahead of the other by a batch;
    a device more than MAX_SKEW behind the other stops holding lifts back (they are then
    booked without that stream, and flagged)."""
    known = [v for v in (scale_ms, fix_ms) if v is not None]
    if not known:
        return 0
    lead = max(known)
    both = min(known) if len(known) == 2 else lead - MAX_SKEW_MS
    return max(both, lead - MAX_SKEW_MS)


def _seconds(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp()


def detector_for(
    session: Session, crane: Crane, *, lock: bool = True
) -> tuple[LiftDetector, CraneState | None]:
    row = service.crane_state(session, crane.id, lock=lock)
    layout = service.layout_of(session, crane.warehouse_id)
    if row is None:
        from anxin.collateral.lifts import LiftConfig

        return LiftDetector(crane.code, layout, LiftConfig.from_dict(crane.config)), None
    return LiftDetector.from_state(row.state, layout), row


def feed(detector: LiftDetector, device_type: str, readings: list[dict[str, Any]]) -> int:
    n = 0
    if device_type == "crane_hook_scale":
        for r in readings:
            values = r.get("values") or {}
            if "weight_kg" not in values:
                continue
            detector.add_weight(
                WeightReading(
                    _seconds(r["ts"]), float(values["weight_kg"]), bool(values.get("stable", False))
                )
            )
            n += 1
    else:
        for r in readings:
            values = r.get("values") or {}
            if "x_m" not in values or "y_m" not in values:
                continue
            detector.add_fix(
                PositionFix(_seconds(r["ts"]), float(values["x_m"]), float(values["y_m"]))
            )
            n += 1
    return n


def on_crane_telemetry(uow: UnitOfWork, event: Event) -> None:
    """The bus handler of crane telemetry: lifts become stock movements and alarms."""
    session = uow.session
    payload = event.payload
    if payload.get("owner_kind") != "warehouse":
        return
    crane = service.crane_for_device(session, str(payload["device_id"]))
    if crane is None:
        log.warning("crane telemetry from device %s that belongs to no crane", payload["device_id"])
        return
    now = event.occurred_at
    detector, row = detector_for(session, crane)
    device_type = str(payload["device_type"])
    readings = list(payload.get("readings") or [])
    if not feed(detector, device_type, readings):
        return
    newest = max(round(_seconds(r["ts"]) * 1000) for r in readings)
    if row is None:
        row = CraneState(crane_id=crane.id, state={}, alarmed=[], updated_at=now)
        session.add(row)
    if device_type == "crane_hook_scale":
        row.scale_seen_ms = max(row.scale_seen_ms or newest, newest)
    else:
        row.fix_seen_ms = max(row.fix_seen_ms or newest, newest)
    alarmed = list(row.alarmed or [])
    for lift in detector.poll(now=watermark(row.scale_seen_ms, row.fix_seen_ms) / 1000):
        outcome = service.apply_lift(
            uow=uow,
            crane=crane,
            lift=lift,
            now=now,
            already_alarmed=lift.lift_id in alarmed,
        )
        if (
            lift.lift_id in alarmed
            and not outcome.duplicate
            and "unauthorised_removal" not in outcome.alarms
        ):
            # Raised while the load hung over a gate; it was set down in the warehouse after
            # all (or a release now covers it). The officer still sees and closes the alarm.
            clear_alarm(
                uow=uow,
                source_kind="lift",
                source_id=lift.lift_id,
                alarm_type="unauthorised_removal",
                now=now,
                reason=f"the lift ended {lift.direction.value}: {lift.pick_zone} → {lift.set_zone}",
            )
    for lift in detector.peek():
        if lift.lift_id in alarmed:
            continue
        if service.provisional_outbound(uow=uow, crane=crane, lift=lift, now=now):
            alarmed.append(lift.lift_id)
    row.state = detector.state_dict()
    row.alarmed = alarmed[-MAX_ALARMED:]
    row.updated_at = now
    session.flush()


def flush_crane(*, uow: UnitOfWork, crane: Crane, now: datetime) -> int:
    """End of a stream (simulation end, crane retired): book whatever the detector holds."""
    session = uow.session
    detector, row = detector_for(session, crane)
    alarmed = list(row.alarmed) if row is not None else []
    lifts = detector.flush()
    for lift in lifts:
        service.apply_lift(
            uow=uow,
            crane=crane,
            lift=lift,
            now=now,
            already_alarmed=lift.lift_id in alarmed,
        )
    if row is not None:
        row.state = detector.state_dict()
        row.updated_at = now
    session.flush()
    return len(lifts)
