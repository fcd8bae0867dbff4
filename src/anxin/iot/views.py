from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from anxin.core.bounds import SaneDateTime
from anxin.core.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
)
from anxin.core.security import PUBLIC_ROUTE
from anxin.iot import dead_letters, metrics, replay, service
from anxin.iot.ingest import CONTENT_TYPES, TooDeep, media_type
from anxin.iot.limits import TELEMETRY_LIMITER, RateLimiter
from anxin.iot.models import DeadLetter
from anxin.iot.pipeline import describe
from anxin.iot.rules import service as rule_service
from anxin.iot.rules.schemas import RuleCreate, RuleRead, RuleUpdate
from anxin.iot.schemas import (
    DeadLettered,
    DeadLetterPage,
    DeadLetterRead,
    DeviceCreate,
    DeviceRead,
    DeviceRegistered,
    DeviceTypeRead,
    IngestResult,
    LatestRead,
    ReadingPage,
    ReadingRead,
    RejectionRead,
    ReplayResult,
)
from anxin.people.deps import AdminPrincipal, ContextDep, CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1", tags=["iot"])
# Device ingestion alone, matched before every other route (`Domain.hot_routers`).
ingest_router = APIRouter(prefix="/api/v1", tags=["iot"])
log = logging.getLogger(__name__)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the device token as 'Authorization: Bearer <token>'")
    return token.strip()


async def read_body(request: Request) -> bytes:
    """The raw payload, read in the event loop so the endpoint itself can run in a thread."""
    return await request.body()


@ingest_router.post(
    "/telemetry",
    openapi_extra=PUBLIC_ROUTE,  # authenticated by the device token, not a user
    response_model=IngestResult,
    responses={
        202: {"description": "a handler failed on the payload: kept as a dead letter"},
        413: {"description": "payload over ANXIN_MAX_PAYLOAD_BYTES"},
        415: {"description": "Content-Type is not application/json or application/senml+json"},
        422: {"description": "malformed payload, or every item rejected"},
    },
)
def post_telemetry(
    request: Request,
    body: Annotated[bytes, Depends(read_body)],
    uow: UnitDep,
    context: ContextDep,
) -> JSONResponse:
    """Device ingestion: one reading, a batch, or SenML (RFC 8428); idempotent per message id."""
    session = uow.session
    device = service.authenticate_device_snapshot(session=session, token=_bearer(request))
    now = uow.now()
    settings = context.settings
    limiter = context.setdefault(
        TELEMETRY_LIMITER,
        lambda: RateLimiter(rate=settings.telemetry_rate_per_s, burst=settings.telemetry_burst),
    )
    if not limiter.allow(device.id, time.monotonic()):
        service.record_payload_rejection(
            session=session, device=device, reason=limiter.reason(), now=now
        )
        uow.commit()
        raise RateLimited(limiter.reason())
    content_type = request.headers.get("content-type", "")
    if media_type(content_type) not in CONTENT_TYPES:
        reason = f"Content-Type {content_type[:60]!r} is not one of {', '.join(CONTENT_TYPES)}"
        service.record_payload_rejection(session=session, device=device, reason=reason, now=now)
        uow.commit()
        raise UnsupportedMediaType(reason, fields=[FieldProblem("content-type", reason)])
    limit = settings.max_payload_bytes
    if len(body) > limit:
        reason = f"payload of {len(body)} bytes exceeds the limit of {limit}"
        _refuse(session, device, body, content_type, metrics.TOO_LARGE, reason, now)
        raise PayloadTooLarge(reason)
    try:
        outcome = service.ingest(
            uow=uow,
            device=device,
            body=body,
            content_type=content_type,
            now=now,
            max_items=settings.max_batch_items,
            limits=service.limits_from(settings),
        )
    except InvalidInput as exc:
        code = metrics.TOO_DEEP if isinstance(exc, TooDeep) else metrics.MALFORMED
        _refuse(session, device, body, content_type, code, exc.message, now)
        raise
    except Exception as exc:  # a rule or subscriber raised: keep the payload, answer the device
        log.exception("telemetry handler failed", extra={"device": device.id})
        session.rollback()
        letter = _dead_letter(
            session, device, body, content_type, metrics.HANDLER_FAILED, describe(exc), now
        )
        uow.commit()
        dead = DeadLettered(accepted=0, duplicates=0, rejected=0, rejections=[], dead_letter=letter)
        return JSONResponse(dead.model_dump(mode="json"), status_code=202)
    result = IngestResult(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=len(outcome.rejections),
        rejections=[
            RejectionRead(index=r.index, message_id=r.message_id, reason=r.reason)
            for r in outcome.rejections
        ],
    )
    nothing_good = outcome.accepted == 0 and outcome.duplicates == 0
    return JSONResponse(result.model_dump(mode="json"), status_code=422 if nothing_good else 200)


def _refuse(
    session: Session,
    device: service.DeviceRef,
    body: bytes,
    content_type: str,
    code: str,
    reason: str,
    now: datetime,
) -> None:
    """A whole payload refused: counted against the device, kept as a dead letter, committed
    before the error goes back (the request's unit of work rolls back on errors)."""
    service.record_payload_rejection(session=session, device=device, reason=reason, now=now)
    _dead_letter(session, device, body, content_type, code, reason, now)
    session.commit()


def _dead_letter(
    session: Session,
    device: service.DeviceRef,
    body: bytes,
    content_type: str,
    code: str,
    reason: str,
    now: datetime,
) -> int:
    draft = dead_letters.Draft(
        transport="http",
        reason_code=code,
        reason=reason,
        body=body,
        claimed_device=device.id,
        device_id=device.id,
        organisation_id=device.organisation_id,
        content_type=content_type,
    )
    (letter,) = dead_letters.record(session=session, drafts=[draft], now=now)
    return letter


# --- dead letters ------------------------------------------------------------------------------

DeadLetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/iot/dead-letters", response_model=DeadLetterPage)
def list_dead_letters(
    principal: AdminPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    pending: Annotated[bool, Query(description="only those not replayed yet")] = False,
) -> DeadLetterPage:
    """The organisation's dead letters, newest first; page with `before=next_before`.

    Messages from no known device belong to no organisation: the operator's CLI lists them.
    """
    rows, next_before = dead_letters.list_dead_letters(
        session=session,
        organisation_id=principal.organisation_id,
        limit=limit,
        before=before,
        pending_only=pending,
    )
    return DeadLetterPage(items=[dead_letter_read(r) for r in rows], next_before=next_before)


@router.post("/iot/dead-letters/{dead_letter_id}/replay", response_model=ReplayResult)
def replay_dead_letter(
    dead_letter_id: DeadLetterId, principal: AdminPrincipal, context: ContextDep
) -> ReplayResult:
    """Run a dead letter through its transport's pipeline again (after a fix); 409 with the
    reason if it fails again (it stays waiting), or if it was replayed already."""
    outcome = replay.replay(
        context=context,
        dead_letter_id=dead_letter_id,
        organisation_id=principal.organisation_id,
    )
    if not outcome.replayed:
        raise Conflict(f"replay of dead letter {dead_letter_id} failed: {outcome.note}")
    return ReplayResult(**asdict(outcome))


def dead_letter_read(row: DeadLetter) -> DeadLetterRead:
    return DeadLetterRead(
        id=row.id,
        transport=row.transport,
        reason_code=row.reason_code,
        reason=row.reason,
        claimed_device=row.claimed_device,
        device_id=row.device_id,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        truncated=dead_letters.truncated(row),
        body_preview=dead_letters.preview(row.body),
        first_at=row.first_at,
        last_at=row.last_at,
        occurrences=row.occurrences,
        replayed_at=row.replayed_at,
        replay_note=row.replay_note,
    )


@router.get("/device-types", response_model=list[DeviceTypeRead])
def list_device_types(_: CurrentPrincipal, uow: UnitDep) -> list[DeviceTypeRead]:
    types = service.list_device_types(session=uow.session)
    return [DeviceTypeRead.model_validate(t) for t in types]


@router.post("/devices", response_model=DeviceRegistered, status_code=201)
def create_device(
    data: DeviceCreate, principal: CurrentPrincipal, uow: UnitDep, context: ContextDep
) -> DeviceRegistered:
    device, token = service.create_device(uow=uow, principal=principal, data=data, now=uow.now())
    return DeviceRegistered(**DeviceRead.model_validate(device).model_dump(), token=token)


@router.get("/devices", response_model=list[DeviceRead])
def list_devices(
    principal: CurrentPrincipal,
    uow: UnitDep,
    owner_kind: str | None = None,
    owner_id: str | None = None,
) -> list[DeviceRead]:
    devices = service.list_devices(
        uow=uow, principal=principal, owner_kind=owner_kind, owner_id=owner_id
    )
    return [DeviceRead.model_validate(d) for d in devices]


@router.get("/devices/{device_id}", response_model=DeviceRead)
def get_device(device_id: str, principal: CurrentPrincipal, uow: UnitDep) -> DeviceRead:
    return DeviceRead.model_validate(
        service.get_device(uow=uow, principal=principal, device_id=device_id)
    )


@router.post("/devices/{device_id}/token", response_model=DeviceRegistered)
def rotate_device_token(
    device_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> DeviceRegistered:
    device, token = service.rotate_token(uow=uow, principal=principal, device_id=device_id)
    return DeviceRegistered(**DeviceRead.model_validate(device).model_dump(), token=token)


@router.get("/devices/{device_id}/readings", response_model=ReadingPage)
def list_readings(
    device_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    start: SaneDateTime | None = None,
    end: SaneDateTime | None = None,
    key: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> ReadingPage:
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput.field(name, "needs a time zone (e.g. 'Z' or '+08:00')")
    items, next_cursor = service.list_readings(
        uow=uow,
        principal=principal,
        device_id=device_id,
        start=start,
        end=end,
        key=key,
        limit=limit,
        cursor=cursor,
    )
    return ReadingPage(items=[ReadingRead(**i) for i in items], next_cursor=next_cursor)


@router.get("/devices/{device_id}/latest", response_model=list[LatestRead])
def latest_values(device_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[LatestRead]:
    rows = service.latest_values(uow=uow, principal=principal, device_id=device_id)
    return [LatestRead(**r) for r in rows]


@router.get("/devices/{device_id}/rejections", response_model=list[RejectionRead])
def list_rejections(
    device_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[RejectionRead]:
    rows = service.list_rejections(uow=uow, principal=principal, device_id=device_id)
    return [
        RejectionRead(index=r.item_index, message_id=r.message_id, reason=r.reason) for r in rows
    ]


# --- device alarm rules (iot.rules) ------------------------------------------------------------


@router.get("/device-rules", response_model=list[RuleRead], tags=["rules"])
def list_device_rules(
    principal: CurrentPrincipal,
    uow: UnitDep,
    device_type: str | None = None,
    device_id: str | None = None,
) -> list[RuleRead]:
    """Rules with their validity: built-in defaults, the organisation's, and per-device ones."""
    return rule_service.list_rules(
        uow=uow, principal=principal, device_type=device_type, device_id=device_id
    )


@router.post("/device-rules", response_model=RuleRead, status_code=201, tags=["rules"])
def create_device_rule(
    data: RuleCreate, principal: CurrentPrincipal, uow: UnitDep, context: ContextDep
) -> RuleRead:
    """Create (or replace by name) a rule; a spec that fails validation is stored as invalid."""
    return rule_service.create_rule(uow=uow, principal=principal, data=data, now=uow.now())


@router.patch("/device-rules/{rule_id}", response_model=RuleRead, tags=["rules"])
def update_device_rule(
    rule_id: str,
    data: RuleUpdate,
    principal: CurrentPrincipal,
    uow: UnitDep,
    context: ContextDep,
) -> RuleRead:
    return rule_service.update_rule(
        uow=uow, principal=principal, rule_id=rule_id, data=data, now=uow.now()
    )
