"""`anxin leasing …`: the arrears sweep by hand (the served app runs it hourly as a worker)."""

from __future__ import annotations

import typer

from anxin.core.commands import app_context, readable_errors
from anxin.leasing import flows

app = typer.Typer(help="Finance leasing: arrears reminders.", no_args_is_help=True)


@app.command("sweep")
@readable_errors
def sweep(ctx: typer.Context) -> None:
    """Remind the lessors of overdue rents and flag machines idle while in arrears."""
    with app_context(ctx).unit(actor="cli:leasing-sweep") as uow:
        late = flows.sweep(uow)
    typer.echo(f"{late} lease(s) in arrears")
