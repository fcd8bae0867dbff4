"""iot: dead letters, the transport messages that could not be processed, kept for replay

Revision ID: iot_0004
Revises: iot_0003
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "iot_0004"
down_revision: str | Sequence[str] | None = "iot_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("claimed_device", sa.String(length=200), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("organisation_id", sa.String(length=36), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replay_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_dead_letters_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_dead_letters_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index("ix_dead_letters_org_id", "dead_letters", ["organisation_id", "id"])
    op.create_index("ix_dead_letters_sha256", "dead_letters", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_dead_letters_sha256", table_name="dead_letters")
    op.drop_index("ix_dead_letters_org_id", table_name="dead_letters")
    op.drop_table("dead_letters")
