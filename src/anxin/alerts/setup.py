"""The alerts domain's setup: alarms, escalation and notifications, their console pages, and
the engine's worker."""

from __future__ import annotations

from anxin.alerts import pages, views, worker
from anxin.core.domain import Domain


def setup() -> Domain:
    return Domain(
        name="alerts",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        workers=[worker.build],
    )
