"""ltc: a claim line's reason codes stored beside its reason text

Revision ID: ltc_0009
Revises: ltc_0008
Create Date: 2026-12-07 17:00:00

`ltc_claim_lines.reason_codes` holds a rejected line's reasons as codes, comma-separated in the
reason's order ("too_short,not_confirmed"; "" on a valuated line); the settlement run writes
them from now on. Lines already stored get theirs from their reason text, read by the rules the
console applied until now (`reason_codes`, kept here as they were): a part "<check>: …" is its
check, the run's own reasons are known by their opening, anything else is "other". The rows are
read and updated by id in batches, the same Python on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0009"
down_revision: str | Sequence[str] | None = "ltc_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The visit checks' codes (anxin.ltc.visits.Check when this was written).
CHECKS = frozenset(
    {
        "not_checked_out", "too_short", "outside_radius", "overlap", "service_not_entitled",
        "no_service", "no_home", "not_confirmed", "no_presence",
    }
)  # fmt: skip
# The reasons the run gives before any visit check, by their opening.
RUN_REASONS = {
    "the beneficiary has no entitlement": "no_entitlement",
    "no entitlement rule": "no_rule",
    "services not on the menu": "not_on_menu",
}
OTHER = "other"
BATCH = 5000

_LINES = sa.table(
    "ltc_claim_lines",
    sa.column("id", sa.BigInteger()),
    sa.column("state", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("reason_codes", sa.String()),
)


def reason_codes(reason: str) -> list[str]:
    """The codes of a rejected line's reason, in its order and once each."""
    codes: list[str] = []
    for part in (p.strip() for p in reason.split(";")):
        if not part:
            continue
        head = part.split(":", 1)[0].strip()
        code = head if head in CHECKS else None
        if code is None:
            code = next((c for start, c in RUN_REASONS.items() if part.startswith(start)), OTHER)
        if code not in codes:
            codes.append(code)
    return codes or [OTHER]


def upgrade() -> None:
    op.add_column(
        "ltc_claim_lines",
        sa.Column("reason_codes", sa.String(length=200), server_default="", nullable=False),
    )
    _backfill(op.get_bind())


def _backfill(bind: sa.Connection) -> None:
    """Codes for every rejected line from its text, `BATCH` lines at a time in id order."""
    lines = _LINES.c
    update = (
        _LINES.update()
        .where(lines.id == sa.bindparam("line_id"))
        .values(reason_codes=sa.bindparam("codes"))
    )
    last = 0
    while True:
        batch = bind.execute(
            sa.select(lines.id, lines.reason)
            .where(lines.state == "REJECTED", lines.id > last)
            .order_by(lines.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        bind.execute(update, [{"line_id": i, "codes": ",".join(reason_codes(r))} for i, r in batch])
        last = batch[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("ltc_claim_lines", schema=None) as batch_op:
        batch_op.drop_column("reason_codes")
