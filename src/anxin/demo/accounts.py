"""Organisations and logins every demo module creates the same way: found by name, else made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.security import Role
from anxin.people import service as people
from anxin.people.models import Organisation, OrganisationKind, User
from anxin.people.schemas import UserCreate


def ensure_organisation(
    session: Session, name: str, kind: OrganisationKind, now: datetime
) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = people.create_organisation(session=session, name=name, kind=kind, now=now)
    return org


def ensure_user(
    session: Session,
    org_id: str,
    username: str,
    name: str,
    role: Role,
    password: str,
    now: datetime,
    phone: str | None = None,
) -> User:
    """The login ``username``, created with a demo phone number unless one is given."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = people.create_user(
            session=session,
            organisation_id=org_id,
            data=UserCreate(
                username=username,
                display_name=name,
                role=role,
                password=password,
                phone=phone or "+86 137 0000 " + str(2000 + len(username)),
            ),
            now=now,
        )
    return user
