"""Two units of work raising the same alarm at the same moment make one alarm, counted twice."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from anxin.alerts import service
from anxin.alerts.models import Alarm, Escalation, Severity

from .conftest import demo_recipients


def _raise(session, demo, clock):
    return service.raise_alarm(
        session=session,
        organisation_id=demo.organisation_id,
        owner_kind="household",
        owner_id=demo.household_id,
        source_kind="device",
        source_id="radar-race",
        alarm_type="fall",
        severity=Severity.CRITICAL,
        title="fall",
        details={},
        policy="homecare_fall",
        recipients=demo_recipients(session, demo),
        now=clock.now(),
        bus=None,
    )


def test_concurrent_raises_become_one_alarm(db, demo, clock):
    first = db.sessions()
    try:
        alarm_a = _raise(first, demo, clock)  # flushed, not committed: holds the unique key
        result: dict[str, object] = {}

        def second() -> None:
            try:
                with db.session_scope() as session:
                    result["id"] = _raise(session, demo, clock).id
            except Exception as exc:  # pragma: no cover - reported below
                result["error"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # the second writer waits on the first
        first.commit()
        thread.join(30)
        assert "error" not in result, result
        assert result["id"] == alarm_a.id
    finally:
        first.close()
    with db.session_scope() as session:
        alarm = session.scalar(select(Alarm).where(Alarm.source_id == "radar-race"))
        assert alarm is not None and alarm.count == 2
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
