"""The setup contract: one typed description of everything a domain adds to the platform.

Each domain package has a ``setup.py`` whose ``setup()`` returns a `Domain`. The composition
root (`anxin.domains`) discovers them; `create_app` mounts their routers and pages, the CLI
adds their command groups, the application context subscribes their handlers and collects
their owner kinds, and the app's lifespan starts and stops their workers. Adding a domain
touches only its own package and its migration branch (docs/architecture.md, "Adding a
domain").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from anxin.core.events import Handler, Preparer
from anxin.core.owners import OwnerKind
from anxin.core.security import Role

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from anxin.core.context import AppContext


class Worker(Protocol):
    """A background loop of a domain, started and stopped by the serving process."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


# Builds the worker for a running application; None when the settings switch it off.
WorkerFactory = Callable[["AppContext"], Worker | None]


@dataclass(frozen=True)
class Subscription:
    pattern: str  # NATS-style subject pattern
    handler: Handler


@dataclass(frozen=True)
class Preparation:
    """A batch step before delivery (see `core.events.EventBus.prepare`)."""

    pattern: str
    preparer: Preparer


@dataclass(frozen=True)
class NavLink:
    """A console page in the navigation of the roles that may open it."""

    path: str
    label: str  # an i18n key of the domain's labels
    roles: frozenset[Role]


@dataclass(frozen=True)
class Command:
    """A CLI command group: ``anxin <name> …``."""

    name: str
    app: typer.Typer


@dataclass(frozen=True)
class Domain:
    name: str
    routers: Sequence[APIRouter] = ()  # the JSON API
    # JSON API routes matched before every other route (device ingestion): the router tries
    # routes in order, and walking every domain's to reach one cost ~1 ms of CPU a request.
    hot_routers: Sequence[APIRouter] = ()
    pages: Sequence[APIRouter] = ()  # console pages (HTML, not in the OpenAPI)
    templates: Path | None = None  # the folder of the domain's page templates
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # key -> (zh, en)
    nav: Sequence[NavLink] = ()
    commands: Sequence[Command] = ()
    subscriptions: Sequence[Subscription] = ()
    preparers: Sequence[Preparation] = ()
    owner_kinds: Sequence[OwnerKind] = ()
    workers: Sequence[WorkerFactory] = ()


def check_unique(domains: Sequence[Domain]) -> None:
    """Two domains may not share a name, a command group or a label key."""
    names: set[str] = set()
    commands: set[str] = set()
    labels: dict[str, str] = {}
    for domain in domains:
        if domain.name in names:
            raise ValueError(f"domain {domain.name!r} is declared twice")
        names.add(domain.name)
        for command in domain.commands:
            if command.name in commands:
                raise ValueError(f"CLI group {command.name!r} is declared twice")
            commands.add(command.name)
        for key in domain.labels:
            if key in labels and labels[key] != domain.name:
                raise ValueError(f"label {key!r} of {domain.name} is already {labels[key]}'s")
            labels[key] = domain.name
