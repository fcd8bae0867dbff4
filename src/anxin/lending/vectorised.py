"""Many loans at once with numpy: the bulk path beside the Decimal engine.

For portfolios (the bench's 1,000,000 loans, a risk view's revaluation) building a `Schedule`
per loan in Decimal is too slow. Here plain monthly annuities in arrears (the `schedule` engine
with `Method.ANNUITY`, no day count, no grace, fees or profile) are computed period by period
across all loans at once:

* amounts are integer fen (int64); the rate is in basis points, so a period's interest,
  balance × bp / 120000 fen, is rounded half up *exactly* in integers, as the Decimal engine
  rounds it;
* only the level instalment comes from float64 (the annuity formula), rounded half up to the
  fen; it can differ from the Decimal engine by one fen when the exact value lies within float
  error of a half fen. Tests and the bench compare the two on samples and count such loans.

Rates are solved the same way: Newton's method on every loan at once, with bisection for any
loan that does not converge (tolerance as in `rates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from anxin.lending.rates import TOLERANCE

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_BP_PER_MONTH = 120_000  # basis points × 12 months: monthly rate = bp / 120000


def level_instalment(principal_fen: IntArray, rate_bp: IntArray, periods: IntArray) -> IntArray:
    """The annuity instalment in fen, rounded half up (float64 formula)."""
    p = principal_fen.astype(np.float64)
    r = rate_bp.astype(np.float64) / _BP_PER_MONTH
    n = periods.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(r > 0, p * r / -np.expm1(-n * np.log1p(r)), p / n)
    rounded: IntArray = np.floor(raw + 0.5).astype(np.int64)
    return rounded


@dataclass(frozen=True)
class Schedules:
    """Per loan (rows) and period (columns, padded with zeros past each loan's term)."""

    instalment: IntArray
    principal: IntArray
    interest: IntArray

    @property
    def total_interest(self) -> IntArray:
        total: IntArray = self.interest.sum(axis=1)
        return total


def annuity_schedules(principal_fen: IntArray, rate_bp: IntArray, periods: IntArray) -> Schedules:
    """Monthly annuity schedules of many loans; the last instalment absorbs the remainder."""
    count, longest = len(principal_fen), int(periods.max())
    level = level_instalment(principal_fen, rate_bp, periods)
    balance = principal_fen.astype(np.int64).copy()
    principal = np.zeros((count, longest), dtype=np.int64)
    interest = np.zeros((count, longest), dtype=np.int64)
    for k in range(longest):
        active = k < periods
        due = (2 * balance * rate_bp + _BP_PER_MONTH) // (2 * _BP_PER_MONTH)
        part = np.where(k == periods - 1, balance, np.minimum(level - due, balance))
        part = np.where(active, part, 0)
        interest[:, k] = np.where(active, due, 0)
        principal[:, k] = part
        balance -= part
    return Schedules(level, principal, interest)


def annuity_rates(net_advance: FloatArray, payment: FloatArray, periods: IntArray) -> FloatArray:
    """The per-period rate i with net_advance = payment × (1 − (1 + i)^−n) / i, for each loan
    (payments in arrears; the APR of such a loan is 12 i, monthly)."""
    n = periods.astype(np.float64)
    # A start from the flat-rate approximation converges in a few Newton steps; each step
    # works only on the loans not yet converged.
    rate = np.maximum(2 * (payment * n - net_advance) / (net_advance * (n + 1)), 1e-6)
    todo = np.arange(len(rate))
    for _ in range(50):
        r = rate[todo]
        value, slope = _annuity_npv(r, net_advance[todo], payment[todo], n[todo])
        step = value / slope
        new = r - step
        ok = np.isfinite(new) & (new > -1)
        rate[todo[ok]] = new[ok]
        todo = todo[~ok | (np.abs(step) >= TOLERANCE)]
        if not len(todo):
            return rate
    rate[todo] = _bisect(net_advance[todo], payment[todo], n[todo])
    return rate


def _annuity_npv(
    rate: FloatArray, advance: FloatArray, payment: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    log = -n * np.log1p(rate)
    growth = np.exp(log)  # (1 + i)^−n
    annuity = -np.expm1(log) / rate
    value = payment * annuity - advance
    slope = payment * (n * growth / (1 + rate) - annuity) / rate
    return value, slope


def _bisect(advance: FloatArray, payment: FloatArray, n: FloatArray) -> FloatArray:
    lo = np.full(len(advance), 1e-12)
    hi = np.ones(len(advance))
    for _ in range(200):
        mid = (lo + hi) / 2
        above = _annuity_npv(mid, advance, payment, n)[0] > 0  # rate still too low
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if float(np.max(hi - lo)) < TOLERANCE:
            break
    return (lo + hi) / 2


def lease_schedules(
    principal_fen: IntArray,
    rate_bp: IntArray,
    periods: IntArray,
    residual_fen: IntArray,
    advance: npt.NDArray[np.bool_],
) -> Schedules:
    """Monthly equal-rent leases (the `schedule` engine with `Method.ANNUITY`, a balloon and
    either timing) for many contracts at once; columns are payment events.

    In arrears the residual is paid with the last rent (n events); in advance the first rent
    is at the start, all principal, and the residual one period after the last rent (n + 1
    events), as the Decimal engine does. The level rent is (P − B vⁿ) / a, with a the annuity
    factor of the timing; float64, rounded half up to the fen (see the module's note).
    """
    count = len(principal_fen)
    p = principal_fen.astype(np.float64)
    r = rate_bp.astype(np.float64) / _BP_PER_MONTH
    n = periods.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_n = np.exp(-n * np.log1p(r))
        factor = np.where(r > 0, -np.expm1(-n * np.log1p(r)) / r, n)
        factor = np.where(advance, factor * (1 + r), factor)
        raw = (p - residual_fen * v_n) / factor
    level: IntArray = np.floor(raw + 0.5).astype(np.int64)
    events = periods + advance.astype(np.int64) * (residual_fen > 0)
    longest = int(events.max())
    balance = principal_fen.astype(np.int64).copy()
    principal = np.zeros((count, longest), dtype=np.int64)
    interest = np.zeros((count, longest), dtype=np.int64)
    for k in range(longest):
        active = k < events
        accrues = ~advance | (k > 0)  # a rent in advance at the start carries no interest
        due = np.where(accrues, (2 * balance * rate_bp + _BP_PER_MONTH) // (2 * _BP_PER_MONTH), 0)
        last = k == events - 1
        part = np.where(last, balance, np.minimum(level - due, balance))
        part = np.where(active, part, 0)
        interest[:, k] = np.where(active, due, 0)
        principal[:, k] = part
        balance -= part
    return Schedules(level, principal, interest)
