"""Several serving processes on one database: one leads and runs the workers, any may ingest.

`anxin serve --workers N` runs N of these processes. Two real processes here share the test's
database (SQLite file or PostgreSQL): exactly one runs the background workers (the rule
sweeper among them); a fall sent to one and retried through the other raises one alarm with
one set of first-step notifications. A follower asks again every few seconds and takes over
once the leader has released (or lost) the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from anxin.alerts.models import Alarm, Notification
from anxin.core.config import Settings
from anxin.core.leader import LeaderElection, Leadership

from ..conftest import TEST_SECRET

CHILD = Path(__file__).with_name("leader_child.py")


class Server:
    def __init__(self, database_url: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), database_url, TEST_SECRET],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.started = self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the serving process ended (exit {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def test_one_of_two_processes_runs_the_workers_and_a_fall_raises_one_alarm(
    database_url, demo, demo_devices, db
):
    radar, token = demo_devices["mmwave_radar"]
    db.engine.dispose()
    first = Server(database_url)
    second = Server(database_url)
    try:
        leaders = [s for s in (first, second) if s.started["leading"]]
        assert len(leaders) == 1
        leader, follower = leaders[0], (second if leaders[0] is first else first)
        assert "rule-sweeper" in leader.started["workers"]
        assert follower.started["workers"] == []  # no sweeper, no escalation engine here

        fall = {
            "message_id": "fall-1",
            "ts": datetime.now(UTC).isoformat(),
            "values": {"fall": True, "presence": True, "motion": False},
        }
        sent = follower.ask(op="post", body=fall, token=token)
        retried = leader.ask(op="post", body=fall, token=token)  # the gateway's retry
        assert sent["status"] == retried["status"] == 200, (sent, retried)
        with db.session_scope() as session:
            alarms = list(session.scalars(select(Alarm).where(Alarm.source_id == radar)))
            assert [(a.alarm_type, a.count) for a in alarms] == [("fall", 1)]
            sent_first = session.scalar(
                select(func.count()).where(Notification.alarm_id == alarms[0].id)
            )
            assert sent_first == 6  # the homecare_fall policy's first step, once

        leader.stop()  # stops its workers, then gives up leadership (see the test below)
        assert leader.process.returncode == 0
    finally:
        first.stop()
        second.stop()


def test_leadership_is_released_for_the_next_process(settings: Settings):
    one, two = Leadership(settings), Leadership(settings)
    assert one.try_acquire()
    assert not two.try_acquire()
    led: list[str] = []
    election = LeaderElection(two, lambda: led.append("two"), retry_s=3600)
    election.start()  # not yet: it waits (its thread asks again later)
    assert led == [] and not election.leading
    election.stop()
    one.release()
    assert two.try_acquire()
    two.release()
