"""One injectable clock. Everything stored is UTC-aware; pages convert for display."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock tests move by hand; thread-safe because servers read it from worker threads."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(moment)


def ensure_utc(moment: datetime) -> datetime:
    """Refuse naive datetimes: a time without a zone is a bug waiting to happen."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: a timezone is required")
    return moment.astimezone(UTC)


def to_local(moment: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    return ensure_utc(moment).astimezone(tz)


def format_local(moment: datetime | None, tz: ZoneInfo = SHANGHAI) -> str:
    if moment is None:
        return "—"
    return to_local(moment, tz).strftime("%Y-%m-%d %H:%M:%S")
