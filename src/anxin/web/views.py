"""Console pages: login, logout, and the home page with the caller's elders and devices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from anxin.core.domain import NavLink
from anxin.core.errors import Unauthenticated
from anxin.core.security import PUBLIC_ROUTE, Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import service as homecare
from anxin.iot import service as iot
from anxin.iot.models import Device
from anxin.people import service as people
from anxin.people.deps import SessionDep, UnitDep
from anxin.ui.console import console_of, console_principal, page, render

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"

router = APIRouter(tags=["console"], include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


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
    uow: UnitOfWork, principal: Principal, household_id: str
) -> list[tuple[Device, list[dict[str, Any]]]]:
    """A household's devices, each with its latest readings, as the console cards show them."""
    devices = iot.list_devices(
        uow=uow, principal=principal, owner_kind="household", owner_id=household_id
    )
    return [(d, iot.latest_values(uow=uow, principal=principal, device_id=d.id)) for d in devices]


@router.get("/", response_class=HTMLResponse, response_model=None, openapi_extra=PUBLIC_ROUTE)
@page
def home(request: Request, uow: UnitDep) -> Response:
    session = uow.session
    principal = console_principal(request, uow)
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
                "devices": devices_with_latest(uow, principal, household.id),
            }
        )
    links = console_of(request).links_for(principal.role)
    return render(request, "home.html", user=user, cards=cards, links=links)


# The shell's own pages in the navigation (domains add theirs through `Domain.nav`); the pages
# check permission again.
CARE_TEAM = frozenset({Role.ADMIN, Role.BUTLER, Role.DOCTOR})
BANK = frozenset(
    {Role.SCF_OFFICER, Role.RISK_OFFICER, Role.LOAN_OFFICER, Role.WAREHOUSE_OPERATOR, Role.ADMIN}
)
NAV = [
    NavLink("/console/alarms", "alarm_queue", CARE_TEAM),
    NavLink("/console/outbox", "outbox", frozenset({Role.ADMIN, Role.BUTLER})),
    NavLink("/family", "family_page", frozenset({Role.FAMILY, Role.ELDER})),
    NavLink("/console/collateral", "collateral", BANK),
]
