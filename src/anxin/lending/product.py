"""The small-business loan product the desk sells (pure): its price, its gates, its order.

One product for now, as data: the rate and fees a disclosure shows, the cooling-off period,
the callback's scripted questions, the order a repayment is allocated in and the ageing
buckets of the portfolio. `terms_for` turns an application's amount and term into the
`schedule.Terms` both the disclosure and the disbursed loan are built from, so what the
borrower acknowledged is what the loan repays (the disbursement checks it to the fen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from anxin.lending.allocation import DEFAULT_ORDER, AllocationOrder
from anxin.lending.schedule import Method, Terms


@dataclass(frozen=True)
class Bucket:
    code: str
    low: int  # days past due, inclusive
    high: int | None  # inclusive; None: no upper bound
    zh: str
    en: str

    def holds(self, dpd: int) -> bool:
        return dpd >= self.low and (self.high is None or dpd <= self.high)


@dataclass(frozen=True)
class Question:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Product:
    code: str = "xingyun-sme"
    name_zh: str = "行云小微经营贷"
    name_en: str = "Xingyun small-business loan"
    annual_rate: Decimal = Decimal("0.0720")  # nominal, declining balance
    method: Method = Method.ANNUITY
    upfront_fee_rate: Decimal = Decimal("0.005")  # 0.5 % arrangement fee, netted at payout
    # Default interest on overdue principal: the contract rate plus 50 %, daily at rate / 360.
    penalty_rate: Decimal = Decimal("0.1080")
    # A fee on principal repaid early (a share of it); none on this product, as most Chinese
    # small-business loans now charge none, but a quote shows it when a product has one.
    prepayment_fee_rate: Decimal = Decimal("0")
    cooling_off_days: int = 3  # calendar days after the recording passes QC
    callback_attempts: int = 3  # unreached this many times: escalate to the risk officer
    reminder_days_before: int = 3
    allocation: AllocationOrder = DEFAULT_ORDER
    # Statements required in the dual recording (the officer ticks each with its timestamp).
    recording_statements: tuple[str, ...] = (
        "identity_confirmed",
        "rates_explained",
        "total_cost_explained",
        "schedule_explained",
        "cooling_off_explained",
        "voluntary_confirmed",
    )
    callback_script: tuple[Question, ...] = (
        Question("applied_self", "是否本人申请本笔贷款？", "Did you apply for this loan yourself?"),
        Question(
            "understood_cost",
            "是否清楚年化利率和还款总额？",
            "Do you understand the annual rate and the total to repay?",
        ),
        Question(
            "no_fees_paid",
            "是否向任何人支付过额外费用？（应答“否”）",
            "Have you paid anyone an extra fee? (answer: no)",
        ),
        Question("wants_loan", "是否确认放款？", "Do you confirm you want the money paid out?"),
    )
    buckets: tuple[Bucket, ...] = (
        Bucket("current", 0, 0, "正常", "Current"),
        Bucket("dpd_1_30", 1, 30, "逾期 1–30 天", "1–30 days past due"),
        Bucket("dpd_31_60", 31, 60, "逾期 31–60 天", "31–60 days past due"),
        Bucket("dpd_61_90", 61, 90, "逾期 61–90 天", "61–90 days past due"),
        Bucket("dpd_90_plus", 91, None, "逾期 90 天以上", "over 90 days past due"),
    )

    def upfront_fee(self, amount: Decimal) -> Decimal:
        return (amount * self.upfront_fee_rate).quantize(Decimal("0.01"))

    def terms_for(self, amount: Decimal, term_months: int, start: date) -> Terms:
        return Terms(
            principal=amount,
            annual_rate=self.annual_rate,
            periods=term_months,
            start=start,
            method=self.method,
            upfront_fee=self.upfront_fee(amount),
        )

    def prepayment_fee(self, principal: Decimal) -> Decimal:
        return (principal * self.prepayment_fee_rate).quantize(Decimal("0.01"))

    def bucket_of(self, dpd: int) -> Bucket:
        for bucket in self.buckets:
            if bucket.holds(dpd):
                return bucket
        raise ValueError(f"no bucket holds {dpd} days past due")


PRODUCT = Product()

# Every product a stored loan may name (`LoanAccount.product`), by code.
PRODUCTS: dict[str, Product] = {PRODUCT.code: PRODUCT}


def product_of(code: str) -> Product:
    """A stored loan's product; a code no longer sold still ages by today's default buckets."""
    return PRODUCTS.get(code, PRODUCT)


# The callback answers that let the loan go ahead (the third question wants a "no"); any other
# answer from a reached borrower stops the loan (cancelled, free of charge).
EXPECTED_ANSWERS = {
    "applied_self": True,
    "understood_cost": True,
    "no_fees_paid": False,
    "wants_loan": True,
}
