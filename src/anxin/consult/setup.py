"""The consult domain's setup: consultation API, pages, the "consultation" owner kind that lets
the live hub tell a consultation's viewers (and only them) that its thread changed, and the
"consult_queue" owner kind that tells an organisation's doctors that their queue changed."""

from __future__ import annotations

from anxin.consult import pages, views, worker
from anxin.consult.models import Consultation
from anxin.consult.service import (
    QUEUE_OWNER,
    on_triage_event,
    queue_scope,
    visible_consultation_ids,
)
from anxin.core.domain import Domain, Subscription
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
            ),
            OwnerKind(QUEUE_OWNER, queue_scope),
        ],
        # Triage inputs: alarms at a home and the sleep mat's vitals (the queue goes live).
        subscriptions=[
            Subscription("alerts.alarm.*", on_triage_event),
            Subscription("iot.telemetry.sleep_mat", on_triage_event),
        ],
        workers=[worker.build],
    )
