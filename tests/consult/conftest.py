"""Fixtures of the consultation tests: two doctors of the care organisation, a poster."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.demo.seed import DemoInfo
from anxin.homecare.models import Elder
from anxin.people import service as people
from anxin.people.schemas import UserCreate
from tests.conftest import device_headers, login

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/consult"


@pytest.fixture
def doctors(client: TestClient, demo: DemoInfo, context: AppContext) -> dict[str, dict[str, str]]:
    """Two doctors' auth headers: "wu" and "he"."""
    with context.unit(actor="test:seed") as uow:
        for username in ("dr.wu", "dr.he"):
            people.create_user(
                session=uow.session,
                organisation_id=demo.organisation_id,
                data=UserCreate(
                    username=username, display_name=username, role=Role.DOCTOR,
                    password="doctor-pass-123",
                ),
                now=uow.now(),
            )  # fmt: skip
    return {name: login(client, f"dr.{name}", "doctor-pass-123").headers for name in ("wu", "he")}


@pytest.fixture
def zhao_id(demo: DemoInfo, context: AppContext) -> str:
    """The neighbour household's elder (赵建国), whose family is "neighbour-family"."""
    with context.unit(actor="test:read") as uow:
        elder_id = uow.session.scalar(
            select(Elder.id).where(Elder.id != demo.elder_id, Elder.full_name.like("赵%"))
        )
    assert elder_id is not None
    return str(elder_id)


def ask(client: TestClient, headers: dict[str, str], elder_id: str, **extra: Any) -> dict[str, Any]:
    body = {"elder_id": elder_id, "mode": "text", "complaint": "头晕两天 dizzy for two days"}
    r = client.post(f"{API}/consultations", json={**body, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def post_reading(
    client: TestClient, token: str, values: dict[str, Any], clock: FrozenClock, mid: str
) -> None:
    body = {"message_id": mid, "ts": clock.now().isoformat(), "values": values}
    r = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    assert r.status_code == 200, r.text
