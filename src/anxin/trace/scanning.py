"""Consumer scans: record each one, judge it against the unit's history, alarm the brand.

A scan is public (no login). It is stored with a coarse location only (``counterfeit.coarse``)
and judged by ``counterfeit``'s checks plus three lookups: was the serial issued, was its
label printed, and was the package recorded as used up (an EPCIS event on its SGTIN with a
disposition of ``CONSUMED``). Each finding raises an alarm to the brand's administrators with
the evidence; a repeat of the same finding on the same unit repeats that alarm rather than
opening another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select

from anxin.alerts.policies import DEFAULT_POLICY
from anxin.alerts.schemas import Recipient
from anxin.alerts.service import Severity, raise_alarm
from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.people import service as people
from anxin.trace import counterfeit, vocab
from anxin.trace.counterfeit import Finding, Point, Sighting
from anxin.trace.models import Lot, Product, Scan, TraceEvent, TraceEventEpc, Unit
from anxin.trace.schemas import ScanCreate

Verdict = Literal["genuine", "suspect", "unknown"]
FARM_KIND = "farm"
PRODUCT_KIND = "product"
SOURCE_KIND = "trace_unit"
CONSUMED = frozenset(vocab.CBV + f"Disp-{name}" for name in ("inactive", "destroyed", "disposed"))
SEVERITY = {
    "impossible_travel": Severity.MAJOR,
    "unknown_serial": Severity.MAJOR,
    "never_printed": Severity.MAJOR,
    "consumed": Severity.MAJOR,
    "outside_sales_region": Severity.MINOR,
}
TITLES = {
    "impossible_travel": "同一包装异地扫码 Impossible travel between scans",
    "unknown_serial": "未发放的序列号 Serial never issued",
    "never_printed": "未打印的标签被扫 Label never printed",
    "consumed": "已消费包装再次被扫 Scanned after consumption",
    "outside_sales_region": "销售区域外扫码 Scanned outside the sales region",
}


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    verdict: Verdict
    first_scan: bool
    scan_count: int
    findings: Sequence[Finding]
    product: Product | None
    lot: Lot | None


def _consumed(uow: UnitOfWork, product: Product, serial: str) -> TraceEvent | None:
    epc = f"{vocab.DL_HOST}/01/{product.gtin}/21/{serial}"
    return uow.session.scalar(
        select(TraceEvent)
        .join(TraceEventEpc, TraceEventEpc.event_id == TraceEvent.id)
        .where(
            TraceEventEpc.epc == epc,
            TraceEventEpc.role == "epc",
            TraceEvent.organisation_id == product.organisation_id,
            TraceEvent.disposition.in_(CONSUMED),
            TraceEvent.event_time <= uow.now(),
        )
        .order_by(TraceEvent.event_time)
        .limit(1)
    )


def brand_recipients(uow: UnitOfWork, organisation_id: str) -> list[Recipient]:
    users = people.active_users_with_roles(
        session=uow.session, organisation_id=organisation_id, roles=(Role.ADMIN,)
    )
    return [Recipient("admin", u.display_name, u.id, u.phone) for u in users]


def record_scan(*, uow: UnitOfWork, data: ScanCreate) -> ScanOutcome:
    session, now = uow.session, uow.now()
    where = (
        counterfeit.coarse(data.lat, data.lon)
        if data.lat is not None and data.lon is not None
        else None
    )
    sighting = Sighting(now, where)
    product = session.scalar(select(Product).where(Product.gtin == data.gtin))
    unit = session.scalar(select(Unit).where(Unit.gtin == data.gtin, Unit.serial == data.serial))
    same = (Scan.gtin == data.gtin, Scan.serial == data.serial)
    count = int(session.scalar(select(func.count()).select_from(Scan).where(*same)) or 0) + 1
    # Travel is judged against the last scan that has a place: a scan without one (a phone
    # that withholds its location) must not hide where the bag was last seen.
    previous = session.execute(
        select(Scan.scanned_at, Scan.lat, Scan.lon)
        .where(*same, Scan.lat.is_not(None), Scan.lon.is_not(None))
        .order_by(Scan.scanned_at.desc())
        .limit(1)
    ).first()
    findings: list[Finding] = []
    lot = session.get(Lot, unit.lot_id) if unit is not None else None
    if product is not None:
        findings += _unit_findings(uow, product, unit, data.serial, sighting)
        if previous is not None:
            before = Sighting(
                previous[0],
                Point(previous[1], previous[2])
                if previous[1] is not None and previous[2] is not None
                else None,
            )
            travel = counterfeit.impossible_travel(before, sighting)
            if travel is not None:
                findings.append(travel)
        region = counterfeit.outside_region(sighting, product.sales_region)
        if region is not None:
            findings.append(region)
    verdict: Verdict = "unknown" if product is None else "suspect" if findings else "genuine"
    session.add(
        Scan(
            organisation_id=product.organisation_id if product else None,
            gtin=data.gtin,
            serial=data.serial,
            unit_id=unit.id if unit else None,
            scanned_at=now,
            lat=where.lat if where else None,
            lon=where.lon if where else None,
            verdict=verdict,
            findings=[
                {"code": f.code, "reason": f.reason, "evidence": dict(f.evidence)} for f in findings
            ],
        )
    )
    session.flush()
    if product is not None and findings:
        _alarm(uow, product, unit, lot, data.serial, findings)
    return ScanOutcome(verdict, count == 1, count, findings, product, lot)


def _unit_findings(
    uow: UnitOfWork, product: Product, unit: Unit | None, serial: str, now: Sighting
) -> list[Finding]:
    if unit is None:
        return [Finding("unknown_serial", "no such serial was ever issued", {"serial": serial})]
    out: list[Finding] = []
    if unit.printed_at is None:
        out.append(Finding("never_printed", "the serial was issued but its label never printed",
                           {"issued_at": unit.issued_at.isoformat()}))  # fmt: skip
    consumed = _consumed(uow, product, serial)
    if consumed is not None:
        out.append(
            Finding(
                "consumed",
                "the package was recorded as used up before this scan",
                {
                    "event_id": consumed.event_hash,
                    "event_time": consumed.event_time.isoformat(),
                    "scan_time": now.at.isoformat(),
                },
            )
        )
    return out


def _alarm(
    uow: UnitOfWork,
    product: Product,
    unit: Unit | None,
    lot: Lot | None,
    serial: str,
    findings: Sequence[Finding],
) -> None:
    recipients = brand_recipients(uow, product.organisation_id)
    owner_kind, owner_id = (FARM_KIND, lot.farm_id) if lot else (PRODUCT_KIND, product.id)
    source_id = unit.id if unit else f"{product.id[:24]}/{serial}"[:64]
    for finding in findings:
        raise_alarm(
            uow=uow,
            organisation_id=product.organisation_id,
            owner_kind=owner_kind,
            owner_id=owner_id,
            source_kind=SOURCE_KIND,
            source_id=source_id,
            alarm_type=f"trace_{finding.code}",
            severity=SEVERITY[finding.code],
            title=TITLES[finding.code],
            details={
                "gtin": product.gtin,
                "serial": serial,
                "lot": lot.code if lot else None,
                "reason": finding.reason,
                "evidence": dict(finding.evidence),
            },
            policy=DEFAULT_POLICY,
            recipients=recipients,
            now=uow.now(),
        )
