"""Finance leases: quotes, contracts, their lifecycle, rents received and title transfer.
Services flush, never commit.

Who sees what: the lessor's staff (lessor and admin roles of the organisation that owns the
contract) see and act on its contracts; the lessee's own account (`lessee_user_id`) sees its
contract, statement and buy-out quote; anyone else gets a 404 and an empty list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from anxin.core.clock import to_local
from anxin.core.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.owners import OwnerLink
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.iot.schemas import DeviceCreate
from anxin.iot.service import register_device
from anxin.leasing import arrears, finance, lifecycle
from anxin.leasing.finance import DEFAULT_VAT, LeaseTerms, RentMethod
from anxin.leasing.lifecycle import IllegalMove, Stage
from anxin.leasing.models import LeaseAsset, LeaseContract, RentPayment
from anxin.leasing.schemas import ContractCreate, RentTerms, ScheduleRow
from anxin.ledger.service import append_entry
from anxin.lending.rates import NoRateError
from anxin.lending.schedule import Frequency, Kind, Schedule
from anxin.people.service import user_by_id

LESSOR_ROLES = frozenset({Role.LESSOR, Role.ADMIN})
_RATE_PLACES = Decimal("1e-12")


def lease_terms(data: RentTerms, cost: Decimal) -> LeaseTerms:
    """The lease's terms from a request, with the rate solved from the rent when the rent is
    given; every rule across fields is a 422 naming its field."""
    if (data.annual_rate is None) == (data.rent is None):
        raise InvalidInput.field(
            "annual_rate", "give either the rate or the rent, not both", code="lease_rate_or_rent"
        )
    if data.down_payment >= cost:
        raise InvalidInput.field(
            "down_payment", "must be less than the cost", code="lease_below_cost"
        )
    if data.residual >= cost - data.down_payment:
        raise InvalidInput.field(
            "residual", "must be less than the amount financed", code="lease_below_financed"
        )
    if data.method in (RentMethod.STEPPED, RentMethod.SEASONAL) and not data.profile:
        raise InvalidInput.field(
            "profile", "stepped and seasonal rent need weights", code="lease_weights_needed"
        )
    if data.profile and sum(data.profile) <= 0:
        raise InvalidInput.field(
            "profile", "the weights must not all be zero", code="lease_weights_zero"
        )
    frequency = Frequency(months=data.frequency_months)
    life = _useful_life_periods(data.useful_life_months, data.frequency_months, data.periods)
    rate = data.annual_rate
    if rate is None:
        assert data.rent is not None
        if data.method is RentMethod.EQUAL_PRINCIPAL:
            raise InvalidInput.field(
                "rent", "a rate is needed for equal principal", code="lease_rate_needed"
            )
        try:
            solved = finance.implicit_rate(
                financed=cost - data.down_payment,
                rent=data.rent,
                periods=data.periods,
                timing=data.timing,
                residual=data.residual,
                per_year=frequency.per_year,
                profile=data.profile,
            )
        except NoRateError:
            raise InvalidInput.field(
                "rent",
                "no rate makes these rents repay the amount financed",
                code="lease_no_rate_fits",
            ) from None
        if not 0 <= solved <= 1:
            raise InvalidInput.field(
                "rent", "the rate implied is outside 0–100 % a year", code="lease_rate_out_of_range"
            )
        rate = Decimal(repr(solved)).quantize(_RATE_PLACES)
    try:
        return LeaseTerms(
            cost=cost,
            annual_rate=rate,
            periods=data.periods,
            start=data.start,
            down_payment=data.down_payment,
            residual=data.residual,
            timing=data.timing,
            method=data.method,
            profile=tuple(data.profile) if data.profile else None,
            frequency=frequency,
            kind=data.kind,
            handling_fee=data.handling_fee,
            vat_rate=DEFAULT_VAT[data.kind] if data.vat else None,
            useful_life_periods=life,
        )
    except ValueError as e:
        raise InvalidInput.field("body", str(e)) from None


def _useful_life_periods(months: int | None, frequency_months: int, periods: int) -> int | None:
    """The useful life in lease periods (the right-of-use asset is depreciated per period)."""
    if months is None:
        return None
    if months % frequency_months:
        raise InvalidInput.field(
            "useful_life_months",
            f"must be a whole number of {frequency_months}-month periods",
            code="lease_whole_periods",
            months=str(frequency_months),
        )
    if months < periods * frequency_months:
        raise InvalidInput.field(
            "useful_life_months", "must be at least the lease term", code="lease_life_below_term"
        )
    return months // frequency_months


def build_schedule(terms: LeaseTerms) -> Schedule:
    try:
        return finance.schedule(terms)
    except ValueError as e:  # e.g. a profile with no weight on any period
        raise InvalidInput.field("profile", str(e)) from None


def schedule_rows(
    terms: LeaseTerms, plan: Schedule, position: arrears.Position | None = None
) -> list[ScheduleRow]:
    """The rent schedule, with what has been paid on each rent and its penalty owed when the
    lease's position is given."""
    rows = []
    for n, i in enumerate(plan.instalments):
        vat = finance.vat_of(terms, i.principal, i.interest)
        rent = i.principal + i.interest
        state = position.rows[n] if position is not None else None
        rows.append(
            ScheduleRow(
                number=i.number,
                due=i.due,
                principal=i.principal,
                interest=i.interest,
                rent=rent,
                vat=vat,
                total=rent + vat,
                balance=i.balance,
                residual=i.kind is Kind.RESIDUAL,
                paid=state is not None and state.settled,
                paid_amount=state.paid_amount if state is not None else Decimal(0),
                penalty=position.penalty(state) if position and state else Decimal(0),
            )
        )
    return rows


def dues_of(terms: LeaseTerms, plan: Schedule) -> list[arrears.RentDue]:
    return [
        arrears.RentDue(
            i.number, i.due, i.principal, i.interest, finance.vat_of(terms, i.principal, i.interest)
        )
        for i in plan.instalments
    ]


# --- contracts --------------------------------------------------------------------------------


def _require_lessor(principal: Principal, what: str) -> None:
    if principal.role not in LESSOR_ROLES:
        raise PermissionDenied(f"only the lessor's staff may {what}")


def create_contract(
    *, uow: UnitOfWork, principal: Principal, data: ContractCreate
) -> LeaseContract:
    _require_lessor(principal, "write a lease")
    session, now, org = uow.session, uow.now(), principal.organisation_id
    cost = sum((a.cost for a in data.assets), Decimal(0))
    terms = lease_terms(data, cost)
    build_schedule(terms)  # refuse terms the core cannot schedule before storing them
    if (
        data.lessee_user_id is not None
        and user_by_id(session=session, user_id=data.lessee_user_id) is None
    ):
        raise InvalidInput.field("lessee_user_id", "no such user", code="lease_no_such_user")
    taken = session.scalar(
        select(LeaseContract.id).where(
            LeaseContract.organisation_id == org, LeaseContract.reference == data.reference
        )
    )
    if taken is not None:
        raise InvalidInput.field(
            "reference", "already used by another lease", code="lease_reference_taken"
        )
    contract = LeaseContract(
        organisation_id=org,
        reference=data.reference,
        kind=data.kind,
        stage=Stage.QUOTE,
        lessee_name=data.lessee_name,
        lessee_credit_code=data.lessee_credit_code,
        lessee_user_id=data.lessee_user_id,
        vendor_name=data.vendor_name,
        cost=cost,
        down_payment=data.down_payment,
        annual_rate=terms.annual_rate,
        periods=data.periods,
        frequency_months=data.frequency_months,
        timing=data.timing,
        method=data.method,
        profile=[str(w) for w in data.profile] if data.profile else None,
        residual=data.residual,
        handling_fee=data.handling_fee,
        deposit=data.deposit,
        buyout_fee_rate=data.buyout_fee_rate,
        penalty_rate=data.penalty_rate,
        vat_rate=terms.vat_rate,
        useful_life_months=data.useful_life_months,
        start=data.start,
        site_name=data.site_name,
        site_lat=data.site_lat,
        site_lon=data.site_lon,
        site_radius_m=data.site_radius_m,
        created_at=now,
        updated_at=now,
    )
    session.add(contract)
    session.flush()
    for a in data.assets:
        session.add(
            LeaseAsset(
                contract_id=contract.id,
                asset_type=a.asset_type,
                description=a.description,
                serial=a.serial,
                cost=a.cost,
                location=a.location,
            )
        )
    session.flush()
    return contract


def terms_of(contract: LeaseContract) -> LeaseTerms:
    return LeaseTerms(
        cost=contract.cost,
        annual_rate=contract.annual_rate,
        periods=contract.periods,
        start=contract.start,
        down_payment=contract.down_payment,
        residual=contract.residual,
        timing=contract.timing,
        method=contract.method,
        profile=tuple(Decimal(w) for w in contract.profile) if contract.profile else None,
        frequency=Frequency(months=contract.frequency_months),
        kind=contract.kind,
        handling_fee=contract.handling_fee,
        vat_rate=contract.vat_rate,
        useful_life_periods=(
            None
            if contract.useful_life_months is None
            else contract.useful_life_months // contract.frequency_months
        ),
    )


def _visible(principal: Principal) -> ColumnElement[bool]:
    """The clause of the contracts a principal may see."""
    mine = LeaseContract.lessee_user_id == principal.user_id
    if principal.role in LESSOR_ROLES:
        return or_(LeaseContract.organisation_id == principal.organisation_id, mine)
    return mine


def list_contracts(
    *, session: Session, principal: Principal, stage: Stage | None = None
) -> list[LeaseContract]:
    query = select(LeaseContract).where(_visible(principal))
    if stage is not None:
        query = query.where(LeaseContract.stage == stage)
    return list(session.scalars(query.order_by(LeaseContract.created_at.desc())))


def get_contract(*, session: Session, principal: Principal, contract_id: str) -> LeaseContract:
    contract = session.scalar(
        select(LeaseContract).where(LeaseContract.id == contract_id, _visible(principal))
    )
    if contract is None:
        raise NotFound("no such lease")
    return contract


def _own(session: Session, principal: Principal, contract_id: str, what: str) -> LeaseContract:
    contract = get_contract(session=session, principal=principal, contract_id=contract_id)
    if contract.organisation_id != principal.organisation_id or principal.role not in LESSOR_ROLES:
        raise PermissionDenied(f"only the lessor's staff may {what}")
    return contract


def assets_of(*, session: Session, contract_id: str) -> list[LeaseAsset]:
    return list(
        session.scalars(
            select(LeaseAsset).where(LeaseAsset.contract_id == contract_id).order_by(LeaseAsset.id)
        )
    )


def payments_of(*, session: Session, contract_id: str) -> list[RentPayment]:
    return list(
        session.scalars(
            select(RentPayment)
            .where(RentPayment.contract_id == contract_id)
            .order_by(RentPayment.paid_on, RentPayment.recorded_at, RentPayment.id)
        )
    )


def position(
    *, session: Session, contract: LeaseContract, as_of: date, plan: Schedule | None = None
) -> arrears.Position:
    """The lease's rents on `as_of`: what each has been paid, what is overdue, the penalty."""
    terms = terms_of(contract)
    plan = plan or finance.schedule(terms)
    receipts = [
        arrears.Receipt(p.paid_on, p.amount)
        for p in payments_of(session=session, contract_id=contract.id)
    ]
    last = max((r.paid_on for r in receipts), default=as_of)
    return arrears.settle(dues_of(terms, plan), receipts, contract.penalty_rate, max(as_of, last))


def today(now: datetime) -> date:
    return to_local(now).date()


def _move(contract: LeaseContract, target: Stage, uow: UnitOfWork) -> None:
    try:
        contract.stage = lifecycle.advance(contract.stage, target)
    except IllegalMove as e:
        raise RuleViolation(str(e)) from None
    contract.updated_at = uow.now()


def move(*, uow: UnitOfWork, principal: Principal, contract_id: str, stage: Stage) -> LeaseContract:
    contract = _own(uow.session, principal, contract_id, "move a lease")
    if stage is Stage.ACTIVE or stage is Stage.TRANSFERRED:
        raise RuleViolation("a lease becomes active on acceptance and transfers on payment")
    _move(contract, stage, uow)
    uow.session.flush()
    return contract


def accept_delivery(
    *, uow: UnitOfWork, principal: Principal, contract_id: str, serials: dict[str, str]
) -> LeaseContract:
    """Delivery and acceptance: every asset's serial recorded; the lease becomes active."""
    contract = _own(uow.session, principal, contract_id, "record an acceptance")
    assets = {a.id: a for a in assets_of(session=uow.session, contract_id=contract.id)}
    unknown = sorted(set(serials) - set(assets))
    if unknown:
        raise InvalidInput.field(f"serials.{unknown[0]}", "not an asset of this lease")
    missing = sorted(set(assets) - set(serials))
    if missing:
        raise InvalidInput.field("serials", f"no serial for asset {missing[0]}")
    _move(contract, Stage.ACTIVE, uow)
    contract.accepted_at = uow.now()
    for asset_id, serial in serials.items():
        assets[asset_id].serial = serial
    uow.session.flush()
    return contract


def record_payment(
    *, uow: UnitOfWork, principal: Principal, contract_id: str, paid_on: date, amount: Decimal
) -> RentPayment:
    """A payment from the lessee, of any amount up to everything owed on its date, applied
    oldest rent first (penalty, VAT, interest, principal). The one that settles every rent and
    penalty transfers the title, with a certificate anchored in the ledger."""
    session = uow.session
    contract = _own(session, principal, contract_id, "record a rent")
    if contract.stage is not Stage.ACTIVE:
        raise RuleViolation("rents are received on an active lease")
    if paid_on > today(uow.now()):
        raise InvalidInput.field("paid_on", "is in the future")
    if paid_on < contract.start:
        raise InvalidInput.field("paid_on", f"is before the lease starts on {contract.start}")
    payments = payments_of(session=session, contract_id=contract.id)
    if payments and paid_on < payments[-1].paid_on:
        # the replay applies payments in date order: one slipped in before a later one would
        # change how that later one was applied after it was recorded
        raise InvalidInput.field(
            "paid_on", f"is before the last payment, on {payments[-1].paid_on}"
        )
    terms = terms_of(contract)
    plan = finance.schedule(terms)
    state = position(session=session, contract=contract, as_of=paid_on, plan=plan)
    try:
        allocation = arrears.apply(
            state.rows, arrears.Receipt(paid_on, amount), contract.penalty_rate
        )
    except arrears.Overpayment as e:
        raise InvalidInput.field("amount", str(e)) from None
    payment = RentPayment(
        contract_id=contract.id,
        amount=amount,
        paid_on=paid_on,
        allocation=[
            {"rent": c.instalment, "component": c.component.value, "amount": str(a)}
            for c, a in allocation.applied
        ],
        recorded_at=uow.now(),
    )
    session.add(payment)
    session.flush()
    if state.complete:
        transfer_title(uow=uow, contract=contract, on=paid_on)
    return payment


def transfer_title(*, uow: UnitOfWork, contract: LeaseContract, on: date) -> None:
    assets = assets_of(session=uow.session, contract_id=contract.id)
    certificate = {
        "certificate": "leasing.title_transfer",
        "lease": contract.reference,
        "lessee": contract.lessee_name,
        "lessee_credit_code": contract.lessee_credit_code,
        "on": on.isoformat(),
        "assets": [{"type": a.asset_type, "serial": a.serial, "cost": str(a.cost)} for a in assets],
    }
    entry = append_entry(
        session=uow.session,
        entry_type="leasing.title_transfer",
        organisation_id=contract.organisation_id,
        body=certificate,
        now=uow.now(),
    )
    contract.title_ledger_index = entry.seq
    _move(contract, Stage.TRANSFERRED, uow)
    uow.session.flush()


def buy_out_at(
    contract: LeaseContract, state: arrears.Position, plan: Schedule, on: date
) -> finance.BuyOut:
    """The buy-out price on `on` after the rents paid in full; what was paid toward the next
    rent's interest and principal is credited, and penalty interest owed is added."""
    paid = state.settled
    quote = finance.buy_out(terms_of(contract), paid, on, contract.buyout_fee_rate, plan)
    if paid == len(state.rows):
        return quote
    part = state.rows[paid].paid
    credit = part[arrears.Component.INTEREST] + part[arrears.Component.PRINCIPAL]
    return replace(quote, penalty=state.penalty_owed, credit=credit)


def buy_out_quote(
    *, session: Session, principal: Principal, contract_id: str, on: date
) -> tuple[int, finance.BuyOut]:
    contract = get_contract(session=session, principal=principal, contract_id=contract_id)
    if contract.stage is not Stage.ACTIVE:
        raise RuleViolation("a buy-out is quoted on an active lease")
    plan = finance.schedule(terms_of(contract))
    state = position(session=session, contract=contract, as_of=on, plan=plan)
    return state.settled, buy_out_at(contract, state, plan, on)


# --- watched equipment ------------------------------------------------------------------------


def bind_tracker(
    *, uow: UnitOfWork, principal: Principal, contract_id: str, asset_id: str, name: str
) -> tuple[LeaseAsset, str, str]:
    """A telemetry device for one leased machine: (asset, device id, its token, shown once)."""
    contract = _own(uow.session, principal, contract_id, "bind a machine tracker")
    asset = uow.session.get(LeaseAsset, asset_id)
    if asset is None or asset.contract_id != contract.id:
        raise NotFound("no such asset on this lease")
    if asset.device_id is not None:
        raise RuleViolation("this machine already has a tracker")
    device, token = register_device(
        session=uow.session,
        organisation_id=contract.organisation_id,
        data=DeviceCreate(
            device_type="machine_tracker",
            name=name,
            owner_kind="lease_asset",
            owner_id=asset.id,
            serial=asset.serial,
        ),
        now=uow.now(),
    )
    asset.device_id = device.id
    uow.session.flush()
    return asset, device.id, token


def visible_contract_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """Owner scope of ``lease``: the leases the principal may see, listed (never None, "all in
    the organisation"), so that no one may attach a device or an alarm to another
    organisation's lease by naming its id."""
    return list(session.scalars(select(LeaseContract.id).where(_visible(principal))))


def visible_asset_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """Owner scope of ``lease_asset`` (the machine trackers): the assets of those leases."""
    return list(
        session.scalars(
            select(LeaseAsset.id)
            .join(LeaseContract, LeaseContract.id == LeaseAsset.contract_id)
            .where(_visible(principal))
        )
    )


def asset_belongs(session: Session, organisation_id: str, asset_id: str) -> bool:
    """The ``lease_asset`` owner lookup: an asset belongs to its lease's organisation."""
    stmt = (
        select(LeaseAsset.id)
        .join(LeaseContract, LeaseContract.id == LeaseAsset.contract_id)
        .where(LeaseAsset.id == asset_id, LeaseContract.organisation_id == organisation_id)
    )
    return session.scalar(stmt.limit(1)) is not None


def contract_links(session: Session, contract_ids: Sequence[str]) -> dict[str, OwnerLink]:
    """An alarm on a lease names its reference and lessee and links to the contract page."""
    rows = session.execute(
        select(LeaseContract.id, LeaseContract.reference, LeaseContract.lessee_name).where(
            LeaseContract.id.in_(contract_ids)
        )
    )
    return {
        cid: OwnerLink(f"{ref} · {lessee}", f"/leasing/contracts/{cid}")
        for cid, ref, lessee in rows
    }
