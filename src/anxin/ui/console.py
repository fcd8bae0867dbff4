"""Rendering console pages: the application's one Jinja environment, languages and labels,
navigation by role, and the page decorator (login redirect, errors as pages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial, wraps
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError

from anxin.core.clock import SHANGHAI, format_local
from anxin.core.domain import NavLink
from anxin.core.errors import AnxinError, FieldProblem, InvalidInput, Unauthenticated
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people import service as people
from anxin.ui import charts
from anxin.ui.i18n import LANGUAGES, Catalog


def show_value(value: object) -> str:
    """Readings as people read them: true/false, and no trailing '.0' on whole numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return str(value)


@dataclass
class Console:
    """What every page of one application renders with."""

    templates: Jinja2Templates
    catalog: Catalog
    nav: list[NavLink] = field(default_factory=list)
    tz: ZoneInfo = SHANGHAI  # the display timezone (settings.display_timezone)

    def links_for(self, role: Role) -> list[NavLink]:
        return [link for link in self.nav if role in link.roles]


def build_console(
    *,
    template_dirs: Iterable[Path],
    labels: Iterable[Mapping[str, tuple[str, str]]],
    nav: Sequence[NavLink],
    tz: ZoneInfo = SHANGHAI,
) -> Console:
    """One environment over every template folder (a domain keeps its templates in a folder
    named after it, so names never collide)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in template_dirs]),
        autoescape=select_autoescape(),
    )
    env.globals["local_time"] = partial(format_local, tz=tz)
    env.globals["chart_scripts"] = charts.SCRIPTS
    env.filters["reading"] = show_value
    return Console(Jinja2Templates(env=env), Catalog(labels), list(nav), tz)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def language(request: Request) -> str:
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        request.session["lang"] = wanted
    lang = request.session.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def render(request: Request, template: str, status_code: int = 200, **data: Any) -> HTMLResponse:
    console = console_of(request)
    lang = language(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    other = request.url.include_query_params(lang="zh" if lang == "en" else "en")
    # Every page shows the navigation of the viewer's role (none before login).
    nav = console.links_for(principal.role) if principal else []
    data.update(
        lang=lang,
        t=lambda key: console.catalog.label(key, lang),
        nav_links=nav,
        viewer=principal,
        here=request.url.path,
        # this page, with its query, in the other language
        other_language=f"{other.path}?{other.query}",
    )
    return console.templates.TemplateResponse(request, template, data, status_code=status_code)


class LoginRequired(Exception):
    """The browser has no valid session: send it to the login page."""


def console_principal(request: Request, uow: UnitOfWork) -> Principal:
    uid = request.session.get("uid")
    if not uid:
        raise LoginRequired
    try:
        principal = people.load_principal(session=uow.session, user_id=str(uid))
    except Unauthenticated as exc:
        request.session.clear()
        raise LoginRequired from exc
    uow.actor = principal.actor
    request.state.principal = principal  # render() builds the viewer's navigation from it
    return principal


def form_errors(exc: ValidationError) -> InvalidInput:
    """A form's validation errors, each naming its field, as the one error type pages show;
    each keeps pydantic's error type and context, so a page can say it in the reader's
    language (`field_reasons`)."""
    problems = [
        FieldProblem(
            ".".join(str(p) for p in e["loc"]) or "form",
            e["msg"],
            e["type"],
            {k: str(v) for k, v in e.get("ctx", {}).items()},
        )
        for e in exc.errors()
    ]
    return InvalidInput("; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems)


def field_reasons(request: Request, problems: Iterable[FieldProblem]) -> dict[str, str]:
    """What is wrong with each field of a form, in the reader's language, keyed by the form's
    input (the problem's first path part; its first problem if it has several)."""
    catalog, lang = console_of(request).catalog, language(request)
    reasons: dict[str, str] = {}
    for problem in problems:
        reasons.setdefault(problem.field.split(".")[0], _reason(catalog, lang, problem))
    return reasons


def _reason(catalog: Catalog, lang: str, problem: FieldProblem) -> str:
    """The label `reason_<code>` filled with the problem's parameters; a problem without one
    is the service's own (English) words to an English reader, a plain "not valid" to others."""
    key = f"reason_{problem.code}"
    if problem.code and key in catalog:
        return catalog.label(key, lang).format_map(problem.params)
    return problem.reason if lang == "en" else catalog.label("field_invalid", lang)


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
            shown = render(
                request,
                "error.html",
                status_code=exc.status_code,
                code=exc.code,
                message=exc.message,
            )
            shown.headers.update(exc.headers())
            return shown

    return wrapper


FormModel = TypeVar("FormModel", bound=BaseModel)


def form_model(model: type[FormModel], data: Mapping[str, Any]) -> FormModel:
    """A form's fields validated by the API's schema; errors as the one InvalidInput (a 422
    page naming each field), as the API reports them."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise form_errors(exc) from exc
