"""`anxin lending …`: train the scorecard (offline, never at app start); the daily reminders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anxin.lending import scorecard

app = typer.Typer(
    help="Small-business lending: the scorecard, repayment reminders.", no_args_is_help=True
)


@app.command("train-scorecard")
def train_scorecard(
    out: Annotated[
        Path, typer.Option(help="Where to write the artefact (default: the packaged one).")
    ] = scorecard.ARTEFACT,
) -> None:
    """Train the scorecard on the German Credit data and write its versioned JSON artefact."""
    from anxin.lending.training import write_artefact

    artefact = write_artefact(out)
    m = artefact["metrics"]
    typer.echo(
        f"{artefact['version']}: {m['folds']}-fold AUC {m['auc']:.3f} ± {m['auc_sd']:.3f}, "
        f"KS {m['ks']:.3f}, Gini {m['gini']:.3f}; cut-off {artefact['cutoff']} points; "
        f"written to {out}"
    )


@app.command("remind")
def remind(ctx: typer.Context) -> None:
    """Remind borrowers of instalments due soon and overdue (run daily, e.g. from cron)."""
    from anxin.core.commands import app_context
    from anxin.lending import loans

    with app_context(ctx).unit(actor="system:lending-reminders") as uow:
        run = loans.run_reminders(uow=uow)
    typer.echo(f"{run.before_due} reminders before due, {run.overdue} overdue reminders raised")
