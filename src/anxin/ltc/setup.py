"""The long-term care insurance domain's setup: enrolment, assessment, visits, the fund and
settlement; the missed-visit sweep; the "ltc_institution" owner kind its alarms belong to."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.core.owners import OwnerKind
from anxin.ltc import commands, plan_service, views, worker


def setup() -> Domain:
    return Domain(
        name="ltc",
        routers=[views.router],
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
