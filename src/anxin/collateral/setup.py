"""The collateral domain's setup: warehouses, crane-watched stock, pledges and their alarms."""

from __future__ import annotations

from anxin.collateral import commands, flows, views
from anxin.collateral.service.common import visible_pledge_ids, visible_warehouse_ids
from anxin.core.domain import Command, Domain, Subscription
from anxin.core.owners import OwnerKind


def setup() -> Domain:
    return Domain(
        name="collateral",
        routers=[views.router],
        commands=[Command("collateral", commands.app)],
        owner_kinds=[
            OwnerKind("pledge", visible_pledge_ids),
            OwnerKind("warehouse", visible_warehouse_ids),
        ],
        subscriptions=[
            Subscription(subject, flows.on_crane_telemetry) for subject in flows.SUBJECTS
        ],
    )
