"""Traceability insurance: policies on a lot or a product, claims decided on ledger evidence.

Two covers: ``food_safety`` (a quality incident on an insured lot) and ``authenticity``
(counterfeit, relabelled or stolen packaging). The premium is by volume, with lower rates per
unit for the bulk. A claim is decided by ``RULES`` (versioned: the decision names its version)
from an evidence bundle gathered on the claim's lot and serials: the EPCIS events anchored on
the ledger, scan anomalies and cross-validation findings. The decision cites each piece of
evidence by its ledger number or row, is itself appended to the ledger, and is deterministic:
the same evidence gives the same outcome, amount and reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ledger.entry import payload_sha256
from anxin.ledger.service import NewEntry, append_entries
from anxin.trace.disclosure import lot_events
from anxin.trace.models import Check, Claim, Lot, Policy, Product, Scan
from anxin.trace.schemas import ClaimCreate, PolicyCreate, SuspiciousReport

RULES = "trace-claims/1"
DECISION_ENTRY = "trace.claim_decision"
INSURERS = frozenset({Role.ADMIN, Role.CLAIMS_HANDLER})
COVERS = ("food_safety", "authenticity")
# Yuan per unit insured, by volume band: (units up to, rate). Bulk is cheaper per unit because
# the fixed cost of underwriting a lot is spread over more bags.
RATES: dict[str, tuple[tuple[int, Decimal], ...]] = {
    "food_safety": ((10_000, Decimal("0.030")), (100_000, Decimal("0.024")), (0, Decimal("0.018"))),
    "authenticity": (
        (10_000, Decimal("0.020")),
        (100_000, Decimal("0.016")),
        (0, Decimal("0.012")),
    ),
}
# What one incident pays, capped by the sum insured.
PER_INCIDENT = {"food_safety": Decimal("5000.00"), "authenticity": Decimal("2000.00")}
CENT = Decimal("0.01")


def premium(cover: str, units: int) -> Decimal:
    """Sum over the volume bands: the first 10,000 units at the top rate, and so on."""
    total, done = Decimal(0), 0
    for upto, rate in RATES[cover]:
        band = (units if upto == 0 else min(units, upto)) - done
        if band <= 0:
            break
        total += band * rate
        done += band
    return total.quantize(CENT, ROUND_HALF_UP)


def _insurer(principal: Principal) -> None:
    if principal.role not in INSURERS:
        raise PermissionDenied("policies and claims are the brand's and the insurer's")


def create_policy(*, uow: UnitOfWork, principal: Principal, data: PolicyCreate) -> Policy:
    _insurer(principal)
    product = uow.session.get(Product, data.product_id)
    if product is None or product.organisation_id != principal.organisation_id:
        raise InvalidInput.field("product_id", "no such product")
    if data.lot_id is not None:
        lot = uow.session.get(Lot, data.lot_id)
        if lot is None or lot.product_id != product.id:
            raise InvalidInput.field("lot_id", "not a lot of this product")
    if data.ends_on <= data.starts_on:
        raise InvalidInput.field("ends_on", "must be after starts_on")
    policy = Policy(
        organisation_id=principal.organisation_id,
        product_id=product.id,
        lot_id=data.lot_id,
        cover=data.cover,
        units=data.units,
        sum_insured=data.sum_insured,
        premium=premium(data.cover, data.units),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_at=uow.now(),
    )
    uow.session.add(policy)
    uow.session.flush()
    return policy


def list_policies(*, session: Session, principal: Principal) -> list[Policy]:
    _insurer(principal)
    stmt = select(Policy).where(Policy.organisation_id == principal.organisation_id)
    return list(session.scalars(stmt.order_by(Policy.created_at, Policy.id)))


def get_policy(*, session: Session, principal: Principal, policy_id: str) -> Policy:
    _insurer(principal)
    policy = session.get(Policy, policy_id)
    if policy is None or policy.organisation_id != principal.organisation_id:
        raise NotFound(f"no policy {policy_id}")
    return policy


def open_claim(*, uow: UnitOfWork, principal: Principal, data: ClaimCreate) -> Claim:
    policy = get_policy(session=uow.session, principal=principal, policy_id=data.policy_id)
    return _open(uow, policy, data.description, data.gtin, data.serial, principal.user_id)


def _open(
    uow: UnitOfWork,
    policy: Policy,
    description: str,
    gtin: str | None,
    serial: str | None,
    by: str | None,
) -> Claim:
    now = uow.now()
    if not policy.starts_on <= now < policy.ends_on:
        raise InvalidInput.field("policy_id", "the policy is not in force")
    claim = Claim(
        policy_id=policy.id,
        cover=policy.cover,
        gtin=gtin,
        serial=serial,
        description=description,
        reported_by=by,
        status="open",
        opened_at=now,
    )
    uow.session.add(claim)
    uow.session.flush()
    return claim


def report_suspicious(*, uow: UnitOfWork, data: SuspiciousReport) -> Claim:
    """A consumer's report of a suspicious bag opens an authenticity case on the brand's cover."""
    session, now = uow.session, uow.now()
    product = session.scalar(select(Product).where(Product.gtin == data.gtin))
    if product is None:
        raise InvalidInput.field("gtin", "not a product of any brand here")
    policies = session.scalars(
        select(Policy)
        .where(
            Policy.product_id == product.id,
            Policy.cover == "authenticity",
            Policy.starts_on <= now,
            Policy.ends_on > now,
        )
        .order_by(Policy.created_at)
    ).all()
    if not policies:
        raise NotFound("the product has no authenticity cover in force")
    return _open(uow, policies[0], data.description, data.gtin, data.serial, None)


def list_claims(*, session: Session, principal: Principal) -> list[Claim]:
    _insurer(principal)
    stmt = (
        select(Claim)
        .join(Policy, Policy.id == Claim.policy_id)
        .where(Policy.organisation_id == principal.organisation_id)
    )
    return list(session.scalars(stmt.order_by(Claim.opened_at, Claim.id)))


def get_claim(*, session: Session, principal: Principal, claim_id: str) -> Claim:
    _insurer(principal)
    claim = session.get(Claim, claim_id)
    policy = session.get(Policy, claim.policy_id) if claim else None
    if claim is None or policy is None or policy.organisation_id != principal.organisation_id:
        raise NotFound(f"no claim {claim_id}")
    return claim


# --- the rule set ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # epcis_event | scan_anomaly | check_fail
    ref: str  # event hash, scan id or check id
    ledger_seq: int | None
    detail: dict[str, Any]

    def cite(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "ledger_seq": self.ledger_seq, **self.detail}


def gather(session: Session, policy: Policy, claim: Claim) -> list[Evidence]:
    """The bundle: the lot's anchored events, then the anomalies the cover is about."""
    lots = (
        [session.get(Lot, policy.lot_id)]
        if policy.lot_id
        else list(session.scalars(select(Lot).where(Lot.product_id == policy.product_id)))
    )
    product = session.get(Product, policy.product_id)
    assert product is not None
    out: list[Evidence] = []
    for lot in lots:
        assert lot is not None
        out += [
            # with its anchor salt: the insurer finds and checks the event's ledger entry
            Evidence(
                "epcis_event",
                e.event_hash,
                e.ledger_seq,
                {"lot": lot.code, "anchor_salt": e.anchor_salt},
            )
            for e in lot_events(session, lot, product)
        ]
    if policy.cover == "authenticity":
        scans = select(Scan).where(
            Scan.gtin == product.gtin,
            Scan.verdict == "suspect",
            Scan.scanned_at >= policy.starts_on,
            Scan.scanned_at <= claim.opened_at,
        )
        if claim.serial:
            scans = scans.where(Scan.serial == claim.serial)
        for scan in session.scalars(scans.order_by(Scan.scanned_at, Scan.id)):
            codes = [f["code"] for f in scan.findings]
            out.append(
                Evidence("scan_anomaly", scan.id, None, {"serial": scan.serial, "findings": codes})
            )
    else:
        lot_ids = [lot.id for lot in lots if lot is not None]
        fails = select(Check).where(Check.lot_id.in_(lot_ids), Check.outcome == "fail")
        for check in session.scalars(fails.order_by(Check.code, Check.subject)):
            out.append(
                Evidence(
                    "check_fail", check.id, None, {"code": check.code, "subject": check.subject}
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # approved | rejected
    amount: Decimal
    reasons: tuple[str, ...]


def decide_on(cover: str, sum_insured: Decimal, evidence: Sequence[Evidence]) -> Decision:
    """The rule set, pure: provenance must be on the ledger; then count the incidents."""
    anchored = [e for e in evidence if e.kind == "epcis_event" and e.ledger_seq is not None]
    if not anchored:
        return Decision("rejected", Decimal("0.00"), ("R1: no anchored EPCIS events for the lot",))
    reasons = [f"R1: {len(anchored)} EPCIS events of the lot anchored on the ledger"]
    if cover == "authenticity":
        incidents = len({e.detail["serial"] for e in evidence if e.kind == "scan_anomaly"})
        what = "serials with scan anomalies"
    else:
        incidents = sum(1 for e in evidence if e.kind == "check_fail")
        what = "failed cross-validation findings"
    if incidents == 0:
        return Decision(
            "rejected", Decimal("0.00"), (*reasons, f"R2: no {what} in the cover period")
        )
    amount = min(sum_insured, PER_INCIDENT[cover] * incidents).quantize(CENT)
    reasons.append(f"R2: {incidents} {what}")
    reasons.append(f"R3: {incidents} x {PER_INCIDENT[cover]} capped at {sum_insured}")
    return Decision("approved", amount, tuple(reasons))


def decide(*, uow: UnitOfWork, principal: Principal, claim_id: str) -> Claim:
    claim = get_claim(session=uow.session, principal=principal, claim_id=claim_id)
    if claim.status != "open":
        raise Conflict(f"claim is {claim.status}, not open")
    policy = uow.session.get(Policy, claim.policy_id)
    assert policy is not None
    evidence = gather(uow.session, policy, claim)
    outcome = decide_on(policy.cover, Decimal(policy.sum_insured), evidence)
    now = uow.now()
    record: dict[str, Any] = {
        "claim": claim.id,
        "rules": RULES,
        "outcome": outcome.outcome,
        "amount": str(outcome.amount),
        "reasons": list(outcome.reasons),
        "evidence": [e.cite() for e in evidence],
        "decided_at": now.isoformat(),
    }
    (seq,) = append_entries(
        session=uow.session,
        entries=[
            NewEntry(DECISION_ENTRY, policy.organisation_id, payload_sha256=payload_sha256(record))
        ],
        now=now,
    )
    claim.decision = record
    claim.decision_seq = seq
    claim.status = outcome.outcome
    claim.amount = outcome.amount
    claim.decided_at = now
    uow.session.flush()
    return claim


def settle(*, uow: UnitOfWork, principal: Principal, claim_id: str) -> Claim:
    claim = get_claim(session=uow.session, principal=principal, claim_id=claim_id)
    if claim.status != "approved":
        raise Conflict(f"only an approved claim is settled (this one is {claim.status})")
    claim.status = "settled"
    claim.settled_at = uow.now()
    uow.session.flush()
    return claim
