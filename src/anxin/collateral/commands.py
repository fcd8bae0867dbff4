"""``anxin collateral …``: import price marks from a CSV feed, re-value every pledge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anxin.core.commands import app_context

app = typer.Typer(
    help="Supply-chain finance: price marks and pledge re-valuation.", no_args_is_help=True
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("prices")
def prices(
    ctx: typer.Context,
    csv: Annotated[
        Path,
        typer.Option(
            "--csv",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Feed file: date,commodity,price_cny_per_t[,source] with a header line.",
        ),
    ],
) -> None:
    """Store the day's price marks and re-value every active pledge (alarms on what worsened)."""
    from anxin.collateral import service
    from anxin.core.errors import AnxinError

    try:
        marks = service.parse_price_csv(csv.read_text(encoding="utf-8-sig"))
    except AnxinError as exc:
        raise _fail(exc.message, 2) from exc
    try:
        with app_context(ctx).unit(actor="system:price-feed") as uow:
            report = service.add_price_marks(uow=uow, principal=None, marks=marks, now=uow.now())
    except AnxinError as exc:
        raise _fail(exc.message, 2) from exc
    typer.echo(
        f"{len(marks)} price marks stored; {report.valued} pledges re-valued, "
        f"{report.worsened} worse, {report.improved} better, {report.unpriced} without a price; "
        f"alarms: {', '.join(report.alarms) or 'none'}"
    )


@app.command("revalue")
def revalue(ctx: typer.Context) -> None:
    """Re-value every active pledge with the latest marks and live stock."""
    from anxin.collateral import service

    with app_context(ctx).unit(actor="system:revalue") as uow:
        report = service.revalue_pledges(uow=uow, pledge_ids=None, now=uow.now(), cause="manual")
    typer.echo(
        f"{report.valued} pledges re-valued, {report.worsened} worse, "
        f"{report.improved} better; alarms: {', '.join(report.alarms) or 'none'}"
    )
