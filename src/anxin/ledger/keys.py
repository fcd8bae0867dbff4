"""Ledger and witness key files: one Ed25519 key per file, on disk, never in the database.

The file is JSON holding the key name (the log origin, or the witness name), its kind, the
public verifier key and the private key as PKCS#8 PEM, encrypted with a passphrase when one
is given (scrypt + AES-256-CBC via ``cryptography``'s best available encryption). Files are
created with mode 0600 and never overwritten, so a slip cannot destroy a key that signed
checkpoints others rely on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from anxin.ledger.note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteError, Signer

FORMAT = "anxin-ledger-key/v1"
KeyKind = Literal["log", "witness"]


class KeyFileError(ValueError):
    """A key file is missing, unreadable, of the wrong kind, or the passphrase is wrong."""


def _alg(kind: KeyKind) -> int:
    return ALG_ED25519 if kind == "log" else ALG_COSIGNATURE_V1


def generate_key_file(
    path: Path, *, name: str, kind: KeyKind, passphrase: bytes | None = None
) -> Signer:
    """Create a new key at ``path`` (refusing to overwrite) and return its signer."""
    try:
        signer = Signer.generate(name, _alg(kind))
    except NoteError as exc:
        raise KeyFileError(str(exc)) from exc
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    pem = signer.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
    doc = {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "vkey": signer.verifier.vkey,
        "encrypted": bool(passphrase),
        "private_key_pem": pem.decode("ascii"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never clobber an existing key; 0o600: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    return signer


def load_key_file(path: Path, *, kind: KeyKind, passphrase: bytes | None = None) -> Signer:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"no key file at {path}; create one with `anxin ledger keygen`") from exc
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeyFileError(f"{path} is not an anxin ledger key file")
    if doc.get("kind") != kind:
        raise KeyFileError(f"{path} holds a {doc.get('kind')} key, expected a {kind} key")
    if doc.get("encrypted") and not passphrase:
        raise KeyFileError(f"{path} is encrypted: give its passphrase")
    try:
        key = load_pem_private_key(
            str(doc["private_key_pem"]).encode(),
            password=passphrase if doc.get("encrypted") else None,
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyFileError(f"cannot decrypt or parse the key in {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key")
    signer = Signer(str(doc["name"]), _alg(kind), key)
    if signer.verifier.vkey != doc.get("vkey"):
        raise KeyFileError(f"{path}: the private key does not match its recorded public key")
    return signer
