"""Alarms and their escalations. Keyword-only; flush, never commit.

The contract other domains call (keep its shape):

    raise_alarm(*, uow, organisation_id, owner_kind, owner_id, source_kind, source_id,
                alarm_type, severity: Severity, title, details, policy, recipients: list[Recipient],
                now) -> Alarm
        One active alarm per (source_kind, source_id, alarm_type). A repeat updates it: count
        + 1, last_raised_at, severity raised to the worse of the two, details replaced; it
        publishes `alerts.alarm.updated` and starts nothing new. The first raise publishes
        `alerts.alarm.raised` on the unit's bus, starts the escalation policy and writes the
        first step's notifications (the outbox) in the caller's transaction. An unknown or
        invalid policy never fails the raise: the built-in version (or "default") is used and
        the problem is written to the alarm's history.
    raise_alarms(*, uow, requests: Sequence[AlarmRequest], now) -> list[str]
        The same as `raise_alarm` once per request, in order (the same rows, history, audit and
        events), written set-based: for a price tick or a sweep that raises thousands.
    PendingRaises(uow): requests collected (`add(request, now)`) and raised together on
        `flush()` — through `raise_alarms` for several, `raise_alarm`'s path for one.
    BatchedRaiser(name, act): a bus preparer (`prepare`) and handler (`handle`) pair around
        `act(uow, event, batch)`, whose raises go to `batch.raises` (a `RaiseBatch`) and are
        raised together per batch of events.
    clear_alarm(*, uow, source_kind, source_id, alarm_type, now, reason, reason_code=None,
        reason_params=None) -> Alarm | None
        The source says the condition is gone: `cleared` is set (a separate axis from
        acknowledged/resolved), the alarm stops being the active one for de-duplication, and
        the escalation stops only if the policy says `stop_on_clear`.
    acknowledge(*, uow, principal, alarm_id, note, now) -> Alarm
    resolve(*, uow, principal, alarm_id, note, now) -> Alarm
        Both stop the escalation. 404 for an alarm the principal may not see; 403 for one it
        may see but not act on (a family may acknowledge, not resolve); 409 on a resolved alarm.

The package splits the service by aggregate: ``alarms`` (raise, clear, see, act),
``escalation_policies`` (policies as data), ``escalations`` (stored escalation state and the
outbox rows of each step) and ``notifications`` (the outbox as people read it); ``common``
holds what they share. Callers use the package; `Recipient` (anxin.alerts.schemas) and
`Severity` (anxin.alerts.models) are re-exported here."""

from __future__ import annotations

from anxin.alerts.models import Alarm, AlarmState, Channel, Severity
from anxin.alerts.schemas import Recipient
from anxin.alerts.service.alarms import (
    acknowledge,
    active_alarm,
    clear_alarm,
    get_alarm,
    history,
    list_alarms,
    raise_alarm,
    resolve,
)
from anxin.alerts.service.bulk import (
    AlarmRequest,
    BatchedRaiser,
    PendingRaises,
    RaiseBatch,
    raise_alarms,
    raise_request,
)
from anxin.alerts.service.common import (
    NOT_ACKERS,
    NOT_RESOLVERS,
    OUTBOX_ROLES,
    POLICY_ADMINS,
    SUBJECT,
    SYSTEM_ACTOR,
    active_key,
    event_payload,
)
from anxin.alerts.service.escalation_policies import (
    list_policies,
    put_policy,
    resolve_policy,
    sync_policies,
)
from anxin.alerts.service.escalations import apply_transition, escalation_of, state_of
from anxin.alerts.service.notifications import (
    attempts_of,
    get_notification,
    list_notifications,
    may_see_outbox,
    notifications_of,
    queue_message,
)

__all__ = [
    "NOT_ACKERS",
    "NOT_RESOLVERS",
    "OUTBOX_ROLES",
    "POLICY_ADMINS",
    "SUBJECT",
    "SYSTEM_ACTOR",
    "Alarm",
    "AlarmRequest",
    "AlarmState",
    "BatchedRaiser",
    "Channel",
    "PendingRaises",
    "RaiseBatch",
    "Recipient",
    "Severity",
    "acknowledge",
    "active_alarm",
    "active_key",
    "apply_transition",
    "attempts_of",
    "clear_alarm",
    "escalation_of",
    "event_payload",
    "get_alarm",
    "get_notification",
    "history",
    "list_alarms",
    "list_notifications",
    "list_policies",
    "may_see_outbox",
    "notifications_of",
    "put_policy",
    "queue_message",
    "raise_alarm",
    "raise_alarms",
    "raise_request",
    "resolve",
    "resolve_policy",
    "state_of",
    "sync_policies",
]
