"""medicine orders

Revision ID: consult_0005
Revises: consult_0004
Create Date: 2026-12-07 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consult_0005"
down_revision: str | Sequence[str] | None = "consult_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medicine_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("prescription_id", sa.String(length=36), nullable=False),
        sa.Column("consultation_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("ordered_by_user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_medicine_orders_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by_user_id"],
            ["users.id"],
            name=op.f("fk_medicine_orders_ordered_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_medicine_orders_prescription_id_prescriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medicine_orders")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_medicine_orders_booking_id")),
    )
    with op.batch_alter_table("medicine_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_medicine_orders_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_medicine_orders_prescription_id"), ["prescription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("medicine_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_medicine_orders_prescription_id"))
        batch_op.drop_index(batch_op.f("ix_medicine_orders_consultation_id"))

    op.drop_table("medicine_orders")
