"""Ledger settings (prefix ``ANXIN_LEDGER_``), and the signing key and trust policy they name.

Kept beside the ledger rather than in ``core.config`` because only the ledger and its
witnesses read them; ``core`` stays ignorant of domains.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from anxin.ledger.keys import KeyFileError, generate_key_file, load_key_file
from anxin.ledger.note import NoteError, Signer, Verifier
from anxin.ledger.verify import Policy

log = logging.getLogger(__name__)

DEFAULT_ORIGIN = "anxin.local/ledger"


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANXIN_LEDGER_", env_file=".env", extra="ignore")

    key_file: Path = Path("var/ledger/log.key")
    key_passphrase: SecretStr | None = None
    # Outside production a missing key is created on first use so the demo runs offline.
    auto_keygen: bool = True
    origin: str = DEFAULT_ORIGIN
    # Witness verifier keys (``name+id+key``) whose cosignatures the log accepts and counts.
    witnesses: list[str] = Field(default_factory=list)
    quorum: int = Field(default=0, ge=0)
    # Seconds between automatic checkpoints inside the web process; 0 turns them off.
    checkpoint_interval_s: float = Field(default=10.0, ge=0)
    # Recent fact keys that make a merge into the big fact-key index due; each merge moves at
    # most this many, in key order (docs/performance.md: about 200,000 for a 10 M-entry log).
    merge_rows: int = Field(default=50_000, ge=1)
    # Seconds between the merge worker's looks at the recent level; 0 turns it off.
    merge_interval_s: float = Field(default=1.0, ge=0)
    # SQLite page cache of the connection appending, in MiB; 0 keeps SQLite's default (2 MB).
    sqlite_cache_mib: int = Field(default=0, ge=0)

    def passphrase(self) -> bytes | None:
        return self.key_passphrase.get_secret_value().encode() if self.key_passphrase else None


@dataclass(frozen=True)
class LedgerKeys:
    """The log's signer and the policy its checkpoints are judged by."""

    signer: Signer
    policy: Policy


def load_keys(settings: LedgerSettings, *, environment: str) -> LedgerKeys:
    """The configured key; outside production a missing one is made up on first use.

    In development it is written to the key file so checkpoints survive restarts; in tests
    it lives in memory only, so a test run never leaves keys lying around.
    """
    path = settings.key_file
    signer: Signer
    if not path.exists() and settings.auto_keygen and environment == "test":
        signer = Signer.generate(settings.origin)
    else:
        if not path.exists() and settings.auto_keygen and environment == "development":
            log.warning("ledger: no signing key at %s; generating a development key", path)
            generate_key_file(
                path, name=settings.origin, kind="log", passphrase=settings.passphrase()
            )
        signer = load_key_file(path, kind="log", passphrase=settings.passphrase())
    try:
        witnesses = tuple(Verifier.from_vkey(v) for v in settings.witnesses)
        policy = Policy(signer.verifier, witnesses, settings.quorum)
    except NoteError as exc:
        raise KeyFileError(f"ANXIN_LEDGER_WITNESSES / ANXIN_LEDGER_QUORUM: {exc}") from exc
    return LedgerKeys(signer, policy)
