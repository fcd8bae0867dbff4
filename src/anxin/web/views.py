"""The console shell: login, logout, the home page with the caller's elders and devices, and
the static files. The domains' pages live in their own packages (`Domain.pages`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from anxin.core.errors import Unauthenticated
from anxin.core.security import PUBLIC_ROUTE, Role
from anxin.homecare import service as homecare
from anxin.homecare.pages import devices_with_latest, page_label
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
                "devices": devices_with_latest(uow, principal, household.id, page_label(request)),
            }
        )
    links = console_of(request).links_for(principal.role)
    # The elder reading their own home page gets the large type, as on their other pages.
    large = principal.role == Role.ELDER
    return render(request, "home.html", user=user, cards=cards, links=links, large=large)
