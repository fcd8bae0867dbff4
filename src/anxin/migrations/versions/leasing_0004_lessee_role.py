"""Lessees get their own role: the lessee's account held the buyer role, which the market
(issue 21) gives to businesses that buy farm lots, so each saw the other's pages.

Revision ID: leasing_0004
Revises: leasing_0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "leasing_0004"
down_revision: str | Sequence[str] | None = "leasing_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The role column stores the enum's member name (a non-native enum).


def upgrade() -> None:
    op.execute(
        "UPDATE users SET role = 'LESSEE' WHERE role = 'BUYER' AND id IN "
        "(SELECT lessee_user_id FROM leasing_contracts WHERE lessee_user_id IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE users SET role = 'BUYER' WHERE role = 'LESSEE' AND id IN "
        "(SELECT lessee_user_id FROM leasing_contracts WHERE lessee_user_id IS NOT NULL)"
    )
