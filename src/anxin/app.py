"""The ASGI application: the composition root mounts every domain's routers and pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

import anxin
from anxin.core import heap
from anxin.core.clock import Clock
from anxin.core.config import Settings, get_settings
from anxin.core.context import AppContext
from anxin.core.domain import Domain
from anxin.core.errors import AnxinError, FieldProblem
from anxin.core.leader import LeaderElection, Leadership
from anxin.core.metrics import asgi_app as metrics_app
from anxin.core.security import PUBLIC_ROUTE
from anxin.core.workers import PeriodicWorker, StartLine
from anxin.domains import build_context
from anxin.ui.console import build_console
from anxin.web import docs as web_docs
from anxin.web import live as web_live
from anxin.web import views as web_views

log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    version: str
    database: str


class FieldProblemRead(BaseModel):
    field: str
    reason: str


class ErrorRead(BaseModel):
    """The body of every error answer."""

    error: str
    message: str
    fields: list[FieldProblemRead]


# Every API route may answer these, with the error body above; the OpenAPI says so, so a
# client (or a fuzzer) can tell a documented refusal from a surprise. FastAPI's own 422 shape
# ({"detail": …}) is replaced: the handlers below never send it.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorRead, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Not allowed for this role"),
        (404, "Not found, or not visible to the caller"),
        (409, "Conflicts with the current state or a business rule"),
        (413, "Payload too large"),
        (422, "Invalid input; `fields` names each field and the reason"),
        (429, "Too many requests"),
    )
}


def _error_body(code: str, message: str, fields: list[FieldProblem]) -> dict[str, Any]:
    return {
        "error": code,
        "message": message,
        "fields": [{"field": f.field, "reason": f.reason} for f in fields],
    }


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:] or ["body"]
    return ".".join(parts)


async def _anxin_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnxinError)
    headers = exc.headers()
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        _error_body(exc.code, exc.message, exc.fields),
        status_code=exc.status_code,
        headers=headers or None,
    )


def _methods_at(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at the request's path (routers included)."""
    methods: set[str] = set()
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's wrapper for an included router
            methods |= _methods_at(route.original_router.routes, scope)
        elif isinstance(route, Route) and route.methods:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                methods |= route.methods
    return methods


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (unparsable body, unknown path, wrong method) in the error
    body every other answer uses. Routes for one path may sit in several routers, and the
    router's 405 names only the first one's methods; `Allow` lists them all."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(_methods_at(request.app.routes, request.scope)))
    status = HTTPStatus(exc.status_code)
    code = status.phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else status.phrase
    return JSONResponse(
        _error_body(code, message, []), status_code=exc.status_code, headers=headers or None
    )


def _nul_column(params: Any) -> str | None:
    rows = params if isinstance(params, list | tuple) else [params]
    for row in rows:
        if isinstance(row, dict):
            for key, value in row.items():
                if isinstance(value, str) and "\x00" in value:
                    return str(key)
    return None


async def _database_refused(_: Request, exc: Exception) -> JSONResponse:
    """A value the schema let through but the database cannot hold (PostgreSQL refuses NUL in
    text, and its INTEGER columns end at 32 bits) is the client's error: a 422, never a 500.
    The column is named where the statement's parameters show it."""
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "value out of range"
    column = _nul_column(exc.params)
    fields = [FieldProblem(column, "must not contain NUL characters")] if column else []
    message = f"{column}: must not contain NUL characters" if column else f"not storable: {reason}"
    return JSONResponse(_error_body("invalid_input", message, fields), status_code=422)


API_PREFIXES = ("/api/", "/epcis")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # A console form is judged only for someone logged in: without a session a page's POST
    # goes to the login page (as its handler would send it), not a 422 about the form.
    page = not request.url.path.startswith(API_PREFIXES)
    if page and "session" in request.scope and not request.session.get("uid"):
        return RedirectResponse("/login", status_code=303)
    fields = [FieldProblem(_field_name(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
    message = "; ".join(f"{f.field}: {f.reason}" for f in fields) or "invalid request"
    return JSONResponse(_error_body("invalid_input", message, fields), status_code=422)


# A path no route serves: a request for it is matched against every route.
WARM_UP_PATH = "/_anxin/warm-up"


async def _warm_up_routes(app: FastAPI) -> None:
    """Send one request for `WARM_UP_PATH` through the app before it serves. FastAPI prepares
    an included router's routes (their parameter and response models: ~3,300 pydantic
    adapters for anxin's ~320 routes) on the first request matched against them; that was
    about 1 s of the first login's 1.2 s (docs/performance.md, "Alarm latency")."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": WARM_UP_PATH,
        "raw_path": WARM_UP_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "state": {},
    }
    await app(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A serving process prepares every route (`_warm_up_routes`) and settles its heap
    (startup objects need no more full GC passes), then
    runs every domain's background workers until shutdown, each started and stopped on its
    own: one that fails to stop does not keep the others running. With several serving
    processes (`anxin serve --workers N`) only the leader runs them (`core.leader`). Their
    first ticks wait on one start line: the server's first requests go first, then one
    worker's first tick at a time (`core.workers.StartLine`)."""
    context: AppContext = app.state.context
    if context.settings.warm_up_enabled:
        await _warm_up_routes(app)
    if context.settings.environment != "test":
        heap.settle()
    workers = context.workers()
    started: list[Any] = []

    def lead() -> None:
        line = StartLine(context.settings.workers_start_delay_s)
        for worker in workers:
            if isinstance(worker, PeriodicWorker):
                worker.start(line)
            else:
                worker.start()
            started.append(worker)

    election = LeaderElection(Leadership(context.settings), lead) if workers else None
    app.state.workers = started  # filled when (if) this process leads
    app.state.leader = election
    try:
        if election is not None:
            election.start()
        yield
    finally:
        if election is not None:
            election.stop()
        for worker in reversed(started):
            try:
                worker.stop()
            except Exception:
                log.exception("a worker failed to stop: %r", worker)
        if election is not None:
            election.release()  # only now may another process start its workers


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    domains: Sequence[Domain] | None = None,
) -> FastAPI:
    """The application of every discovered domain (or of `domains`, for tests)."""
    settings = settings or get_settings()
    context = build_context(settings, clock=clock, domains=domains)
    app = FastAPI(
        title="anxin 安心",
        version=anxin.__version__,
        lifespan=_lifespan,
        docs_url=None,  # served from anxin's own static files: web/docs.py
        redoc_url=None,
    )
    app.state.context = context
    app.state.workers = []
    hub = web_live.LiveHub()
    for subscription in hub.subscriptions():
        context.bus.subscribe(subscription.pattern, subscription.handler)
    app.state.live = hub
    app.state.console = build_console(
        template_dirs=[web_views.TEMPLATES, *(d.templates for d in context.domains if d.templates)],
        labels=[d.labels for d in context.domains],
        nav=[link for d in context.domains for link in d.nav],
        tz=ZoneInfo(settings.display_timezone),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=settings.session_cookie_name,
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.is_production,
    )
    app.add_exception_handler(AnxinError, _anxin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _database_refused)

    @app.get("/healthz", tags=["ops"], openapi_extra=PUBLIC_ROUTE, response_model=Health)
    def healthz() -> Health:
        """Liveness and database reachability; public by design, reveals no data."""
        from sqlalchemy import text

        with context.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return Health(
            status="ok", version=anxin.__version__, database=context.db.engine.dialect.name
        )

    # Hot routes are matched first; the OpenAPI document lists them with their domain (a
    # second, never-reached copy in place), so the docs keep the domains' order.
    for domain in context.domains:
        for router in domain.hot_routers:
            app.include_router(router, responses=ERROR_RESPONSES, include_in_schema=False)
    for domain in context.domains:
        for router in domain.hot_routers:
            app.include_router(router, responses=ERROR_RESPONSES)
        for router in (*domain.routers, *domain.pages):
            app.include_router(router, responses=ERROR_RESPONSES)
    for router in (web_views.router, web_live.router, web_docs.router):
        app.include_router(router, responses=ERROR_RESPONSES)
    web_views.mount_static(app)
    app.mount(
        "/metrics",
        metrics_app(settings.metrics_token.get_secret_value() if settings.metrics_token else None),
    )
    return app
