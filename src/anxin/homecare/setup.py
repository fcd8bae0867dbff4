"""The homecare domain's setup: households and elders, care alarms, sleep reports, and the
elder card and family pages."""

from __future__ import annotations

from anxin.core.domain import Domain, Preparation, Subscription
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.homecare import flows, pages, views
from anxin.homecare.models import Household
from anxin.homecare.service import visible_household_ids


def setup() -> Domain:
    return Domain(
        name="homecare",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        owner_kinds=[
            OwnerKind(
                "household",
                visible_household_ids,
                flows.household_context,
                pages.household_links,
                belongs=rows_of_organisation(Household.id, Household.organisation_id),
            )
        ],
        # A batch of rule events raises its alarms together (the preparer); an event published
        # alone goes through the handler.
        preparers=[Preparation("iot.rule.*", flows.RULE_EVENTS.prepare)],
        subscriptions=[Subscription("iot.rule.*", flows.RULE_EVENTS.handle)],
    )
