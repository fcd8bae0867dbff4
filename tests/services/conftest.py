"""Fixtures of the services tests: a provider with a cook and a cleaner, a smart speaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.demo.seed import DemoInfo
from anxin.iot import service as iot
from anxin.iot.schemas import DeviceCreate
from anxin.people import service as people
from anxin.people.schemas import UserCreate
from anxin.services.models import Booking, Complaint, ServiceProvider, ServiceWorker
from tests.conftest import device_headers, login

Headers = Callable[[str], dict[str, str]]
EVERY_DAY = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]
API = "/api/v1/services"


def clear_demo_services(context: AppContext, organisation_id: str) -> None:
    """Remove the demo's provider, workers and bookings: the API tests count and assign their
    own bookings, and the demo's worker would compete with the crew for them."""
    with context.unit(actor="test:seed") as uow:
        session = uow.session
        for model in (Complaint, Booking):
            for row in session.scalars(
                select(model).where(model.organisation_id == organisation_id)
            ):
                session.delete(row)
            session.flush()
        providers = list(
            session.scalars(
                select(ServiceProvider).where(ServiceProvider.organisation_id == organisation_id)
            )
        )
        for provider in providers:
            for worker in session.scalars(
                select(ServiceWorker).where(ServiceWorker.provider_id == provider.id)
            ):
                session.delete(worker)
            session.flush()
            session.delete(provider)
        session.flush()


@pytest.fixture
def crew(
    client: TestClient, demo: DemoInfo, context: AppContext, as_user: Headers
) -> dict[str, Any]:
    """A provider with a cook and a cleaner (each with a login) in the demo home's district,
    and none of the demo's (see `clear_demo_services`)."""
    clear_demo_services(context, demo.organisation_id)
    ids: dict[str, str] = {}
    with context.unit(actor="test:seed") as uow:
        for username in ("cook.wang", "cleaner.li"):
            ids[username] = people.create_user(
                session=uow.session,
                organisation_id=demo.organisation_id,
                data=UserCreate(
                    username=username,
                    display_name=username,
                    role=Role.PROVIDER,
                    password="worker-pass-123",
                ),
                now=uow.now(),
            ).id
    admin = as_user("admin")
    provider = client.post(f"{API}/providers", json={"name": "安心家政"}, headers=admin).json()
    out: dict[str, Any] = {"provider": provider}
    for username, skill in (("cook.wang", "cooking"), ("cleaner.li", "cleaning")):
        user = login(client, username, "worker-pass-123")
        user_id = ids[username]
        body = {"name": username, "user_id": user_id, "skills": [skill],
                "areas": ["崇川区"], "week": EVERY_DAY}  # fmt: skip
        r = client.post(f"{API}/providers/{provider['id']}/workers", json=body, headers=admin)
        assert r.status_code == 201, r.text
        out[skill] = {"worker": r.json(), "headers": user.headers}
    return out


@pytest.fixture
def speaker(demo: DemoInfo, context: AppContext) -> dict[str, str]:
    with context.unit(actor="test:seed") as uow:
        _, token = iot.register_device(
            session=uow.session,
            organisation_id=demo.organisation_id,
            data=DeviceCreate(device_type="smart_speaker", name="客厅音箱",
                              owner_kind="household", owner_id=demo.household_id),
            now=uow.now(),
        )  # fmt: skip
    return device_headers(token)
