"""Roles, password hashing, access tokens and device tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from anxin.core.errors import Unauthenticated


class Role(StrEnum):
    ADMIN = "admin"
    BUTLER = "butler"
    FAMILY = "family"
    ELDER = "elder"
    DOCTOR = "doctor"
    PROVIDER = "provider"
    LTC_ADMIN = "ltc_admin"
    SUPERVISOR = "supervisor"
    ACTUARY = "actuary"
    AGENT = "agent"
    LOAN_OFFICER = "loan_officer"
    RISK_OFFICER = "risk_officer"
    SCF_OFFICER = "scf_officer"
    WAREHOUSE_OPERATOR = "warehouse_operator"
    LESSOR = "lessor"
    FARMER = "farmer"
    CLAIMS_HANDLER = "claims_handler"
    BUYER = "buyer"  # a business that buys in the market (issue 21)
    LESSEE = "lessee"  # a finance lease's lessee (issue 16): sees its own contracts
    BORROWER = "borrower"  # a small-business loan's borrower (issue 15): sees their own loan
    PUBLIC = "public"


PUBLIC_ROUTE: dict[str, Any] = {"x-anxin-public": True}
"""`openapi_extra=PUBLIC_ROUTE` marks a route as deliberately open; the suite checks that every
other route refuses a caller without credentials."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the only identity services see."""

    user_id: str
    organisation_id: str
    role: Role
    username: str

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher; tests use a cheap one, since hashing cost protects nothing there."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


ALGORITHM = "HS256"


def issue_access_token(
    principal: Principal, *, secret: str, now: datetime, minutes: int
) -> tuple[str, datetime]:
    expires = now + timedelta(minutes=minutes)
    claims = {
        "sub": principal.user_id,
        "org": principal.organisation_id,
        "role": principal.role.value,
        "usr": principal.username,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def read_access_token(token: str, *, secret: str, now: datetime) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # iat too: PyJWT would check it against the wall clock, refusing tokens a test
            # clock issued "in the future".
            options={"verify_exp": False, "verify_iat": False, "require": ["sub", "exp", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("invalid access token") from exc
    # Expiry is checked against the injected clock, not the wall clock.
    if claims.get("typ") != "access" or int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthenticated("access token expired")
    return Principal(
        user_id=str(claims["sub"]),
        organisation_id=str(claims["org"]),
        role=Role(claims["role"]),
        username=str(claims["usr"]),
    )


DEVICE_TOKEN_PREFIX = "dt_"  # noqa: S105 - a public prefix


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """Device tokens carry 256 random bits, so a fast keyed-free hash is enough and indexable."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
