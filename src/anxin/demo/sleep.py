"""Seven nights of the demo sleep mat, so the elder card's sleep report and its chart are full
the first time someone opens a fresh demo (the live simulator only streams from now on)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from anxin.core.unit import UnitOfWork
from anxin.homecare.sleep import SHANGHAI, last_night, night_window
from anxin.iot import service as iot
from anxin.iot.ingest import Limits
from anxin.iot.models import Device

NIGHTS = 7
EVERY = timedelta(minutes=1)
# Readings up to eight days old are history the demo writes itself, not a device's bad clock.
BACKFILL_LIMITS = Limits(max_age=timedelta(days=NIGHTS + 1))


def night_readings(
    night_start: datetime, until: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """One night: to bed around 21:45, up around 06:30, a few minutes up around 03:00."""
    bed = night_start + timedelta(minutes=105 + rng.randint(-20, 20))
    wake = night_start + timedelta(hours=10, minutes=30 + rng.randint(-25, 25))
    up_at = night_start + timedelta(hours=7, minutes=rng.randint(-40, 40))
    up_for = timedelta(minutes=rng.randint(4, 12))
    readings = []
    at = bed - timedelta(minutes=15)
    while at < wake + timedelta(minutes=15) and at <= until:
        in_bed = bed <= at < wake and not (up_at <= at < up_at + up_for)
        values: dict[str, float | bool] = {"in_bed": in_bed}
        if in_bed:
            settled = (at - bed) > timedelta(minutes=20)
            values.update(
                heart_rate=round(rng.gauss(60 if settled else 68, 2.5), 1),
                respiration_rate=round(rng.gauss(14 if settled else 16, 1.0), 1),
                movement=round(abs(rng.gauss(4 if settled else 40, 3)), 1),
            )
        readings.append(
            {"message_id": f"backfill-{at:%Y%m%d%H%M}", "ts": at.isoformat(), "values": values}
        )
        at += EVERY
    return readings


def backfill_sleep(uow: UnitOfWork, mat: Device, *, nights: int = NIGHTS, seed: int = 7) -> int:
    """Store the last `nights` nights for `mat` (idempotent: message ids repeat); returns how
    many readings were new."""
    now = uow.now()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    newest = last_night(now)
    stored = 0
    for back in range(nights - 1, -1, -1):
        start, _ = night_window(newest - timedelta(days=back), SHANGHAI)
        body = json.dumps(night_readings(start, now, rng)).encode()
        outcome = iot.ingest(
            uow=uow,
            device=mat,
            body=body,
            content_type="application/json",
            now=now,
            limits=BACKFILL_LIMITS,
        )
        stored += outcome.accepted
    return stored


def backfill_demo_mat(uow: UnitOfWork, device_ids: list[str]) -> int:
    """The demo household's sleep mat among `device_ids` gets its last seven nights."""
    for device_id in device_ids:
        device = uow.session.get(Device, device_id)
        if device is not None and device.device_type == "sleep_mat":
            return backfill_sleep(uow, device)
    return 0
