"""``anxin ledger …``: keygen, checkpoint, witness, verify, audit."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from anxin.core.commands import app_context
from anxin.ledger.keys import KeyFileError, KeyKind, generate_key_file, load_key_file
from anxin.ledger.note import NoteError, Verifier

app = typer.Typer(
    help="Tamper-evident ledger: keys, checkpoints, witnesses, offline verification.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _passphrase(env_var: str | None) -> bytes | None:
    if not env_var:
        return None
    value = os.environ.get(env_var)
    if not value:
        raise _fail(f"environment variable {env_var} is empty or unset", 2)
    return value.encode()


def _verifier(text: str, what: str) -> Verifier:
    try:
        return Verifier.from_vkey(text)
    except NoteError as exc:
        raise _fail(f"{what}: {exc}", 2) from exc


PassphraseEnv = Annotated[
    str | None,
    typer.Option(
        "--passphrase-env",
        help="Name of an environment variable holding the key file's passphrase.",
    ),
]


@app.command()
def keygen(
    name: Annotated[str, typer.Option(help="Key name: the log origin, or the witness's name.")],
    out: Annotated[Path, typer.Option(help="Key file to create (never overwritten).")],
    witness: Annotated[
        bool, typer.Option("--witness", help="Make a witness (cosigning) key.")
    ] = False,
    passphrase_env: PassphraseEnv = None,
) -> None:
    """Create an Ed25519 key file and print its public verifier key to pin and share."""
    kind: KeyKind = "witness" if witness else "log"
    if out.exists():
        raise _fail(f"{out} exists; refusing to overwrite a key")
    try:
        signer = generate_key_file(
            out, name=name, kind=kind, passphrase=_passphrase(passphrase_env)
        )
    except KeyFileError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(signer.verifier.vkey)


@app.command()
def checkpoint(
    ctx: typer.Context,
    every: Annotated[
        float, typer.Option(help="Keep signing every N seconds (0: once and exit).")
    ] = 0.0,
) -> None:
    """Sign the current tree head now (uses ANXIN_LEDGER_KEY_FILE and the database)."""
    from anxin.ledger.runtime import checkpoint_now

    context = app_context(ctx)
    while True:
        try:
            size = checkpoint_now(context)
        except KeyFileError as exc:
            raise _fail(str(exc), 2) from exc
        typer.echo(f"checkpoint at size {size}")
        if every <= 0:
            return
        time.sleep(every)


@app.command()
def witness(
    key: Annotated[Path, typer.Option(help="This witness's key file (from keygen --witness).")],
    state: Annotated[Path, typer.Option(help="State file: the last checkpoint cosigned.")],
    log_url: Annotated[
        str, typer.Option(help="Base URL of the ledger, e.g. https://anxin.example")
    ],
    log_key: Annotated[str, typer.Option(help="The log's verifier key (name+id+key).")],
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="Run one round and exit.")] = False,
    alarm_webhook: Annotated[
        str | None, typer.Option(help="POST fork evidence (JSON) to this URL as well.")
    ] = None,
    passphrase_env: PassphraseEnv = None,
) -> None:
    """Watch a ledger and cosign each checkpoint that only extends what it cosigned before.

    Exit status 2 (and a CRITICAL log line and an evidence file beside the state file) when
    the log forks. With --once: 0 when a cosignature was delivered, 1 when the witness
    refuses to cosign, 2 when the log cannot be reached or does not accept the cosignature.
    """
    from anxin.ledger.witness import Outcome
    from anxin.ledger.witnessd import HttpLogClient, LogUnavailable, Witness, webhook_alarm

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    try:
        signer = load_key_file(key, kind="witness", passphrase=_passphrase(passphrase_env))
    except KeyFileError as exc:
        raise _fail(str(exc), 2) from exc
    me = Witness(
        signer=signer,
        log_key=_verifier(log_key, "--log-key"),
        state_path=state,
        on_alarm=webhook_alarm(alarm_webhook) if alarm_webhook else None,
    )
    client = HttpLogClient.to(log_url)
    while True:
        try:
            decision = me.run_once(client)
        except LogUnavailable as exc:
            if once:
                raise _fail(str(exc), 2) from exc
            typer.echo(f"error: {exc}", err=True)
            time.sleep(interval)
            continue
        typer.echo(f"{decision.outcome.value}: {decision.reason}")
        if decision.outcome is Outcome.FORK:
            raise typer.Exit(2)
        if once:
            raise typer.Exit(0 if decision.outcome is Outcome.COSIGN else 1)
        time.sleep(interval)


@app.command()
def verify(
    bundle: Annotated[
        Path, typer.Argument(help="Evidence bundle JSON (GET …/entries/{seq}/bundle), or -.")
    ],
    log_key: Annotated[str, typer.Option(help="The log's verifier key you trust.")],
    witness_key: Annotated[
        list[str] | None, typer.Option(help="A witness verifier key you trust (repeatable).")
    ] = None,
    quorum: Annotated[int, typer.Option(help="Witness cosignatures required.")] = 0,
    body: Annotated[
        Path | None, typer.Option(help="JSON file with the entry's body, if not in the bundle.")
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A cosigned checkpoint you got elsewhere (e.g. from a witness), to check "
            "against instead of the one in the bundle; its size must match the proof's."
        ),
    ] = None,
) -> None:
    """Say offline, with the reason, whether an entry is in the log the witnesses agreed on."""
    from anxin.ledger.entry import EntryError
    from anxin.ledger.verify import Bundle, Policy, verify_bundle

    try:
        text = sys.stdin.read() if str(bundle) == "-" else bundle.read_text(encoding="utf-8")
        evidence = Bundle.loads(text)
        if body is not None:
            data = json.loads(body.read_text(encoding="utf-8"))
            evidence = dataclasses.replace(evidence, body=data, has_body=True)
        if checkpoint is not None:
            note = checkpoint.read_text(encoding="utf-8")
            evidence = dataclasses.replace(evidence, checkpoint=note)
        policy = Policy(
            _verifier(log_key, "--log-key"),
            tuple(_verifier(w, "--witness-key") for w in witness_key or []),
            quorum,
        )
    except OSError as exc:  # a file that is missing or unreadable is bad input, not a NO
        raise _fail(f"{exc.filename}: {exc.strerror}", 2) from exc
    except (EntryError, NoteError, ValueError) as exc:
        raise _fail(str(exc), 2) from exc
    verdict = verify_bundle(evidence, policy)
    typer.echo(("YES: " if verdict.ok else "NO: ") + verdict.reason)
    raise typer.Exit(0 if verdict.ok else 1)


@app.command()
def audit(ctx: typer.Context) -> None:
    """Recompute the whole tree from the database and report any tampering (O(n))."""
    from anxin.ledger import service
    from anxin.ledger.runtime import ledger_keys

    context = app_context(ctx)
    try:
        keys = ledger_keys(context)
        with context.unit(actor="system:ledger-audit") as uow:
            report = service.audit(uow=uow, log_key=keys.signer.verifier)
    except KeyFileError as exc:
        raise _fail(str(exc), 2) from exc
    for problem in report.problems:
        typer.echo(f"PROBLEM: {problem}")
    typer.echo(
        f"{'OK' if report.ok else 'TAMPERED'}: {report.size} entries, "
        f"{report.checkpoints} checkpoints checked"
    )
    raise typer.Exit(0 if report.ok else 1)
