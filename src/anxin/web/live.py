"""Live updates for console pages over server-sent events (SSE).

Domain events reach the hub only after their transaction commits, so a browser is never told
about an alarm that was rolled back. Each connection carries the viewer's visibility filter:
a family's page hears only about its own household.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.applications import Starlette

from anxin.core.domain import Subscription
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people.deps import UnitDep
from anxin.ui.console import LoginRequired, console_principal

# Events pushed to consoles; owners publish them with organisation_id, owner_kind, owner_id.
LIVE_SUBJECTS = (
    "alerts.alarm.>",
    "consult.consultation.>",
    "consult.dose.>",
    "lending.application.>",
)
HEARTBEAT_S = 15.0

Visible = Callable[[dict[str, Any]], bool]


@dataclass
class _Listener:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]]
    visible: Visible


@dataclass
class LiveHub:
    """Fans committed events out to connected browsers, each through its own filter."""

    max_queue: int = 256
    _listeners: list[_Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(subject, self._on_event) for subject in LIVE_SUBJECTS]

    def _on_event(self, uow: UnitOfWork, event: Event) -> None:
        message = {"subject": event.subject, "id": event.id, **event.payload}
        uow.after_commit(lambda: self.publish(message))

    def publish(self, message: dict[str, Any]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            if listener.visible(message):
                listener.loop.call_soon_threadsafe(self._offer, listener.queue, message)

    @staticmethod
    def _offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
        # A slow browser loses old pings rather than growing memory without bound; the page
        # refetches the full state on every ping, so nothing is lost but latency.
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(message)

    async def stream(self, visible: Visible) -> AsyncIterator[str]:
        listener = _Listener(asyncio.get_running_loop(), asyncio.Queue(self.max_queue), visible)
        with self._lock:
            self._listeners.append(listener)
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(listener.queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                yield f"data: {json.dumps(message, default=str)}\n\n"
        finally:
            with self._lock:
                self._listeners.remove(listener)

    def listener_count(self) -> int:
        with self._lock:
            return len(self._listeners)


def live_hub(app: Starlette) -> LiveHub:
    """The application's hub (`create_app` puts one on ``app.state``)."""
    hub: LiveHub = app.state.live
    return hub


router = APIRouter(tags=["console"], include_in_schema=False)


def _visibility(uow: UnitOfWork, principal: Principal) -> Visible:
    """Decide once, at connect time, which owners' events this viewer may hear about."""
    owners = {
        kind: uow.owners.visible_ids(uow.session, principal, kind) for kind in uow.owners.names()
    }

    def visible(message: dict[str, Any]) -> bool:
        if message.get("organisation_id") != principal.organisation_id:
            return False
        if principal.role == Role.ADMIN:
            return True
        allowed = owners.get(str(message.get("owner_kind")), ())
        return allowed is None or message.get("owner_id") in allowed

    return visible


@router.get("/console/stream", response_model=None)
def stream(request: Request, uow: UnitDep) -> Response:
    """Server-sent events: one line per committed alarm change the viewer may see."""
    try:
        principal = console_principal(request, uow)
    except LoginRequired:
        return Response(status_code=401)
    visible = _visibility(uow, principal)
    hub = live_hub(request.app)

    async def events() -> AsyncIterator[str]:
        async for chunk in hub.stream(visible):
            if await request.is_disconnected():
                break
            yield chunk

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
