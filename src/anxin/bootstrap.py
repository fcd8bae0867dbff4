"""Bring a database to the current schema and reference data. Safe to run again."""

from __future__ import annotations

from anxin.core import migrate
from anxin.core.config import Settings
from anxin.core.db import Database
from anxin.iot import service as iot


def prepare_database(settings: Settings) -> None:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    db = Database.from_settings(settings)
    try:
        with db.session_scope() as session:
            iot.sync_device_types(session=session)
    finally:
        db.dispose()
