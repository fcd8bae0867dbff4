"""The traceability demo (issue 20): the Jinshan rice cooperative's 2026 season.

Rice on plot P01 from transplanting to packing, recorded by the farmer through EPCIS capture,
with a weather station and a soil probe on the farm (a simulated season: seeded, so every
demo shows the same rain); a lot of 100 bags with printed labels, its public page disclosed
(the plot's exact place kept private), the cross-validation run, authenticity and food-safety
cover, and one counterfeit: serial 7 scanned in Shanghai and an hour later in Beijing, which
raises the brand's alarm and opens the consumer's case. An olive grove in Longnan, Gansu, and
a mountain-goat pasture in Yunnan, each with its own farmer, show that a farmer sees only their
farm; the goats are traced the same way: a farm, a plot (the pasture) and EPCIS events (three
ear-tagged kids, a veterinary inspection with its certificate).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.iot import service as iot
from anxin.iot.models import Reading
from anxin.iot.schemas import DeviceCreate
from anxin.people import service as people
from anxin.people.models import OrganisationKind, User
from anxin.trace import catalogue, crosscheck, disclosure, insurance, scanning, service, vocab
from anxin.trace.models import (
    CaptureJob,
    Claim,
    Farm,
    Lot,
    Plot,
    Policy,
    Scan,
    TraceEvent,
    Unit,
)
from anxin.trace.schemas import (
    FarmCreate,
    LotCreate,
    PlotCreate,
    PolicyCreate,
    ProductCreate,
    ScanCreate,
    SuspiciousReport,
    UnitsIssue,
)

COOP_ORG = "金山稻米专业合作社 Jinshan Rice Cooperative"
LOGINS: tuple[tuple[str, str, Role, str], ...] = (
    ("coop", "合作社管理员 钱伟 Qian Wei (brand)", Role.ADMIN, "demo-coop-pass"),
    ("farmer", "稻农 沈建国 Shen Jianguo", Role.FARMER, "demo-farmer-pass"),
    ("olive-farmer", "橄榄农 马小兰 Ma Xiaolan", Role.FARMER, "demo-olive-farmer-pass"),
    ("insurer", "理赔 吴敏 Wu Min (insurer)", Role.CLAIMS_HANDLER, "demo-insurer-pass"),
    ("goat-farmer", "山羊养殖户 李阿普 Li Apu", Role.FARMER, "demo-goat-farmer-pass"),
)
RICE_GTIN = "06970001000016"  # company 6970001, item 00001
OIL_GTIN = "06970001000023"
FARM_GLN = "urn:epc:id:sgln:6970001.00001.0"
PLOT_GLN = "urn:epc:id:sgln:6970001.00001.1"
GROVE_GLN = "urn:epc:id:sgln:6970001.00002.0"
GROVE_PLOT_GLN = "urn:epc:id:sgln:6970001.00002.1"
GOAT_GLN = "urn:epc:id:sgln:6970001.00003.0"
GOAT_PLOT_GLN = "urn:epc:id:sgln:6970001.00003.1"
GOATS = tuple(f"urn:epc:id:giai:6970001.GOAT-2026-{n:03d}" for n in (1, 2, 3))  # ear tags
LOT = "JS2026"
RICE = "urn:epc:class:lgtin:6970001.000001." + LOT
CST = timezone(timedelta(hours=8))
SEASON = (date(2026, 5, 1), date(2026, 10, 31))
RAINY_CLAIMS = (date(2026, 6, 15), date(2026, 7, 2))  # days the farmer logged as rainy
FERTILISED = date(2026, 6, 3)
SHANGHAI = (31.23, 121.47)
BEIJING = (39.90, 116.40)  # ~1,070 km from Shanghai


@dataclass
class TraceDemo:
    organisation_id: str
    farm_id: str
    plot_id: str
    grove_id: str
    lot_id: str
    capture_id: str
    policy_id: str
    claim_id: str
    goat_farm_id: str
    gtin: str = RICE_GTIN
    lot: str = LOT
    serial: str = "1"
    counterfeit_serial: str = "7"


def _ring(lon: float, lat: float, d: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
        ],
    }


def _event(day: date, step: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"{day.isoformat()}T08:30:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": f"anxin:{step}",
        "quantityList": [{"epcClass": RICE}],
        "readPoint": {"id": PLOT_GLN},
        "bizLocation": {"id": FARM_GLN},
        **extra,
    }


def _kg(quantity: float) -> list[dict[str, Any]]:
    return [{"epcClass": RICE, "quantity": quantity, "uom": "KGM"}]


def _season_document() -> dict[str, Any]:
    events = [
        _event(
            date(2026, 5, 12),
            "transplanting",
            action="ADD",
            certificationInfo="https://certs.example.org/organic/CN-ORG-2026-0042",
            ilmd={"anxin:variety": "松早618 Songzao 618", "anxin:seedlingAgeDays": 28},
        ),
        _event(
            FERTILISED,
            "fertilising",
            **{
                "anxin:input": {
                    "product": "菜籽饼肥 rapeseed cake",
                    "organic": True,
                    "quantity": 300,
                }
            },
        ),
        _event(RAINY_CLAIMS[0], "irrigating", **{"anxin:weather": "rain"}),
        _event(RAINY_CLAIMS[1], "irrigating", **{"anxin:weather": "rain"}),
        _event(
            date(2026, 7, 20),
            "spraying",
            **{"anxin:input": {"product": "苦参碱 matrine (botanical)", "organic": True}},
        ),
        _event(date(2026, 10, 10), "harvesting", quantityList=_kg(4600)),
        {
            "type": "TransformationEvent",
            "eventTime": "2026-10-14T10:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "inputQuantityList": [
                {
                    "epcClass": "urn:epc:class:lgtin:6970001.000001.PADDY26",
                    "quantity": 4600,
                    "uom": "KGM",
                }
            ],
            "outputQuantityList": _kg(3200),
            "bizStep": "anxin:milling",
            "bizLocation": {"id": FARM_GLN},
        },
        {
            **_event(date(2026, 10, 20), "packing", quantityList=_kg(3000)),
            "readPoint": {"id": FARM_GLN},
        },
    ]
    return epcis_document(events, "2026-10-20T18:00:00+08:00")


def _goat_document() -> dict[str, Any]:
    """The pasture's spring: three kids ear-tagged (commissioned), then the vet's inspection."""
    at = {"readPoint": {"id": GOAT_PLOT_GLN}, "bizLocation": {"id": GOAT_GLN}}
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": "2026-03-18T09:00:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "epcList": list(GOATS),
            "action": "ADD",
            "bizStep": "commissioning",
            "ilmd": {"anxin:variety": "云岭黑山羊 Yunling black goat"},
            **at,
        },
        {
            "type": "ObjectEvent",
            "eventTime": "2026-05-06T10:30:00+08:00",
            "eventTimeZoneOffset": "+08:00",
            "epcList": list(GOATS),
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "certificationInfo": "https://certs.example.org/vet/YN-2026-0318",
            **at,
        },
    ]
    return epcis_document(events, "2026-05-06T12:00:00+08:00")


def epcis_document(events: list[dict[str, Any]], created: str) -> dict[str, Any]:
    """An EPCIS 2.0 document declaring our namespace (``anxin:``) for the farm steps."""
    return {
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"anxin": vocab.ANXIN_NS},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"eventList": events},
    }


def _weather(uow: UnitOfWork, station: str, probe: str) -> None:
    """A simulated season: plum-rain June, a dry August; EC rises after the fertilising."""
    rng = random.Random(2026)  # noqa: S311 - a simulation, reproducible on purpose
    rows = []
    day = SEASON[0]
    ec = 0.45
    while day <= SEASON[1]:
        wet = 0.45 if day.month in (6, 7) else 0.2
        rain = round(rng.uniform(1, 30), 1) if rng.random() < wet else 0.0
        if day in RAINY_CLAIMS:
            rain = max(rain, 8.0)
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=CST)
        rows.append(
            Reading(
                device_id=station,
                ts=noon,
                message_id=f"demo-ws-{day}",
                data={"rainfall_mm": rain, "temperature_c": round(rng.uniform(22, 34), 1)},
            )
        )
        ec = 0.75 if day == FERTILISED + timedelta(days=1) else max(0.45, ec * 0.97)
        rows.append(
            Reading(
                device_id=probe,
                ts=noon,
                message_id=f"demo-sp-{day}",
                data={
                    "ec_ds_m": round(ec, 3),
                    "ph": round(rng.uniform(6.2, 6.8), 2),
                    "moisture_pct": round(rng.uniform(35, 60), 1),
                },
            )
        )
        day += timedelta(days=1)
    uow.session.add_all(rows)
    uow.session.flush()


def _farm(
    uow: UnitOfWork,
    brand: Principal,
    farmer: User,
    code: str,
    name: str,
    gln: str,
    plot: PlotCreate,
) -> tuple[Farm, Plot]:
    """A farm of the brand's, given to its farmer, who maps its one plot."""
    made = service.create_farm(
        uow=uow,
        principal=brand,
        data=FarmCreate(code=code, name=name, location=gln, farmer_user_id=farmer.id),
    )
    mapped = service.add_plot(
        uow=uow, principal=people.principal_of(farmer), farm_id=made.id, data=plot
    )
    return made, mapped


def seed_trace(*, uow: UnitOfWork, now: datetime) -> TraceDemo:
    """Seed the cooperative once; a second call finds it and changes nothing."""
    session = uow.session
    org = ensure_organisation(session, COOP_ORG, OrganisationKind.COOPERATIVE, now)
    users = {u: ensure_user(session, org.id, u, n, r, p, now) for u, n, r, p in LOGINS}
    farm = session.scalar(select(Farm).where(Farm.location == vocab.to_digital_link(FARM_GLN)))
    if farm is not None:
        return _found(uow, org.id, farm)
    brand = people.principal_of(users["coop"])
    farmer = people.principal_of(users["farmer"])
    farm, plot = _farm(
        uow,
        brand,
        users["farmer"],
        "JS01",
        "金山稻米合作社一号田 Jinshan rice farm",
        FARM_GLN,
        PlotCreate(
            code="P01",
            location=PLOT_GLN,
            crop="rice",
            area_m2=Decimal("6670.0"),
            boundary=_ring(121.18, 30.80, 0.0009),
        ),
    )
    grove, _ = _farm(
        uow,
        brand,
        users["olive-farmer"],
        "LN01",
        "陇南橄榄园 Longnan olive grove",
        GROVE_GLN,
        PlotCreate(
            code="G01",
            location=GROVE_PLOT_GLN,
            crop="olive",
            area_m2=Decimal("20000.0"),
            boundary=_ring(104.92, 33.39, 0.0015),
        ),
    )
    goats, _ = _farm(
        uow,
        brand,
        users["goat-farmer"],
        "YN01",
        "云岭黑山羊牧场 Yunling mountain-goat pasture",
        GOAT_GLN,
        PlotCreate(
            code="M01",
            location=GOAT_PLOT_GLN,
            crop="goat",
            area_m2=Decimal("300000.0"),
            boundary=_ring(100.21, 25.61, 0.005),
        ),
    )
    goat_farmer = people.principal_of(users["goat-farmer"])
    service.capture_document(uow=uow, principal=goat_farmer, document=_goat_document())
    admin = Principal(users["coop"].id, org.id, Role.ADMIN, "coop")
    station, _ = iot.create_device(
        uow=uow,
        principal=admin,
        now=now,
        data=DeviceCreate(
            device_type="weather_station",
            name="JS01 气象站 weather station",
            owner_kind="farm",
            owner_id=farm.id,
        ),
    )
    probe, _ = iot.create_device(
        uow=uow,
        principal=admin,
        now=now,
        data=DeviceCreate(
            device_type="soil_probe",
            name="P01 土壤探头 soil probe",
            owner_kind="farm",
            owner_id=farm.id,
        ),
    )
    _weather(uow, station.id, probe.id)
    rice = catalogue.create_product(
        uow=uow,
        principal=brand,
        data=ProductCreate(
            gtin=RICE_GTIN,
            name_zh="金山有机大米 5 公斤",
            name_en="Jinshan organic rice 5 kg",
            sales_region={
                "type": "Polygon",
                "coordinates": [[[100, 18], [123, 18], [123, 42], [100, 42], [100, 18]]],
            },
        ),
    )
    catalogue.create_product(
        uow=uow,
        principal=brand,
        data=ProductCreate(
            gtin=OIL_GTIN, name_zh="陇南初榨橄榄油", name_en="Longnan extra virgin olive oil"
        ),
    )
    job = service.capture_document(uow=uow, principal=farmer, document=_season_document())
    lot = catalogue.create_lot(
        uow=uow,
        principal=brand,
        data=LotCreate(product_id=rice.id, farm_id=farm.id, plot_id=plot.id, code=LOT),
    )
    catalogue.issue_units(uow=uow, principal=brand, lot_id=lot.id, data=UnitsIssue(count=100))
    disclosure.publish(
        uow=uow, principal=farmer, lot=lot, product=rice, public=disclosure.DEFAULT_PUBLIC
    )
    crosscheck.run(uow=uow, principal=farmer, lot=lot, product=rice)
    start = datetime(2026, 10, 1, tzinfo=CST)
    year = timedelta(days=365)
    cover = insurance.create_policy(
        uow=uow,
        principal=brand,
        data=PolicyCreate(
            product_id=rice.id,
            cover="authenticity",
            units=100_000,
            sum_insured=Decimal("200000.00"),
            starts_on=start,
            ends_on=start + year,
        ),
    )
    insurance.create_policy(
        uow=uow,
        principal=brand,
        data=PolicyCreate(
            product_id=rice.id,
            lot_id=lot.id,
            cover="food_safety",
            units=600,
            sum_insured=Decimal("50000.00"),
            starts_on=start,
            ends_on=start + year,
        ),
    )
    # The counterfeit: a genuine scan in Shanghai an hour ago, then the copy in Beijing now.
    seven = session.scalar(select(Unit.id).where(Unit.gtin == RICE_GTIN, Unit.serial == "7"))
    session.add(
        Scan(
            organisation_id=org.id,
            gtin=RICE_GTIN,
            serial="7",
            unit_id=seven,
            scanned_at=now - timedelta(hours=1),
            lat=SHANGHAI[0],
            lon=SHANGHAI[1],
            verdict="genuine",
            findings=[],
        )
    )
    session.flush()
    # The copy's scan in Beijing (which raises the brand's alarm) comes from `anxin demo`
    # (counterfeit_sighting): the seed is also every test's fixture, and an alarm raised here
    # would be counted by the tests of alarms and the outbox.
    claim = insurance.report_suspicious(
        uow=uow,
        data=SuspiciousReport(
            gtin=RICE_GTIN,
            serial="7",
            description="北京超市买到的袋子印刷模糊 blurred print, bought in Beijing",
        ),
    )
    return TraceDemo(
        org.id, farm.id, plot.id, grove.id, lot.id, job.id, cover.id, claim.id, goats.id
    )


def _found(uow: UnitOfWork, org_id: str, farm: Farm) -> TraceDemo:
    session = uow.session
    plot = session.scalar(select(Plot).where(Plot.farm_id == farm.id))
    grove = session.scalar(select(Farm).where(Farm.location == vocab.to_digital_link(GROVE_GLN)))
    lot = session.scalar(select(Lot).where(Lot.farm_id == farm.id, Lot.code == LOT))
    goats = session.scalar(select(Farm).where(Farm.location == vocab.to_digital_link(GOAT_GLN)))
    # the rice season's capture (the pasture's is the organisation's too)
    job = session.scalar(
        select(CaptureJob).where(
            CaptureJob.id.in_(select(TraceEvent.capture_id).where(TraceEvent.farm_id == farm.id))
        )
    )
    policy = session.scalar(
        select(Policy).where(Policy.organisation_id == org_id, Policy.lot_id.is_(None))
    )
    assert plot and grove and goats and lot and job and policy
    claim = session.scalar(select(Claim).where(Claim.policy_id == policy.id))
    assert claim is not None
    return TraceDemo(
        org_id, farm.id, plot.id, grove.id, lot.id, job.id, policy.id, claim.id, goats.id
    )


def counterfeit_sighting(uow: UnitOfWork) -> None:
    """The copy of serial 7 scanned in Beijing now, an hour after the genuine bag in Shanghai:
    the impossible-travel alarm the brand sees (idempotent: a second sighting repeats it)."""
    scanning.record_scan(
        uow=uow, data=ScanCreate(gtin=RICE_GTIN, serial="7", lat=BEIJING[0], lon=BEIJING[1])
    )
