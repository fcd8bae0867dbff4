"""The market domain's setup: listings, requests for quotes, orders and forecasts; the
"market_order" owner kind that the dispute alarm names; the sweep that closes requests for
quotes at their deadline."""

from __future__ import annotations

from anxin.core.domain import Domain
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.market import commands, pages, service, views, worker
from anxin.market.models import Order


def setup() -> Domain:
    return Domain(
        name="market",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        commands=[commands.COMMAND],
        workers=[worker.build],
        owner_kinds=[
            OwnerKind(
                service.ORDER_KIND,
                service.visible_order_ids,
                belongs=rows_of_organisation(Order.id, Order.seller_organisation_id),
            )
        ],
    )
