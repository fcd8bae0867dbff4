"""The leased machine's own telemetry: a tracker bound to the asset, running hours and
utilisation on the contract, an alarm to the lessor when the machine leaves its site (cleared
when it is back), a silent tracker, rent-overdue reminders and the idle-in-arrears flag."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from anxin.alerts.models import Alarm
from anxin.alerts.service import PendingRaises
from anxin.leasing import flows, watch
from tests.conftest import device_headers, login
from tests.leasing.test_leasing_api import BASE, _users, contract

SITE = (31.81, 119.97)


def test_distance_and_site() -> None:
    # one degree of latitude is about 111.2 km on the mean sphere
    assert watch.distance_m(31.0, 120.0, 32.0, 120.0) == pytest.approx(111_195, rel=1e-4)
    site = watch.Site(*SITE, radius_m=500)
    assert site.contains(31.812, 119.97) and not site.contains(31.82, 119.97)


@settings(deadline=None)  # no timing asserted: the machine is shared
@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_distance_is_a_metric(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = watch.distance_m(lat1, lon1, lat2, lon2)
    assert d == pytest.approx(watch.distance_m(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= d <= 20_016_000  # half the circumference


def test_idle_and_utilisation_rules() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert watch.idle_in_arrears(None, t0, t0 + timedelta(days=7), 7, overdue=True)
    assert not watch.idle_in_arrears(None, t0, t0 + timedelta(days=7), 7, overdue=False)
    assert not watch.idle_in_arrears(t0 + timedelta(days=1), t0, t0 + timedelta(days=7), 7, True)
    assert watch.utilisation(12, timedelta(days=1)) == 0.5
    assert watch.is_running({"running_hours": 10.5}, 10.0)
    assert not watch.is_running({"running_hours": 10.0, "power_kw": 0.1}, 10.0)


def _active_lease(client: Any, context: Any) -> tuple[dict[str, Any], dict[str, str]]:
    ids = _users(context)
    lessor = login(client, "lessor", "lessor-password").headers
    lease = client.post(
        f"{BASE}/contracts", json=contract(lessee_user_id=ids["factory"]), headers=lessor
    ).json()
    cid = lease["id"]
    for stage in ("approved", "ordered", "vendor_paid"):
        client.post(f"{BASE}/contracts/{cid}/stage", json={"stage": stage}, headers=lessor)
    serials = {a["id"]: f"SN-{n}" for n, a in enumerate(lease["assets"])}
    client.post(f"{BASE}/contracts/{cid}/acceptance", json={"serials": serials}, headers=lessor)
    return lease, lessor


def _send(client: Any, token: str, ts: str, n: int, **values: Any) -> None:
    body = {"message_id": f"m-{n}", "ts": ts, "values": values}
    r = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    assert r.status_code == 200, r.text


def _alarms(client: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = client.get("/api/v1/alarms", headers=headers)
    assert answer.status_code == 200, answer.text
    return {a["alarm_type"]: a for a in answer.json()}


def test_machine_off_site_raises_the_lessors_alarm(client, context, clock) -> None:
    lease, lessor = _active_lease(client, context)
    cid, asset = lease["id"], lease["assets"][0]
    bound = client.post(
        f"{BASE}/contracts/{cid}/assets/{asset['id']}/tracker",
        json={"name": "CNC lathe tracker"},
        headers=lessor,
    )
    assert bound.status_code == 201, bound.text
    token = bound.json()["token"]
    again = client.post(
        f"{BASE}/contracts/{cid}/assets/{asset['id']}/tracker", json={"name": "x"}, headers=lessor
    )
    assert again.status_code == 409
    factory = login(client, "factory", "factory-password").headers
    assert (
        client.post(
            f"{BASE}/contracts/{cid}/assets/{lease['assets'][1]['id']}/tracker",
            json={"name": "x"},
            headers=factory,
        ).status_code
        == 403
    )

    now = clock.now()
    _send(client, token, now.isoformat(), 1, running_hours=100.0, power_kw=15.0,
          lat=SITE[0], lon=SITE[1])  # fmt: skip
    clock.advance(timedelta(hours=10))
    later = clock.now()
    _send(client, token, later.isoformat(), 2, running_hours=105.0, power_kw=12.0,
          lat=SITE[0] + 0.001, lon=SITE[1])  # fmt: skip
    lessor = login(client, "lessor", "lessor-password").headers  # the clock moved past its token
    machine = client.get(f"{BASE}/contracts/{cid}", headers=lessor).json()["assets"]
    tracked = next(a for a in machine if a["id"] == asset["id"])
    assert tracked["running_hours"] == 105.0 and tracked["utilisation"] == pytest.approx(0.5)
    assert "machine_off_site" not in _alarms(client, lessor)

    # driven 5 km away: the lessor's alarm, naming the lease
    clock.advance(timedelta(minutes=5))
    _send(client, token, clock.now().isoformat(), 3, running_hours=105.1, lat=SITE[0] + 0.045,
          lon=SITE[1])  # fmt: skip
    lessor = login(client, "lessor", "lessor-password").headers
    alarm = _alarms(client, lessor)["machine_off_site"]
    assert alarm["severity"] == "critical" and alarm["owner_kind"] == "lease"
    assert alarm["owner_id"] == cid
    stranger = login(client, "stranger", "stranger-password").headers
    assert "machine_off_site" not in _alarms(client, stranger)
    page = client.get(f"{BASE}/contracts/{cid}", headers=lessor).json()
    assert next(a for a in page["assets"] if a["id"] == asset["id"])["off_site"] is True

    # back on site: cleared
    clock.advance(timedelta(minutes=5))
    _send(client, token, clock.now().isoformat(), 4, running_hours=105.2, lat=SITE[0], lon=SITE[1])
    lessor = login(client, "lessor", "lessor-password").headers
    current = _alarms(client, lessor)["machine_off_site"]
    assert current["cleared"] is True


def test_rent_overdue_reminder_and_idle_in_arrears(client, context, clock) -> None:
    lease, lessor = _active_lease(client, context)
    cid, asset = lease["id"], lease["assets"][0]
    token = client.post(
        f"{BASE}/contracts/{cid}/assets/{asset['id']}/tracker",
        json={"name": "lathe"},
        headers=lessor,
    ).json()["token"]
    _send(client, token, clock.now().isoformat(), 1, running_hours=10.0, power_kw=0.0,
          lat=SITE[0], lon=SITE[1])  # fmt: skip
    with context.unit(actor="test:sweep") as uow:
        assert flows.sweep(uow) == 0  # the first rent falls due on 2027-01-01
    clock.advance(timedelta(days=40))  # past the first due date, nothing paid, nothing run
    with context.unit(actor="test:sweep") as uow:
        assert flows.sweep(uow) == 1
    # read from the store: PyJWT checks a token's iat against the wall clock, and the test's
    # clock is now weeks ahead of it
    with context.unit(actor="test:read") as uow:
        alarms = {
            a.alarm_type: a for a in uow.session.scalars(select(Alarm).where(Alarm.owner_id == cid))
        }
    assert {"rent_overdue", "idle_in_arrears"} <= set(alarms)
    assert alarms["idle_in_arrears"].details["idle_days"] == 7
    assert alarms["rent_overdue"].owner_kind == "lease"


def test_other_lessors_get_404_on_every_lease_route(client, context) -> None:
    lease, _ = _active_lease(client, context)
    stranger = login(client, "stranger", "stranger-password").headers
    for tail in ("", "/schedule", "/accounts", "/accounts.csv", "/buyout"):
        assert (
            client.get(f"{BASE}/contracts/{lease['id']}{tail}", headers=stranger).status_code == 404
        )


def test_a_silent_tracker_raises_machine_silent(client, context, clock) -> None:
    from anxin.core.events import Event

    lease, lessor = _active_lease(client, context)
    cid, asset = lease["id"], lease["assets"][0]
    device_id = client.post(
        f"{BASE}/contracts/{cid}/assets/{asset['id']}/tracker", json={"name": "t"}, headers=lessor
    ).json()["device_id"]

    def rule(action: str) -> Event:
        return Event(
            subject="iot.rule.device_offline",
            occurred_at=clock.now(),
            payload={
                "action": action,
                "alarm_type": "device_offline",
                "fired_at": clock.now().isoformat(),
                "owner": {"kind": "lease_asset", "id": asset["id"]},
                "device": {"id": device_id, "type": "machine_tracker", "name": "t"},
            },
        )

    with context.unit(actor="test:rules") as uow:
        flows.RULE_EVENTS.handle(uow, rule("raise"))
    assert not _alarms(client, lessor)["machine_silent"]["cleared"]
    with context.unit(actor="test:rules") as uow:
        flows.RULE_EVENTS.handle(uow, rule("clear"))
    assert _alarms(client, lessor)["machine_silent"]["cleared"]


def test_the_sweep_command_and_repossession(client, context, database_url, monkeypatch) -> None:
    from typer.testing import CliRunner

    from anxin.cli import app as cli
    from anxin.core.config import get_settings

    lease, lessor = _active_lease(client, context)
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    try:
        swept = CliRunner().invoke(cli, ["leasing", "sweep"])
    finally:
        get_settings.cache_clear()
    assert swept.exit_code == 0, swept.output
    assert "lease(s) in arrears" in swept.output
    # repossession is a recorded step of an active lease, and final
    gone = client.post(
        f"{BASE}/contracts/{lease['id']}/stage", json={"stage": "repossessed"}, headers=lessor
    )
    assert gone.json()["stage"] == "repossessed"
    back = client.post(
        f"{BASE}/contracts/{lease['id']}/stage", json={"stage": "cancelled"}, headers=lessor
    )
    assert back.status_code == 409


def _rent_alarms(context: Any, cid: str) -> list[Alarm]:
    with context.unit(actor="test:read") as uow:
        return list(
            uow.session.scalars(
                select(Alarm)
                .where(Alarm.owner_id == cid, Alarm.alarm_type == "rent_overdue")
                .order_by(Alarm.source_id)
            )
        )


def test_the_arrears_worker_reminds_once_per_overdue_rent(
    client: Any, context: Any, clock: Any
) -> None:
    """The worker the domain declares, ticked by hand on the injected clock: each overdue rent
    raises one reminder through the alerts engine, however often the worker ticks; paying the
    rent clears its reminder, and a rent reminded and paid is not reminded again."""
    from anxin.core.domain import Domain
    from anxin.leasing import setup
    from anxin.leasing.worker import ArrearsSweeper

    declared: Domain = setup.setup()
    worker = declared.workers[0](context)
    assert isinstance(worker, ArrearsSweeper)
    lease, _ = _active_lease(client, context)
    cid = lease["id"]
    assert worker.tick() == 0 and _rent_alarms(context, cid) == []
    clock.advance(timedelta(days=40))  # rent 1 (due 2027-01-01) is late; rent 2 is not yet due
    assert worker.tick() == 1
    worker.tick()
    worker.tick()
    (first,) = _rent_alarms(context, cid)
    assert first.count == 1 and first.details["rent_number"] == 1 and not first.cleared
    assert first.source_id == f"{cid}:1" and first.owner_kind == "lease"

    clock.advance(timedelta(days=31))  # rent 2 late too: its own reminder, rent 1's untouched
    worker.tick()
    alarms = _rent_alarms(context, cid)
    assert [a.details["rent_number"] for a in alarms] == [1, 2]
    assert [a.count for a in alarms] == [1, 1]

    # rent 1 paid in full (with its penalty): its reminder clears; rent 2's stays
    lessor = login(client, "lessor", "lessor-password").headers
    owed = client.get(f"{BASE}/contracts/{cid}/schedule", headers=lessor).json()[0]
    amount = Decimal(owed["total"]) + Decimal(owed["penalty"])
    paid = client.post(
        f"{BASE}/contracts/{cid}/rents",
        json={"paid_on": clock.now().date().isoformat(), "amount": str(amount)},
        headers=lessor,
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["rents_paid"] == 1
    worker.tick()
    worker.tick()
    alarms = _rent_alarms(context, cid)
    assert [(a.details["rent_number"], a.cleared) for a in alarms] == [(1, True), (2, False)]
    assert [a.count for a in alarms] == [1, 1]


def _tracked_lease(
    client: Any, ids: dict[str, str], reference: str
) -> tuple[str, list[str], list[str]]:
    """An active lease whose two machines carry trackers: (contract id, asset ids, device ids)."""
    lessor = login(client, "lessor", "lessor-password").headers
    lease = client.post(
        f"{BASE}/contracts",
        json=contract(reference=reference, lessee_user_id=ids["factory"]),
        headers=lessor,
    ).json()
    cid = lease["id"]
    for stage in ("approved", "ordered", "vendor_paid"):
        client.post(f"{BASE}/contracts/{cid}/stage", json={"stage": stage}, headers=lessor)
    serials = {a["id"]: f"{reference}-{n}" for n, a in enumerate(lease["assets"])}
    client.post(f"{BASE}/contracts/{cid}/acceptance", json={"serials": serials}, headers=lessor)
    assets = [a["id"] for a in lease["assets"]]
    devices = [
        client.post(
            f"{BASE}/contracts/{cid}/assets/{a}/tracker", json={"name": f"t{n}"}, headers=lessor
        ).json()["device_id"]
        for n, a in enumerate(assets)
    ]
    return cid, assets, devices


def _silent_trackers_snapshot(context: Any, cid: str, assets: list[str]) -> list[Any]:
    """The lease's alarms, their history and outbox, with its own ids replaced by roles."""
    from anxin.alerts.models import AlarmEvent, Notification

    with context.db.session_scope() as session:
        alarms = session.scalars(
            select(Alarm).where(Alarm.owner_id == cid).order_by(Alarm.first_raised_at, Alarm.id)
        )
        out = []
        for alarm in sorted(alarms, key=lambda a: (assets.index(a.source_id), a.cleared)):
            history = session.scalars(
                select(AlarmEvent.action)
                .where(AlarmEvent.alarm_id == alarm.id)
                .order_by(AlarmEvent.id)
            )
            outbox = session.execute(
                select(Notification.channel, Notification.subject).where(
                    Notification.alarm_id == alarm.id
                )
            )
            out.append(
                (
                    assets.index(alarm.source_id),
                    alarm.alarm_type,
                    alarm.severity,
                    alarm.count,
                    alarm.cleared,
                    alarm.title.rsplit(" · ", 1)[0],
                    sorted(
                        k
                        for k in alarm.details
                        if k not in ("asset_id", "serial", "device_id", "contract_id", "reference")
                    ),
                    list(history),
                    sorted((str(c), s.rsplit(" · ", 1)[0]) for c, s in outbox.all()),
                )
            )
        return out


def test_a_sweeps_silent_trackers_raise_as_one_by_one(client, context, clock, monkeypatch) -> None:
    """A batch of device_offline events (raises, a repeat, a clear and a raise anew) goes
    through `raise_alarms` and leaves the alarms, history and outbox the events handled one at
    a time leave."""
    from anxin.core.events import Event, InProcessBus

    def events(assets: list[str], devices: list[str]) -> list[Event]:
        def rule(action: str, n: int) -> Event:
            return Event(
                subject="iot.rule.device_offline",
                occurred_at=clock.now(),
                payload={
                    "action": action,
                    "alarm_type": "device_offline",
                    "fired_at": clock.now().isoformat(),
                    "owner": {"kind": "lease_asset", "id": assets[n]},
                    "device": {"id": devices[n], "type": "machine_tracker", "name": f"t{n}"},
                },
            )

        return [
            rule("raise", 0),
            rule("raise", 1),
            rule("raise", 0),
            rule("clear", 1),
            rule("raise", 1),
        ]

    bulk_calls: list[int] = []
    real = PendingRaises.flush

    def counted(self: Any) -> None:
        if len(self.requests) > 1:
            bulk_calls.append(len(self.requests))
        real(self)

    monkeypatch.setattr(PendingRaises, "flush", counted)
    ids = _users(context)
    one_cid, one_assets, one_devices = _tracked_lease(client, ids, "JS-ONE")
    with context.unit(actor="test:rules") as uow:
        for event in events(one_assets, one_devices):
            flows.RULE_EVENTS.handle(uow, event)
    assert bulk_calls == []
    bulk_cid, bulk_assets, bulk_devices = _tracked_lease(client, ids, "JS-BULK")
    bus = InProcessBus()
    bus.prepare("iot.rule.device_offline", flows.RULE_EVENTS.prepare)
    bus.subscribe("iot.rule.device_offline", flows.RULE_EVENTS.handle)
    with context.unit(actor="test:rules", bus=bus) as uow:
        bus.publish_many(uow, events(bulk_assets, bulk_devices))
    # The two raises and the repeat together; the clear flushes them; the raise after it is one.
    assert bulk_calls == [3]
    one = _silent_trackers_snapshot(context, one_cid, one_assets)
    assert one == _silent_trackers_snapshot(context, bulk_cid, bulk_assets)
    assert [(n, count, cleared) for n, _, _, count, cleared, *_ in one] == [
        (0, 2, False), (1, 1, False), (1, 1, True)
    ]  # fmt: skip
