"""Visit checks (pure): whether a home-care visit may be paid, and if not, why.

A check either *rejects* a visit (it will not be paid; the claim line carries the reason) or
*flags* it (it is paid only once the flag is cleared — the typical case is a confirmation that
has not arrived yet; at settlement an unconfirmed visit is rejected). Every finding has a code
and a reason in words, so an institution can see what to correct.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius (Moritz, Geodetic Reference System 1980)
LOCAL = ZoneInfo("Asia/Shanghai")  # a visit belongs to the month of its local date


def local_start(day: date) -> datetime:
    """The UTC instant a local day starts: months of visits are bounded by these."""
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres (haversine formula; good to ~0.5 % on the sphere)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class Severity(StrEnum):
    REJECT = "reject"
    FLAG = "flag"


class Check(StrEnum):
    NOT_CHECKED_OUT = "not_checked_out"
    TOO_SHORT = "too_short"
    OUTSIDE_RADIUS = "outside_radius"
    OVERLAP = "overlap"
    SERVICE_NOT_ENTITLED = "service_not_entitled"
    NO_SERVICE = "no_service"
    NO_HOME = "no_home"
    NOT_CONFIRMED = "not_confirmed"
    NO_PRESENCE = "no_presence"


@dataclass(frozen=True)
class Finding:
    check: Check
    severity: Severity
    reason: str


@dataclass(frozen=True)
class VisitPolicy:
    min_minutes: int = 30  # shorter than this is not a visit
    radius_m: float = 200.0  # check-in and check-out must be this close to the home


@dataclass(frozen=True)
class VisitFacts:
    id: int
    caregiver_id: str
    check_in: datetime
    check_out: datetime | None
    in_at: GeoPoint
    out_at: GeoPoint | None
    services: frozenset[str]
    confirmed: bool
    presence: bool | None = None  # radar presence during the visit; None: no radar at the home


def check_visit(
    visit: VisitFacts,
    *,
    home: GeoPoint | None,
    entitled: frozenset[str],
    policy: VisitPolicy,
    overlapping: Sequence[int] = (),
) -> list[Finding]:
    """Every finding on one visit (empty: the visit may be paid).

    `overlapping` are the ids of the same caregiver's visits that overlap this one (see
    `overlaps`), computed for all visits at once.
    """
    findings: list[Finding] = []
    if visit.check_out is None:
        findings.append(Finding(Check.NOT_CHECKED_OUT, Severity.REJECT, "never checked out"))
    else:
        minutes = (visit.check_out - visit.check_in) / timedelta(minutes=1)
        if minutes < policy.min_minutes:
            findings.append(
                Finding(
                    Check.TOO_SHORT,
                    Severity.REJECT,
                    f"lasted {minutes:.0f} min, the minimum is {policy.min_minutes} min",
                )
            )
    if home is None:
        findings.append(
            Finding(Check.NO_HOME, Severity.REJECT, "the home's location is not on the register")
        )
    for label, point in (("check-in", visit.in_at), ("check-out", visit.out_at)):
        if point is None or home is None:
            continue
        distance = haversine_m(point, home)
        if distance > policy.radius_m:
            findings.append(
                Finding(
                    Check.OUTSIDE_RADIUS,
                    Severity.REJECT,
                    f"{label} {distance:.0f} m from the home, the limit is {policy.radius_m:.0f} m",
                )
            )
    if overlapping:
        ids = ", ".join(str(i) for i in sorted(overlapping))
        findings.append(
            Finding(Check.OVERLAP, Severity.REJECT, f"the caregiver's visits {ids} overlap it")
        )
    if not visit.services:
        findings.append(Finding(Check.NO_SERVICE, Severity.REJECT, "no service recorded"))
    outside = sorted(visit.services - entitled)
    if outside:
        findings.append(
            Finding(
                Check.SERVICE_NOT_ENTITLED,
                Severity.REJECT,
                f"services not in the entitlement: {', '.join(outside)}",
            )
        )
    if not visit.confirmed:
        findings.append(
            Finding(
                Check.NOT_CONFIRMED, Severity.FLAG, "not confirmed by the beneficiary or family"
            )
        )
    if visit.presence is False:
        # The radar saw nobody move during the visit: a person should look, not the machine.
        findings.append(
            Finding(Check.NO_PRESENCE, Severity.FLAG, "the home's radar saw no presence")
        )
    return findings


def overlaps(visits: Iterable[VisitFacts]) -> Mapping[int, list[int]]:
    """For each visit, the ids of the same caregiver's visits whose times overlap it.

    Sorted by caregiver and check-in, each visit is compared only with those still running
    when it starts: O(n log n + overlaps). A visit never checked out counts as a moment.
    """
    result: dict[int, list[int]] = {}
    ordered = sorted(visits, key=lambda v: (v.caregiver_id, v.check_in, v.id))
    running: list[VisitFacts] = []
    caregiver: str | None = None
    for visit in ordered:
        if visit.caregiver_id != caregiver:
            caregiver, running = visit.caregiver_id, []
        running = [r for r in running if _end(r) > visit.check_in]
        for other in running:
            result.setdefault(visit.id, []).append(other.id)
            result.setdefault(other.id, []).append(visit.id)
        running.append(visit)
    return result


def _end(visit: VisitFacts) -> datetime:
    return visit.check_out if visit.check_out is not None else visit.check_in


def blocking(findings: Iterable[Finding], *, final: bool) -> list[Finding]:
    """The findings that stop payment: rejections, and at settlement (`final`) a missing
    confirmation too. Radar absence stays a flag for a person to review; it never blocks."""
    return [
        f
        for f in findings
        if f.severity is Severity.REJECT or (final and f.check is Check.NOT_CONFIRMED)
    ]
