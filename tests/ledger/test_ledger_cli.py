"""`anxin ledger …` commands: keygen, checkpoint, audit, witness."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from anxin.cli import app as anxin_cli
from anxin.core.clock import SystemClock
from anxin.core.config import get_settings
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.events import InProcessBus
from anxin.ledger import service
from anxin.ledger.keys import KeyFileError, load_key_file
from anxin.ledger.runtime import KEYS
from anxin.ledger.witnessd import HttpLogClient

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[Path]:
    """Point the CLI at this test's database and a log key file in tmp."""
    key = tmp_path / "keys" / "log.key"
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_ENVIRONMENT", "test")
    monkeypatch.setenv("ANXIN_LEDGER_KEY_FILE", str(key))
    monkeypatch.setenv("ANXIN_LEDGER_AUTO_KEYGEN", "false")
    get_settings.cache_clear()
    yield key
    get_settings.cache_clear()


def test_keygen_writes_a_private_file_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "log.key"
    res = runner.invoke(
        anxin_cli, ["ledger", "keygen", "--name", "anxin.test/log", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    vkey = res.output.strip()
    assert vkey.startswith("anxin.test/log+")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert load_key_file(out, kind="log").verifier.vkey == vkey
    with pytest.raises(KeyFileError, match="witness key"):
        load_key_file(out, kind="witness")
    again = runner.invoke(anxin_cli, ["ledger", "keygen", "--name", "x", "--out", str(out)])
    assert again.exit_code != 0 and "refusing to overwrite" in again.output

    monkeypatch.setenv("W_PASS", "correct horse battery staple")
    enc = tmp_path / "w.key"
    res = runner.invoke(
        anxin_cli,
        [
            "ledger",
            "keygen",
            "--name",
            "bank.test/w",
            "--out",
            str(enc),
            "--witness",
            "--passphrase-env",
            "W_PASS",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(enc.read_text())
    assert doc["encrypted"] is True and "ENCRYPTED" in doc["private_key_pem"]
    with pytest.raises(KeyFileError, match="passphrase"):
        load_key_file(enc, kind="witness")
    with pytest.raises(KeyFileError, match="decrypt"):
        load_key_file(enc, kind="witness", passphrase=b"wrong")
    assert load_key_file(enc, kind="witness", passphrase=b"correct horse battery staple")


def test_checkpoint_and_audit_commands(env: Path, database_url: str) -> None:
    assert runner.invoke(anxin_cli, ["ledger", "checkpoint"]).exit_code == 2  # no key yet
    assert (
        runner.invoke(
            anxin_cli, ["ledger", "keygen", "--name", "anxin.test/log", "--out", str(env)]
        ).exit_code
        == 0
    )
    db = Database(database_url)
    try:
        now = SystemClock().now()  # the CLI signs with the system clock
        with db.session_scope() as s:
            for i in range(5):
                service.append_entry(
                    session=s,
                    entry_type="trace.event",
                    organisation_id="coop",
                    body={"i": i},
                    now=now,
                )
        res = runner.invoke(anxin_cli, ["ledger", "checkpoint"])
        assert res.exit_code == 0 and "size 5" in res.output, res.output
        ok = runner.invoke(anxin_cli, ["ledger", "audit"])
        assert ok.exit_code == 0 and ok.output.startswith("OK: 5 entries"), ok.output
        with db.session_scope() as s:
            s.execute(text("UPDATE ledger_entries SET body = :b WHERE seq = 2"), {"b": '{"i":7}'})
        bad = runner.invoke(anxin_cli, ["ledger", "audit"])
        assert bad.exit_code == 1 and "TAMPERED" in bad.output and "entry 2" in bad.output
    finally:
        db.dispose()


def test_witness_command_cosigns_then_alarms(
    client: TestClient,
    consortium: Any,
    auth: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    context: AppContext,
) -> None:
    monkeypatch.setattr(
        HttpLogClient, "to", classmethod(lambda cls, url, timeout=10.0: cls(client))
    )
    key = tmp_path / "w.key"
    res = runner.invoke(
        anxin_cli, ["ledger", "keygen", "--name", "bank-c.test/w", "--out", str(key), "--witness"]
    )
    assert res.exit_code == 0
    state = tmp_path / "w-state.json"
    args = [
        "ledger",
        "witness",
        "--key",
        str(key),
        "--state",
        str(state),
        "--log-url",
        "http://log",
    ]
    args += ["--log-key", consortium.log.verifier.vkey, "--once"]

    farmer = auth("farmer1")
    for i in range(3):
        client.post(
            "/api/v1/ledger/entries",
            json={"entry_type": "trace.x", "body": {"i": i}},
            headers=farmer,
        )
    client.post("/api/v1/ledger/checkpoints", headers=auth("ledgeradmin"))
    first = runner.invoke(anxin_cli, args)
    # This witness is not in the log's policy: it cosigns, the log declines the delivery,
    # and the round has not done its job: exit 2 with the log's answer, never 0.
    assert first.exit_code == 2, first.output
    assert first.output.strip().startswith("error: POST cosignature: HTTP 403"), first.output
    assert len(first.output.strip().splitlines()) == 1
    assert json.loads(state.read_text())["size"] == 3

    # The operator rewrites history and re-signs a checkpoint of the same size.
    signer = context.get(KEYS).signer
    # Behind the application's back: nothing is published.
    with context.unit(actor="test:operator", bus=InProcessBus()) as uow:
        s = uow.session
        s.execute(text("DELETE FROM ledger_checkpoints"))
        s.execute(text("DELETE FROM ledger_nodes"))
        s.execute(text("DELETE FROM ledger_entries"))
        s.execute(text("UPDATE ledger_tree SET size = 0"))
        for i in (0, 1, 99):
            service.append_entry(
                session=s, entry_type="trace.x", organisation_id="o", body={"i": i}, now=uow.now()
            )
        service.publish_checkpoint(uow=uow, signer=signer)
    fork = runner.invoke(anxin_cli, args)
    assert fork.exit_code == 2 and fork.output.startswith("fork"), fork.output
    assert json.loads(state.read_text())["size"] == 3
    assert list(tmp_path.glob("w-state.json.fork-*.json"))


def test_missing_key_is_ephemeral_in_tests_and_an_error_in_production(tmp_path: Path) -> None:
    from anxin.ledger.config import LedgerSettings, load_keys

    settings = LedgerSettings(key_file=tmp_path / "none.key", witnesses=[], quorum=0)
    keys = load_keys(settings, environment="test")
    assert keys.signer.name == settings.origin and not settings.key_file.exists()
    with pytest.raises(KeyFileError, match="keygen"):
        load_keys(settings, environment="production")
    made = load_keys(settings, environment="development")
    assert settings.key_file.exists()
    assert load_keys(settings, environment="production").signer.verifier == made.signer.verifier
    with pytest.raises(KeyFileError, match="QUORUM"):
        load_keys(LedgerSettings(key_file=settings.key_file, quorum=1), environment="production")


def test_checkpoints_are_published_on_an_interval(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from pydantic import SecretStr

    from anxin.app import create_app
    from anxin.core.config import Settings
    from anxin.ledger.config import LedgerKeys
    from anxin.ledger.note import Signer
    from anxin.ledger.verify import Policy

    monkeypatch.setenv("ANXIN_LEDGER_CHECKPOINT_INTERVAL_S", "0.05")
    settings = Settings(
        environment="development",
        database_url=database_url,
        secret_key=SecretStr("x" * 40),
    )
    app = create_app(settings)
    signer = Signer.generate("anxin.test/interval")
    context: AppContext = app.state.context
    context.put(KEYS, LedgerKeys(signer, Policy(signer.verifier)))
    db = context.db
    try:
        with TestClient(app):
            with db.session_scope() as s:
                service.append_entry(
                    session=s,
                    entry_type="t.x",
                    organisation_id="o",
                    body={},
                    now=context.clock.now(),
                )
            deadline = time.monotonic() + 5
            size = 0
            while time.monotonic() < deadline and size < 1:
                time.sleep(0.05)
                with db.session_scope() as s:
                    cp = service.latest_checkpoint(session=s)
                    size = cp.size if cp else 0
            assert size == 1
    finally:
        db.dispose()
