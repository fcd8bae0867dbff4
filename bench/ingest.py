"""Telemetry ingestion benchmark: end to end per transport and database, against the broker ceiling.

    .venv/bin/python bench/ingest.py            # full run (a few minutes)
    .venv/bin/python bench/ingest.py --quick    # small sizes, a smoke test

For SQLite (a file, WAL) and PostgreSQL 15 (local, if reachable), each with 100,000 registered
sleep mats (one organisation):

* **HTTP batch**: `anxin serve` (uvicorn, one process) takes POST /api/v1/telemetry with 100
  readings per request from 4 client threads, each request one device's batch.
* **MQTT via Mosquitto** and **MQTT via NATS** (NATS server's MQTT listener, JetStream-backed
  sessions): a publisher process sends QoS 1 messages on `anxin/devices/{id}/telemetry`; one
  `anxin ingest mqtt` consumer stores them (batches of up to 2,000 messages, ack after commit).
  Two workloads: *batched* (100 readings per message) and *single* (1 reading per message).
* End to end = from the first publish until the last reading is committed (the database is
  polled), with the rule engine evaluating every telemetry event in the same unit of work (it
  is wired in by the same `create_app` the web process uses).
* **Broker ceiling**: the same publisher and messages against the same broker, with a plain
  paho subscriber that only counts (QoS 1, no anxin): anxin's share = anxin rate / ceiling.
* **Memory per 100,000 devices**: RSS growth of a consumer's device cache and rate-limit
  buckets holding all 100,000 devices.
* **Profile**: cProfile of the consumer's unit of work on single-reading batches, grouped into
  decode/validate, storage statements, rules, commit.

A reading is one metric value (`heart_rate`) with its own message id. Results go to
bench/results/ingest.json; docs/performance.md has the table.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pickle
import platform
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"
ANXIN = str(Path(sys.executable).parent / "anxin")
DEVICES = 100_000
READINGS_PER_BATCH = 100


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- roles (subprocesses)


def role_publish(port: int, payload_file: str, inflight: int) -> None:
    """Publish every (topic, body) of the file with QoS 1 as fast as the window allows."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    with open(payload_file, "rb") as fh:
        messages: list[tuple[str, bytes]] = pickle.load(fh)  # noqa: S301 - our own temp file
    done = threading.Event()
    acked = [0]

    def on_publish(*_: Any) -> None:
        acked[0] += 1
        if acked[0] == len(messages):
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    started = time.time()
    for topic, body in messages:
        client.publish(topic, body, qos=1)
    done.wait(600)
    print(json.dumps({"started": started, "acked_at": time.time(), "acked": acked[0]}), flush=True)
    client.loop_stop()
    client.disconnect()


def role_subscribe(port: int, count: int, topic: str) -> None:
    """A plain counting subscriber: the broker's own ceiling, no anxin."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got = [0, 0.0, 0.0]
    done = threading.Event()
    ready = threading.Event()

    def on_message(*_: Any) -> None:
        now = time.time()
        if got[0] == 0:
            got[1] = now
        got[0] += 1
        got[2] = now
        if got[0] >= count:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{uuid.uuid4().hex[:6]}")
    client.on_message = on_message
    client.on_subscribe = lambda *_: ready.set()
    client.connect("127.0.0.1", port, keepalive=60)
    client.subscribe(topic, qos=1)
    client.loop_start()
    ready.wait(10)
    print("READY", flush=True)
    done.wait(120)
    print(json.dumps({"received": got[0], "first": got[1], "last": got[2]}), flush=True)
    client.loop_stop()


# --------------------------------------------------------------------------- setup


def make_database(kind: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    name = f"anxin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def pg_available() -> bool:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def register_devices(url: str, count: int) -> list[tuple[str, str]]:
    """Bulk-register `count` sleep mats; returns (device id, token)."""
    from sqlalchemy import insert

    from anxin.bootstrap import prepare_database
    from anxin.core.config import Settings
    from anxin.core.security import hash_device_token
    from anxin.domains import build_context
    from anxin.iot.models import Device
    from anxin.people import service as people
    from anxin.people.models import OrganisationKind

    settings = Settings(database_url=url, environment="test")
    prepare_database(settings)
    context = build_context(settings)
    devices = [(str(uuid.uuid4()), f"bench-token-{i:07d}-{uuid.uuid4().hex}") for i in range(count)]
    with context.unit(actor="bench") as uow:
        session = uow.session
        now = uow.now()
        org = people.create_organisation(
            session=session, name="Bench Care", kind=OrganisationKind("care_provider"), now=now
        )
        rows = [
            {
                "id": device_id,
                "organisation_id": org.id,
                "device_type": "sleep_mat",
                "name": f"mat {i}",
                "serial": None,
                "owner_kind": "household",
                "owner_id": f"bench-household-{i // 2}",
                "token_hash": hash_device_token(token),
                "attributes": {},
                "created_at": now,
                "last_seen_at": None,
                "online": False,
                "rejected_count": 0,
            }
            for i, (device_id, token) in enumerate(devices)
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Device.__table__), rows[start : start + 10_000])
    context.db.dispose()
    return devices


def payloads(
    devices: list[tuple[str, str]], *, tag: str, messages: int, per_message: int
) -> list[tuple[str, bytes]]:
    """`messages` MQTT messages spread over all devices, `per_message` readings each."""
    ts = int(time.time()) - 3600
    out = []
    for n in range(messages):
        device_id, token = devices[n % len(devices)]
        if per_message == 1:
            doc: dict[str, Any] = {
                "token": token,
                "message_id": f"{tag}-{n}",
                "ts": ts,
                "values": {"heart_rate": 60 + n % 40},
            }
        else:
            doc = {
                "token": token,
                "readings": [
                    {
                        "message_id": f"{tag}-{n}-{i}",
                        "ts": ts + i,
                        "values": {"heart_rate": 60 + i % 40},
                    }
                    for i in range(per_message)
                ],
            }
        out.append((f"anxin/devices/{device_id}/telemetry", json.dumps(doc).encode()))
    return out


class NewReadings:
    """Counts the readings stored since it was made, incrementally over the primary key: one
    connection, and each poll reads only the rows added since the last. (Until 2026-12-07 the
    poll opened a connection and counted the whole table ten times a second, a load on the
    database that grew with the table while the consumer wrote into it.) Correct with one
    consumer, whose units commit in id order."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        self.engine = create_engine(url)
        self.conn = self.engine.connect()
        self.last = int(
            self.conn.execute(text("SELECT coalesce(max(id), 0) FROM readings")).scalar() or 0
        )
        self.conn.commit()
        self.count = 0

    def poll(self) -> int:
        from sqlalchemy import text

        n, top = self.conn.execute(
            text("SELECT count(*), max(id) FROM readings WHERE id > :last"), {"last": self.last}
        ).one()
        self.conn.commit()  # a fresh snapshot next time
        if n:
            self.count += int(n)
            self.last = int(top)
        return self.count

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def env_for(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ANXIN_DATABASE_URL": url,
        "ANXIN_ENVIRONMENT": "development",
        "ANXIN_WORKERS": "false",
        "ANXIN_LOG_LEVEL": "INFO",
        "ANXIN_TELEMETRY_RATE_PER_S": "1000000",
        "ANXIN_TELEMETRY_BURST": "1000000",
        "ANXIN_INGEST_BATCH_SIZE": "2000",
        "ANXIN_INGEST_DEVICE_CACHE_S": "3600",
    }


def wait_for_count(counter: NewReadings, target: int, timeout: float) -> tuple[int, float]:
    """Poll until `target` new readings are stored; returns (count, time it was reached)."""
    deadline = time.time() + timeout
    stored = counter.poll()
    while stored < target and time.time() < deadline:
        time.sleep(0.05)
        stored = counter.poll()
    return stored, time.time()


def wait_for_log(path: Path, needle: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{needle!r} not in {path}: {path.read_text(errors='replace')[-2000:]}")


# --------------------------------------------------------------------------- scenarios


def run_mqtt(
    url: str,
    port: int,
    group: str,
    payload_file: Path,
    messages: int,
    per_message: int,
    workdir: Path,
    timeout: float,
    rules: bool,
) -> dict[str, Any]:
    consumer_log = workdir / f"consumer-{uuid.uuid4().hex[:6]}.log"
    consumer = subprocess.Popen(
        [ANXIN, "ingest", "mqtt", "--url", f"mqtt://127.0.0.1:{port}", "--group", group]
        + ([] if rules else ["--no-bus"]),
        env=env_for(url),
        stdout=consumer_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_log(consumer_log, "mqtt connected")
        time.sleep(0.5)
        counter = NewReadings(url)
        publisher = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--role",
                "publish",
                "--port",
                str(port),
                "--file",
                str(payload_file),
            ],
            stdout=subprocess.PIPE,
        )
        target = messages * per_message
        try:
            readings, reached = wait_for_count(counter, target, timeout)
        finally:
            counter.close()
        out, _ = publisher.communicate(timeout=60)
        pub = json.loads(out.decode().strip().splitlines()[-1])
        elapsed = reached - pub["started"]
        return {
            "messages": messages,
            "readings_per_message": per_message,
            "readings_stored": readings,
            "complete": readings >= target,
            "seconds": round(elapsed, 2),
            "readings_per_s": round(readings / elapsed),
            "messages_per_s": round(readings / per_message / elapsed),
            "publisher_seconds": round(pub["acked_at"] - pub["started"], 2),
        }
    finally:
        consumer.terminate()
        consumer.wait(30)


def run_ceiling(port: int, payload_file: Path, messages: int, topic: str) -> dict[str, Any]:
    subscriber = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--role",
            "subscribe",
            "--port",
            str(port),
            "--count",
            str(messages),
            "--topic",
            topic,
        ],
        stdout=subprocess.PIPE,
    )
    assert subscriber.stdout is not None
    assert subscriber.stdout.readline().strip() == b"READY"
    publisher = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--role",
            "publish",
            "--port",
            str(port),
            "--file",
            str(payload_file),
        ],
        stdout=subprocess.PIPE,
    )
    out, _ = publisher.communicate(timeout=180)
    pub = json.loads(out.decode().strip().splitlines()[-1])
    rest, _ = subscriber.communicate(timeout=180)
    sub = json.loads(rest.decode().strip().splitlines()[-1])
    elapsed = sub["last"] - pub["started"]
    return {
        "messages": messages,
        "received": sub["received"],
        "seconds": round(elapsed, 2),
        "messages_per_s": round(sub["received"] / elapsed),
    }


def run_http(
    url: str, devices: list[tuple[str, str]], requests: int, workdir: Path, timeout: float
) -> dict[str, Any]:
    import httpx

    from anxin.iot.localbrokers import free_port, wait_for_port

    port = free_port()
    server_log = workdir / "serve.log"
    env = env_for(url) | {"ANXIN_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [ANXIN, "serve", "--port", str(port)],
        env=env,
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, 30)
        bodies = payloads(
            devices,
            tag=f"http{uuid.uuid4().hex[:4]}",
            messages=requests,
            per_message=READINGS_PER_BATCH,
        )
        tokens = {d: t for d, t in devices}
        work = [(tokens[topic.split("/")[2]], body) for topic, body in bodies]
        counter = NewReadings(url)
        errors = [0]

        def client(items: list[tuple[str, bytes]]) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for token, body in items:
                    doc = json.loads(body)
                    doc.pop("token")
                    response = http.post(
                        "/api/v1/telemetry",
                        content=json.dumps(doc).encode(),
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                    if response.status_code != 200:
                        errors[0] += 1

        threads = [threading.Thread(target=client, args=(work[i::4],)) for i in range(4)]
        started = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        # Every request has been answered (committed): one poll counts them all.
        try:
            readings, reached = wait_for_count(counter, requests * READINGS_PER_BATCH, 5)
        finally:
            counter.close()
        elapsed = reached - started
        return {
            "requests": requests,
            "readings_per_request": READINGS_PER_BATCH,
            "readings_stored": readings,
            "errors": errors[0],
            "seconds": round(elapsed, 2),
            "readings_per_s": round(readings / elapsed),
        }
    finally:
        server.terminate()
        server.wait(30)


def memory_per_100k(url: str) -> dict[str, Any]:
    import gc

    from anxin.core.db import Database
    from anxin.iot.limits import RateLimiter
    from anxin.iot.models import Device
    from anxin.iot.pipeline import DeviceCache

    db = Database(url)
    with db.sessions() as session:
        ids = list(session.scalars(Device.__table__.select().with_only_columns(Device.id)))
    gc.collect()
    before = rss_mb()
    cache = DeviceCache(db, ttl_s=3600)
    cache.load(ids, time.monotonic())
    cached = rss_mb()
    limiter = RateLimiter(rate=10, burst=100)
    for device_id in ids:
        limiter.allow(device_id, 0.0)
    limited = rss_mb()
    db.dispose()
    scale = 100_000 / max(len(ids), 1)
    return {
        "devices": len(ids),
        "device_cache_mb_per_100k": round((cached - before) * scale, 1),
        "rate_limit_buckets_mb_per_100k": round((limited - cached) * scale, 1),
        "total_mb_per_100k": round((limited - before) * scale, 1),
    }


def profile_single(
    url: str, devices: list[tuple[str, str]], *, rules: bool, batches: int = 5, size: int = 2000
) -> dict[str, Any]:
    """cProfile of the consumer's unit of work on single-reading messages."""
    from anxin.app import create_app
    from anxin.core import heap
    from anxin.core.config import Settings
    from anxin.iot.pipeline import BatchIngestor, DeviceCache, RawMessage

    settings = Settings(database_url=url, environment="test")
    context = create_app(settings).state.context
    ingestor = BatchIngestor(
        context=context,
        transport="bench",
        publish=rules,
        cache=DeviceCache(context.db, ttl_s=3600),
    )
    msgs = payloads(
        devices, tag=f"prof{uuid.uuid4().hex[:4]}", messages=batches * size, per_message=1
    )
    raw = [RawMessage(topic.split("/")[2], body) for topic, body in msgs]
    ingestor.process(raw[:size])  # warm the cache
    heap.settle()  # as `anxin ingest` does before its first unit (full GC passes skip startup)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for b in range(1, batches):
        ingestor.process(raw[b * size : (b + 1) * size])
    profiler.disable()
    elapsed = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    table: dict[str, float] = {}
    entries = stats.stats  # type: ignore[attr-defined]
    groups = {
        "decode and validate (json, token, parse_document)": (
            "pipeline.py:_check",
            "pipeline.py:_check",
        ),
        "claim idempotency rows": ("service.py:_claim_many",),
        "write readings (COPY / executemany)": ("service.py:_write_readings",),
        "latest values upsert": ("service.py:_upsert_latest_many",),
        "devices last seen": ("service.py:_mark_seen",),
        "rules and event handlers (bus.publish_many)": ("events.py:publish_many",),
        # Session.commit wraps SessionTransaction.commit (same file and name): the outer one's
        # cumulative time includes the inner's, so the group takes the largest, not the sum.
        # It includes the ORM's flush of the rule states the handlers changed.
        "commit (with the flush of rule states)": ("session.py:commit",),
    }
    for label, names in groups.items():
        matched = [
            ct
            for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in entries.items()
            if f"{Path(filename).name}:{func}" in names
        ]
        total = max(matched) if label.startswith("commit") and matched else sum(matched)
        table[label] = round(total / elapsed * 100, 1)
    context.db.dispose()
    per_msg_us = elapsed / ((batches - 1) * size) * 1e6
    return {
        "messages": (batches - 1) * size,
        "us_per_message": round(per_msg_us, 1),
        "share_of_time_pct": table,
    }


# --------------------------------------------------------------------------- main

FIRST_CONTACT = "_first_contact"


def _phases(
    sizes: dict[str, tuple[int, int]], broker: str, mode: str
) -> list[tuple[str, tuple[int, int]]]:
    """The phases of one broker and mode, in order. The first single-reading phase with rules
    (Mosquitto's) reaches its devices for the first time: each message's device gets its rule
    states written (two rows), once in the device's life. It runs as `single_first_contact`;
    then `single` sends the same devices their next message, the steady state a running fleet
    is in (until 2026-12-08 `single` on Mosquitto was the first contact and on NATS the
    steady state, which is why NATS looked 1.7x faster there)."""
    phases = list(sizes.items())
    if mode == "rules" and broker == "mosquitto":
        phases.insert(1, ("single" + FIRST_CONTACT, sizes["single"]))
    return phases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--role", choices=["publish", "subscribe"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--file")
    parser.add_argument("--count", type=int)
    parser.add_argument("--topic", default="anxin/devices/+/telemetry")
    parser.add_argument("--inflight", type=int, default=1000)
    args = parser.parse_args()
    if args.role == "publish":
        role_publish(args.port, args.file, args.inflight)
        return
    if args.role == "subscribe":
        role_subscribe(args.port, args.count, args.topic)
        return

    from anxin.iot.localbrokers import Brokers

    quick = args.quick
    devices_n = 2_000 if quick else DEVICES
    # (messages, readings per message) per mode. Every full phase is sustained (tens of
    # seconds), not a burst: the rules phases were 100 and 1,500 messages until 2026-12-07,
    # about a second each, so a cold start (the consumer's first device lookups, the rule
    # engine's first plans) weighed in them.
    counts = {
        "rules": {
            "batched": (20 if quick else 3_000, READINGS_PER_BATCH),
            "single": (300 if quick else 40_000, 1),
        },
        "storage": {
            "batched": (200 if quick else 2_000, READINGS_PER_BATCH),
            "single": (2_000 if quick else 20_000, 1),
        },
    }
    http_requests = 50 if quick else 300
    timeout = 30 if quick else 240
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "2 shared cores: publisher, broker, consumer and database all run on them",
        },
        "workload": {
            "devices": devices_n,
            "device_type": "sleep_mat",
            "reading": "one metric value (heart_rate) with its own message id",
            "batched_readings_per_message": READINGS_PER_BATCH,
            "qos": 1,
            "modes": {
                "rules": "end to end: stored, latest values, event, rule engine evaluated",
                "storage": "consumer with --no-bus: stored and latest values, no events or rules",
            },
        },
        "runs": {},
    }
    kinds = ["sqlite"] + (["postgresql"] if pg_available() else [])
    started = time.time()
    ceiling_files: dict[str, tuple[Path, int]] = {}
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp, Brokers() as brokers:
        workdir = Path(tmp)
        mosquitto = brokers.mosquitto(max_inflight=1000)
        nats = brokers.nats(max_ack_pending=1000)
        ports = {"mosquitto": mosquitto.ports["mqtt"], "nats": nats.ports["mqtt"]}
        groups = {"mosquitto": "anxin", "nats": ""}
        for kind in kinds:
            url, drop = make_database(kind, workdir)
            try:
                log(f"{kind}: registering {devices_n} devices")
                t0 = time.time()
                devices = register_devices(url, devices_n)
                run: dict[str, Any] = {"register_seconds": round(time.time() - t0, 1)}
                results["runs"][kind] = run
                run["memory"] = memory_per_100k(url)
                log(f"{kind}: memory {run['memory']}")
                log(f"{kind}: HTTP batch")
                run["http_batch_rules"] = run_http(url, devices, http_requests, workdir, timeout)
                log(f"{kind}: {run['http_batch_rules']}")
                for broker in ("mosquitto", "nats"):
                    for mode, sizes in counts.items():
                        for label, (messages, per) in _phases(sizes, broker, mode):
                            size = label.removesuffix(FIRST_CONTACT)
                            path = workdir / f"{kind}-{broker}-{mode}-{label}.pkl"
                            tag = f"{kind}-{broker}-{mode}-{label}"
                            msgs = payloads(devices, tag=tag, messages=messages, per_message=per)
                            results["workload"][f"{size}_message_bytes"] = round(
                                sum(len(b) for _, b in msgs[:100]) / min(100, len(msgs))
                            )
                            with path.open("wb") as fh:
                                pickle.dump(msgs, fh)
                            if mode == "storage":
                                ceiling_files[size] = (path, messages)
                            log(f"{kind}: MQTT via {broker}, {mode}, {label}")
                            result = run_mqtt(
                                url,
                                ports[broker],
                                groups[broker],
                                path,
                                messages,
                                per,
                                workdir,
                                timeout,
                                rules=mode == "rules",
                            )
                            run[f"mqtt_{broker}_{mode}_{label}"] = result
                            log(f"{kind}: {result}")
                for rules in (True, False):
                    key = "profile_single_" + ("rules" if rules else "storage")
                    run[key] = profile_single(url, devices, rules=rules, batches=3 if quick else 4)
                    log(f"{kind}: {key} {run[key]}")
            finally:
                drop()
        # The brokers' own ceiling with the same messages, no anxin.
        ceilings: dict[str, Any] = {}
        for broker in ("mosquitto", "nats"):
            for label, (path, messages) in ceiling_files.items():
                log(f"ceiling: {broker} {label}")
                ceilings[f"{broker}_{label}"] = run_ceiling(
                    ports[broker], path, messages, "anxin/devices/+/telemetry"
                )
                log(f"ceiling: {ceilings[f'{broker}_{label}']}")
        results["broker_ceiling"] = ceilings
    for run in results["runs"].values():
        shares = {}
        for broker in ("mosquitto", "nats"):
            for mode in counts:
                for label in ("batched", "single", "single" + FIRST_CONTACT):
                    anxin = run.get(f"mqtt_{broker}_{mode}_{label}", {}).get("messages_per_s")
                    size = label.removesuffix(FIRST_CONTACT)
                    ceiling = (
                        results["broker_ceiling"].get(f"{broker}_{size}", {}).get("messages_per_s")
                    )
                    if anxin and ceiling:
                        shares[f"{broker}_{mode}_{label}"] = round(anxin / ceiling, 3)
        run["share_of_broker_ceiling"] = shares
    results["total_seconds"] = round(time.time() - started, 1)
    results["quick"] = quick
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if not quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
