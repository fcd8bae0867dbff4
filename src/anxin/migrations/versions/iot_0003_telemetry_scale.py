"""iot: event outbox (JetStream bus) and, on PostgreSQL, readings partitioned by time

Revision ID: iot_0003
Revises: iot_0002
Create Date: 2026-11-29 12:45:00

On PostgreSQL `readings` becomes a range-partitioned table (by `ts`) whose partitions live in
the schema `telemetry_partitions`: a DEFAULT partition catches anything outside the partitions
that `anxin iot partitions` creates ahead (see `iot.retention`). Keeping the children in their
own schema keeps them out of the model comparison (Alembic inspects the default schema only),
so tests/test_migrations.py compares the parent with the model as before. The primary key
becomes (id, ts), as PostgreSQL requires the partition key in it. SQLite keeps the plain table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "iot_0003"
down_revision: str | Sequence[str] | None = "iot_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = "telemetry_partitions"


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_outbox_event_id")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITIONS}")
    op.execute("ALTER TABLE readings RENAME TO readings_plain")
    op.execute("ALTER INDEX ix_readings_device_ts RENAME TO ix_readings_plain_device_ts")
    op.execute("ALTER TABLE readings_plain RENAME CONSTRAINT pk_readings TO pk_readings_plain")
    op.execute(
        "ALTER TABLE readings_plain RENAME CONSTRAINT fk_readings_device_id_devices "
        "TO fk_readings_plain_device_id_devices"
    )
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY NONE")
    op.execute(
        """
        CREATE TABLE readings (
            id BIGINT NOT NULL DEFAULT nextval('readings_id_seq'),
            device_id VARCHAR(36) NOT NULL,
            ts TIMESTAMP WITH TIME ZONE NOT NULL,
            key VARCHAR(40) NOT NULL,
            num FLOAT,
            text TEXT,
            message_id VARCHAR(128) NOT NULL,
            CONSTRAINT pk_readings PRIMARY KEY (id, ts),
            CONSTRAINT fk_readings_device_id_devices FOREIGN KEY (device_id)
                REFERENCES devices (id)
        ) PARTITION BY RANGE (ts)
        """
    )
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
    op.execute("CREATE INDEX ix_readings_device_ts ON readings (device_id, ts, id)")
    op.execute(f"CREATE TABLE {PARTITIONS}.readings_default PARTITION OF readings DEFAULT")
    op.execute("INSERT INTO readings SELECT * FROM readings_plain")
    op.execute("DROP TABLE readings_plain")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE readings RENAME TO readings_partitioned")
        op.execute("ALTER INDEX ix_readings_device_ts RENAME TO ix_readings_partitioned_dts")
        op.execute(
            "ALTER TABLE readings_partitioned RENAME CONSTRAINT pk_readings TO pk_readings_part"
        )
        op.execute(
            "ALTER TABLE readings_partitioned RENAME CONSTRAINT fk_readings_device_id_devices "
            "TO fk_readings_part_device_id_devices"
        )
        op.execute("ALTER SEQUENCE readings_id_seq OWNED BY NONE")
        op.execute(
            """
            CREATE TABLE readings (
                id BIGINT NOT NULL DEFAULT nextval('readings_id_seq'),
                device_id VARCHAR(36) NOT NULL,
                ts TIMESTAMP WITH TIME ZONE NOT NULL,
                key VARCHAR(40) NOT NULL,
                num FLOAT,
                text TEXT,
                message_id VARCHAR(128) NOT NULL,
                CONSTRAINT pk_readings PRIMARY KEY (id),
                CONSTRAINT fk_readings_device_id_devices FOREIGN KEY (device_id)
                    REFERENCES devices (id)
            )
            """
        )
        op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
        op.execute("CREATE INDEX ix_readings_device_ts ON readings (device_id, ts, id)")
        op.execute("INSERT INTO readings SELECT * FROM readings_partitioned")
        op.execute("DROP TABLE readings_partitioned CASCADE")
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITIONS} CASCADE")
    op.drop_table("event_outbox")
