"""Audit trail: every change to an audited row is recorded with who, what, when, before/after.

Recording happens in a flush hook, so no service can forget it and the audit row commits in
the same transaction as the change it describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import Integer, String, Table, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from anxin.core.db import Base
from anxin.core.fast_insert import insert_rows
from anxin.core.unit import UnitOfWork, unit_of

SECRET_FIELDS = frozenset({"password_hash", "token_hash", "secret"})


class Audited:
    """Mixin marking a model whose every change is audited."""


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


def _columns(obj: Any) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs]


def _value(state: Any, key: str, *, old: bool) -> Any:
    hist = state.attrs[key].history
    if old:
        if hist.deleted:
            return hist.deleted[0]
        if hist.added:
            return None
    elif hist.added:
        return hist.added[0]
    # Unchanged, or filled by a column default during this flush.
    return state.dict.get(key)


def _snapshot(obj: Any, *, old: bool) -> dict[str, Any]:
    state = inspect(obj)
    return {
        key: "***" if key in SECRET_FIELDS else _plain(_value(state, key, old=old))
        for key in _columns(obj)
    }


def _entity_id(obj: Any) -> str:
    identity = inspect(obj).identity
    if identity:
        return ":".join(str(part) for part in identity)
    return str(getattr(obj, "id", "?"))


def _changed(obj: Any) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in _columns(obj))


class UnauditedChange(RuntimeError):
    """An audited row changed in a session outside any unit of work: nobody to name, no clock."""


def record_created(
    unit: UnitOfWork, entity_type: str, rows: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Audit rows inserted set-based (no ORM object, so no flush hook sees them): one "create"
    per (entity id, column values), as the hook would write."""
    if not rows:
        return
    now, actor = unit.now(), unit.actor
    insert_rows(
        unit.session,
        cast(Table, AuditLog.__table__),
        ("at", "actor", "action", "entity_type", "entity_id", "before", "after"),
        [
            (
                now,
                actor,
                "create",
                entity_type,
                entity_id,
                None,
                {
                    key: "***" if key in SECRET_FIELDS else _plain(value)
                    for key, value in values.items()
                },
            )
            for entity_id, values in rows
        ],
    )


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _context: Any) -> None:
    unit = unit_of(session)
    stamp: tuple[datetime, str] | None = None  # one time and actor per flush
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            if action == "update" and not _changed(obj):
                continue
            if stamp is None:
                if unit is None:
                    raise UnauditedChange(
                        f"{type(obj).__name__} changed outside a unit of work (AppContext.unit)"
                    )
                stamp = (unit.now(), unit.actor)
            rows.append(
                {
                    "at": stamp[0],
                    "actor": stamp[1],
                    "action": action,
                    "entity_type": type(obj).__tablename__,  # type: ignore[attr-defined]
                    "entity_id": _entity_id(obj),
                    "before": None if action == "create" else _snapshot(obj, old=True),
                    "after": None if action == "delete" else _snapshot(obj, old=False),
                }
            )
    if rows:
        session.execute(insert(AuditLog), rows)
