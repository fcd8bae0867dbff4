"""The lending domain's setup: small-business loan applications, the scorecard and decisions."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Command, Domain, NavLink
from anxin.core.owners import OwnerKind, rows_of_organisation
from anxin.core.security import Role
from anxin.lending import borrower_pages, commands, loan_views, pages, service, views
from anxin.lending.models import Application


def setup() -> Domain:
    return Domain(
        name="lending",
        routers=[views.router, loan_views.router],
        pages=[pages.router, borrower_pages.router],
        templates=Path(__file__).parent / "templates",
        labels={**pages.LABELS, **borrower_pages.LABELS},
        nav=[
            NavLink("/lending", "lending_queue", pages.OFFICERS),
            NavLink("/lending/my", "lending_my_loan", borrower_pages.BORROWERS),
            NavLink(
                "/lending/portfolio",
                "lending_portfolio",
                frozenset({Role.RISK_OFFICER, Role.ADMIN}),
            ),
        ],
        commands=[Command("lending", commands.app)],
        owner_kinds=[
            OwnerKind(
                service.OWNER_KIND,
                service.visible_application_ids,
                belongs=rows_of_organisation(Application.id, Application.organisation_id),
            )
        ],
    )
