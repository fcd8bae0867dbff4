"""Shared fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

Set ANXIN_TEST_DATABASE_URL to a PostgreSQL URL (postgresql+psycopg://user:pw@host/db) to run
the whole suite there; each test then gets its own database cloned from a migrated template.
Without it, each test gets its own SQLite file copied from a migrated template.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from anxin.app import create_app
from anxin.bootstrap import prepare_database
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.security import use_password_hasher
from anxin.demo.seed import DemoInfo, seed_demo

# Production-strength argon2 costs ~50 ms a hash; the suite hashes thousands of demo passwords.
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))

PG_URL = os.environ.get("ANXIN_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
START = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


# Whether the tests' apps share their routes' preparation (the `own_route_preparation` fixture
# turns it off for a test that watches an app prepare its own).
ROUTE_PREPARATION = {"shared": True}


def _preparation_key(route: Any, include: Any) -> tuple[Any, ...]:
    """What a route's preparation depends on: the route and how its router was included."""
    return (
        id(route),
        id(include.included_router),
        include.path_for(route),
        tuple(id(d.dependency) for d in include.dependencies),
        tuple(include.tags),
        include.max_body_size,
        include.include_in_schema,
        include.deprecated,
    )


def _share_route_preparation() -> None:
    """Every test builds its own app, and FastAPI prepares an app's routes (their dependants,
    parameter and response models: ~4,200 pydantic adapters for ~410 routes) on the first
    requests matched against them, ≈ 1.5 s of CPU per test. The preparation depends only on
    the route and how its router was included, never on the app, so the tests' apps share
    it: measured on tests/ltc, alerts, people and trace, 191 → 92 s. (A served app prepares
    its routes once, in its lifespan.) The one per-app part is the provider of
    `dependency_overrides`, which no test uses (tests/test_architecture.py keeps it so).
    FastAPI's private names: without them (another version) every app prepares its own."""
    from fastapi import routing

    effective = getattr(routing, "_EffectiveRouteContext", None)
    build = getattr(getattr(effective, "from_api_route", None), "__func__", None)
    if effective is None or build is None:
        return
    prepared: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def shared(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        if not ROUTE_PREPARATION["shared"]:
            return build(cls, original_route=original_route, include_context=include_context)
        try:
            key = _preparation_key(original_route, include_context)
        except AttributeError:  # another FastAPI's include context: no sharing
            return build(cls, original_route=original_route, include_context=include_context)
        found = prepared.get(key)
        if found is None or found[0] is not original_route:  # an id reused by a new route
            made = build(cls, original_route=original_route, include_context=include_context)
            found = prepared[key] = (original_route, made)
        return found[1]

    effective.from_api_route = classmethod(shared)


_share_route_preparation()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests belong to the PostgreSQL pass (CI runs both); elsewhere they are
    deselected, not skipped, so a skip always means something went wrong."""
    if ON_POSTGRES:
        return
    deselected = [item for item in items if "pg" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if "pg" not in item.keywords]


@pytest.fixture
def own_route_preparation() -> Iterator[None]:
    """The apps of this test prepare their own routes, as a served app does."""
    ROUTE_PREPARATION["shared"] = False
    yield
    ROUTE_PREPARATION["shared"] = True


def make_settings(database_url: str, **overrides: object) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=SecretStr(TEST_SECRET),
        **overrides,  # type: ignore[arg-type]
    )


class PostgresCloner:
    """Clones a migrated template database per test (CREATE DATABASE … TEMPLATE)."""

    def __init__(self, url: str) -> None:
        self.base = make_url(url)
        self.admin = create_engine(
            self.base.set(database="postgres"), isolation_level="AUTOCOMMIT", pool_size=1
        )
        self.template = f"anxin_tpl_{uuid.uuid4().hex[:8]}"

    def url_for(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        prepare_database(make_settings(self.url_for(self.template)))

    def clone(self) -> str:
        name = f"anxin_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if ON_POSTGRES:
        cloner = PostgresCloner(PG_URL)
        cloner.create_template()
        yield cloner
        cloner.drop(cloner.template)
        cloner.admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "anxin.db"
    prepare_database(make_settings(f"sqlite:///{path}"))
    yield path


@pytest.fixture
def database_url(database_template: object, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the current schema and reference data, for this test only."""
    if isinstance(database_template, PostgresCloner):
        name = database_template.clone()
        yield database_template.url_for(name)
        database_template.drop(name)
        return
    assert isinstance(database_template, Path)
    target = tmp_path / "anxin.db"
    shutil.copyfile(database_template, target)
    yield f"sqlite:///{target}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    application.state.context.db.dispose()


@pytest.fixture
def context(app: FastAPI) -> AppContext:
    """The app's context: `context.unit(actor=...)` opens a unit of work as any edge does."""
    ctx: AppContext = app.state.context
    return ctx


@pytest.fixture
def db(context: AppContext) -> Database:
    return context.db


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def demo(context: AppContext, tmp_path: Path) -> DemoInfo:
    """The demo organisation: a household with an elder, two children, a butler, three devices."""
    with context.unit(actor="test:seed") as uow:
        return seed_demo(uow=uow, token_file=tmp_path / "tokens.json")


@dataclass
class Login:
    username: str
    headers: dict[str, str]


def login(client: TestClient, username: str, password: str) -> Login:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return Login(username, {"Authorization": f"Bearer {token}"})


DEMO_PASSWORDS = {
    "admin": "demo-admin-pass",
    "butler": "demo-butler-pass",
    "teamlead": "demo-teamlead-pass",
    "son": "demo-son-pass",
    "daughter": "demo-daughter-pass",
    "elder": "demo-elder-pass",
    "neighbour-family": "demo-zhao-pass",
    "doctor": "demo-doctor-pass",
    "bank": "demo-bank-pass",
    "warehouse": "demo-warehouse-pass",
    "bank-risk": "demo-bank-risk-pass",
    "lender": "demo-lender-pass",
    "lending-qc": "demo-lending-qc-pass",
    "worker": "demo-worker-pass",
    "lessor": "demo-lessor-pass",
    "machinery": "demo-machinery-pass",
    "trader": "demo-trader-pass",
    # the Jinshan rice cooperative (issue 20)
    "coop": "demo-coop-pass",
    "farmer": "demo-farmer-pass",
    "olive-farmer": "demo-olive-farmer-pass",
    "insurer": "demo-insurer-pass",
    "goat-farmer": "demo-goat-farmer-pass",
    "buyer": "demo-buyer-pass",  # the supermarket chain (issue 21)
    # Nantong's long-term care insurance (issue 17)
    "ltc-admin": "demo-ltc-admin-pass",
    "assessor": "demo-assessor-pass",
    "ltc-supervisor": "demo-ltc-supervisor-pass",
    "ltc-elder": "demo-ltc-elder-pass",
    "ltc-family": "demo-ltc-family-pass",
    "caregiver": "demo-caregiver-pass",
}


def console_login(client: TestClient, username: str) -> None:
    """Log a demo user into the console (the session cookie), after logging out whoever was in."""
    client.post("/logout")
    signed_in = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORDS[username]},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text


@pytest.fixture
def as_user(client: TestClient, demo: DemoInfo) -> object:
    """`as_user("son")` logs a demo user in and returns its auth headers."""

    def _login(username: str) -> dict[str, str]:
        return login(client, username, DEMO_PASSWORDS[username]).headers

    return _login


def device_headers(token: str, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


@pytest.fixture
def demo_devices(demo: DemoInfo, db: Database) -> dict[str, tuple[str, str]]:
    """device_type -> (device id, token) for the demo household."""
    from anxin.iot.models import Device

    with db.session_scope() as session:
        out = {}
        for device_id, token in demo.device_tokens.items():
            device = session.get(Device, device_id)
            assert device is not None
            out[device.device_type] = (device_id, token)
        return out


# --- live server and browser, for end-to-end tests -------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Settings a live server runs with: background workers on, as in `anxin serve`.
LIVE_SETTINGS: dict[str, object] = {"workers": True, "alerts_tick_s": 0.1}
# How long an e2e test's own HTTP call may wait for the live server (httpx's default is 5 s): a
# wait, not a timing. On a loaded CI machine a request can take seconds (the server shares two
# cores with the browser, the test and the workers' ticks).
E2E_WAIT_S = 60.0


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    clock: FrozenClock
    db: Database
    demo: DemoInfo


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(database_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port, in a thread, with the demo seeded and workers running."""
    import threading
    import time

    import uvicorn

    application = create_app(make_settings(database_url, **LIVE_SETTINGS), clock=clock)
    database: Database = application.state.context.db
    with application.state.context.unit(actor="test:seed") as uow:
        info = seed_demo(uow=uow, token_file=tmp_path / "tokens.json")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", application, clock, database, info)
    server.should_exit = True
    thread.join(timeout=15)
    database.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's chromium driven by Playwright (no browser download: the package is required)."""
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium at /usr/bin/chromium (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")  # type: ignore[attr-defined]
    browser_page = context.new_page()
    browser_page.set_default_timeout(15_000)
    yield browser_page
    context.close()


def browser_login(page: object, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", DEMO_PASSWORDS[username])  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base_url}/**")  # type: ignore[attr-defined]


# Counts the pixels ECharts painted on a chart's canvas (0 for a chart that never drew); the
# wait is for the element's own canvas, not a timer.
_PAINTED = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted += 1;
  return painted;
}"""


def painted_pixels(page: object, selector: str) -> int:
    page.wait_for_selector(f"{selector} canvas")  # type: ignore[attr-defined]
    count: int = page.evaluate(_PAINTED, selector)  # type: ignore[attr-defined]
    return count
