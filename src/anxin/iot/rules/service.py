"""Stored alarm rules: listed with their validity, created and updated. Keyword-only; flush,
never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.iot import service as devices
from anxin.iot.models import DeviceRule
from anxin.iot.profiles import PROFILES_BY_CODE
from anxin.iot.rules.book import LoadedRule, invalidate_rules, layered_rules, rule_from_row
from anxin.iot.rules.defaults import DEFAULT_RULES
from anxin.iot.rules.engine import RULE_NAME
from anxin.iot.rules.schemas import RuleCreate, RuleRead, RuleUpdate

RULE_READERS = frozenset({Role.ADMIN, Role.BUTLER, Role.WAREHOUSE_OPERATOR, Role.FARMER})
RULE_WRITERS = frozenset({Role.ADMIN})


def _require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    if principal.role not in roles:
        raise PermissionDenied(f"role {principal.role.value!r} may not {what}")


def _read(loaded: LoadedRule, effective: LoadedRule | None, row: DeviceRule | None) -> RuleRead:
    return RuleRead(
        id=loaded.row_id,
        name=loaded.name,
        device_type=loaded.device_type,
        device_id=loaded.device_id,
        source=loaded.source,
        enabled=loaded.enabled,
        valid=loaded.valid,
        invalid_reason=loaded.reason,
        effective=effective is loaded,
        spec=loaded.spec,
        updated_at=row.updated_at if row else None,
    )


def list_rules(
    *,
    uow: UnitOfWork,
    principal: Principal,
    device_type: str | None = None,
    device_id: str | None = None,
) -> list[RuleRead]:
    """Every rule (defaults, organisation, device) with its validity and whether it is in force."""
    _require(principal, RULE_READERS, "read device rules")
    session = uow.session
    if device_id is not None:
        device = devices.get_device(uow=uow, principal=principal, device_id=device_id)
        types = [device.device_type]
    elif device_type is not None:
        if device_type not in PROFILES_BY_CODE:
            raise InvalidInput.field("device_type", f"unknown device type {device_type!r}")
        types = [device_type]
    else:
        stored = session.scalars(
            select(DeviceRule.device_type)
            .where(DeviceRule.organisation_id == principal.organisation_id)
            .distinct()
        )
        types = sorted(set(DEFAULT_RULES) | set(stored))
    rows = {
        r.id: r
        for r in session.scalars(
            select(DeviceRule).where(DeviceRule.organisation_id == principal.organisation_id)
        )
    }
    out: list[RuleRead] = []
    for code in types:
        for loaded, effective in layered_rules(session, principal.organisation_id, code, device_id):
            row = rows.get(loaded.row_id) if loaded.row_id else None
            out.append(_read(loaded, effective, row))
    if device_id is None:
        # Device-level rules of every device of these types, listed (not layered) too.
        for row in rows.values():
            if row.device_id is not None and row.device_type in types:
                loaded = rule_from_row(row)
                out.append(_read(loaded, None, row))
    return out


def _invalidate_on_commit(uow: UnitOfWork) -> None:
    """Drop cached rules now and again once the change is committed (so a reader in between
    cannot keep the old rules cached)."""
    invalidate_rules()
    uow.after_commit(invalidate_rules, key=invalidate_rules)


def _validate(row: DeviceRule) -> None:
    loaded = rule_from_row(row)
    row.valid = loaded.valid
    row.invalid_reason = loaded.reason[:500] if loaded.reason else None


def save_rule(
    *,
    uow: UnitOfWork,
    organisation_id: str,
    device_type: str,
    name: str,
    spec: dict[str, Any],
    now: datetime,
    device_id: str | None = None,
    enabled: bool = True,
) -> DeviceRule:
    """Create or replace the rule of that name at that layer; invalid specs are kept, marked."""
    session = uow.session
    stmt = select(DeviceRule).where(
        DeviceRule.organisation_id == organisation_id,
        DeviceRule.device_type == device_type,
        DeviceRule.name == name,
    )
    stmt = stmt.where(
        DeviceRule.device_id.is_(None) if device_id is None else DeviceRule.device_id == device_id
    )
    row = session.scalar(stmt)
    if row is None:
        row = DeviceRule(
            organisation_id=organisation_id,
            device_type=device_type,
            device_id=device_id,
            name=name,
            created_at=now,
        )
        session.add(row)
    row.spec = spec
    row.enabled = enabled
    row.updated_at = now
    _validate(row)
    session.flush()
    _invalidate_on_commit(uow)
    return row


def create_rule(
    *, uow: UnitOfWork, principal: Principal, data: RuleCreate, now: datetime
) -> RuleRead:
    _require(principal, RULE_WRITERS, "change device rules")
    if data.device_type not in PROFILES_BY_CODE:
        known = ", ".join(sorted(PROFILES_BY_CODE))
        raise InvalidInput.field("device_type", f"unknown device type; known: {known}")
    if not RULE_NAME.match(data.name):
        raise InvalidInput.field(
            "name", "lower-case letters, digits, '_', '-', '.'; start with a letter"
        )
    if data.device_id is not None:
        device = devices.get_device(uow=uow, principal=principal, device_id=data.device_id)
        if device.device_type != data.device_type:
            raise InvalidInput.field("device_id", f"that device is a {device.device_type}")
    row = save_rule(
        uow=uow,
        organisation_id=principal.organisation_id,
        device_type=data.device_type,
        device_id=data.device_id,
        name=data.name,
        spec=data.spec,
        enabled=data.enabled,
        now=now,
    )
    return _read(rule_from_row(row), None, row).model_copy(
        update={"effective": _in_force(uow.session, row)}
    )


def _in_force(session: Session, row: DeviceRule) -> bool:
    for loaded, effective in layered_rules(
        session, row.organisation_id, row.device_type, row.device_id
    ):
        if loaded.row_id == row.id:
            return effective is loaded
    return False


def update_rule(
    *, uow: UnitOfWork, principal: Principal, rule_id: str, data: RuleUpdate, now: datetime
) -> RuleRead:
    _require(principal, RULE_WRITERS, "change device rules")
    session = uow.session
    row = session.get(DeviceRule, rule_id)
    if row is None or row.organisation_id != principal.organisation_id:
        raise NotFound(f"no rule {rule_id}")
    if data.spec is not None:
        row.spec = data.spec
    if data.enabled is not None:
        row.enabled = data.enabled
    row.updated_at = now
    _validate(row)
    session.flush()
    _invalidate_on_commit(uow)
    return _read(rule_from_row(row), None, row).model_copy(
        update={"effective": _in_force(session, row)}
    )


def install_default_rules(*, uow: UnitOfWork, organisation_id: str, now: datetime) -> int:
    """Copy the built-in defaults into an organisation as editable rows (idempotent)."""
    session = uow.session
    written = 0
    for device_type, specs in DEFAULT_RULES.items():
        for name, spec in specs.items():
            exists = session.scalar(
                select(DeviceRule.id).where(
                    DeviceRule.organisation_id == organisation_id,
                    DeviceRule.device_type == device_type,
                    DeviceRule.device_id.is_(None),
                    DeviceRule.name == name,
                )
            )
            if exists is None:
                save_rule(
                    uow=uow,
                    organisation_id=organisation_id,
                    device_type=device_type,
                    name=name,
                    spec=dict(spec),
                    now=now,
                )
                written += 1
    return written
