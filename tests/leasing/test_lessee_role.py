"""Lessees hold their own role: the migration moves existing lessees off the buyer role, which
the market gives to businesses that buy farm lots, and leaves those buyers alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from anxin.core import migrate
from anxin.core.db import Database


def _roles(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, role FROM users WHERE username IN ('machinery', 'buyer')")
        )
        return {name: role for name, role in rows}


def test_the_migration_gives_lessees_their_role_and_leaves_market_buyers(
    database_url: str, db: Database, demo: Any
) -> None:
    assert _roles(db) == {"machinery": "LESSEE", "buyer": "BUYER"}
    db.engine.dispose()
    migrate.downgrade(database_url, "leasing_0003")
    db.engine.dispose()
    assert _roles(db) == {"machinery": "BUYER", "buyer": "BUYER"}
    migrate.upgrade(database_url)
    db.engine.dispose()
    assert _roles(db) == {"machinery": "LESSEE", "buyer": "BUYER"}
