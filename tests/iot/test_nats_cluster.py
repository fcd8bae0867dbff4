"""JetStream on a 3-node NATS cluster: kill a node and a worker during ingestion; afterwards
every reading is stored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from anxin.iot.localbrokers import Brokers
from anxin.iot.models import IngestedMessage, Reading
from anxin.iot.nats_ingest import ensure_stream, subject_for

pytestmark = pytest.mark.skipif(
    not shutil.which("nats-server"), reason="needs nats-server (scripts/system-deps.sh)"
)

MESSAGES = 300
PER_MESSAGE = 10


def worker(url: str, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ANXIN_DATABASE_URL": database_url,
        "ANXIN_ENVIRONMENT": "test",
        "ANXIN_LOG_LEVEL": "WARNING",
        "ANXIN_TELEMETRY_RATE_PER_S": "100000",
        "ANXIN_TELEMETRY_BURST": "100000",
    }
    anxin = Path(sys.executable).parent / "anxin"
    argv = [str(anxin), "ingest", "nats", "--url", url, "--batch-size", "50"]
    argv += ["--ack-wait", "2", "--replicas", "3"]
    return subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stored(db) -> tuple[int, int]:
    with db.session_scope() as session:
        rows = session.scalar(select(func.count()).select_from(Reading)) or 0
        claims = session.scalar(select(func.count()).select_from(IngestedMessage)) or 0
        return rows, claims


async def publish_all(url: str, devices: list[tuple[str, str]], progress: list[int]) -> int:
    nc = await nats.connect(
        servers=url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    js = nc.jetstream(timeout=2)
    # The stream must exist (and the cluster have elected its leaders) before the first publish.
    await ensure_stream(js, replicas=3)
    retries = 0
    for n in range(MESSAGES):
        device_id, token = devices[n % len(devices)]
        body = json.dumps(
            {
                "token": token,
                "readings": [
                    {"message_id": f"c-{n}-{i}", "values": {"heart_rate": 60 + i}}
                    for i in range(PER_MESSAGE)
                ],
            }
        ).encode()
        for _attempt in range(300):
            try:
                # The same Nats-Msg-Id on a retry: the stream drops the copy.
                await js.publish(subject_for(device_id), body, headers={"Nats-Msg-Id": f"c-{n}"})
                break
            except Exception:
                retries += 1
                await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"message {n} could not be published")
        progress.append(n)
        await asyncio.sleep(0.01)
    await nc.close()
    return retries


@pytest.mark.usefixtures("no_seeded_readings")
def test_cluster_failover_stores_every_reading_exactly_once(
    db, database_url, demo_devices, tmp_path
):
    devices = [demo_devices["mmwave_radar"], demo_devices["sleep_mat"]]
    with Brokers() as brokers:
        nodes = brokers.nats_cluster(3)
        url = ",".join(f"nats://127.0.0.1:{n.ports['client']}" for n in nodes)
        workers = [worker(url, database_url, tmp_path / f"w{i}.log") for i in range(2)]
        try:
            progress: list[int] = []
            result: dict[str, int] = {}
            publisher = threading.Thread(
                target=lambda: result.update(
                    retries=asyncio.run(publish_all(url, devices, progress))
                )
            )
            publisher.start()
            deadline = time.monotonic() + 90
            while len(progress) < MESSAGES // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            while stored(db)[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # ingestion is under way
            workers[0].send_signal(signal.SIGKILL)
            nodes[1].kill()
            at_kill = stored(db)[0]
            publisher.join(60)
            assert len(progress) == MESSAGES
            assert 0 < at_kill < MESSAGES * PER_MESSAGE  # the kills hit a running ingestion
            expected = MESSAGES * PER_MESSAGE
            while stored(db)[0] < expected and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.0)  # let any late redelivery land: it must store nothing
            assert workers[1].poll() is None, (tmp_path / "w1.log").read_text()
            rows, claims = stored(db)
            assert (rows, claims) == (expected, expected), (tmp_path / "w1.log").read_text()
            with db.session_scope() as session:
                distinct = session.execute(
                    select(func.count()).select_from(
                        select(Reading.device_id, Reading.message_id).distinct().subquery()
                    )
                ).scalar()
            assert distinct == expected
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(10)
