"""Fixtures of the iot tests."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from anxin.iot.models import IngestedMessage, Reading


@pytest.fixture
def no_seeded_readings(demo: DemoInfo, db: Database) -> None:
    """The demo seeds readings for other domains (the cooperative's weather station and soil
    probe feed its cross-validation); tests that count every stored reading start without
    them, so their counts are about the readings they send."""
    with db.session_scope() as session:
        session.execute(delete(Reading))
        session.execute(delete(IngestedMessage))
        session.commit()
