"""The composition root's discovery of domains: every package with a ``setup.py``.

A domain is a package of `anxin` whose ``setup.setup()`` returns a `core.domain.Domain`;
`discover()` imports them in name order. Shared layers (``core``, ``ui``), the leaves
(``web``, ``demo``) and ``migrations`` have no setup and are not domains.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Sequence
from functools import cache
from types import ModuleType

import anxin
from anxin.core.clock import Clock
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.domain import Domain

SETUP = "setup"


def package_names() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(anxin.__path__) if info.ispkg)


def domain_names() -> list[str]:
    """Packages that declare a setup, in name order."""
    return [
        name
        for name in package_names()
        if importlib.util.find_spec(f"anxin.{name}.{SETUP}") is not None
    ]


@cache
def discover() -> tuple[Domain, ...]:
    """Every domain's setup, once per process (a setup only declares; it starts nothing)."""
    domains = []
    for name in domain_names():
        module = importlib.import_module(f"anxin.{name}.{SETUP}")
        domain = module.setup()
        if not isinstance(domain, Domain):
            raise TypeError(f"anxin.{name}.setup.setup() must return a Domain")
        domains.append(domain)
    return tuple(domains)


def import_all_models() -> list[ModuleType]:
    """Import `anxin.core.audit`, `anxin.core.outbox` and every package's `models` module."""
    modules = [importlib.import_module(m) for m in ("anxin.core.audit", "anxin.core.outbox")]
    for name in package_names():
        try:
            modules.append(importlib.import_module(f"anxin.{name}.models"))
        except ModuleNotFoundError as exc:
            if exc.name != f"anxin.{name}.models":
                raise
    return modules


def build_context(
    settings: Settings, *, clock: Clock | None = None, domains: Sequence[Domain] | None = None
) -> AppContext:
    """The process's `AppContext` with every discovered domain wired (or the given ones)."""
    return AppContext.build(
        settings, domains=discover() if domains is None else domains, clock=clock
    )
