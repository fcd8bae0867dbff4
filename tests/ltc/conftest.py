"""A city scheme's administering organisation with an administrator and a supervisor, and a
second city whose users must see nothing of the first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.core.security import Role
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
