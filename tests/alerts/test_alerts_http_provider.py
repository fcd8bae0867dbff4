"""The generic JSON-over-HTTP SMS/voice provider against a fake gateway on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from anxin.alerts.models import NotificationStatus
from anxin.alerts.providers import HttpProvider, build_providers

from .conftest import outbox, sent_to, tick

API_KEY = "gw-key-123"


class Gateway:
    """A fake SMS/voice gateway: dedups on Idempotency-Key, answers receipts by id."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.by_key: dict[str, str] = {}
        self.fail_next = 0  # answer 503 to this many sends
        self.receipt = "delivered"
        self.lock = threading.Lock()


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._answer(401, {"error": "bad key"})
                return
            with gateway.lock:
                gateway.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if gateway.fail_next > 0:
                    gateway.fail_next -= 1
                    self._answer(503, {"error": "busy"})
                    return
                key = self.headers["Idempotency-Key"]
                message_id = gateway.by_key.setdefault(key, f"gw-{len(gateway.by_key) + 1}")
            self._answer(200, {"id": message_id, "status": "accepted"})

        def do_GET(self) -> None:
            message_id = self.path.rsplit("/", 1)[-1]
            if message_id not in gateway.by_key.values():
                self._answer(404, {"error": "unknown"})
                return
            self._answer(
                200,
                {
                    "status": gateway.receipt,
                    "error": "handset off" if gateway.receipt == "failed" else None,
                },
            )

    return Handler


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    finally:
        server.shutdown()
        server.server_close()


def http_settings(settings, url: str, key: str = API_KEY):
    return settings.model_copy(
        update={
            "sms_provider": "http",
            "voice_provider": "http",
            "sms_url": url,
            "sms_api_key": SecretStr(key),
            "voice_url": url,
            "voice_api_key": SecretStr(key),
            "notify_http_timeout_s": 2.0,
        }
    )


def test_sms_goes_to_the_gateway_and_receipts_are_polled(
    gateway, settings, raise_fall, context, db, clock
):
    state, url = gateway
    providers = build_providers(http_settings(settings, url))
    assert isinstance(providers.for_channel("sms"), HttpProvider)
    alarm_id = raise_fall()
    tick(context, clock, providers)
    sms = [r for r in state.requests if r["body"]["channel"] == "sms"]
    assert len(sms) == 4
    first = sms[0]
    assert first["path"] == "/v1/messages"
    assert first["headers"]["Idempotency-Key"] == first["body"]["idempotency_key"]
    assert first["body"]["to"].startswith("+86") and "Fall" in first["body"]["text"]
    rows = outbox(db, alarm_id)
    assert {n.status for n in rows if n.channel.value == "sms"} == {NotificationStatus.SENT}
    assert {n.provider for n in rows if n.channel.value == "sms"} == {"http"}
    tick(context, clock, providers, advance_s=1)
    assert {n.status for n in outbox(db, alarm_id) if n.channel.value == "sms"} == {
        NotificationStatus.DELIVERED
    }


def test_a_busy_gateway_is_retried_with_the_same_key(
    gateway, settings, raise_fall, context, db, clock
):
    state, url = gateway
    state.fail_next = 4  # every first-round SMS gets a 503
    providers = build_providers(http_settings(settings, url))
    alarm_id = raise_fall()
    tick(context, clock, providers)
    rows = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {(n.status, n.attempts) for n in rows} == {(NotificationStatus.PENDING, 1)}
    assert all("503" in (n.last_error or "") for n in rows)
    tick(context, clock, providers, advance_s=2)  # back-off after the first attempt: 1-2 s
    rows = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {(n.status, n.attempts) for n in rows} == {(NotificationStatus.SENT, 2)}
    keys = [r["headers"]["Idempotency-Key"] for r in state.requests]
    assert len(keys) == 8 and len(set(keys)) == 4  # each message tried twice with one key
    assert len(state.by_key) == 4  # and accepted once


def test_a_refused_api_key_fails_at_once_and_escalates(
    gateway, settings, raise_fall, context, db, clock
):
    _state, url = gateway
    providers = build_providers(http_settings(settings, url, key="wrong"))
    alarm_id = raise_fall()
    tick(context, clock, providers)
    rows = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {(n.status, n.attempts) for n in rows} == {(NotificationStatus.FAILED, 1)}
    assert "401" in (rows[0].last_error or "")
    tick(context, clock, providers)  # undelivered → the voice call goes out now (and fails too)
    assert sent_to(outbox(db, alarm_id), "voice") == ["emergency_contact"]


def test_a_failed_receipt_is_undelivered(gateway, settings, raise_fall, context, db, clock):
    state, url = gateway
    state.receipt = "failed"
    providers = build_providers(http_settings(settings, url))
    alarm_id = raise_fall()
    tick(context, clock, providers)
    tick(context, clock, providers, advance_s=1)
    rows = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {n.status for n in rows} == {NotificationStatus.UNDELIVERED}
    assert rows[0].last_error == "handset off"


def test_an_unreachable_gateway_is_a_transient_error(settings, raise_fall, context, db, clock):
    providers = build_providers(http_settings(settings, "http://127.0.0.1:9/none"))
    alarm_id = raise_fall()
    tick(context, clock, providers)
    rows = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {n.status for n in rows} == {NotificationStatus.PENDING}
    assert "ConnectError" in (rows[0].last_error or "")


def test_unknown_provider_names_are_refused(settings):
    with pytest.raises(ValueError, match="not a known provider"):
        build_providers(settings.model_copy(update={"sms_provider": "carrier-pigeon"}))
    with pytest.raises(ValueError, match="ANXIN_SMS_URL"):
        build_providers(settings.model_copy(update={"sms_provider": "http"}))


def test_a_gateway_may_push_receipts(gateway, settings, demo, clock):
    """Receipts pushed to /api/v1/alerts/receipts/{channel}, authenticated by the API key."""
    from fastapi.testclient import TestClient

    from anxin.app import create_app

    from .conftest import demo_recipients, quiet_unit

    state, url = gateway
    configured = http_settings(settings, url)
    app = create_app(configured, clock=clock)
    context = app.state.context
    db = context.db
    try:
        with quiet_unit(context) as uow:
            from anxin.alerts import service

            alarm = service.raise_alarm(
                uow=uow,
                organisation_id=demo.organisation_id,
                owner_kind="household",
                owner_id=demo.household_id,
                source_kind="device",
                source_id="radar-push",
                alarm_type="fall",
                severity="critical",  # type: ignore[arg-type]
                title="fall",
                details={},
                policy="homecare_fall",
                recipients=demo_recipients(uow.session, demo),
                now=clock.now(),
            )
            alarm_id = alarm.id
        state.receipt = "accepted"  # polling finds nothing final
        providers = build_providers(configured)
        tick(context, clock, providers)
        sms = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
        assert {n.status for n in sms} == {NotificationStatus.SENT}
        target = sms[0].provider_message_id
        with TestClient(app) as client:
            path = "/api/v1/alerts/receipts/sms"
            body = {"id": target, "status": "failed", "error": "number unreachable"}
            assert client.post(path, json=body).status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert client.post(path, json=body, headers=wrong).status_code == 401
            key = {"Authorization": f"Bearer {API_KEY}"}
            answer = client.post(path, json=body, headers=key)
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "undelivered"
            missing = client.post(path, json={"id": "gw-999", "status": "delivered"}, headers=key)
            assert missing.status_code == 404
        row = next(n for n in outbox(db, alarm_id) if n.provider_message_id == target)
        assert row.status == NotificationStatus.UNDELIVERED
        assert row.last_error == "number unreachable"
        tick(context, clock, providers)  # an undelivered SMS escalates at once
        assert sent_to(outbox(db, alarm_id), "voice") == ["emergency_contact"]
    finally:
        db.dispose()
