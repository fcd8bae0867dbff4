"""The trace domain's setup: farms and plots, EPCIS 2.0 capture and query, ledger anchoring."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Domain, NavLink, Subscription
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.trace import console, flows, pages, scanning, views
from anxin.trace.models import Farm, Product
from anxin.trace.service import CAPTURED, visible_farm_ids, visible_product_ids


def setup() -> Domain:
    return Domain(
        name="trace",
        routers=[views.router, views.registry],
        pages=[pages.router, console.router],
        templates=Path(__file__).parent / "templates",
        labels={**pages.LABELS, **console.LABELS},
        nav=[
            NavLink(console.FARM_PAGE, "trace_nav_farm", console.FARMERS),
            NavLink(console.CAPTURE_PAGE, "trace_nav_capture", console.FARMERS),
            NavLink(console.BRAND_PAGE, "trace_nav_brand", console.BRAND),
            NavLink(console.INSURER_PAGE, "trace_nav_insurance", console.INSURERS),
        ],
        owner_kinds=[
            OwnerKind(
                scanning.FARM_KIND,
                visible_farm_ids,
                belongs=rows_of_organisation(Farm.id, Farm.organisation_id),
            ),
            OwnerKind(
                scanning.PRODUCT_KIND,
                visible_product_ids,
                belongs=rows_of_organisation(Product.id, Product.organisation_id),
            ),
        ],
        subscriptions=[Subscription(CAPTURED, flows.on_captured)],
    )
