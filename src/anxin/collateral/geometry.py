"""Warehouse layout in the crane's coordinate frame: bays and gates, point-in-zone lookup.

Pure: no I/O. Coordinates are metres in the frame the crane positioner reports (x along the
runway, y across the span). Zones are simple polygons; rectangles are the common case.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ZoneKind(StrEnum):
    BAY = "bay"  # storage: stock in a bay is stock in the warehouse
    GATE = "gate"  # hand-over point to a ship, truck or rail wagon: outside the stock


@dataclass(frozen=True, slots=True)
class Zone:
    zone_id: str
    kind: ZoneKind
    polygon: tuple[Point, ...]

    def __post_init__(self) -> None:
        if not self.zone_id:
            raise ValueError("zone needs an id")
        if len(self.polygon) < 3:
            raise ValueError(f"zone {self.zone_id}: a polygon needs at least 3 vertices")
        if not all(math.isfinite(c) for p in self.polygon for c in p):
            raise ValueError(f"zone {self.zone_id}: vertices must be finite")
        if abs(_signed_area(self.polygon)) <= 1e-9:
            raise ValueError(f"zone {self.zone_id}: polygon has no area")

    @classmethod
    def rect(cls, zone_id: str, kind: ZoneKind, x0: float, y0: float, x1: float, y1: float) -> Zone:
        xa, xb = sorted((x0, x1))
        ya, yb = sorted((y0, y1))
        return cls(zone_id, kind, ((xa, ya), (xb, ya), (xb, yb), (xa, yb)))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def area(self) -> float:
        return abs(_signed_area(self.polygon))

    def contains(self, x: float, y: float) -> bool:
        """Inside or on the boundary (boundary counts, so an exact edge point is not lost)."""
        return self.distance(x, y) == 0.0

    def distance(self, x: float, y: float) -> float:
        """0 inside or on the edge, else the distance in metres to the nearest edge."""
        if _inside(self.polygon, x, y):
            return 0.0
        return min(_seg_dist(x, y, a, b) for a, b in _edges(self.polygon))

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone_id": self.zone_id,
            "kind": self.kind.value,
            "polygon": [list(p) for p in self.polygon],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Zone:
        return cls(
            str(data["zone_id"]),
            ZoneKind(data["kind"]),
            tuple((float(p[0]), float(p[1])) for p in data["polygon"]),
        )


@dataclass(frozen=True)
class Layout:
    """A warehouse's zones. Zones must not overlap: a point belongs to at most one zone."""

    zones: tuple[Zone, ...]
    _by_id: dict[str, Zone] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [z.zone_id for z in self.zones]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate zone ids: {', '.join(dupes)}")
        overlaps = _overlapping_pairs(self.zones)
        if overlaps:
            desc = ", ".join(f"{a}/{b}" for a, b in overlaps)
            raise ValueError(f"zones overlap: {desc}")
        object.__setattr__(self, "_by_id", {z.zone_id: z for z in self.zones})

    @classmethod
    def of(cls, zones: Iterable[Zone]) -> Layout:
        return cls(tuple(zones))

    def zone(self, zone_id: str) -> Zone:
        try:
            return self._by_id[zone_id]
        except KeyError:
            raise KeyError(f"no zone {zone_id!r} in layout") from None

    def bays(self) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind is ZoneKind.BAY)

    def gates(self) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind is ZoneKind.GATE)

    def locate(self, x: float, y: float, tolerance_m: float = 0.0) -> Zone | None:
        """The zone holding (x, y); else the nearest zone within `tolerance_m`; else None.

        The tolerance absorbs positioner error for loads set down on a zone's painted edge.
        """
        best: Zone | None = None
        best_d = math.inf
        for z in self.zones:
            x0, y0, x1, y1 = z.bounds
            if (
                x < x0 - tolerance_m
                or x > x1 + tolerance_m
                or y < y0 - tolerance_m
                or y > y1 + tolerance_m
            ):
                continue
            d = z.distance(x, y)
            if d == 0.0:
                return z
            if d <= tolerance_m and d < best_d:
                best, best_d = z, d
        return best

    def locate_many(
        self,
        xs: Sequence[float] | FloatArray,
        ys: Sequence[float] | FloatArray,
        tolerance_m: float = 0.0,
    ) -> IntArray:
        """Vectorised `locate`: index into `zones` per point, -1 where no zone is near."""
        px = np.asarray(xs, dtype=np.float64)
        py = np.asarray(ys, dtype=np.float64)
        out = np.full(px.shape, -1, dtype=np.int64)
        best_d = np.full(px.shape, np.inf)
        for i, z in enumerate(self.zones):
            inside = _inside_many(z.polygon, px, py)
            out[inside & (out < 0)] = i
            best_d[inside] = 0.0
        if tolerance_m > 0:
            todo = np.flatnonzero(out < 0)
            for k in todo:
                zone = self.locate(float(px[k]), float(py[k]), tolerance_m)
                if zone is not None:
                    out[k] = self.zones.index(zone)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"zones": [z.to_dict() for z in self.zones]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        return cls(tuple(Zone.from_dict(z) for z in data["zones"]))


def _edges(poly: tuple[Point, ...]) -> Iterable[tuple[Point, Point]]:
    n = len(poly)
    for i in range(n):
        yield poly[i], poly[(i + 1) % n]


def _signed_area(poly: tuple[Point, ...]) -> float:
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in _edges(poly))


def _seg_dist(x: float, y: float, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def _inside(poly: tuple[Point, ...], x: float, y: float) -> bool:
    # Even-odd ray casting, plus an explicit on-edge test so boundary points count as inside.
    inside = False
    for (ax, ay), (bx, by) in _edges(poly):
        if _seg_dist(x, y, (ax, ay), (bx, by)) <= 1e-9:
            return True
        if (ay > y) != (by > y):
            xc = ax + (y - ay) * (bx - ax) / (by - ay)
            if x < xc:
                inside = not inside
    return inside


def _inside_many(poly: tuple[Point, ...], px: FloatArray, py: FloatArray) -> npt.NDArray[np.bool_]:
    inside = np.zeros(px.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for (ax, ay), (bx, by) in _edges(poly):
            crosses = (ay > py) != (by > py)
            xc = ax + (py - ay) * (bx - ax) / (by - ay) if by != ay else np.full(px.shape, np.inf)
            inside ^= crosses & (px < xc)
    # Points exactly on an edge are settled by the scalar rule, so both paths agree.
    x0, y0 = min(p[0] for p in poly), min(p[1] for p in poly)
    x1, y1 = max(p[0] for p in poly), max(p[1] for p in poly)
    near = np.flatnonzero((px >= x0) & (px <= x1) & (py >= y0) & (py <= y1) & ~inside)
    for k in near:
        x, y = float(px[k]), float(py[k])
        if any(_seg_dist(x, y, a, b) <= 1e-9 for a, b in _edges(poly)):
            inside[k] = True
    return inside


def _overlapping_pairs(zones: tuple[Zone, ...]) -> list[tuple[str, str]]:
    """Pairs whose interiors overlap (shared edges are allowed)."""
    out: list[tuple[str, str]] = []
    for i, a in enumerate(zones):
        ax0, ay0, ax1, ay1 = a.bounds
        for b in zones[i + 1 :]:
            bx0, by0, bx1, by1 = b.bounds
            if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:
                continue
            if _polygons_overlap(a.polygon, b.polygon):
                out.append((a.zone_id, b.zone_id))
    return out


def _polygons_overlap(p: tuple[Point, ...], q: tuple[Point, ...]) -> bool:
    # Exact slab test: cut the plane at every vertex and edge-crossing x; inside each slab
    # both polygons' cross-sections change linearly, so if their interiors share any area,
    # the cross-sections on some slab's middle line overlap by a positive length.
    xs = {v[0] for v in p} | {v[0] for v in q}
    for a, b in _edges(p):
        for c, d in _edges(q):
            hit = _crossing(a, b, c, d)
            if hit is not None:
                xs.add(hit[0])
    cuts = sorted(xs)
    for xa, xb in pairwise(cuts):
        if xb - xa <= 1e-9:
            continue
        xm = (xa + xb) / 2
        for lo1, hi1 in _cross_section(p, xm):
            for lo2, hi2 in _cross_section(q, xm):
                if min(hi1, hi2) - max(lo1, lo2) > 1e-9:
                    return True
    return False


def _cross_section(poly: tuple[Point, ...], x: float) -> list[tuple[float, float]]:
    ys = sorted(
        ay + (x - ax) * (by - ay) / (bx - ax)
        for (ax, ay), (bx, by) in _edges(poly)
        if (ax > x) != (bx > x)
    )
    return list(zip(ys[0::2], ys[1::2], strict=False))


def _crossing(a: Point, b: Point, c: Point, d: Point) -> Point | None:
    den = (b[0] - a[0]) * (d[1] - c[1]) - (b[1] - a[1]) * (d[0] - c[0])
    if abs(den) < 1e-12:
        return None
    t = ((c[0] - a[0]) * (d[1] - c[1]) - (c[1] - a[1]) * (d[0] - c[0])) / den
    u = ((c[0] - a[0]) * (b[1] - a[1]) - (c[1] - a[1]) * (b[0] - a[0])) / den
    if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0:
        return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
    return None
