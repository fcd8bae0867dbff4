"""The time value of the increasing whole-life guarantee under stochastic interest rates.

Each policy is projected year by year under every Hull–White scenario: deaths by the
mortality table, then surrenders among the survivors at a rate that rises when the market
rate (the scenario's ``market_tenor_years`` zero rate at the start of the year) exceeds the
policy's guaranteed rate, and falls when it is below (policyholders keep a guarantee worth
more than the market offers). Cash flows are the contract's own (gross premiums in advance,
the death benefit and the cash value paid at the year end, as in ``life.product``), each
discounted with the scenario's bank account.

TVOG = mean over scenarios of the present value of the liability − the same present value on
the deterministic scenario (σ = 0: forward rates realised, surrenders at the forward market
rate). With fixed guaranteed amounts only the policyholders' option to surrender at a
guaranteed value makes the difference, which is what this measures. It is estimated with
the static-surrender projection on the same paths as a control variate (its mean is known
exactly: fixed flows under a martingale discount), which removes the discounting noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from anxin.life.product import Policy
from anxin.life.scenarios import HullWhite, Scenarios

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LapseBasis:
    """Surrender rate = base(policy year) × clip(1 + sensitivity × (market − guaranteed))."""

    name: str
    base_by_policy_year: tuple[float, ...]
    sensitivity: float
    floor: float
    cap: float
    market_tenor_years: float

    def __post_init__(self) -> None:
        if not self.base_by_policy_year or any(not 0 <= b < 1 for b in self.base_by_policy_year):
            raise ValueError("base surrender rates must lie in [0, 1)")
        if not 0 <= self.floor <= 1 <= self.cap or self.sensitivity < 0:
            raise ValueError("need 0 <= floor <= 1 <= cap and a non-negative sensitivity")
        if self.market_tenor_years <= 0:
            raise ValueError("the market rate's tenor must be positive")

    def base(self, years: int) -> FloatArray:
        """Base rates for policy years 1..years (the last given rate continues)."""
        given = np.asarray(self.base_by_policy_year, dtype=np.float64)
        return np.asarray(given[np.minimum(np.arange(years), given.size - 1)], dtype=np.float64)

    def rates(self, policy_year: int, market: FloatArray, guaranteed: float) -> FloatArray:
        multiplier = np.clip(1 + self.sensitivity * (market - guaranteed), self.floor, self.cap)
        return np.asarray(
            np.minimum(self.base(policy_year)[-1] * multiplier, 1.0), dtype=np.float64
        )


@cache
def default_lapse_basis() -> LapseBasis:
    raw = json.loads(resources.files("anxin.life.data").joinpath("dynamic_lapse.json").read_text())
    raw.pop("source")
    raw["base_by_policy_year"] = tuple(raw["base_by_policy_year"])
    return LapseBasis(**raw)


@dataclass(frozen=True)
class ContractFlows:
    """Per policy year t = 1..T: premium at the start, death benefit and cash value at the end."""

    premium: FloatArray
    death_benefit: FloatArray
    cash_value: FloatArray
    q: FloatArray
    guaranteed_rate: float


def contract_flows(policy: Policy, horizon: int | None = None) -> ContractFlows:
    """The guaranteed amounts of one policy, year by year to the end of the table."""
    table = policy.basis.table
    years = table.max_age + 1 - policy.issue_age if horizon is None else horizon
    t = np.arange(1, years + 1)
    premium = np.where(t <= policy.pay_term, float(policy.gross_premium), 0.0)
    death = np.array([float(policy.death_benefit(int(y))) for y in t])
    cash = np.array([float(policy.cash_value(int(y))) for y in t])
    q = np.asarray(table.qx(policy.issue_age + t - 1), dtype=np.float64)
    return ContractFlows(premium, death, cash, q, float(policy.pricing_rate))


def _effective(continuous: FloatArray) -> FloatArray:
    return np.asarray(np.expm1(continuous), dtype=np.float64)


def market_rates(paths: Scenarios, lapse: LapseBasis, years: int) -> FloatArray:
    """The annual-effective market rate at the start of each policy year, per path."""
    if paths.times.size < years:
        raise ValueError("the scenarios are shorter than the projection")
    tenor = lapse.market_tenor_years
    today = float(-np.log(paths.model.curve.discount(tenor)) / tenor)
    columns = [np.full(paths.count, today)]
    columns += [paths.zero_rate(k, tenor) for k in range(years - 1)]
    return np.asarray(np.expm1(np.stack(columns, axis=1)), dtype=np.float64)


def present_values(
    flows: ContractFlows, discount: FloatArray, market: FloatArray, lapse: LapseBasis
) -> FloatArray:
    """PV at issue of (benefits − premiums) for one policy on every path (rows of
    ``discount``: D(1..T); of ``market``: the market rate at the start of years 1..T)."""
    n = discount.shape[0]
    inforce = np.ones(n)
    value = np.zeros(n)
    discount_start = np.ones(n)
    for k in range(flows.premium.size):
        surrender = lapse.rates(k + 1, market[:, k], flows.guaranteed_rate)
        deaths = inforce * flows.q[k]
        surrenders = (inforce - deaths) * surrender
        discount_end = discount[:, k]
        value += (deaths * flows.death_benefit[k] + surrenders * flows.cash_value[k]) * discount_end
        value -= inforce * flows.premium[k] * discount_start
        inforce = inforce - deaths - surrenders
        discount_start = discount_end
    return value


@dataclass(frozen=True)
class GuaranteeValue:
    deterministic_pv: float
    stochastic_pv: float
    tvog: float
    standard_error: float
    scenarios: int
    samples: FloatArray = field(repr=False, compare=False)

    @property
    def interval95(self) -> tuple[float, float]:
        half = 1.959964 * self.standard_error
        return (self.tvog - half, self.tvog + half)


def value_guarantee(
    policies: list[Policy],
    model: HullWhite,
    scenarios: int,
    seed: int,
    lapse: LapseBasis = default_lapse_basis(),
) -> tuple[GuaranteeValue, list[GuaranteeValue]]:
    """The portfolio's TVOG and each policy's, on one common set of antithetic scenarios."""
    if scenarios < 2 or scenarios % 2:
        raise ValueError("an even number of scenarios (antithetic pairs), at least two")
    if not policies:
        raise ValueError("no policies to value")
    flows = [contract_flows(p) for p in policies]
    horizon = max(f.premium.size for f in flows)
    grid = list(range(1, horizon + 1))
    paths = model.simulate(scenarios, grid, seed=seed, antithetic=True)
    certain = HullWhite(model.curve, a=model.a, sigma=0.0).simulate(1, grid, seed=seed)
    market = market_rates(paths, lapse, horizon)
    certain_market = market_rates(certain, lapse, horizon)
    static_market = np.broadcast_to(certain_market, market.shape)
    singles: list[GuaranteeValue] = []
    for f in flows:
        years = f.premium.size
        deterministic = float(
            present_values(f, certain.discount, certain_market[:, :years], lapse)[0]
        )
        dynamic = present_values(f, paths.discount, market[:, :years], lapse)
        # Control variate: with surrenders fixed at the deterministic path the flows are
        # fixed, so their mean PV is exactly the deterministic one; the difference path by
        # path is the guarantee's time value with the discounting noise taken out.
        static = present_values(f, paths.discount, static_market[:, :years], lapse)
        singles.append(_summary(dynamic - static, deterministic))
    total = _summary(
        np.sum([s.samples for s in singles], axis=0), sum(s.deterministic_pv for s in singles)
    )
    return total, singles


def _summary(excess: FloatArray, deterministic: float) -> GuaranteeValue:
    half = excess.size // 2
    pair_means = (excess[:half] + excess[half:]) / 2  # antithetic pairs are independent draws
    stderr = float(pair_means.std(ddof=1) / np.sqrt(half)) if half > 1 else float("nan")
    tvog = float(excess.mean())
    return GuaranteeValue(
        deterministic_pv=deterministic,
        stochastic_pv=deterministic + tvog,
        tvog=tvog,
        standard_error=stderr,
        scenarios=int(excess.size),
        samples=excess,
    )
