"""The CLI: readable one-line errors, non-zero exits, JSON output for scripts."""

import json
import re

import pytest
from typer.testing import CliRunner

from anxin.cli import app
from anxin.core.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, database_url):
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_help_explains_each_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "demo", "user", "device"):
        assert command in result.output


def test_migrate_org_user_device_flow(cli_env):
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    org = runner.invoke(app, ["org", "create", "--name", "Acme Care", "--kind", "care_provider"])
    assert org.exit_code == 0, org.output
    user = runner.invoke(
        app,
        [
            "user",
            "create",
            "--org",
            "Acme Care",
            "--username",
            "ops",
            "--role",
            "admin",
            "--display-name",
            "Ops",
        ],
        env={"ANXIN_NEW_USER_PASSWORD": "a-long-password"},
    )
    assert user.exit_code == 0, user.output
    assert json.loads(user.output)["role"] == "admin"
    device = runner.invoke(
        app,
        [
            "device",
            "register",
            "--org",
            "Acme Care",
            "--type",
            "door_sensor",
            "--owner-kind",
            "household",
            "--owner-id",
            "h-1",
            "--name",
            "front",
        ],
    )
    assert device.exit_code == 0, device.output
    printed = json.loads(device.output)
    assert printed["token"].startswith("dt_") and printed["device_type"] == "door_sensor"


def test_errors_are_one_readable_line_and_nonzero(cli_env):
    runner.invoke(app, ["migrate"])
    unknown_org = runner.invoke(
        app,
        [
            "device",
            "register",
            "--org",
            "Nope",
            "--type",
            "door_sensor",
            "--owner-kind",
            "household",
            "--owner-id",
            "h",
            "--name",
            "n",
        ],
    )
    assert unknown_org.exit_code == 2
    assert unknown_org.output.strip() == "error: no organisation named 'Nope'"
    runner.invoke(app, ["org", "create", "--name", "Acme", "--kind", "bank"])
    bad_type = runner.invoke(
        app,
        [
            "device",
            "register",
            "--org",
            "Acme",
            "--type",
            "toaster",
            "--owner-kind",
            "household",
            "--owner-id",
            "h",
            "--name",
            "n",
        ],
    )
    assert bad_type.exit_code == 2
    assert bad_type.output.startswith("error: device_type: unknown device type 'toaster'")
    assert len(bad_type.output.strip().splitlines()) == 1
    bad_role = runner.invoke(
        app,
        [
            "user",
            "create",
            "--org",
            "Acme",
            "--username",
            "abc",
            "--role",
            "wizard",
            "--display-name",
            "x",
        ],
        env={"ANXIN_NEW_USER_PASSWORD": "a-long-password"},
    )
    assert (
        bad_role.exit_code == 2 and bad_role.output.strip() == "error: role: unknown role 'wizard'"
    )
    dup = runner.invoke(app, ["org", "create", "--name", "Acme", "--kind", "bank"])
    assert dup.exit_code == 2 and "already exists" in dup.output


def test_production_refuses_the_demo(cli_env, monkeypatch):
    monkeypatch.setenv("ANXIN_ENVIRONMENT", "production")
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 2
    assert "refuses to run in production" in result.output


def test_demo_seeds_once_and_prints_logins(cli_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "butler" in first.output and "http://127.0.0.1:8000" in first.output
    # a checkpoint over the seed: the trace page's proof verifies at once (issue 20)
    assert re.search(r"ledger checkpoint at size [1-9]\d*", first.output), first.output
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert second.exit_code == 0
    tokens = json.loads((tmp_path / "var/demo-device-tokens.json").read_text())
    # each token says which device it opens, so the README's curl example names one
    assert sorted(entry["type"] for entry in tokens.values()) == [
        "door_sensor",
        "mmwave_radar",
        "sleep_mat",
    ]
    assert all(entry["name"] and entry["token"] for entry in tokens.values())


@pytest.mark.parametrize(
    "argv",
    [
        ["anxin", "ingest", "mqtt", "--url", "mqtt://127.0.0.1:1"],  # reads settings itself
        ["anxin", "migrate"],  # reads them through the CLI's own helper
    ],
)
def test_an_invalid_setting_is_one_line_naming_the_variable_and_exit_2(
    cli_env, monkeypatch, capsys, argv
):
    from anxin.cli import main

    monkeypatch.setenv("ANXIN_INGEST_UNIT_READINGS", "0")
    monkeypatch.setattr("sys.argv", argv)
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: configuration: ANXIN_INGEST_UNIT_READINGS: "
        "Input should be greater than or equal to 1"
    ]
