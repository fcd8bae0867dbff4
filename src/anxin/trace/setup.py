"""The trace domain's setup: farms and plots, EPCIS 2.0 capture and query, ledger anchoring."""

from __future__ import annotations

from anxin.core.domain import Domain, Subscription
from anxin.core.owners import OwnerKind
from anxin.trace import flows, views
from anxin.trace.service import CAPTURED, visible_farm_ids

FARM = "farm"


def setup() -> Domain:
    return Domain(
        name="trace",
        routers=[views.router, views.registry],
        owner_kinds=[OwnerKind(FARM, visible_farm_ids)],
        subscriptions=[Subscription(CAPTURED, flows.on_captured)],
    )
