"""Time partitions and retention for the readings time series.

PostgreSQL: `readings` is range-partitioned by `ts` (migration iot_0003); `ensure_partitions`
creates the day (or month) partitions ahead of time, moving any rows the DEFAULT partition
already holds for that range, and `apply_retention` drops whole partitions that ended before the
cut-off, then deletes the few older rows left in the boundary and default partitions. SQLite:
no partitions; retention deletes rows. Both also prune idempotency claims and rejections older
than the cut-off (a redelivery older than the retention period would be stored again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from anxin.iot.models import IngestedMessage, Reading, TelemetryRejection

SCHEMA = "telemetry_partitions"
_NAME = re.compile(r"^readings_p(\d{8}|\d{6})$")


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def period_start(moment: datetime, interval: str) -> datetime:
    moment = moment.astimezone(UTC)
    if interval == "month":
        return datetime(moment.year, moment.month, 1, tzinfo=UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def next_period(start: datetime, interval: str) -> datetime:
    if interval == "month":
        return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    return start + timedelta(days=1)


def partition_name(start: datetime, interval: str) -> str:
    return f"readings_p{start:%Y%m}" if interval == "month" else f"readings_p{start:%Y%m%d}"


def bounds_of(name: str) -> tuple[datetime, datetime] | None:
    match = _NAME.match(name)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 6:
        start = datetime(int(digits[:4]), int(digits[4:]), 1, tzinfo=UTC)
        return start, next_period(start, "month")
    start = datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:]), tzinfo=UTC)
    return start, next_period(start, "day")


def list_partitions(session: Session) -> list[str]:
    if not _is_postgres(session):
        return []
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE p.relname = 'readings' AND n.nspname = current_schema() ORDER BY c.relname"
        )
    )
    return [r[0] for r in rows]


PARTITION_LOCK_KEY = 0x616E78696E5054  # "anxinPT": one advisory lock for partition upkeep


def ensure_partitions(
    *, session: Session, now: datetime, ahead: int = 7, interval: str = "day", behind: int = 1
) -> list[str]:
    """Create the partitions from `behind` periods ago to `ahead` periods on; returns new names."""
    if not _is_postgres(session):
        return []
    # Workers start together and each makes sure of the partitions: without this lock two of
    # them race to CREATE the same table and one dies. Held until this transaction ends.
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})
    existing = set(list_partitions(session))
    start = period_start(now, interval)
    for _ in range(behind):
        start = period_start(start - timedelta(days=1), interval)
    created = []
    for _ in range(behind + ahead + 1):
        end = next_period(start, interval)
        name = partition_name(start, interval)
        if name not in existing and not _overlaps(existing, start, end):
            _create_partition(session, name, start, end)
            created.append(name)
        start = end
    return created


def _overlaps(existing: set[str], start: datetime, end: datetime) -> bool:
    for name in existing:
        bounds = bounds_of(name)
        if bounds and bounds[0] < end and start < bounds[1]:
            return True
    return False


def _create_partition(session: Session, name: str, start: datetime, end: datetime) -> None:
    lo, hi = start.isoformat(), end.isoformat()
    # Rows the DEFAULT partition already holds for this range move into the new partition
    # (PostgreSQL refuses to create it otherwise), all in this transaction.
    session.execute(text("CREATE TEMP TABLE _moved (LIKE readings) ON COMMIT DROP"))
    moved = (  # SCHEMA is a constant; the bounds are bound parameters
        f"WITH m AS (DELETE FROM {SCHEMA}.readings_default WHERE ts >= :lo AND ts < :hi "  # noqa: S608
        "RETURNING *) INSERT INTO _moved SELECT * FROM m"
    )
    session.execute(
        text(moved),
        {"lo": start, "hi": end},
    )
    session.execute(
        text(
            f"CREATE TABLE {SCHEMA}.{name} PARTITION OF readings "
            f"FOR VALUES FROM ('{lo}') TO ('{hi}')"
        )
    )
    session.execute(text("INSERT INTO readings SELECT * FROM _moved"))
    session.execute(text("DROP TABLE _moved"))


@dataclass
class RetentionResult:
    cutoff: datetime
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_readings: int = 0
    deleted_claims: int = 0
    deleted_rejections: int = 0


def apply_retention(*, session: Session, now: datetime, days: int) -> RetentionResult:
    """Remove readings (and claims and rejections) older than `days` days."""
    if days < 1:
        raise ValueError("retention must keep at least one day")
    result = RetentionResult(cutoff=now - timedelta(days=days))
    if _is_postgres(session):
        for name in list_partitions(session):
            bounds = bounds_of(name)
            if bounds is not None and bounds[1] <= result.cutoff:
                session.execute(text(f"DROP TABLE {SCHEMA}.{name}"))
                result.dropped_partitions.append(name)
    deleted = session.execute(delete(Reading).where(Reading.ts < result.cutoff))
    result.deleted_readings = int(getattr(deleted, "rowcount", 0) or 0)
    claims = session.execute(
        delete(IngestedMessage).where(IngestedMessage.received_at < result.cutoff)
    )
    result.deleted_claims = int(getattr(claims, "rowcount", 0) or 0)
    rejections = session.execute(
        delete(TelemetryRejection).where(TelemetryRejection.at < result.cutoff)
    )
    result.deleted_rejections = int(getattr(rejections, "rowcount", 0) or 0)
    return result
