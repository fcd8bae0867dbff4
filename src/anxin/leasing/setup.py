"""The leasing domain's setup: finance leases of watched equipment."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Domain, NavLink
from anxin.leasing import pages, service, views


def setup() -> Domain:
    return Domain(
        name="leasing",
        routers=[views.router],
        pages=[pages.router],
        templates=Path(__file__).parent / "templates",
        labels=pages.LABELS,
        nav=[NavLink("/leasing", "leasing_contracts", service.LESSOR_ROLES)],
    )
