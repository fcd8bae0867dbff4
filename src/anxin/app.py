"""The ASGI application: every domain's router is mounted here, in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware

import anxin
from anxin.alerts import views as alerts_views
from anxin.alerts import worker as alerts_worker
from anxin.collateral import flows as collateral_flows
from anxin.collateral import views as collateral_views
from anxin.core import heap
from anxin.core.clock import Clock
from anxin.core.config import Settings, get_settings
from anxin.core.context import AppContext
from anxin.core.errors import AnxinError, FieldProblem
from anxin.core.security import PUBLIC_ROUTE
from anxin.homecare import flows as homecare_flows
from anxin.homecare import views as homecare_views
from anxin.iot import flows as iot_flows
from anxin.iot import metrics as iot_metrics
from anxin.iot import views as iot_views
from anxin.ledger import views as ledger_views
from anxin.life import views as life_views
from anxin.people import views as people_views
from anxin.web import collateral as web_collateral
from anxin.web import console as web_console
from anxin.web import views as web_views
from anxin.web.live import LiveHub

log = logging.getLogger(__name__)


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
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(
        _error_body(exc.code, exc.message, exc.fields), status_code=exc.status_code, headers=headers
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [FieldProblem(_field_name(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
    message = "; ".join(f"{f.field}: {f.reason}" for f in fields) or "invalid request"
    return JSONResponse(_error_body("invalid_input", message, fields), status_code=422)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A serving process settles its heap (startup objects need no more full GC passes), then
    runs its background workers until shutdown."""
    if app.state.context.settings.environment != "test":
        heap.settle()
    async with alerts_worker.lifespan(app):
        yield


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    context = AppContext.build(settings, clock=clock)
    app = FastAPI(title="anxin 安心", version=anxin.__version__, lifespan=_lifespan)
    app.state.context = context
    iot_flows.install(context)
    homecare_flows.install(context)
    collateral_flows.install(context)
    live_hub = LiveHub()
    live_hub.install(context.bus)
    context.extras["live"] = live_hub
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

    @app.get("/healthz", tags=["ops"], openapi_extra=PUBLIC_ROUTE)
    def healthz() -> dict[str, Any]:
        """Liveness and database reachability; public by design, reveals no data."""
        from sqlalchemy import text

        with context.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "version": anxin.__version__,
            "database": context.db.engine.dialect.name,
        }

    for router in (
        people_views.router,
        iot_views.router,
        homecare_views.router,
        collateral_views.router,
        alerts_views.router,
        life_views.router,
        ledger_views.router,
        web_views.router,
        web_console.router,
        web_collateral.router,
    ):
        app.include_router(router)
    web_views.mount_static(app)
    app.mount(
        "/metrics",
        iot_metrics.asgi_app(
            settings.metrics_token.get_secret_value() if settings.metrics_token else None
        ),
    )
    return app
