from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from anxin.core.security import PUBLIC_ROUTE, issue_access_token
from anxin.people import service
from anxin.people.deps import AdminPrincipal, ContextDep, CurrentPrincipal, SessionDep
from anxin.people.schemas import PasswordReset, TokenRead, UserCreate, UserRead

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.post("/auth/token", response_model=TokenRead, openapi_extra=PUBLIC_ROUTE)
def login_for_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    context: ContextDep,
) -> TokenRead:
    """OAuth2 password flow: a short-lived bearer token for API clients."""
    principal = service.authenticate(
        session=session, username=form.username, password=form.password
    )
    token, expires = issue_access_token(
        principal,
        secret=context.settings.secret_key.get_secret_value(),
        now=context.clock.now(),
        minutes=context.settings.access_token_minutes,
    )
    return TokenRead(access_token=token, expires_at=expires)


@router.get("/me", response_model=UserRead)
def read_me(principal: CurrentPrincipal, session: SessionDep) -> UserRead:
    user = service.get_user(session=session, principal=principal, user_id=principal.user_id)
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
def list_users(principal: AdminPrincipal, session: SessionDep) -> list[UserRead]:
    return [
        UserRead.model_validate(u) for u in service.list_users(session=session, principal=principal)
    ]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    data: UserCreate, principal: AdminPrincipal, session: SessionDep, context: ContextDep
) -> UserRead:
    user = service.create_user(
        session=session,
        organisation_id=principal.organisation_id,
        data=data,
        now=context.clock.now(),
    )
    return UserRead.model_validate(user)


@router.post("/users/{user_id}/disable", response_model=UserRead)
def disable_user(user_id: str, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    """Disable an account at once (409 for your own account or the last active admin)."""
    user = service.set_active(session=session, principal=principal, user_id=user_id, active=False)
    return UserRead.model_validate(user)


@router.post("/users/{user_id}/enable", response_model=UserRead)
def enable_user(user_id: str, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    user = service.set_active(session=session, principal=principal, user_id=user_id, active=True)
    return UserRead.model_validate(user)


@router.post("/users/{user_id}/reset-password", response_model=UserRead)
def reset_password(
    user_id: str, data: PasswordReset, principal: AdminPrincipal, session: SessionDep
) -> UserRead:
    """Set a new password for a user of the caller's organisation."""
    user = service.get_user(session=session, principal=principal, user_id=user_id)
    return UserRead.model_validate(
        service.reset_password(session=session, user=user, password=data.password)
    )
