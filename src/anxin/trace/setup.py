"""The trace domain's setup: farms and plots, EPCIS 2.0 capture and query, ledger anchoring."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Domain, Subscription
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.trace import flows, pages, scanning, views
from anxin.trace.models import Farm, Product
from anxin.trace.service import CAPTURED, visible_farm_ids, visible_product_ids


def setup() -> Domain:
    return Domain(
        name="trace",
        routers=[views.router, views.registry],
        pages=[pages.router],
        templates=Path(__file__).parent / "templates",
        labels=pages.LABELS,
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
