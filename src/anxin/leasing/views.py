"""JSON API of the leasing domain: thin wrappers over `service` and the pure `finance`."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from anxin.core.bounds import SaneDate
from anxin.core.clock import to_local
from anxin.core.errors import PermissionDenied
from anxin.leasing import finance, service
from anxin.leasing.lifecycle import Stage
from anxin.leasing.models import LeaseContract
from anxin.leasing.schemas import (
    Acceptance,
    AccountsRead,
    AssetRead,
    AssetRowRead,
    BuyOutRead,
    ContractCreate,
    ContractRead,
    LessorRowRead,
    LiabilityRowRead,
    PaymentRead,
    QuoteRead,
    QuoteRequest,
    RentPaid,
    ScheduleRow,
    StageMove,
    TrackerCreate,
    TrackerRead,
)
from anxin.people.deps import CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/leasing", tags=["leasing"])
_RATE = Decimal("1e-8")
_VAT = Decimal("1e-4")


def contract_read(session: SessionDep, contract: LeaseContract, today: date) -> ContractRead:
    terms = service.terms_of(contract)
    plan = finance.schedule(terms)
    state = service.position(session=session, contract=contract, as_of=today, plan=plan)
    paid = state.settled
    rows = plan.instalments
    return ContractRead(
        id=contract.id,
        reference=contract.reference,
        kind=contract.kind,
        stage=contract.stage,
        lessee_name=contract.lessee_name,
        lessee_credit_code=contract.lessee_credit_code,
        vendor_name=contract.vendor_name,
        cost=contract.cost,
        down_payment=contract.down_payment,
        financed=terms.financed,
        annual_rate=contract.annual_rate.quantize(_RATE),
        rent=plan.level or Decimal(0),
        periods=contract.periods,
        frequency_months=contract.frequency_months,
        timing=contract.timing,
        method=contract.method,
        residual=contract.residual,
        handling_fee=contract.handling_fee,
        deposit=contract.deposit,
        vat_rate=None if contract.vat_rate is None else contract.vat_rate.quantize(_VAT),
        useful_life_months=contract.useful_life_months,
        start=contract.start,
        site_name=contract.site_name,
        rents_paid=paid,
        rents_total=len(rows),
        next_due=rows[paid].due if paid < len(rows) else None,
        penalty_rate=contract.penalty_rate.quantize(_RATE),
        paid_total=sum((r.paid_amount for r in state.rows), Decimal(0)),
        overdue=state.overdue,
        penalty_owed=state.penalty_owed,
        title_ledger_index=contract.title_ledger_index,
        assets=[
            AssetRead.model_validate(a)
            for a in service.assets_of(session=session, contract_id=contract.id)
        ],
        created_at=contract.created_at,
    )


def accounts_read(terms: finance.LeaseTerms) -> AccountsRead:
    plan = finance.schedule(terms)
    lessor = finance.lessor_accounts(terms, plan)
    lessee = finance.lessee_accounts(terms, plan)
    return AccountsRead(
        gross_investment=lessor.gross_investment,
        net_investment=lessor.net_investment,
        unearned_income=lessor.unearned_income,
        lessor=[
            LessorRowRead(**{k: getattr(r, k) for k in LessorRowRead.model_fields})
            for r in lessor.rows
        ],
        initial_liability=lessee.initial_liability,
        right_of_use=lessee.right_of_use,
        liability=[LiabilityRowRead(**vars(r)) for r in lessee.liability],
        right_of_use_schedule=[AssetRowRead(**vars(r)) for r in lessee.asset],
    )


@router.post("/quote", response_model=QuoteRead)
def quote(data: QuoteRequest, principal: CurrentPrincipal) -> QuoteRead:
    """Rent from the rate, or the rate implicit in the lease from the rent: nothing stored."""
    if principal.role not in service.LESSOR_ROLES:
        raise PermissionDenied("only the lessor's staff may quote a lease")
    terms = service.lease_terms(data, data.cost)
    plan = service.build_schedule(terms)
    rows = service.schedule_rows(terms, plan)
    return QuoteRead(
        financed=terms.financed,
        annual_rate=terms.annual_rate.quantize(_RATE),
        rent=plan.level or Decimal(0),
        total_rent=sum((r.rent for r in rows), Decimal(0)),
        total_interest=plan.total_interest,
        schedule=rows,
    )


@router.get("/contracts", response_model=list[ContractRead])
def list_contracts(
    principal: CurrentPrincipal,
    uow: UnitDep,
    stage: Annotated[Stage | None, Query()] = None,
) -> list[ContractRead]:
    contracts = service.list_contracts(session=uow.session, principal=principal, stage=stage)
    today = service.today(uow.now())
    return [contract_read(uow.session, c, today) for c in contracts]


@router.post("/contracts", status_code=201, response_model=ContractRead)
def create_contract(
    data: ContractCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ContractRead:
    contract = service.create_contract(uow=uow, principal=principal, data=data)
    return contract_read(uow.session, contract, service.today(uow.now()))


@router.get("/contracts/{contract_id}", response_model=ContractRead)
def get_contract(contract_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ContractRead:
    contract = service.get_contract(
        session=uow.session, principal=principal, contract_id=contract_id
    )
    return contract_read(uow.session, contract, service.today(uow.now()))


@router.get("/contracts/{contract_id}/schedule", response_model=list[ScheduleRow])
def get_schedule(contract_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[ScheduleRow]:
    """Each rent with what has been paid toward it and its penalty interest owed today."""
    session = uow.session
    contract = service.get_contract(session=session, principal=principal, contract_id=contract_id)
    terms = service.terms_of(contract)
    plan = finance.schedule(terms)
    state = service.position(
        session=session, contract=contract, as_of=service.today(uow.now()), plan=plan
    )
    return service.schedule_rows(terms, plan, state)


@router.get("/contracts/{contract_id}/accounts", response_model=AccountsRead)
def get_accounts(
    contract_id: str, principal: CurrentPrincipal, session: SessionDep
) -> AccountsRead:
    contract = service.get_contract(session=session, principal=principal, contract_id=contract_id)
    return accounts_read(service.terms_of(contract))


def accounts_csv(terms: finance.LeaseTerms, side: str) -> str:
    """One side's accounts as CSV (amounts in yuan, two places)."""
    plan = finance.schedule(terms)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if side == "lessor":
        writer.writerow(
            ["number", "due", "payment", "vat", "finance_income", "principal",
             "net_investment", "unearned_income"]
        )  # fmt: skip
        for r in finance.lessor_accounts(terms, plan).rows:
            writer.writerow(
                [r.number, r.due.isoformat(), r.payment, r.vat, r.finance_income, r.principal,
                 r.net_investment, r.unearned_income]
            )  # fmt: skip
        return out.getvalue()
    lessee = finance.lessee_accounts(terms, plan)
    writer.writerow(["schedule", "number", "date", "opening", "interest_or_depreciation",
                     "payment", "closing"])  # fmt: skip
    for l in lessee.liability:  # noqa: E741
        writer.writerow(
            ["liability", l.number, l.due.isoformat(), l.opening, l.interest, l.payment, l.closing]
        )
    for a in lessee.asset:
        writer.writerow(
            ["right_of_use", a.period, a.ending.isoformat(), a.opening, a.depreciation, "",
             a.closing]
        )  # fmt: skip
    return out.getvalue()


@router.get(
    "/contracts/{contract_id}/accounts.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_accounts_csv(
    contract_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    side: Annotated[Literal["lessor", "lessee"], Query()] = "lessor",
) -> Response:
    contract = service.get_contract(session=session, principal=principal, contract_id=contract_id)
    body = accounts_csv(service.terms_of(contract), side)
    name = f"{contract.reference}-{side}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/contracts/{contract_id}/stage", response_model=ContractRead)
def move_contract(
    contract_id: str, data: StageMove, principal: CurrentPrincipal, uow: UnitDep
) -> ContractRead:
    contract = service.move(
        uow=uow, principal=principal, contract_id=contract_id, stage=Stage(data.stage)
    )
    return contract_read(uow.session, contract, service.today(uow.now()))


@router.post("/contracts/{contract_id}/acceptance", response_model=ContractRead)
def accept_delivery(
    contract_id: str, data: Acceptance, principal: CurrentPrincipal, uow: UnitDep
) -> ContractRead:
    contract = service.accept_delivery(
        uow=uow, principal=principal, contract_id=contract_id, serials=data.serials
    )
    return contract_read(uow.session, contract, service.today(uow.now()))


@router.post("/contracts/{contract_id}/rents", status_code=201, response_model=ContractRead)
def record_rent(
    contract_id: str, data: RentPaid, principal: CurrentPrincipal, uow: UnitDep
) -> ContractRead:
    """A payment of any amount up to everything owed on its date (a rent, part of one, or
    several), applied oldest rent first: penalty, VAT, interest, principal."""
    service.record_payment(
        uow=uow,
        principal=principal,
        contract_id=contract_id,
        paid_on=data.paid_on,
        amount=data.amount,
    )
    contract = service.get_contract(
        session=uow.session, principal=principal, contract_id=contract_id
    )
    return contract_read(uow.session, contract, service.today(uow.now()))


@router.get("/contracts/{contract_id}/payments", response_model=list[PaymentRead])
def list_payments(
    contract_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[PaymentRead]:
    """Every payment received and how it was applied."""
    contract = service.get_contract(session=session, principal=principal, contract_id=contract_id)
    return [
        PaymentRead.model_validate(p)
        for p in service.payments_of(session=session, contract_id=contract.id)
    ]


@router.get("/contracts/{contract_id}/buyout", response_model=BuyOutRead)
def buy_out(
    contract_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    on: Annotated[SaneDate | None, Query()] = None,
) -> BuyOutRead:
    """The early buy-out price: outstanding principal + the period's interest + the fee."""
    paid, quote = service.buy_out_quote(
        session=uow.session,
        principal=principal,
        contract_id=contract_id,
        on=on or to_local(uow.now()).date(),
    )
    return BuyOutRead(
        on=quote.on,
        rents_paid=paid,
        outstanding_principal=quote.outstanding_principal,
        interest=quote.interest,
        fee=quote.fee,
        penalty=quote.penalty,
        credit=quote.credit,
        total=quote.total,
    )


@router.post(
    "/contracts/{contract_id}/assets/{asset_id}/tracker",
    status_code=201,
    response_model=TrackerRead,
)
def bind_tracker(
    contract_id: str, asset_id: str, data: TrackerCreate, principal: CurrentPrincipal, uow: UnitDep
) -> TrackerRead:
    """A telemetry device (running hours, power, location) for one leased machine."""
    asset, device_id, token = service.bind_tracker(
        uow=uow, principal=principal, contract_id=contract_id, asset_id=asset_id, name=data.name
    )
    return TrackerRead(asset_id=asset.id, device_id=device_id, token=token)
