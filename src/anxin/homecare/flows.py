"""Device rule events become care alarms for the people around an elder.

`iot` publishes ``iot.rule.<alarm_type>`` (action ``raise`` or ``clear``) for every device;
this module takes those of household devices, works out who must hear about it (the elder,
every consenting family member, the butler, the emergency contacts and the butler team's
lead) and asks `alerts` to raise or clear the alarm under the right escalation policy. The
in-process bus runs this inside the ingesting transaction, so the reading, the alarm and its
first notifications commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.service import (
    AlarmRequest,
    BatchedRaiser,
    RaiseBatch,
    Recipient,
    Severity,
    active_alarm,
    clear_alarm,
)
from anxin.core.events import Event
from anxin.core.unit import UnitOfWork
from anxin.homecare.models import CareTeam, CareTeamMember, Elder, FamilyMember, Household
from anxin.people import service as people

if TYPE_CHECKING:
    from anxin.people.models import User

log = logging.getLogger(__name__)

SOURCE_KIND = "device"
URGENT_POLICY = "homecare_fall"
ALERT_POLICY = "homecare_alert"
# Which escalation policy each alarm type runs (policies are defined in `alerts.policies`).
CARE_POLICIES: dict[str, str] = {
    "fall": URGENT_POLICY,
    "sos": URGENT_POLICY,
    "long_bathroom_stay": URGENT_POLICY,
    "intrusion": URGENT_POLICY,
    "night_out_of_bed": ALERT_POLICY,
    "device_offline": ALERT_POLICY,
    "tamper": ALERT_POLICY,
}
TITLES: dict[str, str] = {
    "fall": "跌倒 Fall",
    "sos": "紧急呼救 SOS",
    "long_bathroom_stay": "卫生间停留过久 Long bathroom stay",
    "intrusion": "外出时门被打开 Door opened while away",
    "night_out_of_bed": "夜间离床未归 Out of bed at night",
    "device_offline": "设备离线 Device offline",
    "tamper": "设备被拆动 Device tampered",
}


def policy_for(alarm_type: str) -> str:
    return CARE_POLICIES.get(alarm_type, ALERT_POLICY)


def household_context(
    session: Session, household_ids: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """Facts the iot rules may test as ``ctx.<name>``, per household."""
    rows = session.execute(
        select(Household.id, Household.mode).where(Household.id.in_(household_ids))
    )
    return {household_id: {"household_mode": mode.value} for household_id, mode in rows}


def team_lead_of(session: Session, organisation_id: str, butler_user_id: str | None) -> User | None:
    """The lead of the butler's team; else the organisation's oldest team's lead."""
    team: CareTeam | None = None
    if butler_user_id:
        team = session.scalar(
            select(CareTeam)
            .join(CareTeamMember, CareTeamMember.team_id == CareTeam.id)
            .where(CareTeamMember.butler_user_id == butler_user_id)
        )
    if team is None:
        team = session.scalar(
            select(CareTeam)
            .where(CareTeam.organisation_id == organisation_id)
            .order_by(CareTeam.created_at, CareTeam.id)
            .limit(1)
        )
    return people.user_by_id(session=session, user_id=team.lead_user_id) if team else None


def _user(session: Session, user_id: str | None) -> User | None:
    if not user_id:
        return None
    user = people.user_by_id(session=session, user_id=user_id)
    return user if user is not None and user.is_active else None


def recipients_for(session: Session, household: Household) -> tuple[list[Recipient], list[Elder]]:
    """Everyone who may be needed for an alarm in `household`; escalation steps pick by role."""
    elders = list(
        session.scalars(
            select(Elder).where(Elder.household_id == household.id).order_by(Elder.created_at)
        )
    )
    out: list[Recipient] = []
    seen: set[tuple[str, str | None, str | None]] = set()

    def add(recipient: Recipient) -> None:
        key = (recipient.role, recipient.user_id, None if recipient.user_id else recipient.phone)
        if key not in seen and (recipient.user_id or recipient.phone):
            seen.add(key)
            out.append(recipient)

    for elder in elders:
        elder_user = _user(session, elder.user_id)
        add(Recipient("elder", elder.full_name, elder_user.id if elder_user else None, elder.phone))
        family = session.scalars(
            select(FamilyMember)
            .where(FamilyMember.elder_id == elder.id)
            .order_by(FamilyMember.consent_at)
        )
        for link in family:
            user = _user(session, link.user_id)
            if user is not None and link.consent_at is not None:
                add(Recipient("family", user.display_name, user.id, user.phone))
        butler = _user(session, elder.butler_user_id)
        if butler is not None:
            add(Recipient("butler", butler.display_name, butler.id, butler.phone))
        for contact in elder.emergency_contacts or []:
            phone = contact.get("phone") if isinstance(contact, dict) else None
            if phone:
                add(Recipient("emergency_contact", str(contact.get("name", "")), None, str(phone)))
        lead = team_lead_of(session, household.organisation_id, elder.butler_user_id)
        if lead is not None and lead.is_active:
            add(Recipient("team_lead", lead.display_name, lead.id, lead.phone))
    return out, elders


def _title(alarm_type: str, elders: list[Elder], device_name: str) -> str:
    who = "、".join(e.full_name for e in elders) or "?"
    return f"{TITLES.get(alarm_type, alarm_type)} — {who} ({device_name})"


def _active(session: Session, device_id: str, alarm_type: str) -> bool:
    found = active_alarm(
        session=session, source_kind=SOURCE_KIND, source_id=device_id, alarm_type=alarm_type
    )
    return found is not None


def _act(uow: UnitOfWork, event: Event, batch: RaiseBatch) -> None:
    """What one rule event asks of the care alarms; raises go to `batch.raises`."""
    session, raises = uow.session, batch.raises
    payload = event.payload
    owner = payload.get("owner") or {}
    if owner.get("kind") != "household":
        return
    household = session.get(Household, owner.get("id"))
    if household is None:
        log.warning("rule event for unknown household %s", owner.get("id"))
        return
    device = payload["device"]
    alarm_type = str(payload["alarm_type"])
    fired_at = datetime.fromisoformat(payload["fired_at"])
    # The alarm (and its escalation clock) starts when the system learns of it; a condition
    # that fell due while nobody swept keeps its own time in the details.
    now = max(batch.now, fired_at)
    if payload.get("action") == "clear":
        raises.flush()
        clear_alarm(
            uow=uow,
            source_kind=SOURCE_KIND,
            source_id=device["id"],
            alarm_type=alarm_type,
            now=now,
            reason=f"device rule {payload.get('rule')}: condition ended",
            reason_code="rule_condition_ended",
            reason_params={"rule": str(payload.get("rule"))},
        )
        return
    details = dict(payload.get("details") or {})
    if details.get("corroborated"):
        raises.flush()
        if not _active(session, device["id"], alarm_type):
            # A second signal only upgrades an alarm still open; one already resolved stays so.
            log.info("corroboration for a closed %s alarm on %s ignored", alarm_type, device["id"])
            return
    recipients: dict[str, tuple[list[Recipient], list[Elder]]] = batch.memo
    if household.id not in recipients:  # the same people for every alarm of the batch
        recipients[household.id] = recipients_for(session, household)
    people_, elders = recipients[household.id]
    request = AlarmRequest(
        organisation_id=household.organisation_id,
        owner_kind="household",
        owner_id=household.id,
        source_kind=SOURCE_KIND,
        source_id=device["id"],
        alarm_type=alarm_type,
        severity=Severity(str(payload["severity"]).lower()),
        title=_title(alarm_type, elders, str(device.get("name", ""))),
        details={
            **details,
            "rule": payload.get("rule"),
            "fired_at": fired_at.isoformat(),
            "device_type": device.get("type"),
            "device_name": device.get("name"),
            "household_mode": household.mode.value,
            "elder_ids": [e.id for e in elders],
        },
        policy=policy_for(alarm_type),
        recipients=tuple(people_),
    )
    raises.add(request, now)


# ``iot.rule.*``: `prepare` is the bus preparer (a batch's rule events, an ingest batch or a
# sweep unit, their alarms raised together), `handle` the handler of one rule event.
RULE_EVENTS = BatchedRaiser("homecare.rule_events", _act)
