"""iot: readings stored one row per message with its values as JSON, no foreign key

Revision ID: iot_0005
Revises: iot_0004
Create Date: 2026-12-07 03:45:00

The narrow table (one row per metric value) becomes one row per message: `data` holds the
values by key (JSONB on PostgreSQL, JSON text on SQLite) and `device_id` loses its foreign key
(see `iot.models.Reading`). Existing rows are grouped by (device, message id, ts) in one
set-based statement per database; a bool metric, stored narrow as 1.0/0.0, becomes a JSON
bool again by the kind the `device_types` mirror records. On PostgreSQL the partitioned table
is rebuilt with the same partitions (same names and bounds, in `telemetry_partitions`) and the
id sequence is kept, so ids keep growing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "iot_0005"
down_revision: str | Sequence[str] | None = "iot_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONS = "telemetry_partitions"

_PG_WIDE = """
    CREATE TABLE readings (
        id BIGINT NOT NULL DEFAULT nextval('readings_id_seq'),
        device_id VARCHAR(36) NOT NULL,
        ts TIMESTAMP WITH TIME ZONE NOT NULL,
        message_id VARCHAR(128) NOT NULL,
        data JSONB NOT NULL,
        CONSTRAINT pk_readings PRIMARY KEY (id, ts)
    ) PARTITION BY RANGE (ts)
"""
_PG_NARROW = """
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
# Narrow rows grouped into messages; min(id) keeps the order of messages stored at one ts.
_PG_TO_WIDE = """
    INSERT INTO readings (id, device_id, ts, message_id, data)
    SELECT min(r.id), r.device_id, r.ts, r.message_id, jsonb_object_agg(r.key, CASE
        WHEN r.text IS NOT NULL THEN to_jsonb(r.text)
        WHEN r.num IS NULL THEN 'null'::jsonb
        WHEN (dt.metrics::jsonb -> r.key ->> 'kind') = 'bool' THEN to_jsonb(r.num <> 0)
        ELSE to_jsonb(r.num) END)
    FROM readings_old r
    LEFT JOIN devices d ON d.id = r.device_id
    LEFT JOIN device_types dt ON dt.code = d.device_type
    GROUP BY r.device_id, r.ts, r.message_id
"""
_PG_TO_NARROW = """
    INSERT INTO readings (device_id, ts, key, num, text, message_id)
    SELECT r.device_id, r.ts, e.key,
        CASE jsonb_typeof(e.value) WHEN 'number' THEN (e.value #>> '{}')::float8
            WHEN 'boolean' THEN CASE WHEN (e.value #>> '{}')::boolean THEN 1.0 ELSE 0.0 END
        END,
        CASE WHEN jsonb_typeof(e.value) = 'string' THEN e.value #>> '{}' END,
        r.message_id
    FROM readings_old r, jsonb_each(r.data) AS e(key, value)
    ORDER BY r.id, e.key
"""
_SQLITE_TO_WIDE = """
    INSERT INTO readings (id, device_id, ts, message_id, data)
    SELECT min(r.id), r.device_id, r.ts, r.message_id, json_group_object(r.key, CASE
        WHEN r.text IS NOT NULL THEN r.text
        WHEN json_extract(dt.metrics, '$."' || r.key || '".kind') = 'bool'
            THEN json(CASE WHEN r.num <> 0 THEN 'true' ELSE 'false' END)
        ELSE r.num END)
    FROM readings_old r
    LEFT JOIN devices d ON d.id = r.device_id
    LEFT JOIN device_types dt ON dt.code = d.device_type
    GROUP BY r.device_id, r.ts, r.message_id
"""
_SQLITE_TO_NARROW = """
    INSERT INTO readings (device_id, ts, key, num, text, message_id)
    SELECT r.device_id, r.ts, e.key,
        CASE WHEN e.type IN ('integer', 'real') THEN e.value
            WHEN e.type = 'true' THEN 1.0 WHEN e.type = 'false' THEN 0.0 END,
        CASE WHEN e.type = 'text' THEN e.value END,
        r.message_id
    FROM readings_old r, json_each(r.data) AS e
    ORDER BY r.id, e.key
"""


def _pg_rebuild(create: str, convert: str) -> None:
    """Swap PostgreSQL's partitioned `readings` for a new shape, partitions and data kept."""
    bind = op.get_bind()
    children = bind.execute(
        sa.text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE p.relname = 'readings' AND n.nspname = current_schema()"
        )
    ).all()
    op.execute("ALTER TABLE readings RENAME TO readings_old")
    op.execute("ALTER INDEX ix_readings_device_ts RENAME TO ix_readings_old_device_ts")
    op.execute("ALTER TABLE readings_old RENAME CONSTRAINT pk_readings TO pk_readings_old")
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY NONE")
    for name, _ in children:
        op.execute(f"ALTER TABLE {PARTITIONS}.{name} RENAME TO {name}_old")
    op.execute(create)
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
    op.execute("CREATE INDEX ix_readings_device_ts ON readings (device_id, ts, id)")
    for name, bound in children:  # names and bounds come from the catalogue, not from input
        op.execute(f"CREATE TABLE {PARTITIONS}.{name} PARTITION OF readings {bound}")
    if not any(bound == "DEFAULT" for _, bound in children):
        op.execute(f"CREATE TABLE {PARTITIONS}.readings_default PARTITION OF readings DEFAULT")
    op.execute(convert)
    op.execute("DROP TABLE readings_old CASCADE")


def _sqlite_rebuild(columns: list[SchemaItem], convert: str) -> None:
    op.rename_table("readings", "readings_old")
    op.drop_index("ix_readings_device_ts", table_name="readings_old")
    op.create_table("readings", *columns)
    op.create_index("ix_readings_device_ts", "readings", ["device_id", "ts", "id"])
    op.execute(convert)
    op.drop_table("readings_old")


def _sqlite_columns(*shape: SchemaItem) -> list[SchemaItem]:
    """The columns both shapes share, around the ones of `shape`."""
    return [
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        *shape,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_rebuild(_PG_WIDE, _PG_TO_WIDE)
        return
    columns = _sqlite_columns(
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    _sqlite_rebuild(columns, _SQLITE_TO_WIDE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_rebuild(_PG_NARROW, _PG_TO_NARROW)
        return
    columns = _sqlite_columns(
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("num", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_readings_device_id_devices")
        ),
    )
    _sqlite_rebuild(columns, _SQLITE_TO_NARROW)
