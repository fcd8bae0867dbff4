"""`anxin market …`: run the forecasts (seconds per series: not for a request's thread)."""

from __future__ import annotations

from typing import Annotated

import typer

from anxin.core.domain import Command

app = typer.Typer(help="B2B trade in traced lots: forecasts.", no_args_is_help=True)


@app.command("forecast")
def forecast(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="The cooperative administrator to run as.")],
    horizon: Annotated[int, typer.Option(min=1, max=52)] = 8,
    folds: Annotated[int, typer.Option(min=1, max=12)] = 3,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes to forecast in (one per free core).")
    ] = 1,
) -> None:
    """Forecast the cooperative's demand and supply series and record the chosen models."""
    from anxin.core.commands import app_context
    from anxin.market import forecasting
    from anxin.people import service as people

    with app_context(ctx).unit(actor="cli:market-forecast") as uow:
        user = people.get_user_by_username(session=uow.session, username=username)
        principal = people.principal_of(user)
        runs = forecasting.run(
            uow=uow, principal=principal, horizon=horizon, folds=folds, workers=workers
        )
        for row in runs:
            errors = row.result["backtest"]
            typer.echo(
                f"{row.key}: {row.chosen} (MASE {errors[row.chosen]['mase']}, "
                f"baseline {errors['SeasonalNaive']['mase']})"
            )


COMMAND = Command("market", app)
