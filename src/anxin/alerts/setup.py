"""The alerts domain's setup: alarms, escalation and notifications, and the engine's worker."""

from __future__ import annotations

from anxin.alerts import views, worker
from anxin.core.domain import Domain


def setup() -> Domain:
    return Domain(name="alerts", routers=[views.router], workers=[worker.build])
