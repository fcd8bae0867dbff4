"""Escalation policies as data: the built-in catalogue kept current, admins' own versions,
and the policy an alarm runs (never failing a raise: an invalid one falls back)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.models import EscalationPolicy
from anxin.alerts.policies import CATALOGUE, DEFAULT_POLICY
from anxin.alerts.service.common import OUTBOX_ROLES, POLICY_ADMINS
from anxin.core.errors import PermissionDenied
from anxin.core.security import Principal

CATALOGUE_BY_CODE = {str(doc["code"]): doc for doc in CATALOGUE}


def store_definition(row: EscalationPolicy, definition: dict[str, Any]) -> None:
    row.definition = definition
    try:
        parsed = machine.parse_policy(definition, code=row.code)
    except machine.PolicyInvalid as exc:
        row.valid = False
        row.error = str(exc)[:4000]
        row.name = str(definition.get("name") or row.code)[:200]
        return
    row.valid = True
    row.error = None
    row.name = parsed.name[:200]


def sync_policies(*, session: Session, now: datetime) -> int:
    """Make the built-in policies present and current; policies an admin edited are kept."""
    for doc in CATALOGUE:
        code = str(doc["code"])
        row = session.get(EscalationPolicy, code)
        if row is None:
            row = EscalationPolicy(code=code, origin="builtin", updated_at=now)
            session.add(row)
        elif row.origin != "builtin" or row.definition == doc:
            continue
        store_definition(row, dict(doc))
        row.updated_at = now
    session.flush()
    return len(CATALOGUE)


def list_policies(
    *, session: Session, principal: Principal, now: datetime
) -> list[EscalationPolicy]:
    if principal.role not in OUTBOX_ROLES:
        raise PermissionDenied(f"role {principal.role.value!r} may not see escalation policies")
    sync_policies(session=session, now=now)
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.code)))


def put_policy(
    *, session: Session, principal: Principal, code: str, definition: dict[str, Any], now: datetime
) -> EscalationPolicy:
    """Create or replace a policy. An invalid one is stored with its reason, not refused, and
    alarms keep using the built-in version (or "default") until it is fixed."""
    if principal.role not in POLICY_ADMINS:
        raise PermissionDenied(f"role {principal.role.value!r} may not edit escalation policies")
    row = session.get(EscalationPolicy, code)
    if row is None:
        row = EscalationPolicy(code=code, updated_at=now)
        session.add(row)
    row.origin = "custom"
    store_definition(row, {**definition, "code": code})
    row.updated_at = now
    session.flush()
    return row


def resolve_policy(
    *, session: Session, code: str, now: datetime
) -> tuple[machine.Policy, str | None]:
    """The policy to run for `code`, and a problem to record if it is not the one asked for."""
    row = session.get(EscalationPolicy, code)
    if row is None and code in CATALOGUE_BY_CODE:
        sync_policies(session=session, now=now)
        row = session.get(EscalationPolicy, code)
    if row is not None and row.valid:
        try:
            return machine.parse_policy(row.definition, code=code), None
        except machine.PolicyInvalid as exc:  # edited in the database by hand
            problem = f"policy {code!r} is invalid: {exc}"
    elif row is not None:
        problem = f"policy {code!r} is invalid: {row.error}"
    else:
        problem = f"no escalation policy {code!r}"
    fallback = CATALOGUE_BY_CODE.get(code) or CATALOGUE_BY_CODE[DEFAULT_POLICY]
    return machine.parse_policy(fallback), problem + f"; using built-in {fallback['code']!r}"
