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


def test_handlers_run_in_the_publishers_unit_of_work(db, demo):
    bus = InProcessBus()
    seen: list[str] = []

    def rename(session, event):
        seen.append(event.subject)
        household = session.get(Household, event.payload["household_id"])
        household.name = "renamed by handler"

    def explode(session, event):
        raise RuntimeError("handler failed")

    bus.subscribe("homecare.*", rename)
    with db.session_scope() as session:
        bus.publish(session, Event("homecare.test", {"household_id": demo.household_id}, START))
    with db.session_scope() as session:
        assert session.get(Household, demo.household_id).name == "renamed by handler"

    bus.subscribe("homecare.>", explode)
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.get(Household, demo.household_id).name = "never committed"
        bus.publish(session, Event("homecare.test", {"household_id": demo.household_id}, START))
    with db.session_scope() as session:
        names = session.scalars(select(Household.name)).all()
        assert "never committed" not in names
    assert seen == ["homecare.test", "homecare.test"]
