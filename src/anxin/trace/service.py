"""The trace domain's service: farms and plots, EPCIS capture and query.

Keyword-only functions that flush and never commit. Capture validates the whole document
first (every problem with its JSON path, nothing stored), then stores each new event under its
CBV event hash, indexes its identifiers for the ``MATCH_`` parameters and publishes
``trace.captured`` so the ledger flow anchors the hashes in the same unit of work.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from anxin.core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ledger.entry import canonical_json
from anxin.trace import epcis, vocab
from anxin.trace.eventhash import event_hash
from anxin.trace.models import (
    CaptureJob,
    ErrorDeclaration,
    Farm,
    Plot,
    TraceEvent,
    TraceEventEpc,
)
from anxin.trace.schemas import FarmCreate, PlotCreate

CAPTURED = "trace.captured"
WRITERS = frozenset({Role.ADMIN, Role.FARMER})
READERS = frozenset({Role.ADMIN, Role.FARMER, Role.CLAIMS_HANDLER})
MAX_PER_PAGE = 1000
_EPC_ROLES = {
    "epcList": "epc",
    "childEPCs": "epc",
    "parentID": "parent",
    "inputEPCList": "input",
    "outputEPCList": "output",
}
_CLASS_ROLES = {
    "quantityList": "class",
    "childQuantityList": "class",
    "inputQuantityList": "inclass",
    "outputQuantityList": "outclass",
}


def invalid(problems: Sequence[epcis.Problem], what: str = "EPCIS document") -> InvalidInput:
    fields = [FieldProblem(p.path, p.reason) for p in problems]
    return InvalidInput(
        f"{what} does not conform to EPCIS 2.0 ({len(fields)} problems)", fields=fields
    )


# --- who sees what ----------------------------------------------------------------------


def _can(principal: Principal, roles: frozenset[Role]) -> None:
    if principal.role not in roles:
        raise PermissionDenied("traceability is for farmers, the brand and claims handlers")


def visible_farm_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """The ``farm`` owner scope: a farmer sees their own farms; the brand sees all of its own."""
    if principal.role in (Role.ADMIN, Role.CLAIMS_HANDLER):
        return None
    if principal.role == Role.FARMER:
        return set(session.scalars(select(Farm.id).where(Farm.farmer_user_id == principal.user_id)))
    return ()


def visible_product_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """The ``product`` owner scope (alarms on serials that belong to no lot): the brand only."""
    return None if principal.role in (Role.ADMIN, Role.CLAIMS_HANDLER) else ()


def _farm_clause(session: Session, principal: Principal) -> Any:
    ids = visible_farm_ids(session, principal)
    clause = Farm.organisation_id == principal.organisation_id
    return clause if ids is None else and_(clause, Farm.id.in_(ids))


def _location(field: str, value: str) -> str:
    dl = vocab.to_digital_link(value)
    if dl is None or "/414/" not in dl:
        raise InvalidInput.field(field, "not an SGLN URN or a GLN Digital Link")
    return dl


# --- farms and plots --------------------------------------------------------------------


def create_farm(*, uow: UnitOfWork, principal: Principal, data: FarmCreate) -> Farm:
    if principal.role != Role.ADMIN:
        raise PermissionDenied("only the brand's administrator registers farms")
    farm = Farm(
        organisation_id=principal.organisation_id,
        code=data.code,
        name=data.name,
        location=_location("location", data.location),
        farmer_user_id=data.farmer_user_id,
        created_at=uow.now(),
    )
    uow.session.add(farm)
    uow.session.flush()
    return farm


def list_farms(*, session: Session, principal: Principal) -> list[Farm]:
    _can(principal, READERS)
    return list(
        session.scalars(select(Farm).where(_farm_clause(session, principal)).order_by(Farm.code))
    )


def get_farm(*, session: Session, principal: Principal, farm_id: str) -> Farm:
    _can(principal, READERS)
    farm = session.scalar(select(Farm).where(Farm.id == farm_id, _farm_clause(session, principal)))
    if farm is None:
        raise NotFound(f"no farm {farm_id}")
    return farm


def add_plot(*, uow: UnitOfWork, principal: Principal, farm_id: str, data: PlotCreate) -> Plot:
    _can(principal, WRITERS)
    farm = get_farm(session=uow.session, principal=principal, farm_id=farm_id)
    ring = data.boundary.coordinates[0]
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise InvalidInput.field("boundary.coordinates", "a closed ring of at least 4 positions")
    if any(not (-180 <= lon <= 180 and -90 <= lat <= 90) for lon, lat in ring):
        raise InvalidInput.field("boundary.coordinates", "longitude/latitude out of range")
    plot = Plot(
        farm_id=farm.id,
        code=data.code,
        location=_location("location", data.location),
        crop=data.crop,
        area_m2=data.area_m2,
        boundary=data.boundary.model_dump(mode="json"),
        created_at=uow.now(),
    )
    uow.session.add(plot)
    uow.session.flush()
    return plot


def list_plots(*, session: Session, principal: Principal, farm_id: str) -> list[Plot]:
    farm = get_farm(session=session, principal=principal, farm_id=farm_id)
    return list(session.scalars(select(Plot).where(Plot.farm_id == farm.id).order_by(Plot.code)))


# --- capture ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Places:
    """Which farm each known location belongs to, loaded once per capture."""

    by_location: dict[str, str]
    mine: Collection[str] | None

    @classmethod
    def load(cls, session: Session, principal: Principal) -> _Places:
        rows = session.execute(
            select(Farm.location, Farm.id).where(Farm.organisation_id == principal.organisation_id)
        ).all()
        plots = session.execute(
            select(Plot.location, Plot.farm_id)
            .join(Farm, Farm.id == Plot.farm_id)
            .where(Farm.organisation_id == principal.organisation_id)
        ).all()
        places = {loc: fid for loc, fid in [*rows, *plots]}
        return cls(places, visible_farm_ids(session, principal))

    def farm_of(self, event: Mapping[str, Any]) -> str | None:
        for key in ("bizLocation", "readPoint"):
            raw = (event.get(key) or {}).get("id")
            dl = vocab.to_digital_link(raw) if isinstance(raw, str) else None
            if dl is None:
                continue
            for candidate in (dl, dl.split("/254/")[0]):
                if candidate in self.by_location:
                    return self.by_location[candidate]
        return None


def _norm(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return vocab.to_digital_link(value) or value


def _index(event: Mapping[str, Any]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for key, role in _EPC_ROLES.items():
        values = event.get(key)
        for value in values if isinstance(values, list) else [values] if values else []:
            out.add((role, _norm(value) or str(value)))
    for key, role in _CLASS_ROLES.items():
        for item in event.get(key) or []:
            out.add((role, _norm(item["epcClass"]) or str(item["epcClass"])))
    return out


def _vocab(kind: str, value: Any, prefixes: Mapping[str, str]) -> str | None:
    if not isinstance(value, str):
        return None
    known = vocab.vocab_uri(kind, value)
    if known:
        return known
    prefix, sep, rest = value.partition(":")
    return (
        prefixes[prefix] + rest
        if sep and prefix in prefixes and not rest.startswith("//")
        else value
    )


def _instant(value: str) -> datetime:
    checker = epcis._Checker({})
    moment = checker.instant("", value)
    assert moment is not None  # validated before
    return moment


@dataclass(slots=True)
class CaptureResult:
    captured: list[TraceEvent]
    duplicates: int
    declarations: list[ErrorDeclaration]


def _store(
    *,
    uow: UnitOfWork,
    principal: Principal,
    events: Sequence[Mapping[str, Any]],
    context: Any,
    paths: Sequence[str],
    capture_id: str | None,
) -> CaptureResult:
    session = uow.session
    now = uow.now()
    prefixes = {
        k: v for k, v in epcis.context_prefixes(context).items() if k not in epcis.STANDARD_PREFIXES
    }
    places = _Places.load(session, principal)
    hashes = [event_hash(e, context=context) for e in events]
    known = _known(session, principal.organisation_id, set(hashes))
    problems: list[epcis.Problem] = []
    farms: list[str | None] = []
    for path, event, h in zip(paths, events, hashes, strict=True):
        farm = places.farm_of(event)
        farms.append(farm)
        if places.mine is not None and farm not in places.mine:
            problems.append(epcis.Problem(f"{path}.bizLocation", "not a location of your farm"))
        if "errorDeclaration" in event and h not in known:
            problems.append(
                epcis.Problem(
                    f"{path}.errorDeclaration", "declares an error in an event not captured"
                )
            )
    if problems:
        raise invalid(problems)
    rows: list[TraceEvent] = []
    declarations: list[ErrorDeclaration] = []
    duplicates = 0
    seen: set[str] = set()
    epc_rows: list[TraceEventEpc] = []
    for event, h, farm in zip(events, hashes, farms, strict=True):
        if "errorDeclaration" in event:
            decl = event["errorDeclaration"]
            declarations.append(
                ErrorDeclaration(
                    event_id=known[h],
                    declaration_time=_instant(decl["declarationTime"]),
                    reason=_vocab("reason", decl.get("reason"), prefixes),
                    corrective_event_ids=list(decl.get("correctiveEventIDs") or []),
                    body=dict(event),
                    recorded_by=principal.user_id,
                    recorded_at=now,
                    anchor_salt=secrets.token_hex(16),
                )
            )
            continue
        if h in known or h in seen:
            duplicates += 1
            continue
        seen.add(h)
        row = TraceEvent(
            organisation_id=principal.organisation_id,
            farm_id=farm,
            capture_id=capture_id,
            event_hash=h,
            event_type=event["type"],
            event_time=_instant(event["eventTime"]),
            record_time=now,
            action=event.get("action"),
            biz_step=_vocab("bizStep", event.get("bizStep"), prefixes),
            disposition=_vocab("disposition", event.get("disposition"), prefixes),
            read_point=_norm((event.get("readPoint") or {}).get("id")),
            biz_location=_norm((event.get("bizLocation") or {}).get("id")),
            body=dict(event),
            prefixes=prefixes,
            anchor_salt=secrets.token_hex(16),
        )
        rows.append(row)
    session.add_all(rows)
    session.add_all(declarations)
    session.flush()
    for row in rows:
        epc_rows += [TraceEventEpc(event_id=row.id, role=r, epc=e) for r, e in _index(row.body)]
    session.add_all(epc_rows)
    session.flush()
    if rows or declarations:
        uow.publish(
            Event(
                subject=CAPTURED,
                payload={
                    "organisation_id": principal.organisation_id,
                    "events": [r.id for r in rows],
                    "declarations": [d.id for d in declarations],
                },
                occurred_at=now,
            )
        )
    return CaptureResult(rows, duplicates, declarations)


def _known(session: Session, organisation_id: str, hashes: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    items = sorted(hashes)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        rows = session.execute(
            select(TraceEvent.event_hash, TraceEvent.id).where(
                TraceEvent.organisation_id == organisation_id,
                TraceEvent.event_hash.in_(chunk),
            )
        )
        out.update({h: i for h, i in rows})
    return out


def capture_document(*, uow: UnitOfWork, principal: Principal, document: Any) -> CaptureJob:
    """Validate and store a document in this unit of work; the job records the outcome.

    Capture completes synchronously (the job is finished when the response is sent): a job
    row still gives clients the standard's poll URL, and a worker can take over large
    documents later without changing the API.
    """
    _can(principal, WRITERS)
    problems = epcis.check_document(document)
    if problems:
        raise invalid(problems)
    now = uow.now()
    job = CaptureJob(
        organisation_id=principal.organisation_id,
        created_by=principal.user_id,
        running=True,
        success=False,
        errors=[],
        created_at=now,
    )
    uow.session.add(job)
    uow.session.flush()
    events = epcis.events_of(document)
    paths = [f"$.epcisBody.eventList[{i}]" for i in range(len(events))]
    result = _store(
        uow=uow,
        principal=principal,
        events=events,
        context=document.get("@context"),
        paths=paths,
        capture_id=job.id,
    )
    job.running = False
    job.success = True
    job.captured = len(result.captured)
    job.duplicates = result.duplicates
    job.finished_at = now
    uow.session.flush()
    return job


def capture_event(*, uow: UnitOfWork, principal: Principal, event: Any) -> tuple[TraceEvent, bool]:
    """One event (``POST /epcis/events``); its own ``@context`` declares its namespaces."""
    _can(principal, WRITERS)
    problems = epcis.check_event(event)
    if problems:
        raise invalid(problems, "EPCIS event")
    context = event.get("@context")
    result = _store(
        uow=uow, principal=principal, events=[event], context=context, paths=["$"], capture_id=None
    )
    if result.captured:
        return result.captured[0], True
    h = event_hash(event, context=context)
    row = uow.session.scalar(
        select(TraceEvent).where(
            TraceEvent.organisation_id == principal.organisation_id, TraceEvent.event_hash == h
        )
    )
    assert row is not None
    return row, False


def get_capture(*, session: Session, principal: Principal, capture_id: str) -> CaptureJob:
    _can(principal, WRITERS)
    job = session.get(CaptureJob, capture_id)
    if job is None or job.organisation_id != principal.organisation_id:
        raise NotFound(f"no capture job {capture_id}")
    if principal.role != Role.ADMIN and job.created_by != principal.user_id:
        raise NotFound(f"no capture job {capture_id}")
    return job


# --- query ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventQuery:
    """The EPCIS 2.0 SimpleEventQuery parameters this server answers (§8.2.7.1)."""

    event_types: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    match: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (roles, epcs)
    per_page: int = 30
    next_page_token: str | None = None


def _token(row: TraceEvent) -> str:
    raw = f"{row.event_time.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, _, ident = raw.partition("|")
        return datetime.fromisoformat(when), ident
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput.field("nextPageToken", "not a token this server issued") from exc


def query_events(
    *, session: Session, principal: Principal, query: EventQuery
) -> tuple[list[TraceEvent], str | None]:
    _can(principal, READERS)
    stmt: Select[Any] = select(TraceEvent).where(
        TraceEvent.organisation_id == principal.organisation_id
    )
    farms = visible_farm_ids(session, principal)
    if farms is not None:
        stmt = stmt.where(TraceEvent.farm_id.in_(farms))
    t = TraceEvent
    if query.event_types:
        stmt = stmt.where(t.event_type.in_(query.event_types))
    times: tuple[tuple[Any, datetime | None, str], ...] = (
        (t.event_time, query.ge_event_time, "ge"),
        (t.event_time, query.lt_event_time, "lt"),
        (t.record_time, query.ge_record_time, "ge"),
        (t.record_time, query.lt_record_time, "lt"),
    )
    for column, value, op in times:
        if value is not None:
            stmt = stmt.where(column >= value if op == "ge" else column < value)
    equals: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (t.action, query.actions),
        (t.biz_step, query.biz_steps),
        (t.disposition, query.dispositions),
        (t.read_point, query.read_points),
        (t.biz_location, query.biz_locations),
        (t.event_hash, query.event_ids),
    )
    for column, values in equals:
        if values:
            stmt = stmt.where(column.in_(values))
    for roles, epcs in query.match:
        stmt = stmt.where(
            exists().where(
                TraceEventEpc.event_id == t.id,
                TraceEventEpc.role.in_(roles),
                TraceEventEpc.epc.in_(epcs),
            )
        )
    if query.next_page_token:
        when, ident = _untoken(query.next_page_token)
        stmt = stmt.where(or_(t.event_time > when, and_(t.event_time == when, t.id > ident)))
    rows: list[TraceEvent] = list(
        session.scalars(stmt.order_by(t.event_time, t.id).limit(query.per_page + 1))
    )
    more = len(rows) > query.per_page
    rows = rows[: query.per_page]
    return rows, (_token(rows[-1]) if more and rows else None)


def event_document(row: TraceEvent) -> dict[str, Any]:
    """The event as captured, with its id (the hash) and record time, as EPCIS returns it."""
    body = dict(row.body)
    body.setdefault("eventID", row.event_hash)
    body["recordTime"] = row.record_time.isoformat().replace("+00:00", "Z")
    if row.prefixes and "@context" not in body:
        body["@context"] = [dict(row.prefixes)]
    return body


def payload_digest(event_hash_id: str) -> str:
    """The ledger payload of an event: the SHA-256 hex inside its ni: URI."""
    return event_hash_id.split(";", 1)[1].split("?", 1)[0]


def declaration_digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(body))).hexdigest()


def blind(salt_hex: str | None, digest_hex: str) -> str:
    """What the ledger anchors for a digest: ``sha256(salt ‖ digest)`` (both as bytes).

    Only the holder of the salt can link the ledger entry to the event, so a guesser who hashes
    candidate events finds nothing to match. Rows without a salt were anchored bare (before
    trace_0004) and stay so: a ledger entry cannot be rewritten.
    """
    if salt_hex is None:
        return digest_hex
    return hashlib.sha256(bytes.fromhex(salt_hex) + bytes.fromhex(digest_hex)).hexdigest()


def event_anchor(row: TraceEvent) -> str:
    return blind(row.anchor_salt, payload_digest(row.event_hash))


def declaration_anchor(row: ErrorDeclaration) -> str:
    return blind(row.anchor_salt, declaration_digest(row.body))


def find_event(*, session: Session, principal: Principal, event_id: str) -> TraceEvent:
    """One event the principal may read, by its CBV event hash (404 otherwise)."""
    _can(principal, READERS)
    stmt = select(TraceEvent).where(
        TraceEvent.organisation_id == principal.organisation_id,
        TraceEvent.event_hash == event_id,
    )
    farms = visible_farm_ids(session, principal)
    if farms is not None:
        stmt = stmt.where(TraceEvent.farm_id.in_(farms))
    row = session.scalar(stmt)
    if row is None:
        raise NotFound("no such event")
    return row
