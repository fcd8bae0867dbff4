"""Long-term care insurance at city scale: register import and one month's settlement.

Run: .venv/bin/python bench/ltc.py [--insured N] [--beneficiaries N] [--visits N]
Defaults are Nantong's size (7.3 million insured, 65,000 beneficiaries, ~420,000 visits in a
month). Writes bench/results/ltc.json (or `--out`) with the scale actually run.

What runs, on a scratch PostgreSQL database (ANXIN_BENCH_PG_URL or the local PostgreSQL 15):
- a register CSV of `--insured` rows with valid ID numbers is written to a temp file and
  imported through the real command (`anxin ltc import`, default chunks, ON CONFLICT upsert):
  `import.insured_per_s`;
- beneficiaries (grades 1-5), 390 institutions, wheelchairs/beds for a third of them and the
  month's visits are bulk-inserted; about 3 % of visits are too short, 1 % checked out far from
  the home, 2 % unconfirmed, and some caregivers double-booked;
- `ltc.flows.settle_and_anchor` settles the month in one unit of work (visit lines set-based
  in SQL): `settlement.seconds`, `settlement.cpu_seconds` (this process only) and the load;
  `settlement.reconciled` is the stored fund payouts matched to the stored claim lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from anxin.bootstrap import prepare_database
from anxin.cli import app as cli
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings, get_settings
from anxin.core.events import InProcessBus
from anxin.domains import build_context
from anxin.ltc.entitlements import Month
from anxin.ltc.flows import settle_and_anchor
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcInstitution,
    LtcInsured,
    LtcRental,
    LtcRule,
    LtcService,
    LtcVisit,
)
from anxin.ltc.register import id_check_digit
from anxin.ltc.service import insert_values
from anxin.people.models import Organisation, OrganisationKind

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
MONTH = Month(2026, 11)
ORG = "Bench City LTC"
HOME = (32.0146, 120.8642)
OUT = Path(__file__).parent / "results" / "ltc.json"


def _settings(url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        secret_key=SecretStr("bench-secret-key-long-enough-0123456789"),
    )


def write_register(path: Path, rows: int) -> None:
    """Unique, valid ID numbers: the birth date advances every 1,000 people."""
    born0 = date(1940, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write("id_number,name,sex,birth_date,district,address,lat,lon\n")
        for i in range(rows):
            born = born0 + timedelta(days=i // 1000)
            first17 = f"320602{born:%Y%m%d}{i % 1000:03d}"
            sex = "F" if i % 2 else "M"
            lat = HOME[0] + (i % 997) * 1e-4
            lon = HOME[1] + (i % 991) * 1e-4
            out.write(
                f"{first17}{id_check_digit(first17)},居民{i},{sex},{born:%Y-%m-%d},崇川区,"
                f"路 {i % 5000} 号,{lat:.5f},{lon:.5f}\n"
            )


def seed_month(context: Any, org_id: str, beneficiaries: int, visits: int, seed: int) -> None:
    rng = random.Random(seed)
    with context.unit(actor="bench", bus=InProcessBus()) as uow:
        s = uow.session
        for code, price in [("bath", "60.00"), ("haircut", "15.00"), ("massage", "35.50")]:
            s.add(
                LtcService(
                    org_id=org_id, code=code, name_zh=code, name_en=code, price=Decimal(price)
                )
            )
        for grade, cash in [
            (1, "90.00"),
            (2, "210.00"),
            (3, "450.00"),
            (4, "600.00"),
            (5, "750.00"),
        ]:
            s.add(
                LtcRule(
                    org_id=org_id, city="bench", grade=grade, valid_from=date(2026, 1, 1),
                    valid_to=None, monthly_cash=Decimal(cash), visits_per_week=2 + grade // 2,
                    services=["bath", "haircut", "massage"], visit_copay_ratio=Decimal("0.10"),
                    rental_fund_ratio=Decimal("0.80"), created_at=NOW,
                )
            )  # fmt: skip
        s.execute(
            insert(LtcInstitution),
            [{"org_id": org_id, "name": f"护理站 {i}", "created_at": NOW} for i in range(390)],
        )
        institutions = list(s.scalars(select(LtcInstitution.id)))
        insured = list(
            s.execute(
                select(LtcInsured.id, LtcInsured.lat, LtcInsured.lon)
                .where(LtcInsured.org_id == org_id)
                .order_by(LtcInsured.id)
                .limit(beneficiaries)
            )
        )
        s.execute(
            insert(LtcBeneficiary),
            [
                {"org_id": org_id, "insured_id": i, "city": "bench", "grade": rng.randint(1, 5),
                 "entitled_from": date(2026, 1, 1), "entitled_to": None, "created_at": NOW}
                for i, _, _ in insured
            ],
        )  # fmt: skip
        people = list(
            s.execute(
                select(LtcBeneficiary.id, LtcInsured.lat, LtcInsured.lon).join(
                    LtcInsured, LtcInsured.id == LtcBeneficiary.insured_id
                )
            )
        )
        s.execute(
            insert(LtcRental),
            [
                {"org_id": org_id, "beneficiary_id": b, "depot_id": rng.randint(1, 40),
                 "item": rng.choice(["wheelchair", "nursing_bed"]),
                 "monthly_rent": Decimal(rng.choice(["90.00", "150.00"])),
                 "start": date(2026, 10, rng.randint(1, 31)), "end": None}
                for b, _, _ in people[: len(people) // 3]
            ],
        )  # fmt: skip
        caregivers = max(1, visits // 60)  # ~60 visits per caregiver per month
        start0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
        batch: list[dict[str, Any]] = []
        for n in range(visits):
            b, lat, lon = people[n % len(people)]
            caregiver = n % caregivers
            # Each caregiver works a day in slots of 90 minutes; 0.5 % are booked twice.
            slot = (n // caregivers) % 300
            check_in = start0 + timedelta(days=slot // 10, minutes=(slot % 10) * 90)
            if rng.random() < 0.005:
                check_in += timedelta(minutes=-60)
            minutes = 12 if rng.random() < 0.03 else rng.randint(40, 80)
            far = rng.random() < 0.01
            batch.append(
                {"org_id": org_id, "beneficiary_id": b,
                 "institution_id": institutions[caregiver % len(institutions)],
                 "caregiver": f"cg-{caregiver}", "check_in": check_in,
                 "check_out": check_in + timedelta(minutes=minutes), "in_lat": lat, "in_lon": lon,
                 "out_lat": lat + (0.02 if far else 0.0), "out_lon": lon,
                 "services": rng.sample(["bath", "haircut", "massage"], rng.randint(1, 2)),
                 "confirmed": rng.random() >= 0.02, "presence": None}
            )  # fmt: skip
            if len(batch) == 10_000:
                insert_values(s, LtcVisit.__table__, batch)
                batch = []
        if batch:
            insert_values(s, LtcVisit.__table__, batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--insured", type=int, default=7_300_000)
    parser.add_argument("--beneficiaries", type=int, default=65_000)
    parser.add_argument("--visits", type=int, default=420_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=OUT, help="Where to write the result.")
    args = parser.parse_args()
    base = make_url(
        os.environ.get(
            "ANXIN_BENCH_PG_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1/postgres"
        )
    )
    name = f"anxin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        settings = _settings(url)
        prepare_database(settings)
        context = build_context(settings, clock=FrozenClock(NOW))
        with context.unit(actor="bench") as uow:
            org = Organisation(name=ORG, kind=OrganisationKind.CITY, created_at=NOW)
            uow.session.add(org)
            uow.session.flush()
            org_id = org.id
        register = Path(tempfile.mkdtemp()) / "register.csv"
        t0 = time.perf_counter()
        write_register(register, args.insured)
        csv_seconds = time.perf_counter() - t0
        os.environ["ANXIN_DATABASE_URL"] = url
        os.environ["ANXIN_SECRET_KEY"] = settings.secret_key.get_secret_value()
        get_settings.cache_clear()
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = CliRunner().invoke(cli, ["ltc", "import", str(register), "--org", ORG])
        import_seconds = time.perf_counter() - t0
        import_cpu = time.process_time() - cpu0
        assert result.exit_code == 0, result.output
        register.unlink()
        seed_month(context, org_id, args.beneficiaries, args.visits, args.seed)
        load_before = os.getloadavg()[0]
        t0, cpu0 = time.perf_counter(), time.process_time()
        with context.unit(actor="bench", bus=InProcessBus()) as uow:
            run = settle_and_anchor(uow=uow, org_id=org_id, month=MONTH)
            summary = dict(run.settlement.summary)
        settle_seconds = time.perf_counter() - t0
        # This process's CPU only: the set-based run's work is in the PostgreSQL server.
        settle_cpu = time.process_time() - cpu0
        load_after = os.getloadavg()[0]
        report = {
            "scale": {
                "insured": args.insured,
                "beneficiaries": args.beneficiaries,
                "visits": args.visits,
                "full_size": (args.insured, args.beneficiaries, args.visits)
                == (7_300_000, 65_000, 420_000),
            },
            "import": {
                "rows": args.insured,
                "seconds": round(import_seconds, 2),
                "insured_per_s": round(args.insured / import_seconds),
                "cpu_seconds": round(import_cpu, 2),
                "csv_write_seconds": round(csv_seconds, 2),
            },
            "settlement": {
                "month": str(MONTH),
                "seconds": round(settle_seconds, 2),
                "cpu_seconds": round(settle_cpu, 2),
                "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
                "target_seconds": 60,
                "reconciled": run.reconciled,
                "lines": summary["lines"],
                "rejected": summary["rejected"],
                "fund_out": summary["fund_out"],
            },
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "database": "PostgreSQL 15 on the same machine",
                "shared": "yes: other engineers' builds and tests may run on it; see load_avg",
                "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        args.out.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(json.dumps(report, indent=2, ensure_ascii=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
