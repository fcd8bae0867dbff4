"""Discovery of the domain packages, so that every model is known to Alembic and tests."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import anxin

NOT_DOMAINS = frozenset({"core", "web", "migrations"})


def domain_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(anxin.__path__)
        if info.ispkg and info.name not in NOT_DOMAINS
    )


def import_all_models() -> list[ModuleType]:
    """Import `anxin.core.audit` and every `anxin.<domain>.models` that exists."""
    modules = [importlib.import_module(m) for m in ("anxin.core.audit", "anxin.core.outbox")]
    for name in domain_names():
        try:
            modules.append(importlib.import_module(f"anxin.{name}.models"))
        except ModuleNotFoundError as exc:
            if exc.name != f"anxin.{name}.models":
                raise
    return modules
