"""The market's operations fuzzed as the two sides who can reach past the role checks (the
whole-API pass in tests/test_fuzz.py runs anonymous and as the care admin, whom the market
refuses at the door): no 5xx, no answer outside its documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.core.result import Ok

from anxin.demo.seed import DemoInfo
from tests.conftest import DEMO_PASSWORDS
from tests.test_fuzz import _runner


@pytest.mark.parametrize("who", ["buyer", "coop"])
def test_market_operations_answer_no_5xx_as_buyer_or_seller(
    app: FastAPI, demo: DemoInfo, who: str
) -> None:
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": who, "password": DEMO_PASSWORDS[who]}
        ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"an operation's schema does not load: {result}")
            continue
        operation = result.ok()
        if "/api/v1/market/" not in operation.label:
            continue
        try:
            _runner(operation, headers)()
        except Exception as exc:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n".join(failures)
