"""The alarms API: scoped lists, 404 for what the caller may not see, actions, outbox."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from anxin.alerts.models import Severity
from anxin.homecare.models import Household

from .conftest import tick


@pytest.fixture
def two_alarms(raise_fall, db, demo):
    with db.session_scope() as session:
        zhao = session.scalar(select(Household).where(Household.name == "赵家 Zhao household"))
        assert zhao is not None
        zhao_id = zhao.id
    ours = raise_fall(source_id="radar-zhang")
    theirs = raise_fall(source_id="radar-zhao", owner_id=zhao_id, severity=Severity.MAJOR)
    return ours, theirs


def ids(response):
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()}


def test_every_alerts_endpoint_needs_a_login(client, two_alarms):
    ours, _ = two_alarms
    for method, path in (
        ("get", "/api/v1/alarms"),
        ("get", f"/api/v1/alarms/{ours}"),
        ("post", f"/api/v1/alarms/{ours}/acknowledge"),
        ("post", f"/api/v1/alarms/{ours}/resolve"),
        ("get", "/api/v1/alerts/outbox"),
        ("get", "/api/v1/alerts/notifications/x/attempts"),
        ("get", "/api/v1/alerts/policies"),
        ("put", "/api/v1/alerts/policies/x"),
    ):
        assert getattr(client, method)(path).status_code == 401, path


def test_a_family_sees_only_its_own_elders_alarms(client, as_user, two_alarms):
    ours, theirs = two_alarms
    assert ids(client.get("/api/v1/alarms", headers=as_user("butler"))) == {ours, theirs}
    assert ids(client.get("/api/v1/alarms", headers=as_user("admin"))) == {ours, theirs}
    son = as_user("son")
    assert ids(client.get("/api/v1/alarms", headers=son)) == {ours}
    assert client.get(f"/api/v1/alarms/{theirs}", headers=son).status_code == 404
    assert client.post(f"/api/v1/alarms/{theirs}/acknowledge", headers=son).status_code == 404
    zhao = as_user("neighbour-family")
    assert ids(client.get("/api/v1/alarms", headers=zhao)) == {theirs}
    assert client.get(f"/api/v1/alarms/{ours}", headers=zhao).status_code == 404
    assert client.get("/api/v1/alarms/no-such-alarm", headers=son).status_code == 404


def test_filters(client, as_user, two_alarms):
    ours, theirs = two_alarms
    butler = as_user("butler")
    assert ids(client.get("/api/v1/alarms?severity=major", headers=butler)) == {theirs}
    assert ids(client.get("/api/v1/alarms?state=raised", headers=butler)) == {ours, theirs}
    assert ids(client.get("/api/v1/alarms?state=resolved", headers=butler)) == set()
    bad = client.get("/api/v1/alarms?state=sleeping", headers=butler)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "query.state"


def test_detail_acknowledge_and_resolve(client, as_user, two_alarms, context, clock, providers):
    ours, _ = two_alarms
    tick(context, clock, providers)
    son = as_user("son")
    detail = client.get(f"/api/v1/alarms/{ours}", headers=son).json()
    assert detail["state"] == "raised" and detail["escalation"]["status"] == "active"
    assert [h["action"] for h in detail["history"]] == ["raised", "escalation_step"]
    assert detail["notifications"] == []  # others' phone numbers are for the care team only
    butler = as_user("butler")
    full = client.get(f"/api/v1/alarms/{ours}", headers=butler).json()
    assert len(full["notifications"]) == 6
    assert client.post(f"/api/v1/alarms/{ours}/resolve", headers=son).status_code == 403
    assert (
        client.post(f"/api/v1/alarms/{ours}/acknowledge", headers=as_user("elder")).status_code
        == 403
    )
    acked = client.post(
        f"/api/v1/alarms/{ours}/acknowledge",
        headers=son,
        json={"note": "我在妈妈身边 I am with mum"},
    )
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "user:son"
    assert body["escalation"]["status"] == "stopped"
    assert body["history"][-2]["note"] == "我在妈妈身边 I am with mum"
    resolved = client.post(f"/api/v1/alarms/{ours}/resolve", headers=butler, json={"note": "ok"})
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    again = client.post(f"/api/v1/alarms/{ours}/resolve", headers=butler)
    assert again.status_code == 409 and again.json()["error"] == "rule_violation"


def test_outbox_and_attempts_for_the_care_team_only(
    client, as_user, two_alarms, context, clock, providers
):
    ours, _ = two_alarms
    tick(context, clock, providers)
    butler = as_user("butler")
    rows = client.get(f"/api/v1/alerts/outbox?alarm_id={ours}", headers=butler).json()
    assert len(rows) == 6 and {r["status"] for r in rows} == {"sent", "delivered"}
    sms = client.get("/api/v1/alerts/outbox?channel=sms&status=sent", headers=butler).json()
    assert len(sms) == 8 and all(r["channel"] == "sms" for r in sms)
    attempts = client.get(f"/api/v1/alerts/notifications/{rows[0]['id']}/attempts", headers=butler)
    assert attempts.status_code == 200
    assert [(a["attempt_no"], a["status"]) for a in attempts.json()] == [(1, "accepted")]
    son = as_user("son")
    assert client.get("/api/v1/alerts/outbox", headers=son).status_code == 403
    assert (
        client.get(
            f"/api/v1/alerts/notifications/{rows[0]['id']}/attempts", headers=son
        ).status_code
        == 404
    )


def test_policies_listed_and_an_invalid_one_stored_with_its_reason(client, as_user, demo):
    butler = as_user("butler")
    listed = client.get("/api/v1/alerts/policies", headers=butler).json()
    codes = {p["code"] for p in listed}
    assert {"homecare_fall", "homecare_alert", "default", "alerts_watchdog"} <= codes
    assert all(p["valid"] for p in listed)
    assert client.put("/api/v1/alerts/policies/night", headers=butler, json={}).status_code == 403
    admin = as_user("admin")
    bad = client.put(
        "/api/v1/alerts/policies/night",
        headers=admin,
        json={"steps": [{"wait_s": 60, "notify": [{"roles": ["butler"], "channels": ["fax"]}]}]},
    )
    assert bad.status_code == 200, bad.text
    assert bad.json()["valid"] is False and "fax" in bad.json()["error"]
    good = client.put(
        "/api/v1/alerts/policies/night",
        headers=admin,
        json={
            "name": "夜间 Night",
            "steps": [{"wait_s": 60, "notify": [{"roles": ["butler"], "channels": ["sms"]}]}],
        },
    )
    assert good.json()["valid"] is True and good.json()["origin"] == "custom"
    assert (
        client.put("/api/v1/alerts/policies/Bad Code!", headers=admin, json={}).status_code == 422
    )


def test_the_worker_runs_in_the_app_lifespan(settings, clock, demo, raise_fall):
    from fastapi.testclient import TestClient

    from anxin.alerts.models import Notification, NotificationStatus
    from anxin.alerts.worker import AlertsWorker
    from anxin.app import create_app

    alarm_id = raise_fall()
    app = create_app(
        settings.model_copy(
            update={"workers": True, "alerts_tick_s": 0.05, "workers_start_delay_s": 0}
        ),
        clock=clock,
    )
    db = app.state.context.db
    try:
        with TestClient(app):
            (worker,) = [w for w in app.state.workers if isinstance(w, AlertsWorker)]
            deadline = time.monotonic() + 30
            pending = True
            while (pending or worker.ticks < 2) and time.monotonic() < deadline:
                time.sleep(0.05)
                with db.session_scope() as session:
                    pending = bool(
                        session.scalars(
                            select(Notification).where(
                                Notification.alarm_id == alarm_id,
                                Notification.status.in_(
                                    (NotificationStatus.PENDING, NotificationStatus.SENDING)
                                ),
                            )
                        ).first()
                    )
            assert not pending and worker.ticks >= 2 and worker.last_error is None
        assert not worker.running
    finally:
        db.dispose()
