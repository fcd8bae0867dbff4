"""Typed errors. Services raise them; one handler in `anxin.app` maps them to HTTP."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as attribute


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str  # the API's words (English)
    # What a page shows in the reader's language: the label `reason_<code>` with `params`.
    code: str | None = None
    params: Mapping[str, str] = attribute(default_factory=dict, compare=False)


class AnxinError(Exception):
    """Base of every error a user may see; `code` is stable, `message` is readable."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, fields: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []

    def headers(self) -> dict[str, str]:
        """Response headers the refusal needs (Retry-After on a 429)."""
        return {}


class InvalidInput(AnxinError):
    status_code = 422
    code = "invalid_input"

    @classmethod
    def field(
        cls, field: str, reason: str, *, code: str | None = None, **params: str
    ) -> InvalidInput:
        problem = FieldProblem(field, reason, code, params)
        return cls(f"{field}: {reason}", fields=[problem])


class NotFound(AnxinError):
    """Also used where existence must not leak to someone who may not see the thing."""

    status_code = 404
    code = "not_found"


class Conflict(AnxinError):
    status_code = 409
    code = "conflict"


class RuleViolation(AnxinError):
    """A well-formed request that the business rules refuse."""

    status_code = 409
    code = "rule_violation"


class PermissionDenied(AnxinError):
    status_code = 403
    code = "permission_denied"


class Unauthenticated(AnxinError):
    status_code = 401
    code = "unauthenticated"


class PayloadTooLarge(AnxinError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(AnxinError):
    """Too many requests from one client (a device over its token bucket)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # whole seconds, at least 1 (RFC 9110 §10.2.3): when the bucket holds a token again
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class UnsupportedMediaType(AnxinError):
    """A request body in a format the endpoint does not read (its Content-Type)."""

    status_code = 415
    code = "unsupported_media_type"
