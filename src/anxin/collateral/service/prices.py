"""Price marks: market data (CNY per tonne, per commodity and day) entered by bank officers and
admins or fed from a CSV file; entering marks re-values every active pledge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.collateral.models import Commodity, PriceMark
from anxin.collateral.schemas import PriceMarkIn
from anxin.collateral.service.pledges import RevaluationReport, revalue_pledges
from anxin.collateral.service.reference import commodity_by_code
from anxin.core.errors import InvalidInput, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork

PRICE_ROLES = frozenset({Role.SCF_OFFICER, Role.RISK_OFFICER, Role.ADMIN})


def add_price_marks(
    *,
    uow: UnitOfWork,
    principal: Principal | None,
    marks: Sequence[PriceMarkIn],
    now: datetime,
) -> RevaluationReport:
    """Store marks (a repeat for the same commodity and day replaces it) and re-value every
    active pledge. `principal` None is the system (the CSV feed command)."""
    session = uow.session
    if principal is not None and principal.role not in PRICE_ROLES:
        raise PermissionDenied("only bank officers and admins enter price marks")
    for mark in marks:
        commodity = commodity_by_code(session, mark.commodity)
        row = session.scalar(
            select(PriceMark).where(
                PriceMark.commodity_id == commodity.id, PriceMark.as_of == mark.as_of
            )
        )
        if row is None:
            session.add(
                PriceMark(
                    commodity_id=commodity.id,
                    as_of=mark.as_of,
                    price=mark.price,
                    source=mark.source,
                    created_at=now,
                )
            )
        else:
            row.price = mark.price
            row.source = mark.source
    session.flush()
    return revalue_pledges(uow=uow, pledge_ids=None, now=now, cause="price")


def list_marks(*, session: Session, limit: int = 200) -> list[tuple[PriceMark, str]]:
    rows = session.execute(
        select(PriceMark, Commodity.code)
        .join(Commodity, Commodity.id == PriceMark.commodity_id)
        .order_by(PriceMark.as_of.desc(), Commodity.code)
        .limit(limit)
    )
    return [(m, c) for m, c in rows]


def parse_price_csv(text: str) -> list[PriceMarkIn]:
    """``date,commodity,price_cny_per_t[,source]`` with a header line; errors name the line."""
    import csv
    import io

    from pydantic import ValidationError

    reader = csv.reader(io.StringIO(text))
    out: list[PriceMarkIn] = []
    problems: list[str] = []
    for n, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if n == 1 and row[0].strip().lower() in ("date", "as_of"):
            continue
        if len(row) < 3:
            problems.append(f"line {n}: need date,commodity,price")
            continue
        try:
            out.append(
                PriceMarkIn(
                    as_of=row[0].strip(),
                    commodity=row[1].strip(),
                    price=Decimal(row[2].strip()),
                    source=(row[3].strip() if len(row) > 3 else "csv"),
                )
            )
        except (ValidationError, ArithmeticError, ValueError) as exc:
            problems.append(f"line {n}: {exc}".splitlines()[0])
    if problems:
        raise InvalidInput("; ".join(problems[:20]))
    if not out:
        raise InvalidInput("the CSV holds no price marks")
    return out
