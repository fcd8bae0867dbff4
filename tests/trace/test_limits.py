"""The public trace routes are rate limited per client: a token bucket shared by the page, the
scan, code check, report and key routes; a refusal is a 429 with Retry-After, the bucket
refills with time, and another client is not affected."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.iot.limits import RateLimiter
from anxin.trace import limits

BURST = int(limits.BURST)
WAIT = round(1 / limits.RATE_PER_S)  # seconds until one token is back


def _verify(client: Any) -> Any:
    return client.post("/api/v1/trace/codes/verify", json={"link": "https://x.example/01/1"})


def test_a_client_over_its_bucket_gets_429_with_retry_after_until_it_refills(
    client: Any, app: Any, clock: FrozenClock, demo: Any
) -> None:
    for _ in range(BURST):
        assert _verify(client).status_code != 429
    refused = _verify(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(WAIT)
    assert refused.json()["error"] == "rate_limited"
    # The bucket is per client and shared by every public route: the page and the scan
    # route refuse this client too (the page as a page), another client is served.
    page = client.get(f"/01/{demo.trace.gtin}/10/{demo.trace.lot}/21/{demo.trace.serial}")
    assert page.status_code == 429 and page.headers["Retry-After"] == str(WAIT)
    assert "text/html" in page.headers["content-type"]
    scan = client.post(
        "/api/v1/trace/scans", json={"gtin": demo.trace.gtin, "serial": demo.trace.serial}
    )
    assert scan.status_code == 429
    with TestClient(app, client=("203.0.113.9", 4000)) as other:
        opened = other.get(f"/01/{demo.trace.gtin}/10/{demo.trace.lot}/21/{demo.trace.serial}")
        assert opened.status_code == 200
    # After Retry-After seconds one request goes through, and the next waits again.
    clock.advance(WAIT - 1)
    assert _verify(client).status_code == 429
    clock.advance(1)
    assert _verify(client).status_code != 429
    assert _verify(client).status_code == 429


def test_retry_after_is_the_time_to_the_next_token() -> None:
    limiter = RateLimiter(rate=0.5, burst=2)
    assert limiter.retry_after("a", 0.0) == 0.0  # never seen: a full bucket
    assert limiter.allow("a", 0.0) and limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.retry_after("a", 0.0) == 2.0
    assert limiter.retry_after("a", 1.5) == 0.5
    assert limiter.retry_after("a", 9.0) == 0.0
