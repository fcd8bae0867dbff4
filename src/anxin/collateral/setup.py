"""The collateral domain's setup: warehouses, crane-watched stock, pledges and their alarms,
and the bank's console pages."""

from __future__ import annotations

from anxin.collateral import commands, flows, pages, views
from anxin.collateral.service.common import visible_pledge_ids, visible_warehouse_ids
from anxin.core.domain import Command, Domain, Subscription
from anxin.core.owners import OwnerKind


def setup() -> Domain:
    return Domain(
        name="collateral",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        commands=[Command("collateral", commands.app)],
        owner_kinds=[
            OwnerKind("pledge", visible_pledge_ids, links=pages.pledge_links),
            OwnerKind("warehouse", visible_warehouse_ids),
        ],
        subscriptions=[
            Subscription(subject, flows.on_crane_telemetry) for subject in flows.SUBJECTS
        ],
    )
