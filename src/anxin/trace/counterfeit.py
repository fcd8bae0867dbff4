"""Counterfeit signs in the scans of one serialised unit, pure.

A genuine bag is scanned where it is sold, by few people, and one place at a time. The
checks, each giving a finding with its evidence:

- ``unknown_serial``: the GTIN is ours but no such serial was ever issued (guessed or copied);
- ``never_printed``: issued but no label was printed for it (a leak from the label system);
- ``consumed``: scanned after the package was recorded as used up or destroyed;
- ``impossible_travel``: two scans of one serial farther apart than anyone can travel in the
  time between them (great-circle distance, less the coarse-location error, over time, above
  ``SPEED_LIMIT_KMH`` — a scheduled airliner's ~900 km/h, so no honest trip trips it);
- ``outside_sales_region``: scanned outside the product's sales region (GeoJSON polygon).

Locations are rounded to ``COARSE_DEG`` before they are stored, so a scan never records where a
consumer lives; the travel check allows for that rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
SPEED_LIMIT_KMH = 900.0
COARSE_DEG = 0.1
# Worst-case error of one rounded position: half a step in latitude and longitude.
COARSE_ERROR_KM = math.hypot(COARSE_DEG / 2, COARSE_DEG / 2) * math.pi / 180 * EARTH_RADIUS_KM


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Sighting:
    at: datetime
    where: Point | None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    reason: str
    evidence: Mapping[str, Any]


def coarse(lat: float, lon: float) -> Point:
    # The outer round drops float noise (31.200000000000003) so stored values read cleanly.
    return Point(
        round(round(lat / COARSE_DEG) * COARSE_DEG, 6),
        round(round(lon / COARSE_DEG) * COARSE_DEG, 6),
    )


def haversine_km(a: Point, b: Point) -> float:
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def impossible_travel(
    before: Sighting, now: Sighting, *, limit_kmh: float = SPEED_LIMIT_KMH
) -> Finding | None:
    if before.where is None or now.where is None:
        return None
    distance = haversine_km(before.where, now.where)
    reachable = max(0.0, distance - 2 * COARSE_ERROR_KM)
    hours = max((now.at - before.at).total_seconds(), 0.0) / 3600
    if reachable == 0 or reachable <= limit_kmh * hours:
        return None
    speed = reachable / hours if hours > 0 else math.inf
    return Finding(
        "impossible_travel",
        f"scanned {distance:.0f} km apart {hours * 60:.0f} min apart",
        {
            "first": {
                "at": before.at.isoformat(),
                "lat": before.where.lat,
                "lon": before.where.lon,
            },
            "second": {"at": now.at.isoformat(), "lat": now.where.lat, "lon": now.where.lon},
            "distance_km": round(distance, 1),
            "hours": round(hours, 3),
            "speed_kmh": None if math.isinf(speed) else round(speed, 1),
            "limit_kmh": limit_kmh,
        },
    )


def _in_ring(p: Point, ring: Sequence[Sequence[float]]) -> bool:
    """Even-odd rule on a ring of [lon, lat] positions."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > p.lat) != (y2 > p.lat):
            x = x1 + (p.lat - y1) * (x2 - x1) / (y2 - y1)
            if p.lon < x:
                inside = not inside
    return inside


def in_region(p: Point, region: Mapping[str, Any]) -> bool:
    """Whether a point lies in a GeoJSON Polygon or MultiPolygon (holes respected)."""
    polygons = (
        region["coordinates"] if region["type"] == "MultiPolygon" else [region["coordinates"]]
    )
    for rings in polygons:
        if _in_ring(p, rings[0]) and not any(_in_ring(p, hole) for hole in rings[1:]):
            return True
    return False


def outside_region(now: Sighting, region: Mapping[str, Any] | None) -> Finding | None:
    if region is None or now.where is None or in_region(now.where, region):
        return None
    return Finding(
        "outside_sales_region",
        "scanned outside the product's sales region",
        {"at": now.at.isoformat(), "lat": now.where.lat, "lon": now.where.lon},
    )
