"""`anxin market forecast` records the chosen model of every series with enough history."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from anxin.cli import app
from anxin.core.config import get_settings
from anxin.core.context import AppContext
from anxin.core.errors import PermissionDenied
from anxin.demo import market
from anxin.demo.seed import DemoInfo


def test_the_forecast_command_prints_each_series_choice(
    monkeypatch: pytest.MonkeyPatch, database_url: str, demo: DemoInfo, context: AppContext
) -> None:
    with context.unit(actor="test") as uow:
        market.history(uow, demo.market, weeks=40, forecast=False)
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["market", "forecast", "--username", "coop", "--folds", "2"])
        pooled = runner.invoke(
            app, ["market", "forecast", "--username", "coop", "--folds", "2", "--workers", "2"]
        )
        refused = runner.invoke(app, ["market", "forecast", "--username", "buyer"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    keys = ("demand:rice:east: ", "demand:rice:north: ", "supply:rice: ")
    assert len(lines) == 3
    assert all(line.startswith(key) for line, key in zip(lines, keys, strict=True))
    assert all("MASE" in line and "baseline" in line for line in lines)
    # Two worker processes choose and score every series as one process does.
    assert pooled.exit_code == 0, pooled.output
    assert pooled.output == result.output
    # A buyer is refused: the CLI's error handler turns this into one line and exit code 1.
    assert refused.exit_code != 0 and isinstance(refused.exception, PermissionDenied)
