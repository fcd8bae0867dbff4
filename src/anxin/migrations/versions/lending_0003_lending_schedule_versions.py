"""lending schedule versions

Revision ID: lending_0003
Revises: lending_0002
Create Date: 2026-12-07 08:19:27.727884
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "lending_0003"
down_revision: str | Sequence[str] | None = "lending_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "lending_schedule_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("PREPAYMENT", "RESCHEDULE", name="changekind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "APPLIED", "REJECTED", name="changestatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("replaced", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_lending_schedule_changes_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["lending_loans.id"],
            name=op.f("fk_lending_schedule_changes_loan_id_lending_loans"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_lending_schedule_changes_requested_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lending_schedule_changes")),
        sa.UniqueConstraint(
            "loan_id",
            "idempotency_key",
            name=op.f("uq_lending_schedule_changes_loan_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("lending_schedule_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lending_schedule_changes_loan_id"), ["loan_id"], unique=False
        )

    with op.batch_alter_table("lending_loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("schedule_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("lending_loans", schema=None) as batch_op:
        batch_op.drop_column("schedule_version")

    with op.batch_alter_table("lending_schedule_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lending_schedule_changes_loan_id"))

    op.drop_table("lending_schedule_changes")
