"""iot: device alarm rules and the rule engine's persistent state (timers survive restarts)

Revision ID: iot_0002
Revises: 0001
Create Date: 2026-11-29 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "iot_0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("device_type", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("invalid_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_rules_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["device_type"],
            ["device_types.code"],
            name=op.f("fk_device_rules_device_type_device_types"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_device_rules_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_rules")),
    )
    with op.batch_alter_table("device_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_rules_device_id"), ["device_id"])
        batch_op.create_index("ix_device_rules_org_type", ["organisation_id", "device_type"])

    op.create_table(
        "rule_state",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("rule_name", sa.String(length=80), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_rule_state_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "rule_name", name=op.f("pk_rule_state")),
    )
    with op.batch_alter_table("rule_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_state_due_at"), ["due_at"])


def downgrade() -> None:
    with op.batch_alter_table("rule_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_state_due_at"))
    op.drop_table("rule_state")
    with op.batch_alter_table("device_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_device_rules_org_type")
        batch_op.drop_index(batch_op.f("ix_device_rules_device_id"))
    op.drop_table("device_rules")
