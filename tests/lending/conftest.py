"""Fixtures of the lending tests that walk an application through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lending.flow import Flow
from tests.lending.test_lending_applications import _users


@pytest.fixture
def bank(client: Any, context: Any) -> dict[str, dict[str, str]]:
    """The bank's loan officer, its risk officer and another bank's officer, logged in."""
    from tests.conftest import login

    _users(context)
    return {n: login(client, n, f"{n}-password").headers for n in ("officer", "risk", "stranger")}


@pytest.fixture
def loan(client: Any, bank: dict[str, dict[str, str]], clock: Any) -> Flow:
    """A loan paid out today, every gate passed through the API (`flow.loan` is its JSON)."""
    flow = Flow(client, bank, clock).to("called")
    flow.loan = flow.ok(flow.disburse(), 201)
    return flow
