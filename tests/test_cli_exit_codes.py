"""Exit codes are one contract for every command: 0 done, 1 a negative verdict, 2 not done
(bad input or a refused operation), each failure one readable line and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anxin.cli import app
from anxin.core.config import get_settings

runner = CliRunner()
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str):
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _anxin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real entry point, in a process of its own, as a shell script would run it."""
    return subprocess.run(
        [sys.executable, "-c", "from anxin.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})},
        check=False,
    )


def test_verify_of_a_missing_file_is_bad_input_not_a_no() -> None:
    done = _anxin("ledger", "verify", "/nonexistent", "--log-key", "x")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: /nonexistent: No such file or directory"
    assert "Traceback" not in done.stderr + done.stdout


def test_verify_of_a_file_that_is_no_bundle_is_bad_input(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe not json")
    result = runner.invoke(app, ["ledger", "verify", str(junk), "--log-key", "x"])
    assert result.exit_code == 2 and result.output.startswith("error: ")
    assert len(result.output.strip().splitlines()) == 1


def test_keygen_refusing_to_overwrite_is_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    assert (
        runner.invoke(app, ["ledger", "keygen", "--name", "a.test/l", "--out", str(out)]).exit_code
        == 0
    )
    again = runner.invoke(app, ["ledger", "keygen", "--name", "a.test/l", "--out", str(out)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_a_database_that_cannot_be_opened_is_one_line_and_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing-dir/x.db"
    done = _anxin(
        "user",
        "list",
        "--org",
        "Acme",
        env={"ANXIN_DATABASE_URL": url, "ANXIN_SECRET_KEY": "x" * 40},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: database: OperationalError")
    assert len(done.stderr.strip().splitlines()) == 1


def test_not_found_and_conflict_are_refusals(cli_env) -> None:
    runner.invoke(app, ["migrate"])
    missing = runner.invoke(app, ["user", "list", "--org", "Nope"])
    assert (
        missing.exit_code == 2 and missing.output.strip() == "error: no organisation named 'Nope'"
    )
    assert runner.invoke(app, ["org", "create", "--name", "Acme", "--kind", "bank"]).exit_code == 0
    dup = runner.invoke(app, ["org", "create", "--name", "Acme", "--kind", "bank"])
    assert dup.exit_code == 2 and dup.output.strip() == "error: organisation 'Acme' already exists"
