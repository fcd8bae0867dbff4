"""Enrolment and the fund: the register of insured persons and contributions by source.

Keyword-only functions over one aggregate each; they flush, never commit (the edge commits).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, case, func, or_, select
from sqlalchemy.orm import Session

from anxin.core.db import upsert_insert
from anxin.core.errors import Conflict, InvalidInput, PermissionDenied
from anxin.core.money import to_money
from anxin.core.security import Principal, Role
from anxin.ltc.entitlements import Month
from anxin.ltc.models import LtcFundEntry, LtcImport, LtcInsured
from anxin.ltc.register import InsuredRow
from anxin.ltc.schemas import ContributionCreate, FundMonth
from anxin.ltc.settlement import Direction

ADMINS = (Role.LTC_ADMIN,)
READERS = (Role.LTC_ADMIN, Role.SUPERVISOR)


def require(principal: Principal, roles: Sequence[Role]) -> None:
    if principal.role not in roles:
        raise PermissionDenied(f"role {principal.role.value!r} may not do this")


_REGISTER = ("name", "sex", "birth_date", "district", "address", "lat", "lon")


def upsert_insured(
    *, session: Session, org_id: str, rows: Sequence[InsuredRow], now: datetime
) -> int:
    """Insert or update one chunk of the register in one statement (ON CONFLICT on the ID
    number), so millions of rows stay practical. A row is rewritten only when the register
    changed it: re-importing a file writes nothing. Within a chunk the last row of an ID
    number wins."""
    latest = {row.id_number: row for row in rows}
    if not latest:
        return 0
    raw = _psycopg(session)
    if raw is not None:
        _copy_upsert(raw, org_id, latest.values(), now)
        return len(latest)
    table = LtcInsured.__table__
    values = [
        {"org_id": org_id, "id_number": r.id_number, "updated_at": now}
        | {name: getattr(r, name) for name in _REGISTER}
        for r in latest.values()
    ]
    stmt = upsert_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.id_number],
        set_={name: stmt.excluded[name] for name in (*_REGISTER, "updated_at")},
        where=_changed(table, stmt.excluded),
    )
    session.execute(stmt, values)
    return len(values)


def _changed(table: Any, excluded: Any) -> Any:
    return or_(*(table.c[name].is_distinct_from(excluded[name]) for name in _REGISTER))


def _copy_upsert(raw: Any, org_id: str, rows: Iterable[InsuredRow], now: datetime) -> None:
    """COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT: no statement per
    row (psycopg's executemany would pipeline one per row)."""
    names = ", ".join(("org_id", "id_number", *_REGISTER, "updated_at"))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_REGISTER, "updated_at"))
    changed = " OR ".join(f"ltc_insured.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in _REGISTER)
    with raw.cursor() as cursor:
        # The register's columns only: no id, so staging draws nothing from its sequence.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS ltc_insured_stage ON COMMIT DELETE ROWS AS "  # noqa: S608 - fixed column names
            f"SELECT {names} FROM ltc_insured WITH NO DATA"
        )
        with cursor.copy(f"COPY ltc_insured_stage ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (org_id, r.id_number, r.name, r.sex, r.birth_date, r.district, r.address,
                     r.lat, r.lon, now)
                )  # fmt: skip
        cursor.execute(
            f"INSERT INTO ltc_insured ({names}) SELECT {names} FROM ltc_insured_stage "  # noqa: S608 - fixed column names
            f"ON CONFLICT (org_id, id_number) DO UPDATE SET {updates} WHERE {changed}"
        )
        cursor.execute("TRUNCATE ltc_insured_stage")


def _psycopg(session: Session) -> Any | None:
    """The raw psycopg 3 connection on PostgreSQL, for COPY; None elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return connection.connection.driver_connection
    return None


def insert_values(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert without ORM objects: COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    raw = _psycopg(session)
    if raw is None:
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_copyable(row[c]) for c in columns])


def _copyable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name  # enums are stored by name (native_enum=False)
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value


def record_import(
    *, session: Session, org_id: str, filename: str, ok: int, bad: int, now: datetime
) -> LtcImport:
    entry = LtcImport(
        org_id=org_id, filename=filename[-255:], rows_ok=ok, rows_bad=bad, created_at=now
    )
    session.add(entry)
    session.flush()
    return entry


def count_insured(*, session: Session, org_id: str) -> int:
    return session.scalar(select(func.count()).where(LtcInsured.org_id == org_id)) or 0


def contribute(
    *, session: Session, principal: Principal, data: ContributionCreate, now: datetime
) -> LtcFundEntry:
    """Money into the fund from one source; the reference makes a repeated post a conflict."""
    require(principal, ADMINS)
    taken = session.scalar(
        select(LtcFundEntry.id).where(
            LtcFundEntry.org_id == principal.organisation_id,
            LtcFundEntry.reference == data.reference,
        )
    )
    if taken is not None:
        raise Conflict(f"reference {data.reference!r} is already posted")
    try:
        month = str(Month.parse(data.month))
    except ValueError as exc:
        raise InvalidInput.field("month", str(exc)) from exc
    entry = LtcFundEntry(
        org_id=principal.organisation_id, month=month, direction=Direction.IN,
        category=data.source.value, amount=to_money(data.amount), reference=data.reference,
        created_at=now,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def fund_by_month(*, session: Session, principal: Principal) -> list[FundMonth]:
    """In, out and the running balance per month, in one grouped query."""
    require(principal, READERS)
    zero = Decimal("0.00")
    inflow = func.sum(case((LtcFundEntry.direction == Direction.IN, LtcFundEntry.amount), else_=0))
    outflow = func.sum(
        case((LtcFundEntry.direction == Direction.OUT, LtcFundEntry.amount), else_=0)
    )
    rows = session.execute(
        select(LtcFundEntry.month, inflow, outflow)
        .where(LtcFundEntry.org_id == principal.organisation_id)
        .group_by(LtcFundEntry.month)
        .order_by(LtcFundEntry.month)
    ).all()
    balance = zero
    months: list[FundMonth] = []
    for month, paid_in, paid_out in rows:
        paid_in, paid_out = to_money(paid_in or zero), to_money(paid_out or zero)
        balance += paid_in - paid_out
        months.append(FundMonth(month=month, paid_in=paid_in, paid_out=paid_out, balance=balance))
    return months
