"""The long-term care insurance domain's setup: enrolment, assessment, visits, the fund and
settlement; the console pages; the missed-visit sweep and the "ltc_institution" owner kind
its alarms belong to."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.core.owners import OwnerKind
from anxin.ltc import commands, pages, plan_service, views, worker


def setup() -> Domain:
    return Domain(
        name="ltc",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        commands=[Command("ltc", commands.app)],
        owner_kinds=[
            OwnerKind(
                plan_service.OWNER_KIND,
                plan_service.visible_institution_ids,
                belongs=plan_service.institution_belongs,
            )
        ],
        workers=[worker.build],
    )
