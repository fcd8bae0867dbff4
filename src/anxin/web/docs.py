"""The API docs (Swagger UI at /docs, ReDoc at /redoc) from anxin's own static files.

FastAPI's defaults load both from a CDN and ReDoc its fonts from Google: on a network without
internet the pages stay blank. The assets are vendored under ``static/vendor`` (see
SOURCE.md there for versions and licences)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

# The API's documentation is public, as the OpenAPI document itself is (no data in it).
PUBLIC = {"x-anxin-public": True}
router = APIRouter(include_in_schema=False)


@router.get("/docs", openapi_extra=PUBLIC)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} · API",
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        oauth2_redirect_url=OAUTH2_REDIRECT,
    )


@router.get(OAUTH2_REDIRECT, openapi_extra=PUBLIC)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", openapi_extra=PUBLIC)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} · API",
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.svg",
        with_google_fonts=False,
    )
