"""Quotes and illustrations: pure functions over the product, with errors typed for HTTP.

Nothing here is stored (a quote changes no state), so there is no session; ``today`` is
passed in by the caller from the injected clock.
"""

from __future__ import annotations

from datetime import date

from anxin.core.errors import InvalidInput
from anxin.life.illustration import illustrate, to_csv
from anxin.life.product import Policy, pricing_rate_on, sum_assured_for_premium
from anxin.life.schemas import IllustrationRead, IllustrationRowRead, QuoteRead, QuoteRequest


def build_policy(*, request: QuoteRequest, today: date) -> Policy:
    issue_date = request.issue_date or today
    try:
        rate = request.rate if request.rate is not None else pricing_rate_on(issue_date)
        if request.growth is not None and request.growth > rate:
            raise InvalidInput.field("growth", f"must not exceed the pricing rate {rate}")
        if request.sum_assured is not None:
            sa = request.sum_assured
        else:
            assert request.premium is not None  # the schema guarantees one of the two
            sa = sum_assured_for_premium(
                request.issue_age,
                request.sex,
                request.pay_term,
                request.premium,
                issue_date,
                request.growth,
                table=request.table,
                rate=request.rate,
                mode=request.mode,
            )
        return Policy(
            issue_age=request.issue_age,
            sex=request.sex,
            pay_term=request.pay_term,
            sum_assured=sa,
            issue_date=issue_date,
            growth=request.growth,
            table=request.table,
            rate=request.rate,
            mode=request.mode,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def quote(*, request: QuoteRequest, today: date) -> QuoteRead:
    policy = build_policy(request=request, today=today)
    return _quote_of(policy)


def _quote_of(policy: Policy) -> QuoteRead:
    gross = policy.gross_premium
    return QuoteRead(
        issue_age=policy.issue_age,
        sex=policy.sex,
        pay_term=policy.pay_term,
        issue_date=policy.issue_date,
        table=policy.basis.table.name,
        pricing_rate=policy.pricing_rate,
        growth=policy.g,
        sum_assured=policy.sum_assured,
        net_premium=policy.net_premium,
        gross_premium=gross,
        mode=policy.mode,
        instalment=policy.instalment,
        total_premiums=gross * policy.pay_term,
    )


def illustration(*, request: QuoteRequest, today: date) -> IllustrationRead:
    policy = build_policy(request=request, today=today)
    rows = illustrate(policy, request.years)
    return IllustrationRead(
        quote=_quote_of(policy),
        rows=[
            IllustrationRowRead(
                policy_year=r.policy_year,
                age=r.age,
                premium=r.premium,
                cumulative_premium=r.cumulative_premium,
                sum_assured=r.sum_assured,
                death_benefit=r.death_benefit,
                cash_value=r.cash_value,
                surrender_irr=r.surrender_irr,
            )
            for r in rows
        ],
    )


def illustration_csv(*, request: QuoteRequest, today: date) -> str:
    policy = build_policy(request=request, today=today)
    return to_csv(illustrate(policy, request.years))
