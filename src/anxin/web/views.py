"""Console pages: login, logout, and the home page with the caller's elders and devices."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from anxin.core.clock import format_local
from anxin.core.errors import AnxinError, Unauthenticated
from anxin.core.security import PUBLIC_ROUTE, Principal, Role
from anxin.homecare import service as homecare
from anxin.iot import service as iot
from anxin.iot.models import Device
from anxin.people import service as people
from anxin.people.deps import SessionDep
from anxin.web.i18n import LANGUAGES, label

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["local_time"] = format_local


def show_value(value: object) -> str:
    """Readings as people read them: true/false, and no trailing '.0' on whole numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return str(value)


templates.env.filters["reading"] = show_value

router = APIRouter(tags=["console"], include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def language(request: Request) -> str:
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        request.session["lang"] = wanted
    lang = request.session.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def render(request: Request, template: str, status_code: int = 200, **data: Any) -> HTMLResponse:
    lang = language(request)
    data.update(lang=lang, t=lambda key: label(key, lang))
    return templates.TemplateResponse(request, template, data, status_code=status_code)


class LoginRequired(Exception):
    """The browser has no valid session: send it to the login page."""


def console_principal(request: Request, session: Session) -> Principal:
    uid = request.session.get("uid")
    if not uid:
        raise LoginRequired
    try:
        principal = people.load_principal(session=session, user_id=str(uid))
    except Unauthenticated as exc:
        request.session.clear()
        raise LoginRequired from exc
    session.info["actor"] = principal.actor
    return principal


def page(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Pages redirect to /login without a session and show errors as a page, not JSON."""

    @wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        try:
            return handler(*args, **kwargs)
        except LoginRequired:
            return RedirectResponse("/login", status_code=303)
        except AnxinError as exc:
            return render(request, "error.html", status_code=exc.status_code, message=exc.message)

    return wrapper


@router.get("/login", response_class=HTMLResponse, openapi_extra=PUBLIC_ROUTE)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None)


@router.post("/login", response_model=None, openapi_extra=PUBLIC_ROUTE)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    try:
        principal = people.authenticate(session=session, username=username, password=password)
    except Unauthenticated:
        return render(request, "login.html", status_code=401, error="login_failed")
    request.session.clear()
    request.session["uid"] = principal.user_id
    return RedirectResponse("/", status_code=303)


@router.post("/logout", openapi_extra=PUBLIC_ROUTE)
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def devices_with_latest(
    session: Session, principal: Principal, household_id: str
) -> list[tuple[Device, list[dict[str, Any]]]]:
    """A household's devices, each with its latest readings, as the console cards show them."""
    devices = iot.list_devices(
        session=session, principal=principal, owner_kind="household", owner_id=household_id
    )
    return [
        (d, iot.latest_values(session=session, principal=principal, device_id=d.id))
        for d in devices
    ]


@router.get("/", response_class=HTMLResponse, response_model=None, openapi_extra=PUBLIC_ROUTE)
@page
def home(request: Request, session: SessionDep) -> Response:
    principal = console_principal(request, session)
    user = people.get_user(session=session, principal=principal, user_id=principal.user_id)
    cards = []
    for elder in homecare.list_elders(session=session, principal=principal):
        household = homecare.get_household(
            session=session, principal=principal, household_id=elder.household_id
        )
        cards.append(
            {
                "elder": elder,
                "household": household,
                "devices": devices_with_latest(session, principal, household.id),
            }
        )
    return render(request, "home.html", user=user, cards=cards, links=links_for(principal.role))


# Where each role works; the pages themselves check permission again.
ROLE_LINKS: dict[Role, list[tuple[str, str]]] = {
    Role.ADMIN: [
        ("/console/alarms", "alarm_queue"),
        ("/console/outbox", "outbox"),
        ("/life/illustration", "policy_illustration"),
    ],
    Role.BUTLER: [("/console/alarms", "alarm_queue"), ("/console/outbox", "outbox")],
    Role.DOCTOR: [("/console/alarms", "alarm_queue")],
    Role.FAMILY: [("/family", "family_page")],
    Role.ELDER: [("/family", "family_page")],
    Role.AGENT: [("/life/illustration", "policy_illustration")],
    Role.ACTUARY: [("/life/illustration", "policy_illustration")],
}


def links_for(role: Role) -> list[tuple[str, str]]:
    return ROLE_LINKS.get(role, [])
