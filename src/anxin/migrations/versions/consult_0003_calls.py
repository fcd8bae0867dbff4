"""consultation calls

Revision ID: consult_0003
Revises: consult_0002
Create Date: 2026-12-07 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consult_0003"
down_revision: str | Sequence[str] | None = "consult_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultation_calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("text", "voice", "video", name="mode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "ringing",
                "active",
                "ended",
                "missed",
                name="callstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("caller_user_id", sa.String(length=36), nullable=False),
        sa.Column("answered_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("ended_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_user_id"],
            ["users.id"],
            name=op.f("fk_consultation_calls_answered_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["caller_user_id"],
            ["users.id"],
            name=op.f("fk_consultation_calls_caller_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_calls_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_user_id"],
            ["users.id"],
            name=op.f("fk_consultation_calls_ended_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_calls")),
    )
    with op.batch_alter_table("consultation_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_calls_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consultation_calls_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consultation_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_calls_status"))
        batch_op.drop_index(batch_op.f("ix_consultation_calls_consultation_id"))

    op.drop_table("consultation_calls")
