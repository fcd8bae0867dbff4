"""Back-pressure: per-device token buckets and payload size checks, with readable reasons.

Pure and in-memory: each consumer process keeps its own buckets (a device's traffic is spread over
the consumers of a shared subscription or a pull-consumer group, so the effective limit is at
most ``consumers x rate``; see docs/telemetry.md). Times are seconds from any monotonic source,
passed in by the caller, so tests need no sleeping.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from anxin.core.unit import Slot


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key (a device id): ``rate`` tokens a second, at most ``burst`` saved.

    At most ``max_keys`` buckets are remembered (least recently used are forgotten, which only
    ever gives a forgotten device a fresh, full bucket), so memory stays bounded under a flood of
    made-up device ids.
    """

    def __init__(self, *, rate: float, burst: float, max_keys: int = 1_000_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str, now: float, cost: float = 1.0) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return True
        return False

    def retry_after(self, key: str, now: float, cost: float = 1.0) -> float:
        """Seconds until ``key``'s bucket holds ``cost`` tokens again (0 if it does now)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = min(self.burst, bucket.tokens + max(0.0, now - bucket.updated) * self.rate)
        return max(0.0, (cost - tokens) / self.rate)

    def reason(self) -> str:
        return (
            f"rate limited: more than {self.rate:g} messages/s from this device "
            f"(burst {self.burst:g})"
        )

    def __len__(self) -> int:
        return len(self._buckets)


def size_problem(size: int, limit: int) -> str | None:
    """The rejection reason for a payload of ``size`` bytes, or None if it fits."""
    if size > limit:
        return f"payload too large: {size} bytes over the limit of {limit}"
    return None


# The HTTP telemetry route's buckets, one set per serving process (`AppContext.setdefault`).
TELEMETRY_LIMITER: Slot[RateLimiter] = Slot("iot.telemetry-limiter")
