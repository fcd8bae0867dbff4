"""iot: the idempotency claims lose their foreign key to devices

Revision ID: iot_0006
Revises: iot_0005
Create Date: 2026-12-07 21:00:00

Every stored message claims one `ingested_messages` row, as hot as `readings`, which lost its
foreign key in iot_0005 for the same reason: the consumer resolved the device before storing,
and the per-row check (a lookup in the devices' primary key) was about a fifth of a claim's
server time (docs/performance.md). Devices are never deleted, so no claim can be orphaned.
On SQLite the table is copied (batch mode); on PostgreSQL the constraint is dropped in place.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "iot_0006"
down_revision: str | Sequence[str] | None = "iot_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_ingested_messages_device_id_devices"


def upgrade() -> None:
    with op.batch_alter_table("ingested_messages") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("ingested_messages") as batch:
        batch.create_foreign_key(FOREIGN_KEY, "devices", ["device_id"], ["id"])
