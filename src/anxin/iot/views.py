from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from anxin.core.errors import InvalidInput, PayloadTooLarge, RateLimited, Unauthenticated
from anxin.core.security import PUBLIC_ROUTE
from anxin.iot import rule_service, service
from anxin.iot.limits import TELEMETRY_LIMITER, RateLimiter
from anxin.iot.rule_schemas import RuleCreate, RuleRead, RuleUpdate
from anxin.iot.schemas import (
    DeviceCreate,
    DeviceRead,
    DeviceRegistered,
    DeviceTypeRead,
    IngestResult,
    LatestRead,
    ReadingPage,
    ReadingRead,
    RejectionRead,
)
from anxin.people.deps import ContextDep, CurrentPrincipal, UnitDep

router = APIRouter(prefix="/api/v1", tags=["iot"])


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the device token as 'Authorization: Bearer <token>'")
    return token.strip()


async def read_body(request: Request) -> bytes:
    """The raw payload, read in the event loop so the endpoint itself can run in a thread."""
    return await request.body()


@router.post(
    "/telemetry",
    openapi_extra=PUBLIC_ROUTE,  # authenticated by the device token, not a user
    response_model=IngestResult,
    responses={422: {"description": "malformed payload, or every item rejected"}},
)
def post_telemetry(
    request: Request,
    body: Annotated[bytes, Depends(read_body)],
    uow: UnitDep,
    context: ContextDep,
) -> JSONResponse:
    """Device ingestion: one reading, a batch, or SenML (RFC 8428); idempotent per message id."""
    session = uow.session
    device = service.authenticate_device(session=session, token=_bearer(request))
    now = uow.now()
    limiter = context.setdefault(
        TELEMETRY_LIMITER,
        lambda: RateLimiter(
            rate=context.settings.telemetry_rate_per_s, burst=context.settings.telemetry_burst
        ),
    )
    if not limiter.allow(device.id, time.monotonic()):
        service.record_payload_rejection(
            session=session, device=device, reason=limiter.reason(), now=now
        )
        uow.commit()
        raise RateLimited(limiter.reason())
    limit = context.settings.max_payload_bytes
    if len(body) > limit:
        service.record_payload_rejection(
            session=session,
            device=device,
            reason=f"payload of {len(body)} bytes over {limit}",
            now=now,
        )
        uow.commit()
        raise PayloadTooLarge(f"payload of {len(body)} bytes exceeds the limit of {limit}")
    try:
        outcome = service.ingest(
            uow=uow,
            device=device,
            body=body,
            content_type=request.headers.get("content-type", "application/json"),
            now=now,
            max_items=context.settings.max_batch_items,
        )
    except InvalidInput as exc:
        service.record_payload_rejection(
            session=session, device=device, reason=exc.message, now=now
        )
        uow.commit()
        raise
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
    start: datetime | None = None,
    end: datetime | None = None,
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
