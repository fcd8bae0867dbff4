"""The sleep report of an elder for a night, built from the stored sleep-mat readings."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.security import Principal
from anxin.homecare.service import get_elder
from anxin.homecare.sleep import MatSample, SleepReport, Thresholds, night_window, sleep_report
from anxin.iot.models import Device, Reading

MAT_KEYS = ("in_bed", "heart_rate", "respiration_rate", "movement")


def elder_sleep_mat(session: Session, household_id: str, elder_id: str) -> Device | None:
    """The household's sleep mat for this elder: one whose attributes name the elder, else the
    household's first mat that names nobody."""
    mats = list(
        session.scalars(
            select(Device)
            .where(
                Device.owner_kind == "household",
                Device.owner_id == household_id,
                Device.device_type == "sleep_mat",
            )
            .order_by(Device.created_at, Device.id)
        )
    )
    for mat in mats:
        if (mat.attributes or {}).get("elder_id") == elder_id:
            return mat
    return next((m for m in mats if not (m.attributes or {}).get("elder_id")), None)


def mat_samples(session: Session, device_id: str, night: date) -> list[MatSample]:
    start, end = night_window(night)
    rows = session.execute(
        select(Reading.ts, Reading.message_id, Reading.key, Reading.num)
        .where(
            Reading.device_id == device_id,
            Reading.ts >= start,
            Reading.ts < end,
            Reading.key.in_(MAT_KEYS),
        )
        .order_by(Reading.ts, Reading.id)
    )
    grouped: dict[tuple[Any, str], dict[str, Any]] = {}
    for ts, message_id, key, num in rows:
        values = grouped.setdefault((ts, message_id), {})
        values[key] = (num != 0.0) if key == "in_bed" and num is not None else num
    return [MatSample(ts, values) for (ts, _), values in grouped.items()]


def elder_sleep_report(
    *,
    session: Session,
    principal: Principal,
    elder_id: str,
    night: date,
    limits: Thresholds | None = None,
) -> tuple[str | None, SleepReport]:
    """(mat device id, report); a family sees only its own elder (404 otherwise)."""
    elder = get_elder(session=session, principal=principal, elder_id=elder_id)
    mat = elder_sleep_mat(session, elder.household_id, elder.id)
    samples = mat_samples(session, mat.id, night) if mat is not None else []
    return (mat.id if mat else None), sleep_report(samples, night=night, limits=limits)
