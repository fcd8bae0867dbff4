"""Pledge valuation: price marks, haircuts, loan-to-value, warning and margin-call lines.

Pure and exact. Amounts are `Decimal` CNY; quantities are `Decimal` tonnes to the kilogram
(3 places); haircuts and LTV lines are `Decimal` fractions to the basis point (4 places);
price marks are CNY per tonne to the fen.

Rounding rules, named once and used everywhere:
- each holding line's market value, qty × price, is rounded to the fen half-up (四舍五入,
  `anxin.core.money.ROUNDING`), and so is its lending value, market value × (1 − haircut);
  a pledge's values are the sums of its rounded lines;
- LTV shown to people is outstanding / market value rounded half-up to the basis point, but
  every status decision compares exact products (outstanding × 10000 ≥ line × market value),
  so a displayed 80.00% can never disagree with the status beside it;
- what the borrower must add is rounded *up* (cash to the fen, stock to the kilogram) and what
  the borrower may take out is rounded *down*, so acting on a figure always cures or stays safe.

Definitions: market value (MV) = Σ qty × mark; lending value (LV, the borrowing base) =
Σ qty × mark × (1 − haircut); LTV = outstanding / MV. Status by LTV against the warning,
margin-call and (optional) liquidation lines. A margin call is cured by bringing outstanding
down to LV, by paying cash or by pledging more stock.

`PledgeBook` + `revalue_book` do the same sums over all clients at once in int64 fen and
kilograms (exact, no floats), for re-evaluating every pledge after a price tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from anxin.core.money import CENT, ROUNDING

QTY_STEP = Decimal("0.001")  # tonnes: one kilogram
RATE_STEP = Decimal("0.0001")  # one basis point
BP = 10_000
_MAX_QTY_KG = 10**9  # 1 Mt on one line: far beyond any warehouse
_MAX_PRICE_FEN = 10**8  # 1,000,000 CNY per tonne
_MAX_FEN = 10**14  # 1 trillion CNY: keeps every int64 product below 2**63
_MAX_BOOK_MV_FEN = 4 * 10**14

I64 = npt.NDArray[np.int64]


class ValuationError(ValueError):
    """Bad valuation input: wrong precision, out of range, or a missing price mark."""


class PledgeStatus(IntEnum):
    # Ordered by severity so that "worse" is simply ">".
    OK = 0
    WARNING = 1
    MARGIN_CALL = 2
    LIQUIDATION = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class PledgeTerms:
    warning_ltv: Decimal  # e.g. 0.7500
    margin_call_ltv: Decimal  # e.g. 0.8000
    liquidation_ltv: Decimal | None = None  # e.g. 0.8500; None: no forced-sale line

    def __post_init__(self) -> None:
        lines = [self.warning_ltv, self.margin_call_ltv]
        if self.liquidation_ltv is not None:
            lines.append(self.liquidation_ltv)
        for v in lines:
            _check_places(v, RATE_STEP, "LTV line")
            if not Decimal(0) < v <= Decimal(2):
                raise ValuationError(f"LTV line {v} must be in (0, 2]")
        if lines != sorted(lines) or len(set(lines)) != len(lines):
            raise ValuationError("LTV lines must rise: warning < margin call < liquidation")


@dataclass(frozen=True, slots=True)
class Holding:
    commodity: str
    quantity_t: Decimal
    haircut: Decimal  # share of market value the bank does not lend against, 0 ≤ h < 1
    min_quantity_t: Decimal = Decimal(0)  # contractual minimum stock of this commodity

    def __post_init__(self) -> None:
        _check_places(self.quantity_t, QTY_STEP, "quantity")
        _check_places(self.min_quantity_t, QTY_STEP, "minimum quantity")
        _check_places(self.haircut, RATE_STEP, "haircut")
        if self.quantity_t < 0 or self.min_quantity_t < 0:
            raise ValuationError("quantities must not be negative")
        if self.quantity_t * 1000 > _MAX_QTY_KG:
            raise ValuationError(f"quantity {self.quantity_t} t out of range")
        if not Decimal(0) <= self.haircut < Decimal(1):
            raise ValuationError(f"haircut {self.haircut} must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class Pledge:
    pledge_id: str
    outstanding: Decimal  # loan principal and accrued interest secured by this pledge, CNY
    holdings: tuple[Holding, ...]
    terms: PledgeTerms

    def __post_init__(self) -> None:
        _check_places(self.outstanding, CENT, "outstanding")
        if not Decimal(0) <= self.outstanding * 100 <= _MAX_FEN:
            raise ValuationError(f"outstanding {self.outstanding} out of range")
        names = [h.commodity for h in self.holdings]
        if len(set(names)) != len(names):
            raise ValuationError(f"pledge {self.pledge_id}: one line per commodity")

    def holding(self, commodity: str) -> Holding:
        for h in self.holdings:
            if h.commodity == commodity:
                return h
        raise ValuationError(f"pledge {self.pledge_id} holds no {commodity}")

    def with_quantity(self, commodity: str, quantity_t: Decimal) -> Pledge:
        hs = tuple(
            Holding(h.commodity, quantity_t, h.haircut, h.min_quantity_t)
            if h.commodity == commodity
            else h
            for h in self.holdings
        )
        return Pledge(self.pledge_id, self.outstanding, hs, self.terms)


@dataclass(frozen=True, slots=True)
class LineValue:
    commodity: str
    quantity_t: Decimal
    price: Decimal
    market_value: Decimal
    lending_value: Decimal
    below_minimum: bool


@dataclass(frozen=True, slots=True)
class Valuation:
    pledge_id: str
    outstanding: Decimal
    market_value: Decimal
    lending_value: Decimal
    ltv: Decimal | None  # None when nothing is pledged at a price
    status: PledgeStatus
    shortfall: Decimal  # cash that cures a margin call: max(0, outstanding − lending value)
    lines: tuple[LineValue, ...] = field(default=())

    @property
    def below_minimum(self) -> tuple[str, ...]:
        return tuple(ln.commodity for ln in self.lines if ln.below_minimum)


@dataclass(frozen=True, slots=True)
class StatusChange:
    pledge_id: str
    before: PledgeStatus | None
    after: PledgeStatus

    @property
    def worse(self) -> bool:
        return self.before is None or self.after > self.before


@dataclass(frozen=True, slots=True)
class ReleaseCheck:
    allowed: bool
    reasons: tuple[str, ...]
    after: Valuation


# --------------------------------------------------------------------------- Decimal path


def line_market_value(quantity_t: Decimal, price: Decimal) -> Decimal:
    return (quantity_t * price).quantize(CENT, rounding=ROUNDING)


def line_lending_value(market_value: Decimal, haircut: Decimal) -> Decimal:
    return (market_value * (1 - haircut)).quantize(CENT, rounding=ROUNDING)


def status_for(outstanding: Decimal, market_value: Decimal, terms: PledgeTerms) -> PledgeStatus:
    """Exact: compares outstanding with line × MV, never a rounded ratio. Reaching a line
    counts as crossing it."""
    if outstanding == 0:
        return PledgeStatus.OK
    if terms.liquidation_ltv is not None and outstanding >= terms.liquidation_ltv * market_value:
        return PledgeStatus.LIQUIDATION
    if outstanding >= terms.margin_call_ltv * market_value:
        return PledgeStatus.MARGIN_CALL
    if outstanding >= terms.warning_ltv * market_value:
        return PledgeStatus.WARNING
    return PledgeStatus.OK


def value_pledge(pledge: Pledge, marks: Mapping[str, Decimal]) -> Valuation:
    _check_marks([pledge], marks)
    lines = []
    for h in pledge.holdings:
        price = marks[h.commodity]
        mv = line_market_value(h.quantity_t, price)
        lines.append(
            LineValue(
                h.commodity,
                h.quantity_t,
                price,
                mv,
                line_lending_value(mv, h.haircut),
                h.quantity_t < h.min_quantity_t,
            )
        )
    mv_total = sum((ln.market_value for ln in lines), Decimal("0.00"))
    lv_total = sum((ln.lending_value for ln in lines), Decimal("0.00"))
    ltv = None
    if mv_total:
        ltv = (pledge.outstanding / mv_total).quantize(RATE_STEP, rounding=ROUNDING)
    return Valuation(
        pledge_id=pledge.pledge_id,
        outstanding=pledge.outstanding,
        market_value=mv_total,
        lending_value=lv_total,
        ltv=ltv,
        status=status_for(pledge.outstanding, mv_total, pledge.terms),
        shortfall=max(Decimal("0.00"), pledge.outstanding - lv_total),
        lines=tuple(lines),
    )


def revalue(
    pledges: Iterable[Pledge],
    marks: Mapping[str, Decimal],
    previous: Mapping[str, PledgeStatus] | None = None,
) -> tuple[list[Valuation], list[StatusChange]]:
    """Re-evaluate every pledge at new marks; report the pledges whose status changed
    (a pledge never seen before counts as a change)."""
    ps = list(pledges)
    _check_marks(ps, marks)
    prev = previous or {}
    vals = [value_pledge(p, marks) for p in ps]
    changes = [
        StatusChange(v.pledge_id, prev.get(v.pledge_id), v.status)
        for v in vals
        if prev.get(v.pledge_id) != v.status
    ]
    return vals, changes


def top_up_quantity(pledge: Pledge, commodity: str, marks: Mapping[str, Decimal]) -> Decimal:
    """Least tonnes of `commodity` (whole kilograms) whose pledging brings outstanding within
    the lending value; 0 when already covered."""
    h = pledge.holding(commodity)
    base_kg = int(h.quantity_t * 1000)

    def cured(extra_kg: int) -> bool:
        q = Decimal(base_kg + extra_kg) / 1000
        return value_pledge(pledge.with_quantity(commodity, q), marks).shortfall == 0

    if cured(0):
        return Decimal("0.000")
    if marks[commodity] * (1 - h.haircut) <= 0:
        raise ValuationError(f"{commodity} lends nothing at its mark: cannot cure with it")
    hi = 1
    while not cured(hi):  # lending value grows without bound in the quantity
        hi *= 2
        if base_kg + hi > _MAX_QTY_KG:
            raise ValuationError(f"no quantity of {commodity} within range cures the shortfall")
    lo = hi // 2  # cured(lo) is False (or lo == 0, known False)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cured(mid):
            hi = mid
        else:
            lo = mid
    return (Decimal(hi) / 1000).quantize(QTY_STEP)


def releasable_quantity(pledge: Pledge, commodity: str, marks: Mapping[str, Decimal]) -> Decimal:
    """Most tonnes of `commodity` (whole kilograms) that may leave while the line stays at its
    minimum stock and outstanding stays within the lending value."""
    h = pledge.holding(commodity)
    have_kg = int(h.quantity_t * 1000)
    cap_kg = max(0, have_kg - int(h.min_quantity_t * 1000))

    def safe(out_kg: int) -> bool:
        q = Decimal(have_kg - out_kg) / 1000
        v = value_pledge(pledge.with_quantity(commodity, q), marks)
        return v.outstanding <= v.lending_value

    if cap_kg == 0 or not safe(0):
        return Decimal("0.000")
    if safe(cap_kg):
        return (Decimal(cap_kg) / 1000).quantize(QTY_STEP)
    lo, hi = 0, cap_kg  # safe(lo), not safe(hi): lending value only falls as stock leaves
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if safe(mid):
            lo = mid
        else:
            hi = mid
    return (Decimal(lo) / 1000).quantize(QTY_STEP)


def check_release(
    pledge: Pledge, commodity: str, quantity_t: Decimal, marks: Mapping[str, Decimal]
) -> ReleaseCheck:
    """May `quantity_t` of `commodity` leave? Reasons say why not."""
    _check_places(quantity_t, QTY_STEP, "release quantity")
    if quantity_t <= 0:
        raise ValuationError("release quantity must be positive")
    h = pledge.holding(commodity)
    reasons: list[str] = []
    if quantity_t > h.quantity_t:
        reasons.append(f"only {h.quantity_t} t of {commodity} pledged")
        left = Decimal("0.000")
    else:
        left = h.quantity_t - quantity_t
    if left < h.min_quantity_t:
        reasons.append(
            f"{commodity} would fall to {left} t, under the minimum {h.min_quantity_t} t"
        )
    after = value_pledge(pledge.with_quantity(commodity, left), marks)
    if after.outstanding > after.lending_value:
        reasons.append(
            f"outstanding {after.outstanding} would exceed lending value {after.lending_value}"
        )
    return ReleaseCheck(not reasons, tuple(reasons), after)


# --------------------------------------------------------------------------- vectorised path


@dataclass(frozen=True)
class PledgeBook:
    """Every client's pledges as int64 arrays: fen, kilograms and basis points."""

    pledge_ids: tuple[str, ...]
    commodities: tuple[str, ...]
    outstanding_fen: I64  # [P]
    warning_bp: I64  # [P]
    margin_call_bp: I64  # [P]
    liquidation_bp: I64  # [P]; 0 = no liquidation line
    line_pledge: I64  # [L] index into pledge_ids
    line_commodity: I64  # [L] index into commodities
    line_qty_kg: I64  # [L]
    line_haircut_bp: I64  # [L]
    line_min_kg: I64  # [L]

    @classmethod
    def from_pledges(cls, pledges: Sequence[Pledge]) -> PledgeBook:
        commodities = sorted({h.commodity for p in pledges for h in p.holdings})
        cix = {c: i for i, c in enumerate(commodities)}
        lp: list[int] = []
        lc: list[int] = []
        lq: list[int] = []
        lh: list[int] = []
        lm: list[int] = []
        for i, p in enumerate(pledges):
            for h in p.holdings:
                lp.append(i)
                lc.append(cix[h.commodity])
                lq.append(int(h.quantity_t * 1000))
                lh.append(int(h.haircut * BP))
                lm.append(int(h.min_quantity_t * 1000))

        def arr(v: Iterable[int]) -> I64:
            return np.fromiter(v, dtype=np.int64)

        return cls(
            pledge_ids=tuple(p.pledge_id for p in pledges),
            commodities=tuple(commodities),
            outstanding_fen=arr(int(p.outstanding * 100) for p in pledges),
            warning_bp=arr(int(p.terms.warning_ltv * BP) for p in pledges),
            margin_call_bp=arr(int(p.terms.margin_call_ltv * BP) for p in pledges),
            liquidation_bp=arr(
                int(p.terms.liquidation_ltv * BP) if p.terms.liquidation_ltv else 0 for p in pledges
            ),
            line_pledge=arr(lp),
            line_commodity=arr(lc),
            line_qty_kg=arr(lq),
            line_haircut_bp=arr(lh),
            line_min_kg=arr(lm),
        )

    def prices_fen(self, marks: Mapping[str, Decimal]) -> I64:
        missing = [c for c in self.commodities if c not in marks]
        if missing:
            raise ValuationError(f"no price mark for {', '.join(missing)}")
        for c in self.commodities:
            _check_places(marks[c], CENT, f"price of {c}")
            if not 0 <= marks[c] * 100 <= _MAX_PRICE_FEN:
                raise ValuationError(f"price of {c} out of range")
        return np.array([int(marks[c] * 100) for c in self.commodities], dtype=np.int64)


@dataclass(frozen=True)
class BookValuation:
    market_value_fen: I64
    lending_value_fen: I64
    ltv_bp: I64  # half-up to the basis point; -1 where nothing is valued
    status: npt.NDArray[np.int8]  # PledgeStatus values
    shortfall_fen: I64
    below_minimum: npt.NDArray[np.bool_]  # any line under its minimum stock

    def valuation(self, book: PledgeBook, i: int) -> Valuation:
        """One pledge's figures as Decimals (without line detail)."""
        ltv = None if self.ltv_bp[i] < 0 else Decimal(int(self.ltv_bp[i])) / BP
        return Valuation(
            pledge_id=book.pledge_ids[i],
            outstanding=_fen(int(book.outstanding_fen[i])),
            market_value=_fen(int(self.market_value_fen[i])),
            lending_value=_fen(int(self.lending_value_fen[i])),
            ltv=ltv.quantize(RATE_STEP) if ltv is not None else None,
            status=PledgeStatus(int(self.status[i])),
            shortfall=_fen(int(self.shortfall_fen[i])),
        )


def revalue_book(book: PledgeBook, marks: Mapping[str, Decimal]) -> BookValuation:
    """The Decimal path's figures for every pledge at once, exactly, in int64."""
    price = book.prices_fen(marks)
    n = len(book.pledge_ids)
    # qty_kg × price_fen / 1000 is the line value in fen; +500 // 1000 rounds half up.
    line_mv = (book.line_qty_kg * price[book.line_commodity] + 500) // 1000
    line_lv = (line_mv * (BP - book.line_haircut_bp) + BP // 2) // BP
    mv = np.zeros(n, dtype=np.int64)
    lv = np.zeros(n, dtype=np.int64)
    np.add.at(mv, book.line_pledge, line_mv)
    np.add.at(lv, book.line_pledge, line_lv)
    if n and int(mv.max()) > _MAX_BOOK_MV_FEN:
        # line_bp × MV must stay inside int64; such a pledge goes through value_pledge.
        raise ValuationError("a pledge is too large for the int64 path")
    below = np.zeros(n, dtype=bool)
    np.logical_or.at(below, book.line_pledge, book.line_qty_kg < book.line_min_kg)
    o = book.outstanding_fen
    scaled = o * BP
    status = np.zeros(n, dtype=np.int8)
    owes = o > 0
    status[owes & (scaled >= book.warning_bp * mv)] = PledgeStatus.WARNING
    status[owes & (scaled >= book.margin_call_bp * mv)] = PledgeStatus.MARGIN_CALL
    liq = owes & (book.liquidation_bp > 0) & (scaled >= book.liquidation_bp * mv)
    status[liq] = PledgeStatus.LIQUIDATION
    safe_mv = np.where(mv > 0, mv, 1)
    ltv = np.where(mv > 0, (2 * scaled + safe_mv) // (2 * safe_mv), -1)
    return BookValuation(mv, lv, ltv, status, np.maximum(o - lv, 0), below)


def worsened(before: npt.NDArray[np.int8], after: npt.NDArray[np.int8]) -> I64:
    """Indices of pledges whose status got worse: the ones to raise alarms for."""
    return np.flatnonzero(after > before).astype(np.int64)


# --------------------------------------------------------------------------- helpers


def _fen(v: int) -> Decimal:
    return (Decimal(v) / 100).quantize(CENT)


def _check_places(v: Decimal, step: Decimal, what: str) -> None:
    if not isinstance(v, Decimal):
        raise ValuationError(f"{what} must be a Decimal, not {type(v).__name__}")
    if not v.is_finite() or v != v.quantize(step, rounding=ROUND_FLOOR):
        raise ValuationError(f"{what} {v} must be a finite multiple of {step}")


def _check_marks(pledges: Iterable[Pledge], marks: Mapping[str, Decimal]) -> None:
    needed = sorted({h.commodity for p in pledges for h in p.holdings})
    missing = [c for c in needed if c not in marks]
    if missing:
        raise ValuationError(f"no price mark for {', '.join(missing)}")
    for c in needed:
        _check_places(marks[c], CENT, f"price of {c}")
        if marks[c] < 0 or marks[c] * 100 > _MAX_PRICE_FEN:
            raise ValuationError(f"price of {c} out of range")
