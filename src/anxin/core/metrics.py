"""The ``/metrics`` endpoint shared by every process (Prometheus, the default registry).

Each domain defines its own metrics next to its code (``iot.metrics``, ``alerts.metrics``) in
prometheus-client's default registry; this serves them all. Labels carry no tenant data.
"""

from __future__ import annotations

import hmac
from typing import Any

from prometheus_client import make_asgi_app


def asgi_app(token: str | None = None) -> Any:
    """The ``/metrics`` ASGI app; with a token set, scrapers must send it as a bearer token.

    Metric labels carry no tenant data (closed sets of transport, outcome and reason codes),
    so the endpoint is open by default like /healthz; set ANXIN_METRICS_TOKEN to close it.
    """
    inner = make_asgi_app()
    if not token:
        return inner
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan and websockets: nothing to serve
            return
        headers = dict(scope.get("headers") or [])
        if hmac.compare_digest(headers.get(b"authorization", b""), expected):
            await inner(scope, receive, send)
            return
        start = {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"www-authenticate", b"Bearer")],
        }
        await send(start)
        await send({"type": "http.response.body", "body": b"metrics token required\n"})

    return guarded
