"""Dead letters (issue 12, item 1): no message stops a consumer. Whatever cannot be processed
is kept (bounded), counted, listed for an admin and replayable after a fix; a handler that
raises on one message costs that message only. Real-broker runs are in test_mqtt.py and
test_nats_bus.py; this file drives the pipeline, the API and the CLI directly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from anxin.core.events import Event, InProcessBus
from anxin.iot.dead_letters import MAX_BODY_BYTES
from anxin.iot.models import DeadLetter, Reading
from anxin.iot.pipeline import BatchIngestor, RawMessage

NESTED = b"[" * 5000 + b"]" * 5000  # 10 KB: the message that used to kill the MQTT consumer
NOT_UTF8 = b'{"token": "t", "message_id": "\xff\xfe", "values": {}}'
BLOB = (bytes(range(256)) * 4000)[:1_000_000]  # 1 MB (under NATS's 1 MiB), not UTF-8


class PoisonRule:
    """A bus subscriber with a bug that only one message triggers (until it is fixed)."""

    def __init__(self) -> None:
        self.fixed = False
        self.seen: list[str] = []

    def __call__(self, _uow: Any, event: Event) -> None:
        ids = [r["message_id"] for r in event.payload["readings"]]
        if "poison" in ids and not self.fixed:
            raise ZeroDivisionError("the rule divides by a zero it never expected")
        self.seen.extend(ids)


def poisoned_bus() -> tuple[InProcessBus, PoisonRule]:
    bus = InProcessBus()
    rule = PoisonRule()
    bus.subscribe("iot.telemetry.*", rule)
    return bus, rule


def reading(token: str, message_id: str) -> bytes:
    return json.dumps(
        {"token": token, "message_id": message_id, "values": {"motion": True}}
    ).encode()


def poison_and_good(device: str, token: str) -> list[RawMessage]:
    """Each poison message followed by a good one (the issue's four cases)."""
    out = []
    for n, body in enumerate([NESTED, NOT_UTF8, BLOB, reading(token, "poison")]):
        out += [RawMessage(device, body), RawMessage(device, reading(token, f"good-{n}"))]
    return out


def stored_ids(db, device: str) -> set[str]:
    with db.session_scope() as session:
        return set(session.scalars(select(Reading.message_id).where(Reading.device_id == device)))


def letters(db) -> list[DeadLetter]:
    with db.session_scope() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def each_poison_kept_each_good_stored(db, device: str) -> None:
    """What a transport must show after `poison_and_good` (shared by the real-broker tests)."""
    assert stored_ids(db, device) == {"good-0", "good-1", "good-2", "good-3"}
    assert sorted(r.reason_code for r in letters(db)) == [
        "handler_failed",
        "malformed",
        "malformed",
        "too_deep",
    ]


def test_poison_messages_are_dead_lettered_and_the_good_ones_land(db, context, demo_devices):
    radar, token = demo_devices["mmwave_radar"]
    bus, rule = poisoned_bus()
    context.bus = bus
    ingestor = BatchIngestor(context=context, transport="mqtt")
    result = ingestor.process(poison_and_good(radar, token))
    assert result.accepted == 4
    assert stored_ids(db, radar) == {"good-0", "good-1", "good-2", "good-3"}
    assert rule.seen.count("good-3") == 1  # its unit was stored again without the poison
    rows = letters(db)
    assert [(r.reason_code, r.device_id, r.claimed_device) for r in rows] == [
        ("too_deep", radar, radar),
        ("malformed", radar, radar),
        ("malformed", radar, radar),
        ("handler_failed", radar, radar),
    ]
    deep, utf8, blob, poison = rows
    assert deep.reason == "body: JSON nested 5000 deep, over the limit of 32"
    assert utf8.reason.startswith("body: not UTF-8 text: invalid start byte")
    assert poison.reason.startswith("ZeroDivisionError: the rule divides by a zero")
    # Bodies are kept up to 64 KiB; size and SHA-256 describe the whole.
    assert deep.body == NESTED and deep.size == len(NESTED)
    assert len(blob.body) == MAX_BODY_BYTES and blob.size == len(BLOB)
    assert blob.sha256 == hashlib.sha256(BLOB).hexdigest()
    assert all(r.organisation_id and r.occurrences == 1 and r.transport == "mqtt" for r in rows)

    # A broker redelivering the same poison counts on the same row, it does not add rows.
    ingestor.process([RawMessage(radar, NESTED)])
    assert [r.occurrences for r in letters(db)] == [2, 1, 1, 1]


def test_a_message_that_breaks_the_checks_is_kept_and_the_rest_goes_on(
    db, context, demo_devices, monkeypatch
):
    radar, token = demo_devices["mmwave_radar"]
    ingestor = BatchIngestor(context=context, publish=False, transport="nats")
    real = ingestor._check

    def buggy(message: RawMessage, *args: Any) -> None:
        if b"trip" in message.body:
            raise RecursionError("maximum recursion depth exceeded")
        real(message, *args)

    monkeypatch.setattr(ingestor, "_check", buggy)
    result = ingestor.process(
        [RawMessage(radar, b'{"trip": 1}'), RawMessage(radar, reading(token, "a"))]
    )
    assert result.accepted == 1 and result.reasons == {"internal_error": 1}
    (row,) = letters(db)
    assert (row.reason_code, row.reason) == (
        "internal_error",
        "RecursionError: maximum recursion depth exceeded",
    )


def test_unknown_devices_are_kept_for_the_operator_not_for_any_organisation(db, context):
    ingestor = BatchIngestor(context=context, publish=False, transport="mqtt")
    ingestor.process([RawMessage("no-such-device", b'{"token": "x"}'), RawMessage(None, b"{}")])
    rows = letters(db)
    assert [(r.reason_code, r.claimed_device, r.organisation_id) for r in rows] == [
        ("unknown_device", "no-such-device", None),
        ("malformed", None, None),
    ]


Replay = Callable[[int], Any]


@pytest.fixture
def dead(db, demo_devices, context) -> tuple[PoisonRule, dict[str, int]]:
    """The four poison cases dead-lettered, with the app's bus carrying the buggy rule."""
    radar, token = demo_devices["mmwave_radar"]
    bus, rule = poisoned_bus()
    context.bus = bus  # the replay goes through the same (still buggy) rule
    BatchIngestor(context=context, transport="mqtt").process(poison_and_good(radar, token))
    return rule, {r.reason_code + ("" if r.size < 70_000 else "-blob"): r.id for r in letters(db)}


def test_admins_list_their_dead_letters_paged_with_tokens_masked(
    client, as_user, dead, demo_devices
):
    _, ids = dead
    _, token = demo_devices["mmwave_radar"]
    admin = as_user("admin")
    page = client.get("/api/v1/iot/dead-letters?limit=3", headers=admin)
    assert page.status_code == 200, page.text
    body = page.json()
    assert [i["id"] for i in body["items"]] == sorted(ids.values(), reverse=True)[:3]
    rest = client.get(
        f"/api/v1/iot/dead-letters?limit=3&before={body['next_before']}", headers=admin
    ).json()
    assert len(rest["items"]) == 1 and rest["next_before"] is None
    poison = next(i for i in body["items"] if i["reason_code"] == "handler_failed")
    assert token not in json.dumps(body)
    assert '"token": "***"' in poison["body_preview"]
    blob = next(i for i in body["items"] if i["size"] == len(BLOB))
    assert blob["truncated"] is True and blob["sha256"] == hashlib.sha256(BLOB).hexdigest()
    # Admins only; an organisation without these devices sees none of them.
    assert client.get("/api/v1/iot/dead-letters", headers=as_user("son")).status_code == 403
    assert client.get("/api/v1/iot/dead-letters?limit=0", headers=admin).status_code == 422
    big = client.get(f"/api/v1/iot/dead-letters?before={2**70}", headers=admin)
    assert big.status_code == 422


def test_replay_after_the_fix_stores_once_and_is_marked(client, as_user, dead, db, demo_devices):
    rule, ids = dead
    radar, _ = demo_devices["mmwave_radar"]
    admin = as_user("admin")
    url = f"/api/v1/iot/dead-letters/{ids['handler_failed']}/replay"
    # Not fixed yet: 409 with the reason, and the row keeps waiting.
    failed = client.post(url, headers=admin)
    assert failed.status_code == 409
    assert "ZeroDivisionError" in failed.json()["message"]
    assert "poison" not in stored_ids(db, radar)

    rule.fixed = True
    done = client.post(url, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["replayed"] is True and done.json()["accepted"] == 1
    assert "poison" in stored_ids(db, radar)
    again = client.post(url, headers=admin)
    assert again.status_code == 409 and "was replayed at" in again.json()["message"]
    with db.session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(Reading).where(Reading.message_id == "poison")
        )
        row = session.get(DeadLetter, ids["handler_failed"])
        assert row is not None and row.replayed_at is not None
        assert row.replay_note == "accepted 1, duplicates 0, rejected 0"
    assert count == 1
    # What is still malformed fails again; what was kept in part cannot be replayed.
    deep = client.post(f"/api/v1/iot/dead-letters/{ids['too_deep']}/replay", headers=admin)
    assert deep.status_code == 409 and "nested 5000 deep" in deep.json()["message"]
    blob = client.post(f"/api/v1/iot/dead-letters/{ids['malformed-blob']}/replay", headers=admin)
    assert blob.status_code == 409 and "cannot be replayed" in blob.json()["message"]
    assert client.post(url, headers=as_user("butler")).status_code == 403
    assert client.post("/api/v1/iot/dead-letters/999999/replay", headers=admin).status_code == 404


def test_http_keeps_refused_payloads_and_a_failing_handler_gets_202(client, demo_devices, db, app):
    from tests.conftest import device_headers

    radar, token = demo_devices["mmwave_radar"]
    bus, rule = poisoned_bus()
    app.state.context.bus = bus
    post = lambda body: client.post(  # noqa: E731
        "/api/v1/telemetry", content=body, headers=device_headers(token)
    )
    assert post(b"[" * 1000 + b"]" * 1000).status_code == 422
    poisoned = post(json.dumps({"message_id": "poison", "values": {"motion": True}}).encode())
    assert poisoned.status_code == 202
    assert (
        post(json.dumps({"message_id": "fine", "values": {"motion": True}}).encode()).json()[
            "accepted"
        ]
        == 1
    )
    rows = letters(db)
    assert [(r.transport, r.reason_code) for r in rows] == [
        ("http", "too_deep"),
        ("http", "handler_failed"),
    ]
    assert poisoned.json()["dead_letter"] == rows[1].id
    assert rows[1].content_type == "application/json"
    rule.fixed = True
    from anxin.iot.replay import replay

    context = app.state.context
    outcome = replay(
        context=context,
        dead_letter_id=rows[1].id,
        organisation_id=rows[1].organisation_id,
    )
    assert outcome.replayed and outcome.accepted == 1
    assert stored_ids(db, radar) == {"fine", "poison"}


def test_dead_letters_are_counted_in_metrics(client, context, demo_devices):
    radar, _ = demo_devices["mmwave_radar"]
    BatchIngestor(context=context, publish=False, transport="metrics-test").process(
        [RawMessage(radar, NESTED)]
    )
    text = client.get("/metrics/").text
    assert 'anxin_dead_letters_total{reason="too_deep",transport="metrics-test"} 1.0' in text


def test_cli_lists_and_replays(database_url, dead, monkeypatch):
    from anxin.cli import app as cli
    from anxin.core.config import get_settings

    _, ids = dead
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = runner.invoke(cli, ["iot", "dead-letters", "list", "--limit", "2"])
        assert listed.exit_code == 0, listed.output
        lines = [json.loads(line) for line in listed.output.splitlines()]
        assert [d.get("id") for d in lines[:2]] == sorted(ids.values(), reverse=True)[:2]
        assert lines[2] == {"next_before": lines[1]["id"]}
        # The CLI has its own bus, without the buggy rule: the poison replays there.
        replayed = runner.invoke(cli, ["iot", "dead-letters", "replay", str(ids["handler_failed"])])
        assert replayed.exit_code == 0, replayed.output
        assert json.loads(replayed.output)["accepted"] == 1
        refused = runner.invoke(cli, ["iot", "dead-letters", "replay", str(ids["too_deep"])])
        assert refused.exit_code == 2
        assert "nested 5000 deep" in refused.output and "Traceback" not in refused.output
        missing = runner.invoke(cli, ["iot", "dead-letters", "replay", "424242"])
        assert missing.exit_code == 2 and "no dead letter 424242" in missing.output
    finally:
        get_settings.cache_clear()
