"""What a leased machine's telemetry means to the lessor (pure).

A machine tracker reports running hours (the engine-hour meter), power draw, whether the
machine is running, and a GNSS fix. Three readings of it matter to a lessor:

* **off site**: the fix is farther from the contracted site than its radius (great-circle
  distance, haversine on a sphere of the IUGG mean Earth radius; metres of error at these
  distances, far inside any site radius);
* **idle while in arrears**: no running for `idle_days` while a rent is overdue — the risk
  that the lessee has stopped trading, a flag for the lessor, not a fact;
* **utilisation**: running hours gained over a window divided by the hours in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
POWER_RUNNING_KW = 0.5  # a machine drawing more than this is taken to be running


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Site:
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        return distance_m(self.lat, self.lon, lat, lon) <= self.radius_m


def is_running(values: dict[str, object], previous_hours: float | None) -> bool:
    """A reading shows the machine working: it says so, draws power, or its hour meter moved."""
    if values.get("running") is True:
        return True
    power = values.get("power_kw")
    if isinstance(power, int | float) and power > POWER_RUNNING_KW:
        return True
    hours = values.get("running_hours")
    return isinstance(hours, int | float) and previous_hours is not None and hours > previous_hours


def idle_in_arrears(
    last_running: datetime | None,
    since: datetime,
    now: datetime,
    idle_days: int,
    overdue: bool,
) -> bool:
    """Idle for `idle_days` (counted from the last running, or from `since` — acceptance —
    if it never ran) while a rent is overdue."""
    if not overdue:
        return False
    return now - (last_running or since) >= timedelta(days=idle_days)


def utilisation(hours_gained: float, window: timedelta) -> float:
    """Running hours over the hours of the window, 0–1."""
    hours = window.total_seconds() / 3600
    if hours <= 0:
        return 0.0
    return max(0.0, min(1.0, hours_gained / hours))
