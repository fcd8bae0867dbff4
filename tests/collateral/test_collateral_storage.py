"""How pledges are stored: room for each row's next version on PostgreSQL (collateral_0003)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from anxin.collateral.models import PledgeRow
from anxin.core import migrate


def _pledge_storage(db: Any) -> tuple[str, list[str] | None]:
    """The dialect and the pledges table's storage parameters (None where it has none)."""
    with db.engine.connect() as conn:
        dialect = conn.dialect.name
        options = None
        if dialect == "postgresql":
            options = conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'collateral_pledges'")
            )
    db.engine.dispose()
    return dialect, options


def test_pledge_pages_keep_room_for_updates_and_the_change_reverses(database_url, db, demo):
    dialect, options = _pledge_storage(db)
    if dialect == "postgresql":
        assert options == ["fillfactor=50"]
    migrate.downgrade(database_url, "collateral_0002")
    assert _pledge_storage(db)[1] is None
    migrate.upgrade(database_url)
    assert _pledge_storage(db) == (dialect, options)
    with db.session_scope() as session:  # the rows stay where they were
        assert session.scalar(select(PledgeRow.id)) == demo.collateral.pledge_id
