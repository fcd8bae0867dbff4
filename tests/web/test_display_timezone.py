"""Pages show times in the display timezone of the settings (Asia/Shanghai unless told)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from anxin.core.config import Settings
from tests.conftest import DEMO_PASSWORDS, START, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, display_timezone="Europe/London")


def test_pages_show_times_in_the_configured_zone(client, demo, demo_devices):
    _, token = demo_devices["mmwave_radar"]
    client.post(
        "/api/v1/telemetry",
        json={"message_id": "tz-1", "values": {"fall": True, "posture": "lying"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    client.post("/login", data={"username": "butler", "password": DEMO_PASSWORDS["butler"]})
    alarm_id = client.get("/api/v1/alarms").json()[0]["id"]
    card = client.get(f"/console/alarms/{alarm_id}").text
    assert datetime(2026, 11, 29, 2, 0, tzinfo=UTC) == START
    assert "2026-11-29 02:00:00" in card  # London is on UTC in November
    assert "2026-11-29 10:00:00" not in card  # not Shanghai's wall clock


def test_an_unknown_zone_is_refused_at_start():
    with pytest.raises(ValidationError, match="unknown timezone"):
        Settings(display_timezone="Asia/Shangai")
