"""Everything a domain can add, once each: an API route, a console page with its template,
labels and navigation, a CLI group, a bus subscription, an owner kind and a worker."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from anxin.core.commands import app_context
from anxin.core.context import AppContext
from anxin.core.domain import Command, Domain, NavLink, Subscription, Worker
from anxin.core.events import Event
from anxin.core.owners import OwnerKind
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.people.deps import CurrentPrincipal, UnitDep
from anxin.ui.console import console_principal, page, render

SHELF = "shelf"


@dataclass
class Recorder:
    """What the fixture domain was asked to do, for the test to look at."""

    events: list[str] = field(default_factory=list)
    started: int = 0
    stopped: int = 0


class PingRead(BaseModel):
    domain: str
    owner_kinds: list[str]


@dataclass
class _Worker:
    recorder: Recorder

    def start(self) -> None:
        self.recorder.started += 1

    def stop(self) -> None:
        self.recorder.stopped += 1


def _shelves(session: Session, principal: Principal) -> Collection[str] | None:
    return {"shelf-1"} if principal.role == Role.ADMIN else set()


def _shelf_facts(session: Session, ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
    return {shelf: {"lit": True} for shelf in ids if shelf == "shelf-1"}


def build(recorder: Recorder) -> Domain:
    router = APIRouter(prefix="/api/v1/fixture", tags=["fixture"])

    @router.get("/ping", response_model=PingRead)
    def ping(_: CurrentPrincipal, uow: UnitDep) -> PingRead:
        return PingRead(domain="fixture", owner_kinds=uow.owners.names())

    pages = APIRouter(include_in_schema=False)

    @pages.get("/fixture", response_model=None)
    @page
    def hello(request: Request, uow: UnitDep) -> Response:
        principal = console_principal(request, uow)
        owners = sorted(uow.owners.visible_ids(uow.session, principal, SHELF) or ())
        return render(request, "fixture/hello.html", owners=", ".join(owners))

    cli = typer.Typer()

    @cli.command("hello")
    def hello_command(ctx: typer.Context) -> None:
        with app_context(ctx).unit(actor="cli") as uow:
            typer.echo(f"hello from fixture; owner kinds: {' '.join(uow.owners.names())}")

    def on_event(uow: UnitOfWork, event: Event) -> None:
        recorder.events.append(f"{event.subject} by {uow.actor}")

    def worker(_: AppContext) -> Worker:
        return _Worker(recorder)

    return Domain(
        name="fixture",
        routers=[router],
        pages=[pages],
        templates=Path(__file__).parent / "templates",
        labels={"fixture_hello": ("你好，夹具", "Hello, fixture")},
        nav=[NavLink("/fixture", "fixture_hello", frozenset({Role.ADMIN}))],
        commands=[Command("fixture", cli)],
        subscriptions=[Subscription("fixture.>", on_event)],
        owner_kinds=[
            OwnerKind(
                SHELF, _shelves, _shelf_facts, belongs=lambda _s, _o, shelf: shelf == "shelf-1"
            )
        ],
        workers=[worker],
    )
