"""``anxin ltc …``: import the city's register of insured persons."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from anxin.core.commands import app_context, fail, readable_errors

app = typer.Typer(help="Long-term care insurance: enrolment and the fund.", no_args_is_help=True)

MAX_REPORTED = 50  # bad rows echoed one by one; the rest are only counted


@app.command("import")
@readable_errors
def import_register(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: Annotated[str, typer.Option("--org", help="The administering organisation's name.")],
    # 20,000: per-chunk costs (a commit, the staging table) fade; a chunk is a few MB.
    chunk: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per statement.")] = 20_000,
) -> None:
    """Upsert insured persons from a CSV register (header: id_number,name,sex,birth_date,
    district,address[,lat,lon]); bad rows are reported with their line and skipped.

    Each chunk commits on its own, so an interrupted import keeps what it stored and a re-run
    (upsert on the ID number) finishes it without duplicates."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from anxin.core.errors import InvalidInput
    from anxin.ltc import service
    from anxin.ltc.register import BadHeader, BadRow, InsuredRow, parse
    from anxin.people.service import get_organisation_by_name

    context = app_context(ctx)
    with context.unit(actor="cli:ltc-import") as uow:
        org_id = get_organisation_by_name(session=uow.session, name=org).id
    ok = 0
    bad: list[BadRow] = []
    pending: list[InsuredRow] = []

    def flush() -> None:
        nonlocal ok
        with context.unit(actor="cli:ltc-import") as unit:
            service.upsert_insured(
                session=unit.session, org_id=org_id, rows=pending, now=unit.now()
            )
        ok += len(pending)
        pending.clear()

    size = os.path.getsize(file)
    done = 0

    def lines(raw: BinaryIO) -> Iterator[str]:
        """Decoded lines, counting the bytes read for the progress bar."""
        nonlocal done
        for number, line in enumerate(raw):
            done += len(line)
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"line {number + 1}: not UTF-8 text") from exc
            yield text.removeprefix("\ufeff") if number == 0 else text

    with (
        file.open("rb") as handle,
        Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn(), transient=True,
        ) as progress,
    ):  # fmt: skip
        task = progress.add_task("importing", total=size, rows=0)
        try:
            for row in parse(lines(handle)):
                if isinstance(row, BadRow):
                    bad.append(row)
                    continue
                pending.append(row)
                if len(pending) >= chunk:
                    flush()
                    progress.update(task, completed=done, rows=ok)
        except BadHeader as exc:
            raise fail(str(exc), 2) from exc
        if pending:
            flush()
        progress.update(task, completed=size, rows=ok)
    with context.unit(actor="cli:ltc-import") as uow:
        service.record_import(
            session=uow.session,
            org_id=org_id,
            filename=file.name,
            ok=ok,
            bad=len(bad),
            now=uow.now(),
        )
    for row in bad[:MAX_REPORTED]:
        typer.echo(f"line {row.line}: {row.reason}", err=True)
    if len(bad) > MAX_REPORTED:
        typer.echo(f"… and {len(bad) - MAX_REPORTED} more bad rows", err=True)
    typer.echo(f"{ok} rows imported, {len(bad)} bad rows skipped")


@app.command("settle")
@readable_errors
def settle_month(
    ctx: typer.Context,
    month: Annotated[str, typer.Argument(help="The month to settle and close, YYYY-MM.")],
    org: Annotated[str, typer.Option("--org", help="The administering organisation's name.")],
) -> None:
    """Settle and close a month: claim lines, fund payouts, the summary anchored in the ledger."""
    from anxin.ltc.flows import settle_and_anchor
    from anxin.ltc.settlement_service import parse_month
    from anxin.people.service import get_organisation_by_name

    with app_context(ctx).unit(actor="cli:ltc-settle") as uow:
        org_id = get_organisation_by_name(session=uow.session, name=org).id
        result = settle_and_anchor(uow=uow, org_id=org_id, month=parse_month(month))
        s = result.settlement
        typer.echo(
            f"{s.month} closed: {s.lines} claim lines, {s.rejected} rejected, fund out "
            f"{s.fund_out}, co-payments {s.copay}, ledger entry {s.ledger_seq}, "
            f"reconciled: {'yes' if result.reconciled else 'NO'}"
        )
    if not result.reconciled:
        raise typer.Exit(1)
