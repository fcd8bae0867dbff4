"""The collateral domain's setup: warehouses, crane-watched stock, pledges and their alarms,
and the bank's console pages."""

from __future__ import annotations

from anxin.collateral import commands, flows, pages, views
from anxin.collateral.models import PledgeRow, Warehouse
from anxin.collateral.service.common import visible_pledge_ids, visible_warehouse_ids
from anxin.core.domain import Command, Domain, Subscription
from anxin.core.owners import OwnerKind, rows_of_organisation


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
            # a pledge's things live in the lender's organisation (see visible_pledge_ids)
            OwnerKind(
                "pledge",
                visible_pledge_ids,
                links=pages.pledge_links,
                belongs=rows_of_organisation(PledgeRow.id, PledgeRow.lender_org_id),
            ),
            OwnerKind(
                "warehouse",
                visible_warehouse_ids,
                belongs=rows_of_organisation(Warehouse.id, Warehouse.organisation_id),
            ),
        ],
        subscriptions=[
            Subscription(subject, flows.on_crane_telemetry) for subject in flows.SUBJECTS
        ],
    )
