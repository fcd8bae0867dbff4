"""C2SP signed notes, checkpoints and cosignatures, pure (no I/O).

Formats followed (all text, so a checkpoint can be read by a person and pasted into an email):

* signed note (c2sp.org/signed-note): ``text`` ending in a newline, a blank line, then lines
  ``— <key name> base64(4-byte key id || signature)``; the key id is
  ``SHA-256(name || "\\n" || alg || public key)[:4]``; Ed25519 note signatures use alg 0x01.
  Verifier keys are written ``<name>+<key id hex>+base64(alg || public key)``.
* checkpoint (c2sp.org/tlog-checkpoint): origin line, decimal tree size, base64 root hash,
  optional extension lines.
* cosignature/v1 (c2sp.org/tlog-cosignature): alg 0x04, signature bytes are an 8-byte
  big-endian timestamp then Ed25519 over ``"cosignature/v1\\ntime <t>\\n" || checkpoint``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "\u2014 "  # em dash and a space
MAX_SIGNATURES = 100  # signed-note lets verifiers bound the work an attacker can cause

_NAME_RE = re.compile(r"^[^\s+]+$")
_DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or its signatures do not verify."""


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"invalid base64: {value[:40]!r}") from exc


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def check_name(name: str) -> str:
    if not name or not _NAME_RE.match(name):
        raise NoteError(f"key name must be non-empty with no spaces or '+': {name!r}")
    return name


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named public key: the log's (alg 0x01) or a witness's (alg 0x04)."""

    name: str
    alg: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError(f"unsupported signature algorithm 0x{self.alg:02x}")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public_key)

    @property
    def vkey(self) -> str:
        """The one-line text form operators exchange and pin (``name+id+key``)."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public_key)}"

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        # Names hold no '+', but standard base64 may: split twice from the left only.
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+keyid+base64key")
        name, kid, blob = parts
        raw = _b64decode(blob)
        if len(raw) != 33:
            raise NoteError("a verifier key holds one algorithm byte and 32 key bytes")
        ver = cls(name=name, alg=raw[0], public_key=raw[1:])
        if ver.key_id.hex() != kid.lower():
            raise NoteError(f"key id {kid} does not match the key for {name}")
        return ver

    def _ed25519(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, text: str, sig: bytes) -> int | None:
        """Check ``sig`` (the bytes after the key id) over note body ``text``.

        Returns ``None`` if it does not verify; otherwise the cosignature timestamp, or 0 for
        a plain note signature.
        """
        try:
            if self.alg == ALG_ED25519:
                if len(sig) != 64:
                    return None
                self._ed25519().verify(sig, text.encode())
                return 0
            if len(sig) != 72:
                return None
            ts = int.from_bytes(sig[:8], "big")
            if ts >= 1 << 63:
                return None
            self._ed25519().verify(sig[8:], cosignature_message(text, ts))
            return ts
        except InvalidSignature:
            return None


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True, slots=True)
class Signer:
    """A named private key. ``alg`` 0x01 signs notes (the log), 0x04 cosigns (a witness)."""

    name: str
    alg: int
    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, name: str, alg: int = ALG_ED25519) -> Signer:
        return cls(name=check_name(name), alg=alg, private_key=Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, _raw_public(self.private_key.public_key()))

    def signature_line(self, text: str, timestamp: int = 0) -> str:
        if self.alg == ALG_ED25519:
            sig = self.private_key.sign(text.encode())
        else:
            if not 0 <= timestamp < 1 << 63:
                raise NoteError("cosignature timestamp out of range")
            sig = timestamp.to_bytes(8, "big") + self.private_key.sign(
                cosignature_message(text, timestamp)
            )
        return f"{SIG_PREFIX}{self.name} {_b64(self.verifier.key_id + sig)}\n"


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    sig: bytes

    @property
    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {_b64(self.key_id + self.sig)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)

    def with_signature_lines(self, lines: str) -> Note:
        """Add signature lines, dropping exact repeats (a witness may cosign twice)."""
        extra = parse_signature_lines(lines)
        seen = {s.line for s in self.signatures}
        merged = list(self.signatures)
        for s in extra:
            if s.line not in seen:
                merged.append(s)
                seen.add(s.line)
        return Note(self.text, tuple(merged))


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise NoteError("note text must not contain control characters")


def parse_signature_lines(block: str) -> list[Signature]:
    if block and not block.endswith("\n"):
        raise NoteError("signature block must end with a newline")
    out: list[Signature] = []
    for line in block.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed signature line: {line[:60]!r}")
        name, sep, blob = line[len(SIG_PREFIX) :].partition(" ")
        if not sep:
            raise NoteError("signature line lacks a signature")
        check_name(name)
        raw = _b64decode(blob)
        if len(raw) < 5:
            raise NoteError("signature too short")
        out.append(Signature(name, raw[:4], raw[4:]))
    if len(out) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return out


def parse_note(data: str) -> Note:
    """Split a signed note into its text and signatures, checking only the syntax."""
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = data[: cut + 1], data[cut + 2 :]
    _check_text(text)
    sigs = parse_signature_lines(block)
    if not sigs:
        raise NoteError("a signed note needs at least one signature")
    return Note(text, tuple(sigs))


def sign_note(text: str, signer: Signer) -> Note:
    _check_text(text)
    line = signer.signature_line(text)
    return Note(text, tuple(parse_signature_lines(line)))


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that verified: which key made it and, for a cosignature, when."""

    verifier: Verifier
    timestamp: int


def verified_signatures(note: Note, verifiers: list[Verifier]) -> list[Verified]:
    """Signatures in ``note`` made by one of ``verifiers``; unknown ones are ignored.

    A known key whose signature fails raises, because a forged or corrupted line under a
    name we trust is evidence of tampering, not noise.
    """
    by_id = {(v.name, v.key_id): v for v in verifiers}
    out: list[Verified] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in note.signatures:
        ver = by_id.get((sig.name, sig.key_id))
        if ver is None:
            continue
        ts = ver.verify(note.text, sig.sig)
        if ts is None:
            raise NoteError(f"signature by {sig.name} does not verify")
        if (sig.name, sig.key_id) not in seen:
            seen.add((sig.name, sig.key_id))
            out.append(Verified(ver, ts))
    return out


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or any(c in self.origin for c in "\n\r"):
            raise NoteError("checkpoint origin must be one non-empty line")
        if self.size < 0 or self.size >= 1 << 64:
            raise NoteError("checkpoint size out of range")
        if len(self.root_hash) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise NoteError("checkpoint extension lines must be non-empty lines")

    def body(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint *body* (the note text, without signatures)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash")
    origin, size, root, *ext = lines
    if not _DECIMAL_RE.match(size):
        raise NoteError(f"invalid checkpoint size {size!r}")
    root_hash = _b64decode(root)
    if _b64(root_hash) != root:
        raise NoteError("checkpoint root hash is not canonical base64")
    return Checkpoint(origin, int(size), root_hash, tuple(ext))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: Note
    log_signature: Verified
    cosignatures: tuple[Verified, ...]


def open_checkpoint(
    data: str, log: Verifier, witnesses: list[Verifier] | None = None
) -> SignedCheckpoint:
    """Parse a signed checkpoint and check it was signed by ``log`` for its origin.

    Witness cosignatures by keys in ``witnesses`` are verified and returned; counting them
    against a policy is the caller's job (see ``anxin.ledger.verify``).
    """
    if log.alg != ALG_ED25519:
        raise NoteError("the log key must be an Ed25519 note key (alg 0x01)")
    note = parse_note(data)
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != log.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not log {log.name!r}")
    cosigners = [w for w in witnesses or [] if w.alg == ALG_COSIGNATURE_V1]
    found = verified_signatures(note, [log, *cosigners])
    log_sigs = [v for v in found if v.verifier == log]
    if not log_sigs:
        raise NoteError("checkpoint is not signed by the log key")
    return SignedCheckpoint(
        checkpoint, note, log_sigs[0], tuple(v for v in found if v.verifier != log)
    )
