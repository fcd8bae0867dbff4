"""What every domain's CLI commands share: readable errors and the process's context.

Domain command groups cannot import the composition root (it imports them), so the root CLI
puts a `CliRuntime` in Typer's context object and commands ask it for the `AppContext`
(built once, with every domain wired as in the server).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from anxin.core.config import ConfigurationError, Settings, get_settings
from anxin.core.context import AppContext
from anxin.core.errors import AnxinError

P = ParamSpec("P")
R = TypeVar("R")


# Exit codes, the same for every command (README, "Exit codes"): 0 done; 1 a negative verdict
# (`ledger verify` says NO); 2 not done: bad input, a refused operation, an unreachable service.
EXIT_NO = 1
EXIT_REFUSED = 2


def fail(message: str, code: int = EXIT_REFUSED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def one_line(exc: Exception) -> str | None:
    """The readable line for an error a user can act on; None for a bug (keep the traceback)."""
    if isinstance(exc, ConfigurationError):
        return f"configuration: {exc}"
    if isinstance(exc, AnxinError):
        return exc.message
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if isinstance(exc, SQLAlchemyError):
        return f"database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    return None


def readable_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Errors become one readable line on stderr and exit code 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (AnxinError, ValidationError, SQLAlchemyError) as exc:
            raise fail(one_line(exc) or str(exc)) from exc

    return wrapper


@dataclass
class CliRuntime:
    """Builds the process's context on first use (a command that needs none costs nothing)."""

    build: Callable[[Settings], AppContext]
    _context: AppContext | None = field(default=None, init=False)

    def context(self) -> AppContext:
        if self._context is None:
            self._context = self.build(get_settings())
        return self._context

    def close(self) -> None:
        if self._context is not None:
            self._context.db.dispose()
            self._context = None


def app_context(ctx: typer.Context) -> AppContext:
    """The context of the running `anxin` command (see `CliRuntime`)."""
    runtime = ctx.find_object(CliRuntime)
    if runtime is None:
        raise RuntimeError("anxin commands run under the anxin CLI (anxin.cli)")
    return runtime.context()
