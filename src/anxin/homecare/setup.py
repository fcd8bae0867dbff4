"""The homecare domain's setup: households and elders, care alarms, sleep reports."""

from __future__ import annotations

from anxin.core.domain import Domain, Subscription
from anxin.core.owners import OwnerKind
from anxin.homecare import flows, views
from anxin.homecare.service import visible_household_ids


def setup() -> Domain:
    return Domain(
        name="homecare",
        routers=[views.router],
        owner_kinds=[OwnerKind("household", visible_household_ids, flows.household_context)],
        subscriptions=[Subscription("iot.rule.*", flows.on_rule_event)],
    )
