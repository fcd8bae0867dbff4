"""A fuzz pass over the whole OpenAPI: schemathesis generates requests for every operation,
anonymous and as the demo admin; no answer may be a 5xx or break its documented schema.

Bounded so it stays fast on a small machine: a fixed number of examples per operation and
Hypothesis' derandomised mode (a fixed seed), so a run is repeatable and a failure reproduces.
Destructive operations are not excluded: the rules they meet (an admin cannot disable their
own account or the last admin) are what keeps the admin's session alive through the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from anxin.demo.seed import DemoInfo
from tests.conftest import DEMO_PASSWORDS

EXAMPLES_PER_OPERATION = 10
# Every operation is fuzzed; the telemetry route answers a user's token (or none) with 401, so
# its parser is fuzzed with a device token in tests/iot/test_parsing_limits.py.
NOT_FUZZED_HERE: frozenset[str] = frozenset()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # a fixed seed: the same requests every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _runner(operation: Any, headers: dict[str, str]) -> Callable[[], None]:
    @SETTINGS
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return check  # type: ignore[no-any-return]


def _fuzz(app: FastAPI, headers: dict[str, str]) -> list[str]:
    """Every operation's first failure, after Hypothesis has shrunk it."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in NOT_FUZZED_HERE:
            continue
        try:
            _runner(operation, headers)()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # schemathesis reports a group; collect, then fail at the end
            failures.append(f"{operation.label}: {exc}")
    return failures


def _admin(app: FastAPI) -> dict[str, str]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token",
            data={"username": "admin", "password": DEMO_PASSWORDS["admin"]},
        ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_no_operation_answers_5xx_or_breaks_its_schema(
    app: FastAPI, demo: DemoInfo, who: str
) -> None:
    headers: dict[str, str] = {} if who == "anonymous" else _admin(app)
    failures = _fuzz(app, headers)
    assert not failures, "\n".join(failures)
