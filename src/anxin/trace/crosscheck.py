"""Cross-validation: what the farm app claims, held against the farm's sensors and records.

Each check gives ``pass``, ``warn`` (cannot confirm) or ``fail`` (the evidence contradicts the
claim), with the evidence. The judgements are pure functions; ``run`` gathers the lot's events
and the farm's weather-station and soil-probe readings, stores the findings on the lot and
raises the brand's alarm for every ``fail``.

- ``rainy_day``: a day the farmer records as rainy (``anxin:weather`` = ``rain``) needs at
  least ``RAIN_DAY_MM`` at the farm's weather station that local day;
- ``fertiliser_response``: after a declared fertilising the soil probe's electrical
  conductivity should rise within ``RESPONSE_DAYS``;
- ``undeclared_input``: a jump in conductivity with no declared input around it;
- ``organic``: a lot sold with an organic certificate must have no non-organic input;
- ``harvest_yield``: the harvested weight over the plot's area within the crop's yield range;
- ``packing``: no more packed than the harvest can give after milling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from anxin.alerts.policies import DEFAULT_POLICY
from anxin.alerts.service import Severity, raise_alarm
from anxin.core.errors import PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.iot import service as iot
from anxin.trace import vocab
from anxin.trace.disclosure import lot_events
from anxin.trace.models import Check, Lot, Plot, Product
from anxin.trace.scanning import FARM_KIND, brand_recipients

Outcome = Literal["pass", "warn", "fail"]
RAIN_DAY_MM = 1.0  # WMO's threshold for a rain day
RESPONSE_DAYS = 3
RESPONSE_RISE = 0.10  # EC at least 10 % above the days before
JUMP_RISE = 0.5  # a day-over-day EC rise of 50 % is an input, declared or not
# kg per hectare a crop can plausibly give: (low, high); outside is a claim to look at.
YIELD_RANGE: dict[str, tuple[float, float]] = {
    "rice": (3_000.0, 12_000.0),
    "olive": (500.0, 12_000.0),
}
MAX_MILLING_YIELD = 0.8  # paddy to white rice is ~0.65-0.72


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    subject: str
    outcome: Outcome
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


# --- pure judgements --------------------------------------------------------------------


def rainy_day(day: date, rainfall_mm: float | None) -> Finding:
    subject = day.isoformat()
    if rainfall_mm is None:
        return Finding("rainy_day", subject, "warn", "no weather-station data that day")
    evidence = {"day": subject, "station_rainfall_mm": round(rainfall_mm, 1)}
    if rainfall_mm >= RAIN_DAY_MM:
        return Finding("rainy_day", subject, "pass", "the station recorded rain", evidence)
    if rainfall_mm > 0:
        return Finding("rainy_day", subject, "warn", "only a trace of rain recorded", evidence)
    return Finding("rainy_day", subject, "fail", "the weather station recorded no rain", evidence)


def fertiliser_response(day: date, before: Sequence[float], after: Sequence[float]) -> Finding:
    subject = day.isoformat()
    if not before or not after:
        return Finding("fertiliser_response", subject, "warn", "no soil-probe data around it")
    base, peak = sum(before) / len(before), max(after)
    evidence = {"day": subject, "ec_before": round(base, 3), "ec_peak_after": round(peak, 3)}
    if peak >= base * (1 + RESPONSE_RISE):
        return Finding("fertiliser_response", subject, "pass", "soil conductivity rose", evidence)
    return Finding("fertiliser_response", subject, "warn", "no rise in soil conductivity", evidence)


def undeclared_inputs(daily_ec: Mapping[date, float], declared: Iterable[date]) -> list[Finding]:
    """Days the conductivity jumped with no input declared from 3 days before to 1 after."""
    near: set[date] = set()
    for d in declared:
        near.update(d + timedelta(days=k) for k in range(-1, RESPONSE_DAYS + 1))
    days = sorted(daily_ec)
    out = []
    for prev, day in pairwise(days):
        if (day - prev).days != 1 or daily_ec[prev] <= 0:
            continue
        rise = daily_ec[day] / daily_ec[prev] - 1
        if rise >= JUMP_RISE and day not in near:
            out.append(
                Finding(
                    "undeclared_input",
                    day.isoformat(),
                    "fail",
                    "soil conductivity jumped with no input declared",
                    {"day": day.isoformat(), "ec_before": daily_ec[prev], "ec": daily_ec[day]},
                )
            )
    return out


def organic(certified: bool, inputs: Sequence[tuple[str, str, bool]]) -> list[Finding]:
    """``inputs``: (event id, product, organic flag). Without a certificate nothing is claimed."""
    if not certified:
        return []
    out = []
    for event, product, is_organic in inputs:
        evidence = {"event_id": event, "product": product}
        if is_organic:
            out.append(Finding("organic", product, "pass", "an organic input", evidence))
        else:
            out.append(
                Finding(
                    "organic", product, "fail", "a non-organic input on a certified lot", evidence
                )
            )
    return out


def harvest_yield(crop: str, area_m2: float, harvested_kg: float) -> Finding:
    low, high = YIELD_RANGE.get(crop, (0.0, float("inf")))
    per_ha = harvested_kg / (area_m2 / 10_000)
    evidence = {
        "kg": harvested_kg,
        "area_m2": area_m2,
        "kg_per_ha": round(per_ha),
        "range": [low, high],
    }
    if per_ha > high:
        return Finding("harvest_yield", crop, "fail", "more than the plot can grow", evidence)
    if per_ha < low:
        return Finding("harvest_yield", crop, "warn", "a poor yield for the crop", evidence)
    return Finding("harvest_yield", crop, "pass", "within the crop's yield range", evidence)


def packing(harvested_kg: float, packed_kg: float) -> Finding:
    limit = harvested_kg * MAX_MILLING_YIELD
    evidence = {"harvested_kg": harvested_kg, "packed_kg": packed_kg, "limit_kg": round(limit, 1)}
    if packed_kg > limit:
        return Finding("packing", "packing", "fail", "more packed than the harvest gives", evidence)
    return Finding("packing", "packing", "pass", "packed within the harvest", evidence)


# --- gathering ----------------------------------------------------------------------------


def _tz(body: Mapping[str, Any]) -> timezone:
    raw = str(body.get("eventTimeZoneOffset") or "+00:00")
    sign = -1 if raw.startswith("-") else 1
    hours, minutes = raw.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _kg(body: Mapping[str, Any], key: str = "quantityList") -> float:
    total = 0.0
    for q in body.get(key) or []:
        if isinstance(q, Mapping) and q.get("uom") == "KGM" and "quantity" in q:
            total += float(q["quantity"])
    return total


def farm_series(
    session: Session, farm_id: str, device_type: str, metric: str, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """A metric of the farm's devices of one type in [start, end), through iot's service."""
    out: list[tuple[datetime, float]] = []
    for device in iot.devices_of_owner(
        session=session, owner_kind=FARM_KIND, owner_id=farm_id, device_type=device_type
    ):
        for ts, data in iot.messages_between(
            session=session, device=device, start=start, end=end, keys=[metric]
        ):
            value = data.get(metric)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append((ts if ts.tzinfo else ts.replace(tzinfo=UTC), float(value)))
    return out


def _daily(
    session: Session,
    lot: Lot,
    window: tuple[datetime, datetime],
    kind: str,
    metric: str,
    tz: timezone,
    agg: str,
) -> dict[date, float]:
    values: dict[date, list[float]] = defaultdict(list)
    for ts, value in farm_series(session, lot.farm_id, kind, metric, *window):
        values[ts.astimezone(tz).date()].append(value)
    pick = sum if agg == "sum" else max
    return {d: float(pick(v)) for d, v in values.items()}


def judge(session: Session, lot: Lot, product: Product) -> list[Finding]:
    events = lot_events(session, lot, product)
    if not events:
        return []
    tz = _tz(events[0].body)
    # The sensors are read over the season the events span, with a margin for the checks
    # that look a few days before and after.
    margin = timedelta(days=RESPONSE_DAYS + 3)
    window = (events[0].event_time - margin, events[-1].event_time + margin)
    rain = _daily(session, lot, window, "weather_station", "rainfall_mm", tz, "sum")
    ec = _daily(session, lot, window, "soil_probe", "ec_ds_m", tz, "max")
    out: list[Finding] = []
    fertilised: list[date] = []
    inputs: list[tuple[str, str, bool]] = []
    certified = False
    harvested = packed = 0.0
    for row in events:
        body = row.body
        local = row.event_time.astimezone(_tz(body)).date()
        step = vocab.farm_step(str(body.get("bizStep") or ""))
        certified = certified or isinstance(body.get("certificationInfo"), str)
        if body.get("anxin:weather") == "rain":
            out.append(rainy_day(local, rain.get(local) if rain else None))
        applied = body.get("anxin:input")
        if isinstance(applied, Mapping):
            inputs.append(
                (row.event_hash, str(applied.get("product")), applied.get("organic") is True)
            )
        if step == "fertilising":
            fertilised.append(local)
            before = [
                ec[local - timedelta(days=k)] for k in (1, 2) if local - timedelta(days=k) in ec
            ]
            after = [
                ec[local + timedelta(days=k)]
                for k in range(RESPONSE_DAYS + 1)
                if local + timedelta(days=k) in ec
            ]
            out.append(fertiliser_response(local, before, after))
        if step == "harvesting":
            harvested += _kg(body) or _kg(body, "outputQuantityList")
        if step == "packing":
            packed += _kg(body) or _kg(body, "childQuantityList")
    out += undeclared_inputs(ec, fertilised)
    out += organic(certified, inputs)
    plot = session.get(Plot, lot.plot_id) if lot.plot_id else None
    if harvested and plot is not None:
        out.append(harvest_yield(plot.crop, float(Decimal(plot.area_m2)), harvested))
    if harvested and packed:
        out.append(packing(harvested, packed))
    return out


def run(*, uow: UnitOfWork, principal: Principal, lot: Lot, product: Product) -> list[Check]:
    """Judge the lot again; its findings replace the previous run's, each fail alarms."""
    if principal.role not in (Role.ADMIN, Role.FARMER, Role.CLAIMS_HANDLER):
        raise PermissionDenied("cross-validation is run by the farm, the brand or the insurer")
    session, now = uow.session, uow.now()
    findings = judge(session, lot, product)
    session.execute(delete(Check).where(Check.lot_id == lot.id))
    rows = [
        Check(
            lot_id=lot.id,
            farm_id=lot.farm_id,
            code=f.code,
            subject=f.subject[:80],
            outcome=f.outcome,
            reason=f.reason,
            evidence=dict(f.evidence),
            checked_at=now,
        )
        for f in findings
    ]
    session.add_all(rows)
    session.flush()
    failed = [f for f in findings if f.outcome == "fail"]
    if failed:
        recipients = brand_recipients(uow, product.organisation_id)
        for f in failed:
            raise_alarm(
                uow=uow,
                organisation_id=product.organisation_id,
                owner_kind=FARM_KIND,
                owner_id=lot.farm_id,
                source_kind="trace_lot",
                source_id=lot.id,
                alarm_type=f"trace_check_{f.code}",
                severity=Severity.MAJOR,
                title=f"溯源交叉校验不符 Cross-validation failed: {f.code}",
                details={
                    "lot": lot.code,
                    "subject": f.subject,
                    "reason": f.reason,
                    "evidence": dict(f.evidence),
                },
                policy=DEFAULT_POLICY,
                recipients=recipients,
                now=now,
            )
    return rows


def checks_of(session: Session, lot_id: str) -> list[Check]:
    return list(
        session.scalars(
            select(Check).where(Check.lot_id == lot_id).order_by(Check.code, Check.subject)
        )
    )


def counts_by_farm(session: Session, farm_id: str) -> dict[str, int]:
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for outcome in session.scalars(select(Check.outcome).where(Check.farm_id == farm_id)):
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
