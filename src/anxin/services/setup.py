"""The services domain's setup: the catalogue API (bookings and supervision grow here)."""

from __future__ import annotations

from anxin.core.domain import Domain
from anxin.services import views


def setup() -> Domain:
    return Domain(name="services", routers=[views.router], labels=views.LABELS)
