"""Reminders before a visit and at medicine time: which are due (a property), and that they go
out once each through the alerts outbox and its dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.alerts.worker import AlertsWorker
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.demo.seed import DemoInfo
from anxin.services import reminders, service
from anxin.services.catalogue import ScenarioCode
from anxin.services.reminders import AHEAD, MEDICINE_WINDOW, Kind

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/services"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@settings(deadline=None)
@given(
    offset=st.integers(min_value=-6 * 60, max_value=6 * 60),
    assigned=st.booleans(),
    code=st.sampled_from(list(ScenarioCode)),
)
def test_what_is_due_when(offset: int, assigned: bool, code: ScenarioCode) -> None:
    start = NOW + timedelta(minutes=offset)
    kinds = {d.kind for d in reminders.due([reminders.Visit("b", code, start, assigned)], NOW)}
    assert (Kind.VISIT in kinds) == (assigned and NOW < start <= NOW + AHEAD)
    medicine = code == ScenarioCode.MEDICATION_REMINDER and start <= NOW < start + MEDICINE_WINDOW
    assert (Kind.MEDICINE in kinds) == medicine


def test_a_reminder_key_is_one_per_booking_kind_and_recipient() -> None:
    keys = {
        reminders.key(b, k, r)
        for b in ("b1", "b2")
        for k in Kind
        for r in ("elder:+86 139", "service_worker:+86 137")
    }
    assert len(keys) == 8 and all(len(k) <= 80 for k in keys)


def _outbox(client: TestClient, as_user: Headers) -> list[dict[str, Any]]:
    rows = client.get("/api/v1/alerts/outbox?limit=500", headers=as_user("butler")).json()
    return [r for r in rows if r["alarm_id"] is None]


def test_visit_and_medicine_reminders_go_out_once_through_the_outbox(
    client: TestClient, crew: dict[str, Any], demo: DemoInfo, as_user: Headers,
    clock: FrozenClock, context: AppContext,
) -> None:  # fmt: skip
    elder = as_user("elder")
    start = "2026-11-30T11:00:00+08:00"  # tomorrow, in the cook's shift
    r = client.post(
        f"{API}/bookings",
        json={"elder_id": demo.elder_id, "scenario": "cook_visit", "start": start},
        headers=elder,
    )
    assert r.status_code == 201 and r.json()["status"] == "assigned", r.text

    def run() -> int:
        with context.unit(actor="test:reminders") as uow:
            return service.send_reminders(uow=uow)

    assert run() == 0  # a day ahead: nothing yet
    clock.set(datetime(2026, 11, 30, 1, 30, tzinfo=UTC))  # 09:30 Shanghai, 90 min ahead
    assert run() == 2  # the elder (SMS) and the cook (push: no phone on their login)
    assert run() == 0  # once
    rows = _outbox(client, as_user)
    assert {(r["recipient_role"], r["channel"]) for r in rows} == {
        ("elder", "sms"),
        ("service_worker", "push"),
    }
    elder_sms = next(r for r in rows if r["channel"] == "sms")
    assert elder_sms["address"] == "+86 139 0000 0058"
    assert "11-30 11:00" in elder_sms["body"] and "上门做饭" in elder_sms["body"]
    assert "cook.wang" in elder_sms["body"]  # who is coming

    # The alerts dispatcher sends them like any message.
    AlertsWorker(context, tick_s=1).tick()
    sent = {r["status"] for r in _outbox(client, as_user)}
    assert sent <= {"sent", "delivered"}, sent


def test_medicine_reminder_at_its_time_and_not_after_the_window(
    client: TestClient, crew: dict[str, Any], demo: DemoInfo, as_user: Headers,
    clock: FrozenClock, context: AppContext,
) -> None:  # fmt: skip
    butler = as_user("butler")
    r = client.post(
        f"{API}/bookings",
        json={
            "elder_id": demo.elder_id,
            "scenario": "medication_reminder",
            "start": "2026-11-30T08:00:00+08:00",
        },
        headers=butler,
    )
    assert r.status_code == 201, r.text

    def run() -> list[str]:
        with context.unit(actor="test:reminders") as uow:
            service.send_reminders(uow=uow)
        return sorted(r["subject"] for r in _outbox(client, as_user))

    clock.set(datetime(2026, 11, 30, 0, 45, tzinfo=UTC))  # 08:45: half an hour is past
    assert not any("服药" in s for s in run())
    clock.set(datetime(2026, 11, 30, 0, 5, tzinfo=UTC))  # 08:05
    assert sum("服药提醒" in s for s in run()) == 1
