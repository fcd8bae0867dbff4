"""The API docs render in a browser that can reach nothing but anxin: Swagger UI and ReDoc
come from anxin's own static files."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

BIG_SPEC_MS = 120_000


def _offline(page: Any, base_url: str) -> list[str]:
    """Every request elsewhere is refused (and noted), as on a network without internet."""
    refused: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base_url):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_swagger_ui_lists_the_operations_offline(live_server: LiveServer, page: Any) -> None:
    refused = _offline(page, live_server.url)
    page.goto(f"{live_server.url}/docs")
    # A wait, not a timing: the spec is large and a shared CI core renders it slowly.
    page.wait_for_selector("[id^='operations-'] .opblock-summary-path", timeout=BIG_SPEC_MS)
    # Swagger UI draws the first sections' operations at once and the rest as one scrolls
    alarms = page.locator(".opblock-summary-path[data-path='/api/v1/alarms']")
    alarms.first.wait_for(timeout=BIG_SPEC_MS)
    assert page.locator(".opblock").count() > 5
    assert refused == []


def test_redoc_lists_the_operations_offline(live_server: LiveServer, page: Any) -> None:
    refused = _offline(page, live_server.url)
    page.goto(f"{live_server.url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=BIG_SPEC_MS)
    assert page.locator("[data-section-id^='operation/']").count() > 50
    # ReDoc's own "by Redocly" badge image is the one thing it asks the internet for
    assert all(url.endswith("/logo-mini.svg") for url in refused), refused
