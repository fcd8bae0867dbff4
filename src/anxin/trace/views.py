"""EPCIS 2.0 REST bindings (§12: ``/capture``, ``/events``) under ``/epcis``, and the farm
registry under ``/api/v1/trace``. Every route needs a login; farmers see their own farm only."""

# ruff: noqa: N803 - query parameter names are the EPCIS 2.0 standard's (GE_eventTime, ...)

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from anxin.core.context import AppContext
from anxin.core.errors import InvalidInput, NotFound
from anxin.core.security import PUBLIC_ROUTE, Principal
from anxin.people.deps import ContextDep, CurrentPrincipal, SessionDep, UnitDep
from anxin.trace import (
    catalogue,
    codes,
    crosscheck,
    disclosure,
    insurance,
    limits,
    scanning,
    service,
    vocab,
)
from anxin.trace.epcis import EPCIS_CONTEXTS, EVENT_TYPES
from anxin.trace.models import Lot, Product
from anxin.trace.schemas import (
    AnchorRead,
    BrandKeyRead,
    CaptureJobRead,
    CheckRead,
    ClaimCreate,
    ClaimRead,
    CodeCheck,
    CodeRead,
    CodeVerdict,
    DisclosureCreate,
    DisclosureRead,
    EPCISQueryDocument,
    EventAccepted,
    FarmChecks,
    FarmCreate,
    FarmRead,
    FindingRead,
    LabelsPrint,
    LotCreate,
    LotRead,
    PlotCreate,
    PlotRead,
    PolicyCreate,
    PolicyRead,
    ProductCreate,
    ProductRead,
    QueryBody,
    QueryResults,
    ReportAccepted,
    ScanCreate,
    ScanRead,
    SuspiciousReport,
    UnitsIssue,
    UnitsIssued,
)

router = APIRouter(prefix="/epcis", tags=["epcis"])
registry = APIRouter(prefix="/api/v1/trace", tags=["trace"])
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
assert CONTEXT in EPCIS_CONTEXTS

# The public routes share one token bucket per client (trace/limits.py): 429 with Retry-After.
LIMITED = [Depends(limits.public_limit)]
_Doc = Annotated[dict[str, Any], Body(description="an EPCIS 2.0 JSON-LD document or event")]
_List = Annotated[list[str] | None, Query()]


@router.post("/capture", status_code=202, response_model=CaptureJobRead)
def capture(
    document: _Doc, principal: CurrentPrincipal, uow: UnitDep, response: Response
) -> CaptureJobRead:
    job = service.capture_document(uow=uow, principal=principal, document=document)
    response.headers["Location"] = f"/epcis/capture/{job.id}"
    return CaptureJobRead.model_validate(job)


@router.get("/capture/{capture_id}", response_model=CaptureJobRead)
def capture_job(
    capture_id: str, principal: CurrentPrincipal, session: SessionDep
) -> CaptureJobRead:
    job = service.get_capture(session=session, principal=principal, capture_id=capture_id)
    return CaptureJobRead.model_validate(job)


@router.post("/events", status_code=201, response_model=EventAccepted)
def capture_one(
    event: _Doc, principal: CurrentPrincipal, uow: UnitDep, response: Response
) -> EventAccepted:
    row, created = service.capture_event(uow=uow, principal=principal, event=event)
    response.headers["Location"] = f"/epcis/events/{row.event_hash}"
    if not created:
        response.status_code = 200
    return EventAccepted(
        eventID=row.event_hash,
        created=created,
        ledgerSeq=row.ledger_seq,
        anchorSalt=row.anchor_salt,
    )


def _split(field: str, values: list[str] | None) -> tuple[str, ...]:
    out = [v.strip() for raw in values or [] for v in raw.split("|") if v.strip()]
    if len(out) > 200:
        raise InvalidInput.field(field, "at most 200 values")
    return tuple(out)


def _epcs(field: str, values: list[str] | None) -> tuple[str, ...]:
    return tuple(vocab.to_digital_link(v) or v for v in _split(field, values))


def _vocab(field: str, kind: str, values: list[str] | None) -> tuple[str, ...]:
    return tuple(vocab.vocab_uri(kind, v) or v for v in _split(field, values))


@router.get("/events", response_model=EPCISQueryDocument, response_model_by_alias=True)
def query_events(
    principal: CurrentPrincipal,
    uow: UnitDep,
    response: Response,
    eventType: _List = None,
    GE_eventTime: datetime | None = None,
    LT_eventTime: datetime | None = None,
    GE_recordTime: datetime | None = None,
    LT_recordTime: datetime | None = None,
    EQ_action: _List = None,
    EQ_bizStep: _List = None,
    EQ_disposition: _List = None,
    EQ_readPoint: _List = None,
    EQ_bizLocation: _List = None,
    EQ_eventID: _List = None,
    MATCH_epc: _List = None,
    MATCH_parentID: _List = None,
    MATCH_inputEPC: _List = None,
    MATCH_outputEPC: _List = None,
    MATCH_anyEPC: _List = None,
    MATCH_epcClass: _List = None,
    MATCH_inputEPCClass: _List = None,
    MATCH_outputEPCClass: _List = None,
    MATCH_anyEPCClass: _List = None,
    perPage: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 30,
    nextPageToken: str | None = None,
) -> EPCISQueryDocument:
    types = _split("eventType", eventType)
    for t in types:
        if t not in EVENT_TYPES:
            raise InvalidInput.field("query.eventType", f"{t!r} is not an EPCIS event type")
    moments = {"GE_eventTime": GE_eventTime, "LT_eventTime": LT_eventTime,
               "GE_recordTime": GE_recordTime, "LT_recordTime": LT_recordTime}  # fmt: skip
    for name, moment in moments.items():
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput.field(f"query.{name}", "needs a time zone")
    match = [
        (("epc",), _epcs("MATCH_epc", MATCH_epc)),
        (("parent",), _epcs("MATCH_parentID", MATCH_parentID)),
        (("input",), _epcs("MATCH_inputEPC", MATCH_inputEPC)),
        (("output",), _epcs("MATCH_outputEPC", MATCH_outputEPC)),
        (("epc", "parent", "input", "output"), _epcs("MATCH_anyEPC", MATCH_anyEPC)),
        (("class",), _epcs("MATCH_epcClass", MATCH_epcClass)),
        (("inclass",), _epcs("MATCH_inputEPCClass", MATCH_inputEPCClass)),
        (("outclass",), _epcs("MATCH_outputEPCClass", MATCH_outputEPCClass)),
        (("class", "inclass", "outclass"), _epcs("MATCH_anyEPCClass", MATCH_anyEPCClass)),
    ]
    query = service.EventQuery(
        event_types=types,
        ge_event_time=GE_eventTime,
        lt_event_time=LT_eventTime,
        ge_record_time=GE_recordTime,
        lt_record_time=LT_recordTime,
        actions=_split("EQ_action", EQ_action),
        biz_steps=_vocab("EQ_bizStep", "bizStep", EQ_bizStep),
        dispositions=_vocab("EQ_disposition", "disposition", EQ_disposition),
        read_points=_epcs("EQ_readPoint", EQ_readPoint),
        biz_locations=_epcs("EQ_bizLocation", EQ_bizLocation),
        event_ids=_split("EQ_eventID", EQ_eventID),
        match=tuple((roles, epcs) for roles, epcs in match if epcs),
        per_page=perPage,
        next_page_token=nextPageToken,
    )
    rows, token = service.query_events(session=uow.session, principal=principal, query=query)
    if token:
        response.headers["Link"] = f'<?nextPageToken={token}&perPage={perPage}>; rel="next"'
    return EPCISQueryDocument.model_validate(
        {
            "@context": [CONTEXT],
            "creationDate": uow.now(),
            "epcisBody": QueryBody(
                queryResults=QueryResults(
                    resultsBody={"eventList": [service.event_document(r) for r in rows]}
                )
            ),
        }
    )


@registry.get("/anchors", response_model=AnchorRead)
def event_anchor(
    principal: CurrentPrincipal,
    session: SessionDep,
    eventID: Annotated[str, Query(min_length=1, max_length=120)],
) -> AnchorRead:
    """An event's anchor salt, for whoever may read the event: with both, anyone can find the
    event's ledger entry and check its inclusion proof; without the salt nobody can."""
    row = service.find_event(session=session, principal=principal, event_id=eventID)
    return AnchorRead(
        eventID=row.event_hash,
        anchorSalt=row.anchor_salt,
        payloadSha256=service.event_anchor(row),
        ledgerSeq=row.ledger_seq,
    )


@registry.post("/farms", status_code=201, response_model=FarmRead)
def create_farm(data: FarmCreate, principal: CurrentPrincipal, uow: UnitDep) -> FarmRead:
    return FarmRead.model_validate(service.create_farm(uow=uow, principal=principal, data=data))


@registry.get("/farms", response_model=list[FarmRead])
def list_farms(principal: CurrentPrincipal, session: SessionDep) -> list[FarmRead]:
    return [
        FarmRead.model_validate(f) for f in service.list_farms(session=session, principal=principal)
    ]


@registry.get("/farms/{farm_id}", response_model=FarmRead)
def get_farm(farm_id: str, principal: CurrentPrincipal, session: SessionDep) -> FarmRead:
    return FarmRead.model_validate(
        service.get_farm(session=session, principal=principal, farm_id=farm_id)
    )


@registry.post("/farms/{farm_id}/plots", status_code=201, response_model=PlotRead)
def add_plot(farm_id: str, data: PlotCreate, principal: CurrentPrincipal, uow: UnitDep) -> PlotRead:
    return PlotRead.model_validate(
        service.add_plot(uow=uow, principal=principal, farm_id=farm_id, data=data)
    )


@registry.get("/farms/{farm_id}/plots", response_model=list[PlotRead])
def list_plots(farm_id: str, principal: CurrentPrincipal, session: SessionDep) -> list[PlotRead]:
    return [
        PlotRead.model_validate(p)
        for p in service.list_plots(session=session, principal=principal, farm_id=farm_id)
    ]


@registry.post("/products", status_code=201, response_model=ProductRead)
def create_product(data: ProductCreate, principal: CurrentPrincipal, uow: UnitDep) -> ProductRead:
    return ProductRead.model_validate(
        catalogue.create_product(uow=uow, principal=principal, data=data)
    )


@registry.get("/products", response_model=list[ProductRead])
def list_products(principal: CurrentPrincipal, session: SessionDep) -> list[ProductRead]:
    return [
        ProductRead.model_validate(p)
        for p in catalogue.list_products(session=session, principal=principal)
    ]


@registry.post("/lots", status_code=201, response_model=LotRead)
def create_lot(data: LotCreate, principal: CurrentPrincipal, uow: UnitDep) -> LotRead:
    return LotRead.model_validate(catalogue.create_lot(uow=uow, principal=principal, data=data))


@registry.get("/lots/{lot_id}", response_model=LotRead)
def get_lot(lot_id: str, principal: CurrentPrincipal, session: SessionDep) -> LotRead:
    return LotRead.model_validate(
        catalogue.get_lot(session=session, principal=principal, lot_id=lot_id)
    )


@registry.post("/lots/{lot_id}/units", status_code=201, response_model=UnitsIssued)
def issue_units(
    lot_id: str, data: UnitsIssue, principal: CurrentPrincipal, uow: UnitDep
) -> UnitsIssued:
    return catalogue.issue_units(uow=uow, principal=principal, lot_id=lot_id, data=data)


@registry.post(
    "/scans",
    status_code=201,
    response_model=ScanRead,
    openapi_extra=PUBLIC_ROUTE,
    dependencies=LIMITED,
)
def scan(data: ScanCreate, uow: UnitDep) -> ScanRead:
    """A consumer's scan of a package: open to anyone, stores only a coarse location."""
    outcome = scanning.record_scan(uow=uow, data=data)
    return ScanRead(
        verdict=outcome.verdict,
        first_scan=outcome.first_scan,
        scan_count=outcome.scan_count,
        findings=[FindingRead(code=f.code, reason=f.reason) for f in outcome.findings],
        product=outcome.product.name_en if outcome.product else None,
        lot=outcome.lot.code if outcome.lot else None,
    )


# --- codes, labels, disclosure, cross-validation, insurance -------------------------------


def _secret(context: AppContext) -> str:
    return context.settings.secret_key.get_secret_value()


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _lot(session: Session, principal: Principal, lot_id: str) -> tuple[Lot, Product]:
    lot = catalogue.get_lot(session=session, principal=principal, lot_id=lot_id)
    product = session.get(Product, lot.product_id)
    assert product is not None
    return lot, product


@registry.get("/lots/{lot_id}/units/{serial}/code", response_model=CodeRead)
def unit_code(
    lot_id: str,
    serial: str,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> CodeRead:
    """The package's signed GS1 Digital Link and its QR symbol (SVG)."""
    return codes.unit_code(
        session=session,
        principal=principal,
        lot_id=lot_id,
        serial=serial,
        base=_base(request),
        secret=_secret(context),
    )


@registry.post(
    "/lots/{lot_id}/labels",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def print_labels(
    lot_id: str,
    data: LabelsPrint,
    request: Request,
    principal: CurrentPrincipal,
    uow: UnitDep,
    context: ContextDep,
) -> Response:
    """An A4 label sheet (PDF) for a run of serials; they count as printed from now on."""
    pdf = codes.print_sheet(
        uow=uow,
        principal=principal,
        lot_id=lot_id,
        data=data,
        base=_base(request),
        secret=_secret(context),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="labels-{lot_id}.pdf"'},
    )


@registry.post(
    "/codes/verify", response_model=CodeVerdict, openapi_extra=PUBLIC_ROUTE, dependencies=LIMITED
)
def verify_code(data: CodeCheck, session: SessionDep, context: ContextDep) -> CodeVerdict:
    """Public: is a scanned code signed by the brand that owns its GTIN?"""
    return codes.check_code(session=session, link=data.link, secret=_secret(context))


@registry.get(
    "/keys", response_model=list[BrandKeyRead], openapi_extra=PUBLIC_ROUTE, dependencies=LIMITED
)
def brand_keys(session: SessionDep, context: ContextDep) -> list[BrandKeyRead]:
    """Public: each brand's label-signing key, to check codes offline."""
    return codes.brand_keys(session=session, secret=_secret(context))


@registry.post("/lots/{lot_id}/disclosure", status_code=201, response_model=DisclosureRead)
def publish_disclosure(
    lot_id: str, data: DisclosureCreate, principal: CurrentPrincipal, uow: UnitDep
) -> DisclosureRead:
    """Commit to every fact of the lot's events on the ledger and choose which are public."""
    lot, product = _lot(uow.session, principal, lot_id)
    row = disclosure.publish(
        uow=uow, principal=principal, lot=lot, product=product, public=data.public
    )
    return DisclosureRead.model_validate(row)


@registry.get("/lots/{lot_id}/disclosure", response_model=DisclosureRead)
def latest_disclosure(
    lot_id: str, principal: CurrentPrincipal, session: SessionDep
) -> DisclosureRead:
    lot, _ = _lot(session, principal, lot_id)
    row = disclosure.latest(session, lot.id)
    if row is None:
        raise NotFound(f"lot {lot.code} has published nothing yet")
    return DisclosureRead.model_validate(row)


@registry.post("/lots/{lot_id}/checks", response_model=list[CheckRead])
def run_checks(lot_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[CheckRead]:
    """Cross-validate the lot's claims against the farm's sensors and records, now."""
    lot, product = _lot(uow.session, principal, lot_id)
    rows = crosscheck.run(uow=uow, principal=principal, lot=lot, product=product)
    return [CheckRead.model_validate(r) for r in rows]


@registry.get("/lots/{lot_id}/checks", response_model=list[CheckRead])
def lot_checks(lot_id: str, principal: CurrentPrincipal, session: SessionDep) -> list[CheckRead]:
    lot, _ = _lot(session, principal, lot_id)
    return [CheckRead.model_validate(r) for r in crosscheck.checks_of(session, lot.id)]


@registry.get("/farms/{farm_id}/checks", response_model=FarmChecks)
def farm_checks(farm_id: str, principal: CurrentPrincipal, session: SessionDep) -> FarmChecks:
    farm = service.get_farm(session=session, principal=principal, farm_id=farm_id)
    counts = crosscheck.counts_by_farm(session, farm.id)
    return FarmChecks(
        farm_id=farm.id, passed=counts["pass"], warned=counts["warn"], failed=counts["fail"]
    )


@registry.post("/policies", status_code=201, response_model=PolicyRead)
def create_policy(data: PolicyCreate, principal: CurrentPrincipal, uow: UnitDep) -> PolicyRead:
    return PolicyRead.model_validate(
        insurance.create_policy(uow=uow, principal=principal, data=data)
    )


@registry.get("/policies", response_model=list[PolicyRead])
def list_policies(principal: CurrentPrincipal, session: SessionDep) -> list[PolicyRead]:
    return [
        PolicyRead.model_validate(p)
        for p in insurance.list_policies(session=session, principal=principal)
    ]


@registry.get("/policies/{policy_id}", response_model=PolicyRead)
def get_policy(policy_id: str, principal: CurrentPrincipal, session: SessionDep) -> PolicyRead:
    return PolicyRead.model_validate(
        insurance.get_policy(session=session, principal=principal, policy_id=policy_id)
    )


@registry.post("/claims", status_code=201, response_model=ClaimRead)
def open_claim(data: ClaimCreate, principal: CurrentPrincipal, uow: UnitDep) -> ClaimRead:
    return ClaimRead.model_validate(insurance.open_claim(uow=uow, principal=principal, data=data))


@registry.get("/claims", response_model=list[ClaimRead])
def list_claims(principal: CurrentPrincipal, session: SessionDep) -> list[ClaimRead]:
    return [
        ClaimRead.model_validate(c)
        for c in insurance.list_claims(session=session, principal=principal)
    ]


@registry.get("/claims/{claim_id}", response_model=ClaimRead)
def get_claim(claim_id: str, principal: CurrentPrincipal, session: SessionDep) -> ClaimRead:
    return ClaimRead.model_validate(
        insurance.get_claim(session=session, principal=principal, claim_id=claim_id)
    )


@registry.post("/claims/{claim_id}/decision", response_model=ClaimRead)
def decide_claim(claim_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ClaimRead:
    """Decide by the versioned rule set on the evidence bundle; the decision is anchored."""
    return ClaimRead.model_validate(
        insurance.decide(uow=uow, principal=principal, claim_id=claim_id)
    )


@registry.post("/claims/{claim_id}/settlement", response_model=ClaimRead)
def settle_claim(claim_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ClaimRead:
    return ClaimRead.model_validate(
        insurance.settle(uow=uow, principal=principal, claim_id=claim_id)
    )


@registry.post(
    "/reports",
    status_code=201,
    response_model=ReportAccepted,
    openapi_extra=PUBLIC_ROUTE,
    dependencies=LIMITED,
)
def report_suspicious(data: SuspiciousReport, uow: UnitDep) -> ReportAccepted:
    """Public: a consumer reports a suspicious bag; it opens a case on the brand's cover."""
    claim = insurance.report_suspicious(uow=uow, data=data)
    return ReportAccepted(case=claim.id, status=claim.status)
