"""CPU per telemetry request and per single-reading MQTT message, in process, old code vs new.

Run: .venv/bin/python bench/telemetry_request.py [--quick] [--db sqlite|pg|all]
     [--baseline-rev main] [--profile]
Writes bench/results/telemetry_request.json; docs/performance.md ("Alarm latency", "CPU per
request") explains it.

**State.** A fresh database per `--db` (a SQLite file; a scratch PostgreSQL database when the
local one answers), migrated by `prepare_database`, the demo seeded and `--devices` (2,000)
simulated devices registered — the set-up of `bench/alarm_latency.py` (its `prepare`), so the
rule engine has the demo's rules and households to judge against. Both code versions run
against the same database, one after the other.

**Workload.** *HTTP*: `POST /api/v1/telemetry` with a device's bearer token and a body of 25
readings (2 s apart, ending now, 2–6 values each, the same bodies as alarm_latency's HTTP load:
`batch_body`), round robin over the devices, rules on (the in-process bus), driven straight
into the ASGI app (no socket, no uvicorn: what is left is the server's own work from the first
middleware to the response). *MQTT*: the consumer's unit of work (`BatchIngestor.process`, as
`anxin ingest mqtt` builds it) over batches of `--mqtt-batch` messages of one reading each
(token envelope), rules on, device cache warm. Each measured run starts with a warm-up (the
first requests and batches compile statements and fill caches) that is not counted.

**Measure.** `time.process_time()` (CPU of every thread of the process: the endpoint runs in
the thread pool) over the timed requests or messages, divided by their count; the database
server's own CPU (PostgreSQL) is not in it, SQLite's is (it runs in process).

**Comparison.** The baseline is the source tree at `--baseline-rev` (exported with `git
archive` to a temporary directory); every round runs the baseline and then the working tree,
each in a fresh child process (`PYTHONPATH` pointing at its `src`) on the same database, so
the two see the same load within a minute. The load average is recorded before every child.
The figure reported is each side's median over `--rounds` rounds. `--profile` adds one more run
of the working tree under cProfile (CPU time; endpoint in the loop's thread) whose tables go
into the JSON and whose figures are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

from alarm_latency import (  # bench/alarm_latency.py, beside this script
    PG_DEFAULT,
    _values,
    batch_body,
    create_pg_database,
    drop_pg_database,
    loadavg,
    pg_reachable,
    prepare,
)
from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "telemetry_request.json"
READINGS_PER_REQUEST = 25


# ---------------------------------------------------------------------------------------------
# The child: one code version, one database, timed in process


async def _post(app: Any, body: bytes, token: str) -> int:
    """One request straight into the ASGI app; returns the status code."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/telemetry",
        "raw_path": b"/api/v1/telemetry",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _http(
    app: Any, devices: list[list[str]], requests: int, seed: int, profiler: Profiler
) -> tuple[float, int]:
    """CPU seconds for `requests` 25-reading posts (after as many warm-up posts as there are
    requests / 5, at least 10), and how many answered 200."""
    rnd = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    radars = [d for d in devices if d[2] != "smart_speaker"] or devices

    async def run(count: int, offset: int) -> int:
        ok = 0
        for i in range(count):
            device_id, token, device_type = radars[(offset + i) % len(radars)]
            body = batch_body(
                (device_id, token, device_type), READINGS_PER_REQUEST, f"{tag}{offset + i}", rnd
            )
            ok += await _post(app, body, token) == 200
        return ok

    loop = asyncio.new_event_loop()
    warm = max(10, requests // 5)
    loop.run_until_complete(run(warm, 0))
    with profiler:
        started = time.process_time()
        ok = loop.run_until_complete(run(requests, warm))
        cpu = time.process_time() - started
    loop.close()
    return cpu, ok


def _mqtt(
    context: Any, devices: list[list[str]], messages: int, batch: int, seed: int, profiler: Profiler
) -> tuple[float, int]:
    """CPU seconds for `messages` single-reading messages through the consumer's unit of work
    in batches of `batch` (after one warm-up pass over every device), and how many it stored."""
    from datetime import UTC, datetime

    from anxin.iot.commands import _ingestor
    from anxin.iot.pipeline import RawMessage

    rnd = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    ingestor = _ingestor(context, "bench")
    ts = datetime.now(UTC).timestamp()

    def message(n: int) -> RawMessage:
        device_id, token, device_type = devices[n % len(devices)]
        doc = {
            "token": token,
            "message_id": f"{tag}-{n}",
            "ts": ts,
            "values": _values(device_type, rnd),
        }
        return RawMessage(device_id, json.dumps(doc, separators=(",", ":")).encode())

    warm = [message(n) for n in range(len(devices))]
    for start in range(0, len(warm), batch):
        ingestor.process(warm[start : start + batch])
    timed = [message(len(devices) + n) for n in range(messages)]
    stored = 0
    with profiler:
        started = time.process_time()
        for start in range(0, len(timed), batch):
            stored += ingestor.process(timed[start : start + batch]).accepted
        cpu = time.process_time() - started
    return cpu, stored


def _inline_thread_pool() -> None:
    """cProfile sees only its own thread: when profiling, the endpoint and its dependencies run
    in the event loop's thread instead of anyio's worker threads (the timing runs do not)."""
    import anyio.to_thread

    async def run_sync(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


class Profiler:
    """cProfile around the timed part only (not the warm-up), when asked for."""

    def __init__(self, enabled: bool) -> None:
        # CPU time, not wall time: waits on the database server or the machine do not count.
        self.profile = cProfile.Profile(time.process_time) if enabled else None
        if enabled:
            _inline_thread_pool()

    def __enter__(self) -> None:
        if self.profile is not None:
            self.profile.enable()

    def __exit__(self, *_: object) -> None:
        if self.profile is not None:
            self.profile.disable()

    def table(self, dump: str | None = None) -> str | None:
        if self.profile is None:
            return None
        if dump:
            self.profile.dump_stats(dump)
        out = io.StringIO()
        stats = pstats.Stats(self.profile, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        return out.getvalue()


def child(args: argparse.Namespace) -> None:
    from anxin.app import create_app
    from anxin.core.config import Settings

    devices = json.loads(Path(args.devices_file).read_text())
    settings = Settings(environment="development", database_url=args.url, workers=False)
    app = create_app(settings)
    context = app.state.context
    out: dict[str, Any] = {"load_before": loadavg()}
    profiles: dict[str, str | None] = {}
    http_profiler = Profiler(args.profile)
    cpu, ok = _http(app, devices, args.requests, args.seed, http_profiler)
    dump = args.pstats_prefix
    profiles["http"] = http_profiler.table(f"{dump}.http.pstats" if dump else None)
    out["http"] = {
        "requests": args.requests,
        "ok": ok,
        "cpu_us_per_request": round(cpu / args.requests * 1e6, 1),
        "cpu_us_per_reading": round(cpu / (args.requests * READINGS_PER_REQUEST) * 1e6, 1),
    }
    mqtt_profiler = Profiler(args.profile)
    cpu, stored = _mqtt(context, devices, args.messages, args.mqtt_batch, args.seed, mqtt_profiler)
    profiles["mqtt"] = mqtt_profiler.table(f"{dump}.mqtt.pstats" if dump else None)
    out["mqtt_single"] = {
        "messages": args.messages,
        "stored": stored,
        "cpu_us_per_message": round(cpu / args.messages * 1e6, 1),
    }
    out["load_after"] = loadavg()
    if args.profile:
        out["profiles"] = profiles
    context.db.dispose()
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# The parent: databases, versions, rounds


def export_tree(rev: str, into: Path) -> Path:
    """The `src` of `rev` as plain files (git archive), for the baseline's children."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def run_child(
    src: Path, url: str, devices_file: Path, args: argparse.Namespace, seed: int, profile: bool
) -> dict[str, Any]:
    argv = [
        sys.executable,
        __file__,
        "--child",
        "--url",
        url,
        "--devices-file",
        str(devices_file),
        "--requests",
        str(args.requests),
        "--messages",
        str(args.messages),
        "--mqtt-batch",
        str(args.mqtt_batch),
        "--seed",
        str(seed),
    ]
    if profile:
        argv.append("--profile")
        if args.pstats_prefix:
            argv += ["--pstats-prefix", f"{args.pstats_prefix}.{Path(url).name[:12]}"]
    env = {**os.environ, "PYTHONPATH": str(src), "ANXIN_LOG_LEVEL": "WARNING"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({src}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def med(side: str, phase: str, key: str) -> float:
        return round(median(r[phase][key] for r in runs[side]), 1)

    summary: dict[str, Any] = {}
    if not runs["baseline"] or not runs["current"]:
        return summary
    for phase, key in (("http", "cpu_us_per_request"), ("mqtt_single", "cpu_us_per_message")):
        before, after = med("baseline", phase, key), med("current", phase, key)
        summary[phase] = {
            f"baseline_{key}": before,
            f"current_{key}": after,
            "ratio": round(after / before, 3) if before else None,
        }
    return summary


def bench_db(
    kind: str, args: argparse.Namespace, baseline_src: Path, workdir: Path
) -> dict[str, Any]:
    drop = None
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        url, name = create_pg_database(os.environ.get("ANXIN_BENCH_PG_URL", PG_DEFAULT))
        drop = name
    try:
        prepared = prepare(url, workdir, args.devices)
        devices_file = workdir / f"devices-{kind}.json"
        devices_file.write_text(json.dumps(prepared["devices"]))
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "current": []}
        current_src = ROOT / "src"
        for round_ in range(args.rounds):
            for side, src in (("baseline", baseline_src), ("current", current_src)):
                if side not in args.sides:
                    continue
                result = run_child(src, url, devices_file, args, seed=round_, profile=False)
                result["round"] = round_
                runs[side].append(result)
                http, mqtt = result["http"], result["mqtt_single"]
                print(
                    f"{kind} {side} round {round_}: {http['cpu_us_per_request']} µs/request,"
                    f" {mqtt['cpu_us_per_message']} µs/message, load {result['load_before']}",
                    flush=True,
                )
        out = {"url_kind": kind, "runs": runs, "summary": compare(runs)}
        if args.profile:  # a run of its own: the profiler's overhead stays out of the figures
            profiled = run_child(current_src, url, devices_file, args, seed=-1, profile=True)
            out["profiles"] = profiled["profiles"]
        return out
    finally:
        if drop:
            drop_pg_database(os.environ.get("ANXIN_BENCH_PG_URL", PG_DEFAULT), drop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--devices-file", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--pstats-prefix", help="with --profile: also dump raw pstats files")
    parser.add_argument("--quick", action="store_true", help="fewer requests, messages, rounds")
    parser.add_argument("--db", choices=["sqlite", "pg", "all"], default="all")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--mqtt-batch", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-rev", default="main")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--sides", nargs="+", choices=["baseline", "current"], default=["baseline", "current"]
    )
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.requests, args.messages, args.rounds = 60, 1000, 2
    kinds = ["sqlite", "pg"] if args.db == "all" else [args.db]
    if "pg" in kinds and not pg_reachable(os.environ.get("ANXIN_BENCH_PG_URL", PG_DEFAULT)):
        kinds.remove("pg")
    started = time.time()
    result: dict[str, Any] = {
        "benchmark": "telemetry_request",
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": sys.version.split()[0]},
        "workload": {
            "devices": args.devices,
            "readings_per_request": READINGS_PER_REQUEST,
            "requests": args.requests,
            "single_reading_messages": args.messages,
            "mqtt_batch": args.mqtt_batch,
            "rounds": args.rounds,
            "baseline_rev": args.baseline_rev,
        },
        "load_start": loadavg(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="anxin-telemetry-request-") as tmp:
        baseline_src = export_tree(args.baseline_rev, Path(tmp))
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            result["runs"][kind] = bench_db(kind, args, baseline_src, workdir)
    result["load_end"] = loadavg()
    result["seconds"] = round(time.time() - started, 1)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v["summary"] for k, v in result["runs"].items()}, indent=2))


if __name__ == "__main__":
    main()
