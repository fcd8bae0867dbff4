"""The services domain's setup: the catalogue, bookings and supervision API, and the pages of
the elder, the family, the butler, the worker and the supervisor."""

from __future__ import annotations

from anxin.core.domain import Domain
from anxin.services import pages, views, worker


def setup() -> Domain:
    return Domain(
        name="services",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels={**views.LABELS, **pages.LABELS},
        nav=pages.NAV,
        workers=[worker.build],
    )
