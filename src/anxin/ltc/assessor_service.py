"""Assigning assessors to applications, and an assessor's queue.

An assignment puts an open application in an assessor's queue; it is planning, not a
permission (any of the scheme's assessors may still score, as `application_service.assess`
decides). An application takes as many assignments as assessments it still needs — two, and
a third when the first two disagree — and never the same assessor twice or one who has
already scored it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput
from anxin.core.security import Principal, Role
from anxin.ltc.application_service import OPEN, load
from anxin.ltc.applications import ApplicationState
from anxin.ltc.models import LtcApplication, LtcAssessment, LtcAssignment, LtcInsured
from anxin.ltc.service import ADMINS, require
from anxin.people.service import active_users_with_roles, user_by_id


def needed(state: ApplicationState, assessed: int) -> int:
    """Assessments still to come: two in all, or three once the first two disagree."""
    wanted = 3 if state is ApplicationState.NEEDS_THIRD else 2
    return max(0, wanted - assessed)


@dataclass(frozen=True)
class QueueItem:
    application: LtcApplication
    name: str
    district: str
    address: str
    assessed: list[str]  # user ids of those who have scored it
    assigned: list[str]  # user ids assigned and not yet scored
    open_slots: int  # assignments it may still take


def assessors(*, session: Session, principal: Principal) -> list[tuple[str, str]]:
    """(user id, display name) of the scheme's assessors."""
    require(principal, ADMINS)
    users = active_users_with_roles(
        session=session, organisation_id=principal.organisation_id, roles=ADMINS
    )
    return [(u.id, u.display_name) for u in users]


def queue(*, session: Session, principal: Principal) -> list[QueueItem]:
    """The scheme's open applications, oldest first, with who scored and who is assigned."""
    require(principal, ADMINS)
    apps: Sequence[LtcApplication] = session.scalars(
        select(LtcApplication)
        .where(LtcApplication.org_id == principal.organisation_id, LtcApplication.state.in_(OPEN))
        .order_by(LtcApplication.created_at, LtcApplication.id)
        .limit(200)
    ).all()
    return _items(session, apps)


def _items(session: Session, apps: Sequence[LtcApplication]) -> list[QueueItem]:
    ids = [a.id for a in apps]
    scored: dict[int, list[tuple[str, str]]] = {}
    for done_row in session.scalars(
        select(LtcAssessment)
        .where(LtcAssessment.application_id.in_(ids))
        .order_by(LtcAssessment.id)
    ):
        scored.setdefault(done_row.application_id, []).append(
            (done_row.assessor_id, done_row.assessor)
        )
    assigned: dict[int, list[str]] = {}
    for row in session.scalars(select(LtcAssignment).where(LtcAssignment.application_id.in_(ids))):
        assigned.setdefault(row.application_id, []).append(row.assessor_id)
    people = {
        p.id: p
        for p in session.scalars(
            select(LtcInsured).where(LtcInsured.id.in_({a.insured_id for a in apps}))
        )
    }
    items = []
    for a in apps:
        done = scored.get(a.id, [])
        done_ids = {uid for uid, _ in done}
        waiting = [uid for uid in assigned.get(a.id, []) if uid not in done_ids]
        person = people[a.insured_id]
        items.append(
            QueueItem(
                a, person.name, person.district, person.address, [uid for uid, _ in done],
                waiting, needed(a.state, len(done)) - len(waiting),
            )
        )  # fmt: skip
    return items


def assign(
    *, session: Session, principal: Principal, application_id: int, assessor_id: str,
    now: datetime,
) -> LtcAssignment:  # fmt: skip
    require(principal, ADMINS)
    application = load(session, principal, application_id)
    if application.state not in OPEN:
        raise Conflict(f"application {application.id} is {application.state.value}")
    user = user_by_id(session=session, user_id=assessor_id)
    if (
        user is None
        or user.role is not Role.LTC_ADMIN
        or user.organisation_id != principal.organisation_id
    ):
        raise InvalidInput.field("assessor_id", "not an assessor of this scheme")
    item = _items(session, [application])[0]
    if assessor_id in item.assigned or assessor_id in item.assessed:
        raise Conflict(f"{user.display_name} is already on application {application.id}")
    if item.open_slots <= 0:
        raise Conflict(f"application {application.id} has all the assessors it needs")
    row = LtcAssignment(
        application_id=application.id, assessor_id=assessor_id,
        assigned_by=principal.username, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row
