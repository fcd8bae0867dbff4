"""Organisations and users. Keyword-only functions; they flush, the caller commits."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    Unauthenticated,
)
from anxin.core.security import Principal, Role, hash_password, verify_password
from anxin.people.models import Organisation, OrganisationKind, User
from anxin.people.schemas import UserCreate

# Hashing a throwaway value keeps a wrong username as slow as a wrong password.
_DUMMY_HASH = hash_password("timing-equaliser-not-a-password")


def create_organisation(
    *, session: Session, name: str, kind: OrganisationKind, now: datetime
) -> Organisation:
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise Conflict(f"organisation {name!r} already exists")
    org = Organisation(name=name, kind=kind, created_at=now)
    session.add(org)
    session.flush()
    return org


def get_organisation_by_name(*, session: Session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        raise NotFound(f"no organisation named {name!r}")
    return org


def create_user(*, session: Session, organisation_id: str, data: UserCreate, now: datetime) -> User:
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"no organisation {organisation_id}")
    if session.scalar(select(User).where(User.username == data.username)) is not None:
        raise Conflict(f"username {data.username!r} is taken")
    user = User(
        organisation_id=organisation_id,
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password),
        phone=data.phone,
        email=data.email,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        organisation_id=user.organisation_id,
        role=user.role,
        username=user.username,
    )


def authenticate(*, session: Session, username: str, password: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthenticated("wrong username or password")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated("wrong username or password")
    return principal_of(user)


def load_principal(*, session: Session, user_id: str) -> Principal:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("the account no longer exists or is disabled")
    return principal_of(user)


def get_user(*, session: Session, principal: Principal, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.organisation_id != principal.organisation_id:
        raise NotFound(f"no user {user_id}")
    if principal.role != Role.ADMIN and user.id != principal.user_id:
        raise NotFound(f"no user {user_id}")
    return user


def list_users(*, session: Session, principal: Principal) -> list[User]:
    if principal.role != Role.ADMIN:
        raise PermissionDenied("only an administrator may list users")
    stmt = (
        select(User)
        .where(User.organisation_id == principal.organisation_id)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def get_user_by_username(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_organisation_users(*, session: Session, organisation_id: str) -> list[User]:
    stmt = select(User).where(User.organisation_id == organisation_id).order_by(User.username)
    return list(session.scalars(stmt))


def _other_active_admins(session: Session, user: User) -> int:
    stmt = select(func.count()).where(
        User.organisation_id == user.organisation_id,
        User.role == Role.ADMIN,
        User.is_active.is_(True),
        User.id != user.id,
    )
    return int(session.scalar(stmt) or 0)


def change_active(*, session: Session, user: User, active: bool, by_user_id: str | None) -> User:
    """Enable or disable `user`. An admin may not disable their own account, and nobody may
    disable an organisation's last active admin: either would leave no one able to undo it."""
    if not active and user.is_active:
        if user.id == by_user_id:
            raise RuleViolation("you cannot disable your own account; ask another administrator")
        if user.role == Role.ADMIN and _other_active_admins(session, user) == 0:
            raise RuleViolation(
                f"{user.username!r} is the organisation's last active administrator; "
                "enable or create another administrator first"
            )
    user.is_active = active
    session.flush()
    return user


def set_active(*, session: Session, principal: Principal, user_id: str, active: bool) -> User:
    user = get_user(session=session, principal=principal, user_id=user_id)
    return change_active(session=session, user=user, active=active, by_user_id=principal.user_id)


def reset_password(*, session: Session, user: User, password: str) -> User:
    """Set a new password (the audit log records the change with the hash masked)."""
    user.password_hash = hash_password(password)
    session.flush()
    return user


# --- for other domains (they read users through these, never the table) --------------------


def display_names(*, session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Username -> the name people know them by, for pages that show who did something."""
    wanted = set(usernames)
    if not wanted:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    )
    return {username: name for username, name in rows}


def user_by_id(*, session: Session, user_id: str) -> User | None:
    """Any user by id, active or not; the caller decides what the user may be used for."""
    return session.get(User, user_id)


def active_users_with_roles(
    *, session: Session, organisation_id: str, roles: Collection[Role]
) -> list[User]:
    """The organisation's active users holding one of `roles`, oldest first."""
    stmt = (
        select(User)
        .where(
            User.organisation_id == organisation_id,
            User.is_active.is_(True),
            User.role.in_(list(roles)),
        )
        .order_by(User.created_at, User.id)
    )
    return list(session.scalars(stmt))
