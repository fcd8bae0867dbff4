"""The alarm pages show no raw value of the alerts enums: in Chinese, none of them appears as a
word in the text a reader sees (attributes may carry them for scripts and tests); in either
language, no identifier (`homecare_fall`, `call_task`) does. The alarms cover every state an
escalation ends in — running, acknowledged, repeated and told again, resolved, exhausted."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts import escalation as machine
from anxin.alerts import service
from anxin.alerts.models import (
    AlarmEvent,
    AlarmState,
    Channel,
    EscalationStatus,
    NotificationStatus,
    Severity,
)
from anxin.alerts.policies import CATALOGUE
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from tests.alerts.conftest import demo_recipients, local_registry, quiet_unit, tick
from tests.conftest import DEMO_PASSWORDS
from tests.homecare.test_care_alarms import post

ENUMS = {
    *(v.value for kind in (Severity, AlarmState, EscalationStatus) for v in kind),
    *(v.value for kind in (NotificationStatus, Channel) for v in kind),
    *machine.STOP_REASONS,
    *machine.PURPOSES,
    *(doc["code"] for doc in CATALOGUE),
    *("elder", "family", "butler", "emergency_contact", "team_lead"),  # recipient roles
}
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


class _Text(HTMLParser):
    """The text a reader sees: no attributes, no scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _alarm_ids(client: TestClient) -> list[str]:
    return [a["id"] for a in client.get("/api/v1/alarms?limit=50").json()]


@pytest.fixture
def alarm_pages(
    client: TestClient,
    app: FastAPI,
    db: Database,
    demo: DemoInfo,
    demo_devices: dict[str, tuple[str, str]],
    clock: FrozenClock,
) -> list[str]:
    """A fall acknowledged, repeated and renotified; a tamper alert nobody acknowledged, its
    escalation run to the end, then resolved; the pages that show them."""
    _, radar = demo_devices["mmwave_radar"]
    post(client, radar, {"fall": True, "motion": True}, clock, "w-1")
    client.post("/login", data={"username": "butler", "password": DEMO_PASSWORDS["butler"]})
    [fall] = _alarm_ids(client)
    client.post(f"/console/alarms/{fall}/acknowledge", data={"note": ""})
    clock.advance(600)
    post(client, radar, {"fall": True, "motion": True}, clock, "w-2")
    with quiet_unit(app.state.context) as uow:  # an alert nobody acknowledges
        service.raise_alarm(
            uow=uow,
            organisation_id=demo.organisation_id,
            owner_kind="household",
            owner_id=demo.household_id,
            source_kind="device",
            source_id="door-x",
            alarm_type="tamper",
            severity=Severity.MINOR,
            title="设备被拆动 Device tampered",
            details={},
            policy="homecare_alert",
            recipients=demo_recipients(uow.session, demo),
            now=clock.now(),
        )
    # run the alert's escalation to its end (600 s + 900 s), a tick every 20 s as the worker
    providers = local_registry(receipt_delay_s=1.0)
    for _ in range(80):
        tick(app.state.context, clock, providers, advance_s=20)
    ids = _alarm_ids(client)
    with db.session_scope() as session:
        actions = set(session.scalars(select(AlarmEvent.action)))
    assert {"renotified", "escalation_stopped", "escalation_exhausted"} <= actions, actions
    client.post(f"/console/alarms/{ids[0]}/resolve", data={"note": ""})
    return [
        "/console/alarms",
        "/console/alarms/rows",
        "/console/outbox",
        f"/console/elders/{demo.elder_id}",
        *(f"/console/alarms/{alarm_id}" for alarm_id in ids),
    ]


def test_chinese_alarm_pages_show_no_raw_enum_value(
    client: TestClient, alarm_pages: list[str]
) -> None:
    raw = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ENUMS))) + r")\b")
    for path in alarm_pages:
        response = client.get(f"{path}?lang=zh")
        assert response.status_code == 200, path
        text = visible(response.text)
        assert raw.findall(text) == [], (path, raw.findall(text))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_alarm_pages_show_no_identifier(
    client: TestClient, alarm_pages: list[str], lang: str
) -> None:
    for path in alarm_pages:
        text = visible(client.get(f"{path}?lang={lang}").text)
        assert IDENTIFIER.findall(text) == [], (path, IDENTIFIER.findall(text))


def test_every_stop_reason_and_builtin_policy_has_a_label(app: FastAPI) -> None:
    catalog = app.state.console.catalog
    for reason in machine.STOP_REASONS:
        assert f"stop_reason_{reason}" in catalog
    for doc in CATALOGUE:
        assert f"esc_policy_{doc['code']}" in catalog
