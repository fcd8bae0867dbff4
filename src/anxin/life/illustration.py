"""Policy illustration (利益演示): one row per policy year, as an agent shows a customer.

Per policy year t: age at the start of the year, premium paid in the year, cumulative
premiums, effective sum assured SA_t, death benefit, cash value at the year end, and the
surrender return: the annual internal rate of return (IRR) of paying the premiums at the
start of each year and receiving the cash value on surrender at the end of year t.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from anxin.life.product import Policy

FloatArray = NDArray[np.float64]

CSV_HEADER: tuple[str, ...] = (
    "policy_year",
    "age",
    "premium",
    "cumulative_premium",
    "sum_assured",
    "death_benefit",
    "cash_value",
    "surrender_irr",
)
"""CSV column names; docs/life.md gives the Chinese labels (保单年度, 年龄, 保费, ...)."""


@dataclass(frozen=True)
class IllustrationRow:
    policy_year: int
    age: int
    premium: Decimal
    cumulative_premium: Decimal
    sum_assured: Decimal
    death_benefit: Decimal
    cash_value: Decimal
    surrender_irr: float | None  # None where no rate solves the equation (cash value 0)


def surrender_irr(premiums: Sequence[float], value: float) -> float | None:
    """Annual IRR r with sum_k P_k (1+r)^(t-k) = value, premiums at times k = 0..t-1.

    The accumulated premiums are increasing in r, so bisection on the log scale is safe;
    returns None when the value is zero (a total loss has no finite rate).
    """
    p = np.asarray(premiums, dtype=np.float64)
    t = p.size
    if value <= 0.0 or t == 0 or not np.any(p > 0):
        return None
    times = t - np.arange(t, dtype=np.float64)

    def excess(r: float) -> float:
        return float(np.sum(p * (1.0 + r) ** times)) - value

    lo, hi = -0.999999, 1.0
    while excess(hi) < 0.0 and hi < 1e6:
        hi *= 2.0
    if excess(lo) > 0.0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0.0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def illustrate(policy: Policy, years: int | None = None) -> list[IllustrationRow]:
    """Rows for policy years 1..years (default: to the end of the mortality table)."""
    last = policy.basis.table.max_age - policy.issue_age + 1
    span = last if years is None else max(1, min(years, last))
    premium = policy.gross_premium
    rows: list[IllustrationRow] = []
    paid_flows: list[float] = []
    cumulative = Decimal(0)
    for year in range(1, span + 1):
        due = premium if year <= policy.pay_term else Decimal(0)
        cumulative += due
        paid_flows.append(float(due))
        cash_value = policy.cash_value(year)
        rows.append(
            IllustrationRow(
                policy_year=year,
                age=policy.issue_age + year - 1,
                premium=due,
                cumulative_premium=cumulative,
                sum_assured=policy.effective_sum_assured(year),
                death_benefit=policy.death_benefit(year),
                cash_value=cash_value,
                surrender_irr=surrender_irr(paid_flows, float(cash_value)),
            )
        )
    return rows


def to_csv(rows: Sequence[IllustrationRow]) -> str:
    """CSV text with a header line; IRR as a decimal fraction to 6 places, blank if none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        data = asdict(row)
        irr = data["surrender_irr"]
        data["surrender_irr"] = "" if irr is None else f"{irr:.6f}"
        writer.writerow([data[name] for name in CSV_HEADER])
    return out.getvalue()
