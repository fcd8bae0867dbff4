"""The sleep report of an elder for a night, built from the stored sleep-mat readings."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from anxin.core.security import Principal
from anxin.homecare.service import get_elder
from anxin.homecare.sleep import MatSample, SleepReport, Thresholds, night_window, sleep_report
from anxin.iot import service as iot

if TYPE_CHECKING:
    from anxin.iot.models import Device

MAT_KEYS = ("in_bed", "heart_rate", "respiration_rate", "movement")


def elder_sleep_mat(session: Session, household_id: str, elder_id: str) -> Device | None:
    """The household's sleep mat for this elder: one whose attributes name the elder, else the
    household's first mat that names nobody."""
    mats = iot.devices_of_owner(
        session=session, owner_kind="household", owner_id=household_id, device_type="sleep_mat"
    )
    for mat in mats:
        if (mat.attributes or {}).get("elder_id") == elder_id:
            return mat
    return next((m for m in mats if not (m.attributes or {}).get("elder_id")), None)


def mat_samples(session: Session, mat: Device, night: date) -> list[MatSample]:
    start, end = night_window(night)
    messages = iot.messages_between(
        session=session, device=mat, start=start, end=end, keys=MAT_KEYS
    )
    return [MatSample(ts, values) for ts, values in messages]


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
    samples = mat_samples(session, mat, night) if mat is not None else []
    return (mat.id if mat else None), sleep_report(samples, night=night, limits=limits)
