"""market: dispute resolution (proposals, outcomes), refunds and idempotent payments, RFQ
closing (quote deadline, reason).

Existing payments are the buyer's (kind payment); an existing RFQ takes quotes until its
delivery day. A downgrade drops what 0001 cannot hold: proposals, outcomes, the payment kind
(a refund would come back up as a payment) and the quote deadline.

Revision ID: market_0002
Revises: market_0001
Create Date: 2026-12-07 13:00:49.591886
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "market_0002"
down_revision: str | Sequence[str] | None = "market_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_dispute_proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dispute_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(length=8), nullable=False),
        sa.Column("proposed_by_user", sa.String(length=36), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "reduction", "return", "withdrawn", name="outcome", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("return_kg", sa.Numeric(precision=14, scale=1), nullable=True),
        sa.Column("adjustment", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                "superseded",
                name="proposalstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_market_dispute_proposals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["market_disputes.id"],
            name=op.f("fk_market_dispute_proposals_dispute_id_market_disputes"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_user"],
            ["users.id"],
            name=op.f("fk_market_dispute_proposals_proposed_by_user_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_dispute_proposals")),
        sa.UniqueConstraint(
            "dispute_id", "number", name=op.f("uq_market_dispute_proposals_dispute_id_number")
        ),
    )
    with op.batch_alter_table("market_dispute_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_dispute_proposals_dispute_id"), ["dispute_id"], unique=False
        )

    with op.batch_alter_table("market_disputes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "outcome",
                sa.Enum(
                    "reduction", "return", "withdrawn", name="outcome", native_enum=False, length=16
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("adjustment", sa.Numeric(precision=16, scale=2), nullable=True)
        )
        batch_op.add_column(
            sa.Column("return_kg", sa.Numeric(precision=14, scale=1), nullable=True)
        )
        batch_op.add_column(sa.Column("return_event_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_market_disputes_return_event_id_trace_events"),
            "trace_events",
            ["return_event_id"],
            ["id"],
        )

    with op.batch_alter_table("market_payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("payment", "refund", name="paymentkind", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_market_payments_order_id_idempotency_key"),
            ["order_id", "idempotency_key"],
        )
    op.execute("UPDATE market_payments SET kind = 'payment'")
    with op.batch_alter_table("market_payments", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), nullable=False)

    with op.batch_alter_table("market_rfqs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quotes_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("closed_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_market_rfqs_quotes_by"), ["quotes_by"], unique=False)
    op.execute("UPDATE market_rfqs SET quotes_by = delivery_by")
    with op.batch_alter_table("market_rfqs", schema=None) as batch_op:
        batch_op.alter_column("quotes_by", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("market_rfqs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_rfqs_quotes_by"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("quotes_by")

    with op.batch_alter_table("market_payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_market_payments_order_id_idempotency_key"), type_="unique"
        )
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("kind")

    with op.batch_alter_table("market_disputes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_market_disputes_return_event_id_trace_events"), type_="foreignkey"
        )
        batch_op.drop_column("resolved_on")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("return_event_id")
        batch_op.drop_column("return_kg")
        batch_op.drop_column("adjustment")
        batch_op.drop_column("outcome")

    with op.batch_alter_table("market_dispute_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_dispute_proposals_dispute_id"))

    op.drop_table("market_dispute_proposals")
