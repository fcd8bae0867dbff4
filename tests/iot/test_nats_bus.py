"""The JetStream bus: outbox in the publisher's transaction, relay after commit, consumers in
their own unit of work; telemetry events from ingestion flow through it."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from datetime import timedelta

import nats
import pytest
from sqlalchemy import func, select

from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.events import Event, InProcessBus
from anxin.core.nats_bus import JetStreamBus, ensure_events_stream
from anxin.core.outbox import EventOutbox
from anxin.iot.localbrokers import Brokers
from anxin.iot.pipeline import BatchIngestor, RawMessage
from tests.conftest import START, make_settings

pytestmark = pytest.mark.skipif(not shutil.which("nats-server"), reason="needs nats-server")


@pytest.fixture(scope="module")
def nats_url():
    with Brokers() as brokers:
        server = brokers.nats(mqtt=False)
        yield f"nats://127.0.0.1:{server.ports['client']}"


def outbox_rows(db) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(EventOutbox)) or 0)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_bus_url_selects_the_bus(database_url):
    assert isinstance(AppContext.build(make_settings(database_url)).bus, InProcessBus)
    nats_bus = AppContext.build(make_settings(database_url, bus_url="nats://127.0.0.1:4222")).bus
    assert isinstance(nats_bus, JetStreamBus)
    assert isinstance(Settings().bus_url, str)


def on_jetstream(context: AppContext, bus: JetStreamBus) -> AppContext:
    """A context on the same database and clock whose bus is `bus`, with no domain wired: the
    test's own subscriptions are the only ones."""
    return AppContext(settings=context.settings, db=context.db, clock=context.clock, bus=bus)


def test_outbox_relay_and_consumer(nats_url, context, db, demo_devices):
    bus = JetStreamBus(nats_url, db)
    jetstream = on_jetstream(context, bus)
    seen: list[tuple[str, dict]] = []
    bus.subscribe("iot.telemetry.*", lambda uow, event: seen.append((event.subject, event.payload)))

    # Rolled back: nothing is written, nothing is relayed.
    with pytest.raises(RuntimeError), jetstream.unit(actor="test:rollback") as uow:
        bus.publish(uow, Event("iot.test.rollback", {"n": 0}, START))
        raise RuntimeError("abort")
    assert outbox_rows(db) == 0

    # Ingestion publishes telemetry events through the bus; they are relayed after commit.
    radar, token = demo_devices["mmwave_radar"]
    ingestor = BatchIngestor(context=jetstream, transport="nats-bus-test")
    body = json.dumps({"token": token, "message_id": "e-1", "values": {"fall": True}}).encode()
    assert ingestor.process([RawMessage(radar, body)]).accepted == 1
    wait_until(lambda: bus.relayed >= 1 and outbox_rows(db) == 0)

    stop = threading.Event()
    consumer = threading.Thread(
        target=lambda: asyncio.run(bus.run_consumer(stop, jetstream.unit)), daemon=True
    )
    consumer.start()
    try:
        wait_until(lambda: len(seen) >= 1)
    finally:
        stop.set()
        consumer.join(10)
        bus.stop()
    subject, payload = seen[0]
    assert subject == "iot.telemetry.mmwave_radar"
    assert payload["device_id"] == radar
    assert payload["readings"][0]["values"] == {"fall": True}


def test_relayed_twice_is_stored_once(nats_url, context, db):
    """A relay that dies after publishing but before deleting publishes again: JetStream drops
    the copy by Nats-Msg-Id."""
    bus = JetStreamBus(nats_url, db)
    bus.stop()  # no background relay: this test relays by hand
    jetstream = on_jetstream(context, bus)
    with jetstream.unit(actor="test:relay") as uow:
        bus.publish(uow, Event("iot.test.dedup", {"n": 1}, START, id="fixed-event-id-1"))

    async def relay_twice() -> int:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await ensure_events_stream(js)  # on its own, no earlier test has made the stream
        sent = await bus.relay_once(js)
        with jetstream.unit(actor="test:relay") as uow:  # as if the delete had been lost
            bus.publish(
                uow,
                Event(
                    "iot.test.dedup", {"n": 1}, START + timedelta(seconds=1), id="fixed-event-id-1"
                ),
            )
        sent += await bus.relay_once(js)
        info = await js.stream_info("ANXIN_EVENTS")
        sub = await js.pull_subscribe("anxin.events.iot.test.dedup", durable="dedup-check")
        msgs = await sub.fetch(10, timeout=1)
        await nc.close()
        assert sent == 2 and info.state.messages >= 1
        return len(msgs)

    assert run_in_thread(relay_twice) == 1


def run_in_thread(coroutine_function):
    """asyncio.run on a fresh thread: the main thread may already run a loop (other plugins)."""
    out: dict[str, object] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


@pytest.mark.usefixtures("no_seeded_readings")
def test_mqtt_devices_into_the_stream_and_a_worker(context, db, demo_devices):
    """Devices speak MQTT to NATS's MQTT listener; the traffic lands in ANXIN_TELEMETRY and an
    `anxin ingest nats` worker stores it (and acks after commit: nothing left pending)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from sqlalchemy import func, select

    from anxin.iot.models import Reading
    from anxin.iot.nats_ingest import NatsWorker, ensure_stream

    radar, token = demo_devices["mmwave_radar"]
    with Brokers() as brokers:
        server = brokers.nats(mqtt=True)
        url = f"nats://127.0.0.1:{server.ports['client']}"

        async def create() -> None:
            nc = await nats.connect(url)
            await ensure_stream(nc.jetstream())
            await nc.close()

        run_in_thread(create)
        device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="radar-1")
        device.connect("127.0.0.1", server.ports["mqtt"])
        device.loop_start()
        for i in range(5):
            body = json.dumps({"token": token, "message_id": f"n-{i}", "values": {"motion": True}})
            device.publish(f"anxin/devices/{radar}/telemetry", body, qos=1).wait_for_publish(15)
        device.loop_stop()
        device.disconnect()

        ingestor = BatchIngestor(context=context, transport="nats-test", publish=False)
        worker = NatsWorker(url=url, ingestor=ingestor, batch_size=10)
        stop = threading.Event()
        thread = threading.Thread(target=lambda: asyncio.run(worker.run(stop)), daemon=True)
        thread.start()

        def stored() -> int:
            with db.session_scope() as session:
                return int(session.scalar(select(func.count()).select_from(Reading)) or 0)

        try:
            wait_until(lambda: stored() == 5)
        finally:
            stop.set()
            thread.join(10)
        assert worker.stats.accepted == 5 and worker.stats.messages == 5


def test_poison_messages_do_not_stop_a_nats_worker(nats_url, db, context, demo_devices):
    """The same four poison cases published into ANXIN_TELEMETRY: the worker acks them into
    the dead letters and stores the good message after each."""
    from anxin.iot.nats_ingest import NatsWorker, ensure_stream, publish_json
    from tests.iot.test_dead_letters import (
        each_poison_kept_each_good_stored,
        poison_and_good,
        poisoned_bus,
    )

    radar, token = demo_devices["mmwave_radar"]

    async def publish_all() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await ensure_stream(js)
        for n, message in enumerate(poison_and_good(radar, token)):
            await publish_json(js, radar, message.body, f"poison-{n}")
        await nc.close()

    run_in_thread(publish_all)
    bus, _ = poisoned_bus()
    ingestor = BatchIngestor(context=on_jetstream(context, bus), transport="nats")
    worker = NatsWorker(url=nats_url, ingestor=ingestor, durable="poison-test", batch_size=50)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(worker.run(stop)), daemon=True)
    thread.start()
    try:
        wait_until(lambda: worker.stats.messages >= 8)
    finally:
        stop.set()
        thread.join(10)
    each_poison_kept_each_good_stored(db, radar)


def test_event_workers_dead_letter_what_they_cannot_handle(nats_url, db, context):
    """`anxin ingest events`: an undecodable message and an event whose handler raises are
    kept and acknowledged; the event after them is handled; the fixed handler replays."""
    from anxin.iot.dead_letters import event_sink
    from anxin.iot.models import DeadLetter
    from anxin.iot.replay import replay

    bus = JetStreamBus(nats_url, db)
    jetstream = on_jetstream(context, bus)
    bus.dead_letters = event_sink(jetstream)
    seen: list[int] = []
    broken = {"yes": True}

    def handler(_uow, event):
        if event.payload["n"] == 1 and broken["yes"]:
            raise KeyError("a field the handler assumed")
        seen.append(event.payload["n"])

    bus.subscribe("iot.poison.*", handler)

    async def publish_garbage() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        from anxin.core.nats_bus import ensure_events_stream

        await ensure_events_stream(js)
        await js.publish("anxin.events.iot.poison.x", b"[" * 5000)
        await nc.close()

    run_in_thread(publish_garbage)
    for n in (1, 2):
        with jetstream.unit(actor="test:publisher") as uow:
            bus.publish(uow, Event("iot.poison.x", {"n": n}, START))
    stop = threading.Event()
    consumer = threading.Thread(
        target=lambda: asyncio.run(bus.run_consumer(stop, jetstream.unit, durable="poison-events")),
        daemon=True,
    )
    consumer.start()
    try:
        wait_until(lambda: 2 in seen)
        with db.session_scope() as session:
            wait_until(lambda: session.scalar(select(func.count()).select_from(DeadLetter)) == 2)
    finally:
        stop.set()
        consumer.join(10)
        bus.stop()
    with db.session_scope() as session:
        rows = list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))
        codes = [(r.transport, r.reason_code) for r in rows]
        failed = next(r.id for r in rows if r.reason_code == "handler_failed")
    assert sorted(codes) == [("events", "handler_failed"), ("events", "malformed")]
    broken["yes"] = False
    outcome = replay(context=jetstream, dead_letter_id=failed, organisation_id=None)
    assert outcome.replayed and seen == [2, 1]
