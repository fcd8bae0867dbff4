"""A city scheme's administering organisation with an administrator and a supervisor, and a
second city whose users must see nothing of the first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.ltc.models import LtcBeneficiary, LtcInsured, LtcService
from anxin.people.models import OrganisationKind
from anxin.people.schemas import UserCreate
from anxin.people.service import create_organisation, create_user
from tests.conftest import login

CITY = "Nantong LTC"
PASSWORD = "ltc-test-password"
USERS = {
    "ltc-admin": (CITY, Role.LTC_ADMIN),
    "ltc-supervisor": (CITY, Role.SUPERVISOR),
    "other-admin": ("Suzhou LTC", Role.LTC_ADMIN),
}


@pytest.fixture
def city(context: AppContext) -> str:
    with context.unit(actor="test:seed") as uow:
        orgs = {
            name: create_organisation(
                session=uow.session, name=name, kind=OrganisationKind.CITY, now=uow.now()
            ).id
            for name in {org for org, _ in USERS.values()}
        }
        for username, (org, role) in USERS.items():
            create_user(
                session=uow.session, organisation_id=orgs[org], now=uow.now(),
                data=UserCreate(
                    username=username, display_name=username, role=role, password=PASSWORD
                ),
            )  # fmt: skip
        return orgs[CITY]


@pytest.fixture
def headers(client: TestClient, city: str) -> Callable[[str], dict[str, str]]:
    return lambda username: login(client, username, PASSWORD).headers


HOME = (32.0146, 120.8642)
FAR = (32.0346, 120.8642)  # about 2.2 km north
RULE = {
    "city": "nantong", "grade": 2, "valid_from": "2026-01-01", "monthly_cash": "210.00",
    "visits_per_week": 2, "services": ["bath", "haircut", "massage"],
    "visit_copay_ratio": "0.10", "rental_fund_ratio": "0.80",
}  # fmt: skip


@pytest.fixture
def scene(
    context: AppContext, city: str, client: TestClient
) -> tuple[Callable[[str], dict[str, str]], int, int]:
    """Her (grade 2, entitled), the menu and rule, an institution run by a care provider whose
    staff member is `carer`, and `stranger` of another provider."""
    with context.unit(actor="test:seed") as uow:
        s = uow.session
        for code, price in [("bath", "60.00"), ("haircut", "15.00"), ("massage", "35.50"),
                            ("wound_care", "80.00")]:  # fmt: skip
            s.add(LtcService(org_id=city, code=code, name_zh=code, name_en=code,
                             price=Decimal(price)))  # fmt: skip
        insured = LtcInsured(
            org_id=city, id_number="32060219550312002X", name="王秀兰", sex="F",
            birth_date=date(1955, 3, 12), district="崇川区", address="青年路 8 号",
            lat=HOME[0], lon=HOME[1], updated_at=uow.now(),
        )  # fmt: skip
        s.add(insured)
        s.flush()
        her = LtcBeneficiary(
            org_id=city, insured_id=insured.id, city="nantong", grade=2,
            entitled_from=date(2026, 6, 1), created_at=uow.now(),
        )  # fmt: skip
        s.add(her)
        s.flush()
        providers, logins = {}, {}
        for org_name, user in [("崇川护理服务公司", "carer"), ("别家护理", "stranger")]:
            org = create_organisation(
                session=s, name=org_name, kind=OrganisationKind.CARE_PROVIDER, now=uow.now()
            )
            providers[user] = org.id
            logins[user] = create_user(
                session=s, organisation_id=org.id, now=uow.now(),
                data=UserCreate(username=user, display_name=user, role=Role.PROVIDER,
                                password=PASSWORD),
            )  # fmt: skip
        her_id = her.id

    def headers(username: str) -> dict[str, str]:
        return login(client, username, PASSWORD).headers

    admin = headers("ltc-admin")
    assert client.post("/api/v1/ltc/rules", json=RULE, headers=admin).status_code == 201
    made = client.post(
        "/api/v1/ltc/institutions",
        json={"name": "崇川护理站", "provider_org_id": providers["carer"]}, headers=admin,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    station = made.json()["id"]
    # cg-1 is the carer's own caregiver record (their phone's login).
    carer = client.post(
        f"/api/v1/ltc/institutions/{station}/caregivers",
        json={"code": "cg-1", "name": "李护理员", "qualification": "care_worker",
              "areas": ["崇川区"], "user_id": logins["carer"].id}, headers=admin,
    )  # fmt: skip
    assert carer.status_code == 201, carer.text
    return headers, her_id, station
