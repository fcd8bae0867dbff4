"""FastAPI dependencies every router uses: the unit of work and the caller's identity.

The unit dependency uses scope="function" so the commit happens before the response is
sent: a client never sees 200 for work that then failed to commit. `SessionDep` is the unit's
session, for handlers that only read or write through session-level services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from anxin.core.context import AppContext
from anxin.core.errors import PermissionDenied, Unauthenticated
from anxin.core.security import Principal, Role, read_access_token
from anxin.core.unit import UnitOfWork, run_unit
from anxin.people import service

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_unit(context: ContextDep) -> Iterator[UnitOfWork]:
    with run_unit(context.new_unit(actor="anonymous")) as uow:
        yield uow


UnitDep = Annotated[UnitOfWork, Depends(get_unit, scope="function")]


def get_session(uow: UnitDep) -> Session:
    return uow.session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    context: ContextDep,
    uow: UnitDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    session = uow.session
    if token:
        secret = context.settings.secret_key.get_secret_value()
        principal = read_access_token(token, secret=secret, now=context.clock.now())
        # A disabled account loses access at once, not when its token expires.
        service.load_principal(session=session, user_id=principal.user_id)
    else:
        user_id = request.session.get("uid") if "session" in request.scope else None
        if not user_id:
            raise Unauthenticated("log in first")
        principal = service.load_principal(session=session, user_id=str(user_id))
    uow.actor = principal.actor
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that admits only the given roles (admin is not implied)."""

    allowed = frozenset(roles)

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise PermissionDenied(
                f"role {principal.role.value!r} may not do this; needs one of "
                + ", ".join(sorted(r.value for r in allowed))
            )
        return principal

    return check


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
