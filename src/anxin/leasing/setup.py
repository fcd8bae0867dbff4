"""The leasing domain's setup: finance leases of watched equipment."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Command, Domain, NavLink, Preparation, Subscription
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.core.security import Role
from anxin.leasing import commands, flows, pages, quote_pages, service, views, worker
from anxin.leasing.models import LeaseContract


def setup() -> Domain:
    return Domain(
        name="leasing",
        routers=[views.router],
        pages=[pages.router, quote_pages.router],
        templates=Path(__file__).parent / "templates",
        labels={**pages.LABELS, **quote_pages.LABELS},
        nav=[
            NavLink("/leasing", "leasing_contracts", service.LESSOR_ROLES),
            NavLink("/leasing/quote", "leasing_quote", service.LESSOR_ROLES),
            # the lessee's account; the page lists only leases naming that account
            NavLink("/leasing/statement", "leasing_statement", frozenset({Role.LESSEE})),
        ],
        commands=[Command("leasing", commands.app)],
        owner_kinds=[
            OwnerKind(
                flows.OWNER_KIND,
                service.visible_contract_ids,
                links=service.contract_links,
                belongs=rows_of_organisation(LeaseContract.id, LeaseContract.organisation_id),
            ),
            OwnerKind(flows.ASSET_KIND, service.visible_asset_ids, belongs=service.asset_belongs),
        ],
        subscriptions=[
            Subscription(flows.TELEMETRY, flows.on_machine_telemetry),
            Subscription("iot.rule.device_offline", flows.RULE_EVENTS.handle),
        ],
        # A sweep's silent trackers raise their alarms together (`flows.RULE_EVENTS`).
        preparers=[Preparation("iot.rule.device_offline", flows.RULE_EVENTS.prepare)],
        workers=[worker.build],
    )
