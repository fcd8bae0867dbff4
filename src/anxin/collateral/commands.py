"""``anxin collateral …``: import price marks from a CSV feed, re-value every pledge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Supply-chain finance: price marks and pledge re-valuation.", no_args_is_help=True
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("prices")
def prices(
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
    from anxin.core.clock import SystemClock
    from anxin.core.config import get_settings
    from anxin.core.db import Database
    from anxin.core.errors import AnxinError

    try:
        marks = service.parse_price_csv(csv.read_text(encoding="utf-8-sig"))
    except AnxinError as exc:
        raise _fail(exc.message, 2) from exc
    db = Database.from_settings(get_settings())
    try:
        with db.session_scope(actor="system:price-feed") as session:
            report = service.add_price_marks(
                session=session, principal=None, marks=marks, now=SystemClock().now(), bus=None
            )
    except AnxinError as exc:
        raise _fail(exc.message, 2) from exc
    finally:
        db.dispose()
    typer.echo(
        f"{len(marks)} price marks stored; {report.valued} pledges re-valued, "
        f"{report.worsened} worse, {report.improved} better, {report.unpriced} without a price; "
        f"alarms: {', '.join(report.alarms) or 'none'}"
    )


@app.command("revalue")
def revalue() -> None:
    """Re-value every active pledge with the latest marks and live stock."""
    from anxin.collateral import service
    from anxin.core.clock import SystemClock
    from anxin.core.config import get_settings
    from anxin.core.db import Database

    db = Database.from_settings(get_settings())
    try:
        with db.session_scope(actor="system:revalue") as session:
            report = service.revalue_pledges(
                session=session,
                pledge_ids=None,
                now=SystemClock().now(),
                bus=None,
                cause="manual",
            )
    finally:
        db.dispose()
    typer.echo(
        f"{report.valued} pledges re-valued, {report.worsened} worse, "
        f"{report.improved} better; alarms: {', '.join(report.alarms) or 'none'}"
    )
