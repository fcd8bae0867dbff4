"""Rate limits of the public trace routes (the trace page, scans, code checks, reports, keys).

They take no login, so a script could flood the scan log (and the brand's alarms) or walk
serials: each client gets a token bucket (`anxin.iot.limits.RateLimiter`, the telemetry
route's), shared by all of those routes, and a refusal is a 429 with ``Retry-After``. The
client is the peer address; behind a reverse proxy run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` so the peer is the consumer's, not the proxy's. Buckets are per
serving process, like the telemetry route's, and read the application's clock, so tests move
time by hand.
"""

from __future__ import annotations

from fastapi import Request

from anxin.core.context import AppContext
from anxin.core.errors import RateLimited
from anxin.core.unit import Slot
from anxin.iot.limits import RateLimiter
from anxin.people.deps import ContextDep

# A consumer opens a page, perhaps checks the code and reports a bag: a few requests a minute.
# 30 at once and one every 2 s after that leaves every honest phone alone (even a family
# sharing one NAT address) and slows a serial-walking script to 1,800 an hour.
BURST = 30.0
RATE_PER_S = 0.5
PUBLIC_LIMITER: Slot[RateLimiter] = Slot("trace.public-limiter")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check(request: Request, context: AppContext) -> None:
    """Take one token from the client's bucket, or refuse with when to come back."""
    limiter = context.setdefault(
        PUBLIC_LIMITER, lambda: RateLimiter(rate=RATE_PER_S, burst=BURST, max_keys=100_000)
    )
    now = context.clock.now().timestamp()
    key = client_of(request)
    if not limiter.allow(key, now):
        raise RateLimited(
            f"rate limited: more than {BURST:g} requests and then one every "
            f"{1 / RATE_PER_S:g} s from this client",
            retry_after=limiter.retry_after(key, now),
        )


def public_limit(request: Request, context: ContextDep) -> None:
    """The dependency of the public API routes."""
    check(request, context)
