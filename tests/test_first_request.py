"""The server's first request is not where the app prepares its routes: the lifespan did that
before serving (`app._warm_up_routes`). FastAPI builds an included router's parameter and
response models on the first request matched against it, ~1 s for anxin's routes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from anxin.app import WARM_UP_PATH, create_app
from anxin.core.config import Settings
from tests.conftest import DEMO_PASSWORDS, login


def _count_models_built(monkeypatch) -> list[Any]:
    """From now on, each pydantic adapter built (its type) is appended to the list returned."""
    built: list[Any] = []
    init = TypeAdapter.__init__

    def counted(adapter: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else kwargs.get("type"))
        init(adapter, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counted)
    return built


def test_the_first_requests_build_no_models(
    settings: Settings, demo, monkeypatch, own_route_preparation
) -> None:
    # Tests skip the warm-up (each test's app would pay it); a served app does it.
    app = create_app(settings.model_copy(update={"warm_up_routes": True}))
    with TestClient(app) as client:
        built = _count_models_built(monkeypatch)
        butler = login(client, "butler", DEMO_PASSWORDS["butler"]).headers
        assert client.get("/api/v1/alarms", headers=butler).status_code == 200
        assert client.get("/login").status_code == 200
    app.state.context.db.dispose()
    assert built == []


def test_without_the_warm_up_the_first_request_builds_the_models(
    client: TestClient, monkeypatch, own_route_preparation
) -> None:
    """What the warm-up saves a served app (and why the tests' apps skip it: they pay only
    for the routes they reach)."""
    built = _count_models_built(monkeypatch)
    assert client.get("/login").status_code == 200
    assert len(built) > 100


def test_a_served_app_warms_up_and_a_test_app_does_not() -> None:
    assert Settings(environment="production", secret_key="x" * 40).warm_up_enabled
    assert Settings(environment="development").warm_up_enabled
    assert not Settings(environment="test").warm_up_enabled
    assert Settings(environment="test", warm_up_routes=True).warm_up_enabled


def test_the_warm_up_path_is_served_by_no_route(client: TestClient) -> None:
    assert client.get(WARM_UP_PATH).status_code == 404
