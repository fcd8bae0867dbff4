"""Users' lifecycle: disable, enable, reset a password; never lock the organisation out."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from anxin.cli import app as cli
from anxin.core.audit import AuditLog
from anxin.core.config import get_settings
from anxin.demo.seed import CARE_ORG
from tests.conftest import DEMO_PASSWORDS, login

runner = CliRunner()


def _id(client, headers, username: str) -> str:
    users = client.get("/api/v1/users", headers=headers).json()
    return next(u["id"] for u in users if u["username"] == username)


def _new_admin(client, headers, username: str = "second-admin") -> str:
    body = {"username": username, "display_name": "A2", "role": "admin", "password": "pw-long-12"}
    response = client.post("/api/v1/users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _audit(db, user_id: str) -> list[AuditLog]:
    with db.session_scope() as session:
        stmt = select(AuditLog).where(AuditLog.entity_id == user_id).order_by(AuditLog.id)
        return list(session.scalars(stmt))


def test_an_admin_cannot_disable_themselves(client, demo, as_user):
    admin = as_user("admin")
    _new_admin(client, admin)  # even with another admin to spare
    me = client.get("/api/v1/me", headers=admin).json()["id"]
    response = client.post(f"/api/v1/users/{me}/disable", headers=admin)
    assert response.status_code == 409
    assert "your own account" in response.json()["message"]
    assert client.get("/api/v1/me", headers=admin).status_code == 200


def test_the_last_active_admin_cannot_be_disabled(client, demo, as_user):
    admin = as_user("admin")
    other = _new_admin(client, admin)
    second = login(client, "second-admin", "pw-long-12").headers
    first_id = client.get("/api/v1/me", headers=admin).json()["id"]
    # two admins: one may disable the other …
    assert client.post(f"/api/v1/users/{first_id}/disable", headers=second).status_code == 200
    # … and then the survivor is the last one: nobody can take it away, not even via the CLI
    response = client.post(f"/api/v1/users/{other}/disable", headers=second)
    assert response.status_code == 409
    # the survivor enables the first again
    enabled = client.post(f"/api/v1/users/{first_id}/enable", headers=second)
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert client.get("/api/v1/me", headers=as_user("admin")).status_code == 200


def test_enable_and_reset_password_are_audited_and_take_effect(client, demo, as_user, db):
    admin = as_user("admin")
    son_id = _id(client, admin, "son")
    assert client.post(f"/api/v1/users/{son_id}/disable", headers=admin).status_code == 200
    bad = client.post("/api/v1/auth/token", data={"username": "son", "password": "demo-son-pass"})
    assert bad.status_code == 401
    assert client.post(f"/api/v1/users/{son_id}/enable", headers=admin).status_code == 200
    reset = client.post(
        f"/api/v1/users/{son_id}/reset-password", json={"password": "x"}, headers=admin
    )
    assert reset.status_code == 422 and reset.json()["fields"][0]["field"] == "password"
    reset = client.post(
        f"/api/v1/users/{son_id}/reset-password",
        json={"password": "a-new-son-pass"},
        headers=admin,
    )
    assert reset.status_code == 200
    old = client.post("/api/v1/auth/token", data={"username": "son", "password": "demo-son-pass"})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/token", data={"username": "son", "password": "a-new-son-pass"})
    assert new.status_code == 200
    updates = [r for r in _audit(db, son_id) if r.action == "update"]
    assert [(r.before.get("is_active"), r.after.get("is_active")) for r in updates[:2]] == [
        (True, False),
        (False, True),
    ]
    assert all(r.actor == "user:admin" for r in updates)
    # the password change is recorded, its hash never
    assert updates[2].after["password_hash"] == "***"
    assert "demo-son-pass" not in json.dumps(
        [r.before for r in updates] + [r.after for r in updates]
    )


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_only_admins_change_accounts_and_only_in_their_organisation(
    client, demo, as_user, action: str
):
    admin = as_user("admin")
    son_id = _id(client, admin, "son")
    assert (
        client.post(f"/api/v1/users/{son_id}/{action}", headers=as_user("butler")).status_code
        == 403
    )
    # the bank's officer is an admin of nothing here, and another organisation's user is a 404
    assert client.post(f"/api/v1/users/{son_id}/{action}", headers=as_user("bank")).status_code in (
        403,
        404,
    )


@pytest.fixture
def cli_env(monkeypatch, database_url, demo):
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cli_lists_disables_enables_and_resets(cli_env, db, client):
    listed = runner.invoke(cli, ["user", "list", "--org", CARE_ORG])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {"admin", "son", "butler"} <= {r["username"] for r in rows}
    assert all(r["is_active"] for r in rows)

    off = runner.invoke(cli, ["user", "disable", "son"])
    assert off.exit_code == 0 and json.loads(off.output)["is_active"] is False
    on = runner.invoke(cli, ["user", "enable", "son"])
    assert on.exit_code == 0 and json.loads(on.output)["is_active"] is True

    last_admin = runner.invoke(cli, ["user", "disable", "admin"])
    assert last_admin.exit_code == 2
    assert last_admin.output.strip().startswith("error: 'admin' is the organisation's last active")

    unknown = runner.invoke(cli, ["user", "enable", "nobody"])
    assert unknown.exit_code == 2 and unknown.output.strip() == "error: no user named 'nobody'"

    reset = runner.invoke(
        cli, ["user", "reset-password", "son"], env={"ANXIN_NEW_USER_PASSWORD": "cli-new-pass"}
    )
    assert reset.exit_code == 0, reset.output
    short = runner.invoke(
        cli, ["user", "reset-password", "son"], env={"ANXIN_NEW_USER_PASSWORD": "short"}
    )
    assert short.exit_code == 2 and short.output.startswith("error: password:")
    login = client.post("/api/v1/auth/token", data={"username": "son", "password": "cli-new-pass"})
    assert login.status_code == 200
    old = client.post(
        "/api/v1/auth/token", data={"username": "son", "password": DEMO_PASSWORDS["son"]}
    )
    assert old.status_code == 401
    with db.session_scope() as session:
        stmt = select(AuditLog).where(AuditLog.actor == "cli", AuditLog.entity_type == "users")
        changes = [(r.before, r.after) for r in session.scalars(stmt)]
    # disable, enable, reset: three audited updates by the CLI (the refused ones left none)
    assert len(changes) == 3
    assert changes[-1][1]["password_hash"] == "***"
