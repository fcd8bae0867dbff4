"""The leasing demo (issue 16): a Jiangsu machinery maker leases about 3,000,000 yuan of new
equipment from the group's leasing arm, and its two machines report running hours.

`seed_leasing` creates (once) the leasing company and its lessor, the factory and its
account, the direct lease (quote → … → active, serials recorded, the first rents paid) and a
machine tracker on each machine; `shift_readings` is the machines' simulator: a two-shift
working day (08:00–20:00 Asia/Shanghai, weekdays), hour meters that advance while running,
power draw around the machine's rating, and a GNSS fix jittering inside the plant.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from anxin.core.clock import to_local
from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.iot import service as iot
from anxin.iot.ingest import ParsedReading
from anxin.iot.models import Device
from anxin.leasing import service
from anxin.leasing.lifecycle import Stage
from anxin.leasing.models import LeaseContract
from anxin.leasing.schemas import ContractCreate
from anxin.people import service as people
from anxin.people.models import OrganisationKind

LEASING_ORG = "江苏安信融资租赁有限公司 Anxin Leasing (Jiangsu)"
FACTORY_ORG = "常州恒力精密机械有限公司 Hengli Precision Machinery (Changzhou)"
REFERENCE = "AXL-2026-0016"
SITE = (31.7806, 119.9731, 800.0)  # Changzhou Wujin high-tech zone, the factory's plant 2
LOGINS: tuple[tuple[str, str, Role, str], ...] = (
    ("lessor", "租赁经理 吴涛 Wu Tao (leasing)", Role.LESSOR, "demo-lessor-pass"),
    ("machinery", "恒力机械 财务 钱敏 Qian Min", Role.LESSEE, "demo-machinery-pass"),
)
MACHINES = (
    ("五轴加工中心 5-axis machining centre", "1800000.00", 22.0),
    ("光纤激光切割机 fibre laser cutter", "1200000.00", 12.0),
)


@dataclass(frozen=True)
class LeasingDemo:
    contract_id: str
    tracker_tokens: dict[str, str]  # device id -> token


def _credit_code() -> str:
    from anxin.lending.identifiers import uscc_check_character

    body = "91320412MA1MHL16"
    return body + "0" + uscc_check_character(body + "0")


def seed_leasing(*, uow: UnitOfWork, now: datetime, token_file: Path | None) -> LeasingDemo:
    session = uow.session
    lessor_org = ensure_organisation(session, LEASING_ORG, OrganisationKind.BANK, now)
    factory_org = ensure_organisation(session, FACTORY_ORG, OrganisationKind.SERVICE_PROVIDER, now)
    users = {
        username: ensure_user(
            session, (lessor_org if role is Role.LESSOR else factory_org).id,
            username, name, role, password, now,
        )
        for username, name, role, password in LOGINS
    }  # fmt: skip
    existing = session.scalar(
        select(LeaseContract).where(
            LeaseContract.organisation_id == lessor_org.id, LeaseContract.reference == REFERENCE
        )
    )
    if existing is not None:
        return LeasingDemo(existing.id, _read(token_file))
    lessor = people.principal_of(users["lessor"])
    today = to_local(now).date()
    start = date(today.year, today.month, 1) - timedelta(days=1)
    start = date(start.year, start.month, 1)  # the first of last month: one rent is paid
    contract = service.create_contract(
        uow=uow,
        principal=lessor,
        data=ContractCreate.model_validate(
            {
                "reference": REFERENCE,
                "kind": "direct",
                "lessee_name": FACTORY_ORG,
                "lessee_credit_code": _credit_code(),
                "lessee_user_id": users["machinery"].id,
                "vendor_name": "苏州精诚数控设备有限公司 Jingcheng CNC (Suzhou)",
                "assets": [
                    {"asset_type": kind, "cost": cost, "location": "常州武进 plant 2"}
                    for kind, cost, _ in MACHINES
                ],
                "down_payment": "300000.00",
                "periods": 36,
                "annual_rate": "0.0595",
                "timing": "advance",
                "residual": "100.00",
                "handling_fee": "30000.00",
                "deposit": "150000.00",
                "start": start.isoformat(),
                "vat": True,
                "site_name": "常州武进高新区 Hengli plant 2",
                "site_lat": SITE[0],
                "site_lon": SITE[1],
                "site_radius_m": SITE[2],
            }
        ),
    )
    for stage in (Stage.APPROVED, Stage.ORDERED, Stage.VENDOR_PAID):
        service.move(uow=uow, principal=lessor, contract_id=contract.id, stage=stage)
    assets = service.assets_of(session=session, contract_id=contract.id)
    service.accept_delivery(
        uow=uow,
        principal=lessor,
        contract_id=contract.id,
        serials={a.id: f"HL-{n + 1:02d}-2026{n + 7:04d}" for n, a in enumerate(assets)},
    )
    rows = service.schedule_rows(
        service.terms_of(contract), service.build_schedule(service.terms_of(contract))
    )
    for row in rows:
        if row.due > today:
            break
        service.record_payment(
            uow=uow, principal=lessor, contract_id=contract.id, paid_on=row.due, amount=row.total
        )
    tokens = {}
    for asset, (kind, _, _) in zip(assets, MACHINES, strict=True):
        _, device_id, token = service.bind_tracker(
            uow=uow, principal=lessor, contract_id=contract.id, asset_id=asset.id,
            name=f"{kind.split()[0]} 运行监测",
        )  # fmt: skip
        tokens[device_id] = token
    # The trackers' past days are fed by `anxin demo` (demo.live), not here: the seed is also
    # every test's fixture, and readings it stored would be counted by tests of ingestion.
    if token_file is not None:
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(json.dumps(tokens, indent=2))
        token_file.chmod(0o600)
    return LeasingDemo(contract.id, tokens)


def _read(token_file: Path | None) -> dict[str, str]:
    if token_file is None or not token_file.exists():
        return {}
    data: dict[str, str] = json.loads(token_file.read_text())
    return data


def shift_readings(
    device_id: str, rating_kw: float, hours0: float, start: datetime, end: datetime, seed: int
) -> list[dict[str, Any]]:
    """Hourly readings of one machine from `start` to `end` (the simulator)."""
    rng = random.Random(f"{device_id}:{seed}")  # noqa: S311 - a simulation, not a secret
    out = []
    hours = hours0
    at = start.replace(minute=0, second=0, microsecond=0)
    while at <= end:
        local = to_local(at)
        working = local.weekday() < 5 and 8 <= local.hour < 20 and rng.random() > 0.1
        if working:
            hours += round(rng.uniform(0.8, 1.0), 2)
        out.append(
            {
                "message_id": f"sim-{at:%Y%m%d%H}",
                "ts": at,
                "values": {
                    "running_hours": round(hours, 2),
                    "power_kw": round(rating_kw * rng.uniform(0.6, 0.95), 1) if working else 0.0,
                    "running": working,
                    "lat": round(SITE[0] + rng.uniform(-0.0005, 0.0005), 6),
                    "lon": round(SITE[1] + rng.uniform(-0.0005, 0.0005), 6),
                },
            }
        )
        at += timedelta(hours=1)
    return out


def history(uow: UnitOfWork, contract_id: str, now: datetime, days: int = 3) -> None:
    """Three days of the simulator's readings through the one ingest path (idempotent)."""
    assets = service.assets_of(session=uow.session, contract_id=contract_id)
    for n, asset in enumerate(assets):
        device = uow.session.get(Device, asset.device_id) if asset.device_id else None
        if device is None:
            continue
        rating = MACHINES[n % len(MACHINES)][2]
        readings = shift_readings(
            device.id, rating, 120.0 * (n + 1), now - timedelta(days=days), now, n
        )
        parsed = [
            ParsedReading(i, r["message_id"], r["ts"], r["values"]) for i, r in enumerate(readings)
        ]
        iot.store_readings(uow=uow, device=device, parsed=parsed, rejections=[], now=now)
