"""What a ledger leaf commits to, pure.

A leaf is the RFC 8785 canonical JSON of a small envelope::

    {"org": ..., "payload_sha256": <hex>, "time": <RFC 3339 UTC>, "type": ..., "v": 1}

The business record itself (the *body*) is hashed into ``payload_sha256`` rather than put in
the leaf, so a body can be withheld (private farm records, personal data) or erased later
while its leaf, and every proof through it, stays valid. Anyone holding the body can check
it against the leaf; anyone holding only a hash can still anchor it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from anxin.ledger.merkle import leaf_hash

ENVELOPE_VERSION = 1
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_PLAIN_RE = re.compile(r"^[A-Za-z0-9 ._:@/-]*$")  # needs no JSON escaping


class EntryError(ValueError):
    """An entry or body that cannot be put in, or checked against, the ledger."""


_MAX_SAFE_INT = 2**53 - 1


def _plain_json(value: Any) -> bool:
    """True when RFC 8785 output equals sorted, compact ``json.dumps`` output.

    That holds for strings, booleans, null, integers in the IEEE-754 safe range, and
    objects whose keys sort the same by UTF-16 code unit as by code point (no key has a
    character beyond the BMP). Floats are left to the full encoder: ECMAScript number
    formatting differs from Python's ``repr``.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_MAX_SAFE_INT <= value <= _MAX_SAFE_INT)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _plain_json(item):
                return False
            if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                return False
        return True
    if kind is list:
        return all(_plain_json(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``; rejects what JSON cannot carry exactly."""
    if _plain_json(value):
        # The common case (no floats) through the C encoder, three times faster;
        # a property test holds it byte-equal to rfc8785.
        try:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return text.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate cannot be UTF-8
            raise EntryError(f"body is not canonicalisable JSON: {exc}") from exc
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EntryError(f"body is not canonicalisable JSON: {exc}") from exc


def payload_sha256(body: Any) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def format_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise EntryError("entry time must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Envelope:
    entry_type: str
    organisation: str
    submitted_at: str  # already formatted: the leaf is what it is, byte for byte
    payload_sha256: str

    def __post_init__(self) -> None:
        if not _TYPE_RE.match(self.entry_type):
            raise EntryError(
                "entry type must be lower-case letters, digits, '.', '_' or '-' (max 64)"
            )
        if not self.organisation or len(self.organisation) > 128:
            raise EntryError("organisation must be 1-128 characters")
        if not self.organisation.isprintable():
            raise EntryError("organisation must be printable text")
        if not _TIME_RE.match(self.submitted_at):
            raise EntryError("time must be RFC 3339 UTC with microseconds")
        if not _HEX64_RE.match(self.payload_sha256):
            raise EntryError("payload_sha256 must be 64 lower-case hex digits")

    @classmethod
    def build(
        cls, *, entry_type: str, organisation: str, at: datetime, payload_sha256: str
    ) -> Envelope:
        return cls(entry_type, organisation, format_time(at), payload_sha256)

    def leaf(self) -> bytes:
        # Written out by hand because it is on the append hot path. Every field but ``org``
        # is regex-checked to plain ASCII, and for strings RFC 8785 escapes exactly as
        # json.dumps(ensure_ascii=False) does; a test holds this equal to rfc8785.dumps.
        org = (
            f'"{self.organisation}"'
            if _PLAIN_RE.match(self.organisation)
            else json.dumps(self.organisation, ensure_ascii=False)
        )
        return (
            f'{{"org":{org},"payload_sha256":"{self.payload_sha256}",'
            f'"time":"{self.submitted_at}","type":"{self.entry_type}","v":{ENVELOPE_VERSION}}}'
        ).encode()

    def leaf_slow(self) -> bytes:
        """The same bytes via the general RFC 8785 encoder (the reference for tests)."""
        return canonical_json(
            {
                "v": ENVELOPE_VERSION,
                "type": self.entry_type,
                "org": self.organisation,
                "time": self.submitted_at,
                "payload_sha256": self.payload_sha256,
            }
        )

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf())

    def fact_key(self) -> tuple[str, str, str]:
        """Same payload, type and organisation is the same fact, whenever it was sent."""
        return (self.payload_sha256, self.entry_type, self.organisation)

    def fact_key64(self) -> int:
        """The fact as a signed 64-bit number (the stored, indexed `fact_key`)."""
        return fact_key64(self.entry_type, self.organisation, self.payload_sha256)


def fact_key64(entry_type: str, organisation: str, payload_sha256: str) -> int:
    """64 bits of SHA-256 over the fact (NUL-separated), signed to fit a BIGINT."""
    digest = hashlib.sha256(f"{entry_type}\x00{organisation}\x00{payload_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def parse_leaf(leaf: bytes) -> Envelope:
    """Read a leaf back, insisting it is exactly the canonical form we would have written."""
    try:
        data = json.loads(leaf)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntryError("leaf is not JSON") from exc
    if not isinstance(data, dict) or data.get("v") != ENVELOPE_VERSION:
        raise EntryError("leaf is not a version 1 ledger envelope")
    if set(data) != {"v", "type", "org", "time", "payload_sha256"}:
        raise EntryError("leaf has unexpected fields")
    fields = [data["type"], data["org"], data["time"], data["payload_sha256"]]
    if not all(isinstance(f, str) for f in fields):
        raise EntryError("leaf fields must be strings")
    env = Envelope(*fields)
    if env.leaf() != leaf:
        raise EntryError("leaf is not in canonical form")
    return env


def check_body(envelope: Envelope, body: Any) -> None:
    if payload_sha256(body) != envelope.payload_sha256:
        raise EntryError("body does not match the payload hash in the leaf")
