"""The trace domain's setup: farms and plots, EPCIS 2.0 capture and query, ledger anchoring."""

from __future__ import annotations

from anxin.core.domain import Domain, Subscription
from anxin.core.owners import OwnerKind
from anxin.trace import flows, scanning, views
from anxin.trace.service import CAPTURED, visible_farm_ids, visible_product_ids


def setup() -> Domain:
    return Domain(
        name="trace",
        routers=[views.router, views.registry],
        owner_kinds=[
            OwnerKind(scanning.FARM_KIND, visible_farm_ids),
            OwnerKind(scanning.PRODUCT_KIND, visible_product_ids),
        ],
        subscriptions=[Subscription(CAPTURED, flows.on_captured)],
    )
