"""The server's first request is not where the app prepares its routes: the lifespan did that
before serving (`app._warm_up_routes`). FastAPI builds an included router's parameter and
response models on the first request matched against it, ~1 s for anxin's routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from anxin.app import WARM_UP_PATH
from tests.conftest import DEMO_PASSWORDS, login


def test_the_first_requests_build_no_models(app: FastAPI, demo, monkeypatch) -> None:
    built: list[Any] = []
    init = TypeAdapter.__init__

    def counted(adapter: TypeAdapter[Any], *args: Any, **kwargs: Any) -> None:
        built.append(args[0] if args else kwargs.get("type"))
        init(adapter, *args, **kwargs)

    with TestClient(app) as client:
        monkeypatch.setattr(TypeAdapter, "__init__", counted)
        butler = login(client, "butler", DEMO_PASSWORDS["butler"]).headers
        assert client.get("/api/v1/alarms", headers=butler).status_code == 200
        assert client.get("/login").status_code == 200
    assert built == []


def test_the_warm_up_path_is_served_by_no_route(client: TestClient) -> None:
    assert client.get(WARM_UP_PATH).status_code == 404
