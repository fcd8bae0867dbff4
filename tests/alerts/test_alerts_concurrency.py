"""Two units of work raising the same alarm at the same moment make one alarm, counted twice."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from anxin.alerts import service
from anxin.alerts.models import Alarm, Escalation, Severity
from anxin.core.events import InProcessBus

from .conftest import demo_recipients, quiet_unit


def _raise(uow, demo, clock):
    return service.raise_alarm(
        uow=uow,
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
        recipients=demo_recipients(uow.session, demo),
        now=clock.now(),
    )


def test_concurrent_raises_become_one_alarm(context, db, demo, clock):
    first = context.new_unit(actor="test:first", bus=InProcessBus())
    try:
        alarm_a = _raise(first, demo, clock)  # flushed, not committed: holds the unique key
        result: dict[str, object] = {}

        def second() -> None:
            try:
                with quiet_unit(context, actor="test:second") as uow:
                    result["id"] = _raise(uow, demo, clock).id
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
        first.session.close()
    with db.session_scope() as session:
        alarm = session.scalar(select(Alarm).where(Alarm.source_id == "radar-race"))
        assert alarm is not None and alarm.count == 2
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
