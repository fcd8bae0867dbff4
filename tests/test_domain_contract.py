"""A domain outside `src/` (tests/fixture_domain) plugs into the app, the CLI, the bus, the owner
registry and the lifespan through its setup alone: nothing in the platform lists it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from anxin import cli
from anxin.app import create_app
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings
from anxin.core.events import Event
from anxin.demo.seed import seed_demo
from anxin.domains import discover
from anxin.people import service as people
from tests.conftest import DEMO_PASSWORDS, TEST_SECRET, login
from tests.fixture_domain.setup import SHELF, Recorder, build


def test_a_new_domain_needs_only_its_setup(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    recorder = Recorder()
    domains = (*discover(), build(recorder))
    app = create_app(settings.model_copy(update={"workers": True}), clock=clock, domains=domains)
    context = app.state.context
    with context.unit(actor="test:seed") as uow:
        seed_demo(uow=uow, token_file=tmp_path / "tokens.json")
    try:
        with TestClient(app) as client:
            assert recorder.started == 1 and recorder.stopped == 0  # the lifespan started it
            admin = login(client, "admin", DEMO_PASSWORDS["admin"]).headers
            ping = client.get("/api/v1/fixture/ping", headers=admin)
            assert ping.status_code == 200
            assert SHELF in ping.json()["owner_kinds"]
            assert "household" in ping.json()["owner_kinds"]  # beside the real domains'
            assert "/api/v1/fixture/ping" in client.get("/openapi.json").json()["paths"]
            assert client.get("/api/v1/fixture/ping").status_code == 401

            client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
            home = client.get("/?lang=en")
            assert 'href="/fixture"' in home.text  # its navigation, for the admin
            hello = client.get("/fixture")
            assert hello.status_code == 200
            assert "Hello, fixture" in hello.text  # its template and its labels
            assert "shelf-1" in hello.text  # its owner scope
        assert recorder.stopped == 1  # and stopped it

        with context.unit(actor="test:publisher") as uow:
            uow.publish(Event("fixture.hello", {}, clock.now()))
            admin_user = people.authenticate(
                session=uow.session, username="admin", password=DEMO_PASSWORDS["admin"]
            )
            assert uow.owners.visible_ids(uow.session, admin_user, SHELF) == {"shelf-1"}
            assert uow.owners.contexts(uow.session, [(SHELF, "shelf-1")]) == {
                (SHELF, "shelf-1"): {"lit": True}
            }
        assert recorder.events == ["fixture.hello by test:publisher"]
    finally:
        context.db.dispose()


def test_a_new_domain_adds_its_command_group(settings: Settings) -> None:
    recorder = Recorder()
    command = cli.build((*discover(), build(recorder)))
    env = {
        "ANXIN_DATABASE_URL": settings.database_url,
        "ANXIN_SECRET_KEY": TEST_SECRET,
        "ANXIN_ENVIRONMENT": "test",
    }
    result = CliRunner().invoke(command, ["fixture", "hello"], env=env)
    assert result.exit_code == 0, result.output
    assert "hello from fixture" in result.output
    assert "shelf" in result.output.split() and "household" in result.output.split()
    assert "fixture" not in [g.name for d in discover() for g in d.commands]  # not in src
