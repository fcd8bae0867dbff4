"""collateral: room on each pledges page for its rows' next versions (PostgreSQL fillfactor)

Every price tick rewrites every pledge's status and values. None of those columns is indexed,
so PostgreSQL can keep the new version on the same page without touching the indexes (a HOT
update), but only if the page has room: at the default fillfactor of 100 it has none, and each
of a tick's 12,000 updates wrote four index entries (docs/performance.md, "collateral").
Pages written from now on keep half free; rows already stored move to such pages as they are
updated, so the migration rewrites nothing and takes no long lock. SQLite has no such setting.

Revision ID: collateral_0003
Revises: collateral_0002
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "collateral_0003"
down_revision: str | Sequence[str] | None = "collateral_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 50  # a row and its next version side by side


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE collateral_pledges SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE collateral_pledges RESET (fillfactor)")
