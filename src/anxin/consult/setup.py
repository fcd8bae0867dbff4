"""The consult domain's setup: consultation API, pages, and the "consultation" owner kind that
lets the live hub tell a consultation's viewers (and only them) that its thread changed."""

from __future__ import annotations

from anxin.consult import pages, views, worker
from anxin.consult.models import Consultation
from anxin.consult.service import visible_consultation_ids
from anxin.core.domain import Domain
from anxin.core.owners import OwnerKind, rows_of_organisation


def setup() -> Domain:
    return Domain(
        name="consult",
        routers=[views.router],
        pages=[pages.router],
        templates=pages.TEMPLATES,
        labels=pages.LABELS,
        nav=pages.NAV,
        owner_kinds=[
            OwnerKind(
                "consultation",
                visible_consultation_ids,
                belongs=rows_of_organisation(Consultation.id, Consultation.organisation_id),
            )
        ],
        workers=[worker.build],
    )
