import pytest
from sqlalchemy import select

from anxin.core.events import Event, InProcessBus, subject_matches
from anxin.homecare.models import Household
from tests.conftest import START


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("iot.telemetry.sleep_mat", "iot.telemetry.sleep_mat", True),
        ("iot.telemetry.*", "iot.telemetry.sleep_mat", True),
        ("iot.*", "iot.telemetry.sleep_mat", False),
        ("iot.>", "iot.telemetry.sleep_mat", True),
        ("iot.>", "iot", False),
        ("alerts.*", "iot.x", False),
        ("a.b.c", "a.b", False),
    ],
)
def test_nats_style_subject_matching(pattern, subject, expected):
    assert subject_matches(pattern, subject) is expected


def test_handlers_run_in_the_publishers_unit_of_work(context, db, demo):
    bus = InProcessBus()
    seen: list[str] = []

    def rename(uow, event):
        seen.append(event.subject)
        household = uow.session.get(Household, event.payload["household_id"])
        household.name = "renamed by handler"

    def explode(uow, event):
        raise RuntimeError("handler failed")

    bus.subscribe("homecare.*", rename)
    with context.unit(actor="test", bus=bus) as uow:
        bus.publish(uow, Event("homecare.test", {"household_id": demo.household_id}, START))
    with db.session_scope() as session:
        assert session.get(Household, demo.household_id).name == "renamed by handler"

    bus.subscribe("homecare.>", explode)
    with pytest.raises(RuntimeError), context.unit(actor="test", bus=bus) as uow:
        uow.session.get(Household, demo.household_id).name = "never committed"
        bus.publish(uow, Event("homecare.test", {"household_id": demo.household_id}, START))
    with db.session_scope() as session:
        names = session.scalars(select(Household.name)).all()
        assert "never committed" not in names
    assert seen == ["homecare.test", "homecare.test"]


def test_after_commit_actions_wait_for_the_commit_and_drop_on_rollback(context):
    ran: list[str] = []
    with context.unit(actor="test", bus=InProcessBus()) as uow:
        for _ in range(3):
            uow.after_commit(lambda: ran.append("push"), key="push")  # same key: once
        uow.after_commit(lambda: ran.append("relay"))
        assert ran == []  # still inside the transaction
    assert sorted(ran) == ["push", "relay"]

    ran.clear()
    with pytest.raises(RuntimeError), context.unit(actor="test", bus=InProcessBus()) as uow:
        uow.after_commit(lambda: ran.append("never"))
        raise RuntimeError("the unit of work fails")
    assert ran == []
