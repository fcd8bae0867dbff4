from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from anxin.core.security import Role
from anxin.people.models import OrganisationKind

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,79}$"


class OrganisationCreate(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    kind: OrganisationKind


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: OrganisationKind
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    password: str = Field(min_length=8, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{5,31}$")
    email: str | None = Field(default=None, max_length=200)


class PasswordReset(BaseModel):
    password: str = Field(min_length=8, max_length=200)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    username: str
    display_name: str
    role: Role
    phone: str | None
    email: str | None
    is_active: bool
    created_at: datetime


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type name
    expires_at: datetime
