"""Pledges: taking and closing them, what a bank may see of them, and their valuation.

A pledge is a loan secured by the stock behind one or more receipts (one commodity in one
warehouse). ``revalue_pledges`` values it from the latest price marks and the live stock:
LTV against the warning, margin-call and liquidation lines and the minimum stock, with a
history row per valuation, an alarm for what got worse and a clear for what got better.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

import numpy as np
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, selectinload

from anxin.alerts.service import AlarmRequest, raise_alarms
from anxin.collateral import alarms, valuation
from anxin.collateral.models import (
    Loan,
    PledgeRow,
    PledgeState,
    PriceMark,
    Receipt,
    ReceiptStatus,
    StockPosition,
    Valuation,
)
from anxin.collateral.schemas import PledgeCreate
from anxin.collateral.service.common import kg_to_t, t_to_kg, visible_pledges_clause
from anxin.collateral.service.receipts import anchor
from anxin.collateral.service.reference import get_owner
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.fast_insert import insert_rows, table_of, update_rows
from anxin.core.money import to_money
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork


def create_pledge(
    *,
    uow: UnitOfWork,
    principal: Principal,
    data: PledgeCreate,
    now: datetime,
) -> PledgeRow:
    session = uow.session
    if principal.role not in (Role.SCF_OFFICER, Role.ADMIN):
        raise PermissionDenied("only a supply-chain-finance officer takes pledges")
    try:
        valuation.PledgeTerms(data.warning_ltv, data.margin_call_ltv, data.liquidation_ltv)
        valuation.Holding("x", Decimal(0), data.haircut, data.min_quantity_t)
    except valuation.ValuationError as exc:
        raise InvalidInput(str(exc)) from exc
    borrower = get_owner(session, data.borrower_id)
    if session.scalar(select(Loan).where(Loan.reference == data.loan_reference)) is not None:
        raise Conflict(f"loan {data.loan_reference!r} exists")
    receipts = []
    for rid in dict.fromkeys(data.receipt_ids):
        receipt = session.scalar(select(Receipt).where(Receipt.id == rid).with_for_update())
        if receipt is None:
            raise InvalidInput.field("receipt_ids", f"no receipt {rid}")
        if receipt.status == ReceiptStatus.PLEDGED:
            raise Conflict(f"receipt {receipt.number} already backs an active pledge")
        if receipt.status == ReceiptStatus.CANCELLED or receipt.live_key is None:
            raise RuleViolation(f"receipt {receipt.number} is cancelled")
        if receipt.owner_id != borrower.id:
            raise RuleViolation(f"receipt {receipt.number} is for another owner's goods")
        receipts.append(receipt)
    if len({(r.warehouse_id, r.commodity_id) for r in receipts}) != 1:
        raise RuleViolation("one pledge covers one commodity in one warehouse")
    loan = Loan(
        lender_org_id=principal.organisation_id,
        borrower_id=borrower.id,
        reference=data.loan_reference,
        principal=data.loan_amount,
        outstanding=data.loan_amount,
        created_at=now,
    )
    session.add(loan)
    session.flush()
    pledge = PledgeRow(
        loan_id=loan.id,
        lender_org_id=principal.organisation_id,
        borrower_id=borrower.id,
        warehouse_id=receipts[0].warehouse_id,
        commodity_id=receipts[0].commodity_id,
        haircut=data.haircut,
        warning_ltv=data.warning_ltv,
        margin_call_ltv=data.margin_call_ltv,
        liquidation_ltv=data.liquidation_ltv,
        min_quantity_kg=t_to_kg(data.min_quantity_t),
        state=PledgeState.ACTIVE,
        status="ok",
        quantity_kg=0,
        created_at=now,
    )
    session.add(pledge)
    session.flush()
    for receipt in receipts:
        # Guarded update: a concurrent pledge of the same receipt loses here (0 rows).
        done = session.execute(
            update(Receipt)
            .where(
                Receipt.id == receipt.id,
                Receipt.status != ReceiptStatus.PLEDGED,
                Receipt.live_key.is_not(None),
            )
            .values(status=ReceiptStatus.PLEDGED, pledge_id=pledge.id)
            .execution_options(synchronize_session="fetch")
        )
        if cast(Any, done).rowcount != 1:
            raise Conflict(f"receipt {receipt.number} already backs an active pledge")
        session.refresh(receipt)
        position = session.scalar(
            select(StockPosition.quantity_kg).where(
                StockPosition.zone_id == receipt.zone_id,
                StockPosition.commodity_id == receipt.commodity_id,
                StockPosition.owner_id == receipt.owner_id,
            )
        )
        anchor(
            session,
            receipt,
            "pledge",
            principal.organisation_id,
            now,
            pledge=pledge.id,
            loan=loan.reference,
            lender=principal.organisation_id,
            quantity_now_kg=int(position or 0),
        )
    session.flush()
    revalue_pledges(uow=uow, pledge_ids=[pledge.id], now=now, cause="pledged")
    return pledge


def close_pledge(
    *,
    uow: UnitOfWork,
    principal: Principal,
    pledge_id: str,
    now: datetime,
) -> PledgeRow:
    session = uow.session
    pledge = get_pledge(session=session, principal=principal, pledge_id=pledge_id)
    if (
        principal.role not in (Role.SCF_OFFICER, Role.ADMIN)
        or pledge.lender_org_id != principal.organisation_id
    ):
        raise PermissionDenied("only the lender's officer closes a pledge")
    if pledge.state != PledgeState.ACTIVE:
        raise RuleViolation("the pledge is already closed")
    for receipt in session.scalars(select(Receipt).where(Receipt.pledge_id == pledge.id)):
        if receipt.status == ReceiptStatus.PLEDGED:
            receipt.status = ReceiptStatus.RELEASED
            anchor(session, receipt, "release", principal.organisation_id, now, pledge=pledge.id)
    pledge.state = PledgeState.CLOSED
    pledge.closed_at = now
    for kind in ("ltv_warning", "margin_call", "liquidation", "below_minimum_stock"):
        alarms.clear_for_pledge(
            uow=uow,
            pledge=pledge,
            alarm_type=kind,
            now=now,
            reason="pledge closed",
        )
    session.flush()
    return pledge


def get_pledge(*, session: Session, principal: Principal, pledge_id: str) -> PledgeRow:
    row = session.scalar(
        select(PledgeRow).where(PledgeRow.id == pledge_id, visible_pledges_clause(principal))
    )
    if row is None:
        raise NotFound(f"no pledge {pledge_id}")
    return row


def list_pledges(
    *, session: Session, principal: Principal, active: bool | None = None
) -> list[PledgeRow]:
    # The loans of all listed pledges in one more query, not one per pledge.
    stmt = (
        select(PledgeRow)
        .options(selectinload(PledgeRow.loan))
        .where(visible_pledges_clause(principal))
    )
    if active is not None:
        stmt = stmt.where(PledgeRow.state == (PledgeState.ACTIVE if active else PledgeState.CLOSED))
    return list(session.scalars(stmt.order_by(PledgeRow.created_at, PledgeRow.id)))


def pledge_receipts(session: Session, pledge_id: str) -> list[Receipt]:
    return list(session.scalars(select(Receipt).where(Receipt.pledge_id == pledge_id)))


def valuation_history(session: Session, pledge_id: str, limit: int = 500) -> list[Valuation]:
    rows = session.scalars(
        select(Valuation)
        .where(Valuation.pledge_id == pledge_id)
        .order_by(Valuation.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def latest_marks(session: Session, as_of: date | None = None) -> dict[str, Decimal]:
    """Commodity id -> the latest price mark on or before `as_of` (CNY per tonne)."""
    newest = select(PriceMark.commodity_id, func.max(PriceMark.as_of).label("d")).group_by(
        PriceMark.commodity_id
    )
    if as_of is not None:
        newest = newest.where(PriceMark.as_of <= as_of)
    sub = newest.subquery()
    rows = session.execute(
        select(PriceMark.commodity_id, PriceMark.price).join(
            sub, and_(PriceMark.commodity_id == sub.c.commodity_id, PriceMark.as_of == sub.c.d)
        )
    )
    return {cid: Decimal(price) for cid, price in rows}


def pledged_quantities(session: Session, pledge_ids: Sequence[str] | None) -> dict[str, int]:
    stmt = (
        select(Receipt.pledge_id, func.coalesce(func.sum(StockPosition.quantity_kg), 0))
        .join(
            StockPosition,
            and_(
                StockPosition.zone_id == Receipt.zone_id,
                StockPosition.commodity_id == Receipt.commodity_id,
                StockPosition.owner_id == Receipt.owner_id,
            ),
        )
        .where(Receipt.status == ReceiptStatus.PLEDGED)
        .group_by(Receipt.pledge_id)
    )
    out: dict[str, int] = {}
    ids = list(pledge_ids) if pledge_ids is not None else None
    chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)] if ids is not None else [None]
    for chunk in chunks:
        q = stmt if chunk is None else stmt.where(Receipt.pledge_id.in_(chunk))
        out.update({str(pid): int(kg) for pid, kg in session.execute(q)})
    return out


def pure_pledge(
    pledge: PledgeRow | _Held, outstanding: Decimal, quantity_kg: int
) -> valuation.Pledge:
    return valuation.Pledge(
        pledge.id,
        to_money(outstanding),
        (
            valuation.Holding(
                pledge.commodity_id,
                kg_to_t(max(quantity_kg, 0)),
                Decimal(pledge.haircut).quantize(valuation.RATE_STEP),
                kg_to_t(pledge.min_quantity_kg),
            ),
        ),
        valuation.PledgeTerms(
            Decimal(pledge.warning_ltv).quantize(valuation.RATE_STEP),
            Decimal(pledge.margin_call_ltv).quantize(valuation.RATE_STEP),
            None
            if pledge.liquidation_ltv is None
            else Decimal(pledge.liquidation_ltv).quantize(valuation.RATE_STEP),
        ),
    )


@dataclass
class RevaluationReport:
    valued: int = 0
    unpriced: int = 0
    worsened: int = 0
    improved: int = 0
    alarms: list[str] = field(default_factory=list)


_STATUS_ORDER = {"ok": 0, "warning": 1, "margin_call": 2, "liquidation": 3, "unpriced": -1}


class _Held(NamedTuple):
    """An active pledge as re-valuation reads it (plain columns, no ORM object)."""

    id: str
    lender_org_id: str
    commodity_id: str
    haircut: Decimal
    warning_ltv: Decimal
    margin_call_ltv: Decimal
    liquidation_ltv: Decimal | None
    min_quantity_kg: int
    status: str
    below_minimum: bool
    outstanding: Decimal


class _Figures(NamedTuple):
    status: str
    market_value: Decimal | None
    lending_value: Decimal | None
    ltv: Decimal | None
    below: bool


def _active_pledges(session: Session, pledge_ids: Sequence[str] | None) -> list[_Held]:
    stmt = (
        select(
            PledgeRow.id,
            PledgeRow.lender_org_id,
            PledgeRow.commodity_id,
            PledgeRow.haircut,
            PledgeRow.warning_ltv,
            PledgeRow.margin_call_ltv,
            PledgeRow.liquidation_ltv,
            PledgeRow.min_quantity_kg,
            PledgeRow.status,
            PledgeRow.below_minimum,
            Loan.outstanding,
        )
        .join(Loan, Loan.id == PledgeRow.loan_id)
        .where(PledgeRow.state == PledgeState.ACTIVE)
    )
    if pledge_ids is not None:
        stmt = stmt.where(PledgeRow.id.in_(list(pledge_ids)))
    return [_Held(*row) for row in session.execute(stmt)]


@functools.lru_cache(maxsize=1024)
def _bp(rate: Decimal) -> int:
    """A rate column in basis points (a book repeats a few terms thousands of times)."""
    return int(Decimal(rate).quantize(valuation.RATE_STEP) * valuation.BP)


def _book(held: Sequence[_Held], quantities: dict[str, int]) -> valuation.PledgeBook:
    """The priced pledges as `valuation`'s int64 book (one holding line each), straight from
    the columns: the figures `pure_pledge` + `value_pledge` give, without a Decimal object
    graph per pledge."""
    commodities = sorted({h.commodity_id for h in held})
    index = {c: i for i, c in enumerate(commodities)}

    def arr(values: Iterable[int]) -> valuation.I64:
        return np.fromiter(values, dtype=np.int64, count=len(held))

    return valuation.PledgeBook(
        pledge_ids=tuple(h.id for h in held),
        commodities=tuple(commodities),
        outstanding_fen=arr(int(to_money(h.outstanding) * 100) for h in held),
        warning_bp=arr(_bp(h.warning_ltv) for h in held),
        margin_call_bp=arr(_bp(h.margin_call_ltv) for h in held),
        liquidation_bp=arr(
            0 if h.liquidation_ltv is None else _bp(h.liquidation_ltv) for h in held
        ),
        line_pledge=np.arange(len(held), dtype=np.int64),
        line_commodity=arr(index[h.commodity_id] for h in held),
        line_qty_kg=arr(max(quantities.get(h.id, 0), 0) for h in held),
        line_haircut_bp=arr(_bp(h.haircut) for h in held),
        line_min_kg=arr(h.min_quantity_kg for h in held),
    )


def _decimal_figures(held: _Held, quantity_kg: int, price: Decimal) -> _Figures:
    """One pledge through the Decimal path (a pledge too large for int64)."""
    pledge = pure_pledge(held, held.outstanding, quantity_kg)
    value = valuation.value_pledge(pledge, {held.commodity_id: price})
    below = bool(value.below_minimum)
    return _Figures(value.status.label, value.market_value, value.lending_value, value.ltv, below)


def _figures(
    held: Sequence[_Held], quantities: dict[str, int], marks: dict[str, Decimal]
) -> dict[str, _Figures]:
    """Every pledge's status and values at `marks`: exactly the Decimal path's, computed over
    the whole book at once in int64 fen (`valuation.revalue_book`)."""
    out = {
        h.id: _Figures("unpriced", None, None, None, quantities.get(h.id, 0) < h.min_quantity_kg)
        for h in held
        if h.commodity_id not in marks
    }
    priced = [h for h in held if h.commodity_id in marks]
    if not priced:
        return out
    try:
        book = _book(priced, quantities)
        result = valuation.revalue_book(book, {c: marks[c] for c in book.commodities})
    except valuation.ValuationError:
        for h in priced:
            out[h.id] = _decimal_figures(h, quantities.get(h.id, 0), marks[h.commodity_id])
        return out
    columns = zip(
        result.status.tolist(),
        result.market_value_fen.tolist(),
        result.lending_value_fen.tolist(),
        result.ltv_bp.tolist(),
        result.below_minimum.tolist(),
        strict=True,
    )
    for h, (status, mv, lv, ltv, below) in zip(priced, columns, strict=True):
        # As `BookValuation.valuation` gives them: fen to 2 places, basis points to 4.
        out[h.id] = _Figures(
            valuation.PledgeStatus(status).label,
            Decimal(mv).scaleb(-2),
            Decimal(lv).scaleb(-2),
            None if ltv < 0 else Decimal(ltv).scaleb(-4),
            below,
        )
    return out


VALUED_COLUMNS = (
    "status", "quantity_kg", "market_value", "lending_value", "ltv", "below_minimum", "valued_at"
)  # fmt: skip
HISTORY_COLUMNS = (
    "pledge_id", "at", "quantity_kg", "price", "market_value", "lending_value", "outstanding",
    "ltv", "status", "cause",
)  # fmt: skip


def revalue_pledges(
    *,
    uow: UnitOfWork,
    pledge_ids: Sequence[str] | None,
    now: datetime,
    cause: str,
) -> RevaluationReport:
    """Re-value active pledges (all of them when `pledge_ids` is None) with the latest marks and
    live stock; store the result and its history row; alarm on what got worse, clear what
    got better. Statuses and values are written in one set-based update, the history at the
    driver level (`core.fast_insert`)."""
    session = uow.session
    session.flush()
    held = _active_pledges(session, pledge_ids)
    marks = latest_marks(session, now.date())
    quantities = pledged_quantities(session, None if pledge_ids is None else [h.id for h in held])
    figures = _figures(held, quantities, marks)
    report = RevaluationReport()
    updates: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    raises: list[AlarmRequest] = []  # raised together after the loop (set-based)
    for pledge in held:
        qty = quantities.get(pledge.id, 0)
        price = marks.get(pledge.commodity_id)
        status, mv, lv, ltv, below = figures[pledge.id]
        report.unpriced += price is None
        report.valued += 1
        updates.append((pledge.id, status, qty, mv, lv, ltv, below, now))
        history.append((pledge.id, now, qty, price, mv, lv, pledge.outstanding, ltv, status, cause))

        def details(
            ltv: Decimal | None = ltv,
            mv: Decimal | None = mv,
            qty: int = qty,
            pledge: _Held = pledge,
            price: Decimal | None = price,
        ) -> dict[str, Any]:
            return {
                "ltv": str(ltv) if ltv is not None else None,
                "market_value": str(mv) if mv is not None else None,
                "outstanding": str(pledge.outstanding),
                "quantity_kg": qty,
                "price": str(price) if price is not None else None,
                "cause": cause,
            }

        report.alarms += _status_alarms(uow, raises, pledge, status, below, details, now)
        if _STATUS_ORDER[status] > _STATUS_ORDER.get(pledge.status, 0):
            report.worsened += 1
        elif _STATUS_ORDER[status] < _STATUS_ORDER.get(pledge.status, 0):
            report.improved += 1
    raise_alarms(uow=uow, requests=raises, now=now)
    update_rows(session, table_of(PledgeRow), "id", VALUED_COLUMNS, updates)
    insert_rows(session, table_of(Valuation), HISTORY_COLUMNS, history)
    _expire_loaded(session, {h.id for h in held})
    return report


def _expire_loaded(session: Session, pledge_ids: set[str]) -> None:
    """The pledges this session holds as objects were written behind the ORM's back."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, PledgeRow) and obj.id in pledge_ids:
            session.expire(obj)


def _status_alarms(
    uow: UnitOfWork,
    raises: list[AlarmRequest],
    pledge: _Held,
    after: str,
    below: bool,
    details: Callable[[], dict[str, Any]],
    now: datetime,
) -> list[str]:
    """Queue the alarms of what got worse, clear those of what got better; `details` is built
    only for a pledge that raises."""
    before, below_before = pledge.status, pledge.below_minimum
    raised: list[str] = []
    b, a = _STATUS_ORDER.get(before, 0), _STATUS_ORDER[after]
    if a > b and after in alarms.STATUS_ALARMS:
        kind = alarms.STATUS_ALARMS[after]
        raises.append(
            alarms.request_for_pledge(
                uow=uow,
                pledge=pledge,
                alarm_type=kind,
                source_kind=alarms.OWNER_KIND,
                source_id=pledge.id,
                details=details(),
            )
        )
        raised.append(kind)
    if a < b:
        for status, kind in alarms.STATUS_ALARMS.items():
            if _STATUS_ORDER[status] > a:
                alarms.clear_for_pledge(
                    uow=uow,
                    pledge=pledge,
                    alarm_type=kind,
                    now=now,
                    reason=f"LTV back to {after}",
                )
    if below and not below_before:
        raises.append(
            alarms.request_for_pledge(
                uow=uow,
                pledge=pledge,
                alarm_type="below_minimum_stock",
                source_kind=alarms.OWNER_KIND,
                source_id=pledge.id,
                details={**details(), "min_quantity_kg": pledge.min_quantity_kg},
            )
        )
        raised.append("below_minimum_stock")
    elif below_before and not below:
        alarms.clear_for_pledge(
            uow=uow,
            pledge=pledge,
            alarm_type="below_minimum_stock",
            now=now,
            reason="stock back above the minimum",
        )
    return raised
