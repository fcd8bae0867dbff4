"""EPCIS 2.0 REST bindings (§12: ``/capture``, ``/events``) under ``/epcis``, and the farm
registry under ``/api/v1/trace``. Every route needs a login; farmers see their own farm only."""

# ruff: noqa: N803 - query parameter names are the EPCIS 2.0 standard's (GE_eventTime, ...)

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from anxin.core.errors import InvalidInput
from anxin.core.security import PUBLIC_ROUTE
from anxin.people.deps import CurrentPrincipal, SessionDep, UnitDep
from anxin.trace import catalogue, scanning, service, vocab
from anxin.trace.epcis import EPCIS_CONTEXTS, EVENT_TYPES
from anxin.trace.schemas import (
    CaptureJobRead,
    EPCISQueryDocument,
    EventAccepted,
    FarmCreate,
    FarmRead,
    FindingRead,
    LotCreate,
    LotRead,
    PlotCreate,
    PlotRead,
    ProductCreate,
    ProductRead,
    QueryBody,
    QueryResults,
    ScanCreate,
    ScanRead,
    UnitsIssue,
    UnitsIssued,
)

router = APIRouter(prefix="/epcis", tags=["epcis"])
registry = APIRouter(prefix="/api/v1/trace", tags=["trace"])
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
assert CONTEXT in EPCIS_CONTEXTS

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
    return EventAccepted(eventID=row.event_hash, created=created, ledgerSeq=row.ledger_seq)


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


@registry.post("/scans", status_code=201, response_model=ScanRead, openapi_extra=PUBLIC_ROUTE)
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
