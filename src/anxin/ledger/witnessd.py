"""The witness process: poll a log, check it only grew, cosign, remember; alarm on a fork.

Runs apart from the log (``anxin ledger witness``), normally at another consortium member,
with its own key file and its own state file. It talks to the log over HTTP only, so it
trusts nothing the log says that it cannot check.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from anxin.ledger.note import NoteError, Signer, Verifier, parse_checkpoint, parse_note
from anxin.ledger.witness import Decision, Outcome, WitnessState, cosign, review

log = logging.getLogger("anxin.ledger.witness")

API = "/api/v1/ledger"


class LogClient(Protocol):
    def latest_checkpoint(self) -> str: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...

    def submit_cosignature(self, size: int, line: str) -> None: ...


class LogUnavailable(RuntimeError):
    """The log could not be reached or answered with an error; try again later."""


class HttpLogClient:
    """Speaks the ledger API; works with any ``httpx.Client`` (a test client included)."""

    def __init__(self, client: httpx.Client) -> None:
        self._http = client

    @classmethod
    def to(cls, base_url: str, timeout: float = 10.0) -> HttpLogClient:
        return cls(httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout))

    def _get(self, path: str, **params: int) -> dict[str, object]:
        try:
            resp = self._http.get(API + path, params=params)
        except httpx.HTTPError as exc:
            raise LogUnavailable(f"GET {path}: {exc}") from exc
        if resp.status_code != 200:
            raise LogUnavailable(f"GET {path}: HTTP {resp.status_code} {resp.text[:200]}")
        data = resp.json()
        if not isinstance(data, dict):
            raise LogUnavailable(f"GET {path}: unexpected answer")
        return data

    def latest_checkpoint(self) -> str:
        return str(self._get("/checkpoint")["checkpoint"])

    def consistency(self, first: int, second: int) -> list[bytes]:
        data = self._get("/proofs/consistency", first=first, second=second)
        proof = data.get("proof")
        if not isinstance(proof, list):
            raise LogUnavailable("consistency proof missing")
        try:
            return [base64.b64decode(str(p), validate=True) for p in proof]
        except ValueError as exc:
            raise LogUnavailable("consistency proof is not base64") from exc

    def submit_cosignature(self, size: int, line: str) -> None:
        try:
            resp = self._http.post(
                f"{API}/checkpoints/{size}/cosignatures", json={"cosignature": line}
            )
        except httpx.HTTPError as exc:
            raise LogUnavailable(f"POST cosignature: {exc}") from exc
        if resp.status_code != 200:
            raise LogUnavailable(f"POST cosignature: HTTP {resp.status_code} {resp.text[:200]}")


def load_state(path: Path) -> WitnessState | None:
    if not path.exists():
        return None
    return WitnessState.from_json(json.loads(path.read_text(encoding="utf-8")))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_state(path: Path, state: WitnessState) -> None:
    _write_atomically(path, state.dumps() + "\n")


@dataclass(frozen=True)
class Witness:
    signer: Signer
    log_key: Verifier
    state_path: Path
    # Called with the evidence when a fork is seen (e.g. POST to the member's alerting
    # webhook); the evidence file is written first, so a failing hook loses nothing.
    on_alarm: Callable[[dict[str, Any]], None] | None = None

    def run_once(self, client: LogClient, *, now: int | None = None) -> Decision:
        """One round: fetch, review, then persist-and-cosign or refuse (and alarm on a fork).

        Raises LogUnavailable when the log cannot be fetched or does not accept the
        cosignature: that is no verdict on the log, and must not look like success."""
        state = load_state(self.state_path)
        try:
            text = client.latest_checkpoint()
            size = parse_checkpoint(parse_note(text).text).size
            proof: list[bytes] = []
            if state is not None and 0 < state.size < size:
                proof = client.consistency(state.size, size)
        except NoteError as exc:
            log.warning("witness %s: cannot review the log: %s", self.signer.name, exc)
            return Decision(Outcome.REFUSE, f"cannot review the log: {exc}", None)
        except LogUnavailable as exc:
            log.warning("witness %s: cannot review the log: %s", self.signer.name, exc)
            raise
        decision = review(state=state, signed_checkpoint=text, log=self.log_key, proof=proof)
        if decision.outcome is Outcome.FORK:
            self._alarm(decision, text, state)
        elif decision.outcome is Outcome.COSIGN and decision.state is not None:
            # Remember before vouching: after a crash we must never sign an older view.
            save_state(self.state_path, decision.state)
            line = cosign(text, self.signer, int(time.time()) if now is None else now)
            try:
                client.submit_cosignature(size, line)
            except LogUnavailable as exc:
                # The round did not do its job: the caller decides whether to retry or stop.
                log.warning("witness %s: cosigned but could not deliver: %s", self.signer.name, exc)
                raise
            log.info("witness %s: cosigned size %d: %s", self.signer.name, size, decision.reason)
        else:
            log.info("witness %s: refused: %s", self.signer.name, decision.reason)
        return decision

    def _alarm(self, decision: Decision, text: str, state: WitnessState | None) -> None:
        """Keep both conflicting signed checkpoints: together they prove the log misbehaved."""
        evidence = {
            "alarm": "ledger fork",
            "reason": decision.reason,
            "cosigned": state.to_json() if state else None,
            "presented": text,
            "witness": self.signer.name,
            "log": self.log_key.name,
        }
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = self.state_path.with_name(f"{self.state_path.name}.fork-{stamp}.json")
        _write_atomically(path, json.dumps(evidence, indent=2) + "\n")
        log.critical(
            "LEDGER FORK ALARM (witness %s): %s; evidence in %s",
            self.signer.name,
            decision.reason,
            path,
        )
        if self.on_alarm is not None:
            try:
                self.on_alarm(evidence)
            except Exception:  # the alarm hook must not hide the fork; the file has it
                log.exception("witness %s: alarm hook failed", self.signer.name)


def webhook_alarm(url: str, timeout: float = 10.0) -> Callable[[dict[str, Any]], None]:
    """An alarm hook that POSTs the fork evidence as JSON to ``url``."""

    def send(evidence: dict[str, Any]) -> None:
        httpx.post(url, json=evidence, timeout=timeout).raise_for_status()

    return send
