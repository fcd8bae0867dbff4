"""`anxin life …`: portfolio valuation and illustrations from the command line."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from anxin.core.clock import to_local
from anxin.core.commands import app_context
from anxin.life import portfolio as pf
from anxin.life.guarantee import value_guarantee
from anxin.life.ifrs17 import BestEstimate, ModelPoint, measure_group, roll_forward_csv
from anxin.life.illustration import illustrate
from anxin.life.level_term import TermAssumptions, project
from anxin.life.product import PRICING_RATES, Policy
from anxin.life.scenarios import ILLUSTRATIVE_CURVE, HullWhite, parse_curve
from anxin.life.tables import Sex, table_by_name
from anxin.life.workbench import TABLES, table_values

app = typer.Typer(help="Life insurance: valuation and illustrations.", no_args_is_help=True)
console = Console(stderr=True)


def _counted(
    rows: Iterator[Mapping[str, str]], progress: Progress, task: TaskID
) -> Iterator[Mapping[str, str]]:
    for n, row in enumerate(rows, start=1):
        if n % 50_000 == 0:
            progress.update(task, completed=n)
        yield row


@app.command("value")
def value_portfolio(
    ctx: typer.Context,
    portfolio: Annotated[
        Path,
        typer.Option(
            "--portfolio",
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with policy_id, sex (M/F), issue_age, pay_term, sum_assured, "
            "issue_date (YYYY-MM-DD) and optionally growth",
        ),
    ],
    valuation_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD; default today in Asia/Shanghai")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="write policy_id, reserve, cash_value per policy here")
    ] = None,
) -> None:
    """Value every increasing whole-life policy in a portfolio file in one vectorised pass."""
    try:
        when = (
            date.fromisoformat(valuation_date)
            if valuation_date
            else to_local(app_context(ctx).clock.now()).date()
        )
    except ValueError as exc:
        raise typer.BadParameter(f"valuation date: {exc}") from exc
    started = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        reading = progress.add_task("reading", total=None)
        try:
            with portfolio.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in pf.REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
                if missing:
                    raise ValueError(f"missing columns {', '.join(missing)}")
                book = pf.from_rows(_counted(iter(reader), progress, reading), when)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {portfolio.name}: {exc}")
            raise typer.Exit(2) from exc
        progress.update(reading, total=len(book), completed=len(book))
        valuing = progress.add_task("valuing", total=len(book))
        try:
            result = pf.value(book, progress=lambda n: progress.advance(valuing, n))
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        if output is not None:
            writing = progress.add_task("writing", total=len(book))
            with output.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(("policy_id", "reserve", "cash_value"))
                reserve = np.round(result.reserve, 2)
                cash = np.round(result.cash_value, 2)
                for start in range(0, len(book), 100_000):
                    stop = min(start + 100_000, len(book))
                    writer.writerows(
                        zip(
                            book.policy_id[start:stop].tolist(),
                            [f"{v:.2f}" for v in reserve[start:stop]],
                            [f"{v:.2f}" for v in cash[start:stop]],
                            strict=True,
                        )
                    )
                    progress.update(writing, completed=stop)
    table = Table(title=f"Valuation at {when.isoformat()}")
    table.add_column("policies", justify="right")
    table.add_column("net-premium reserve (CNY)", justify="right")
    table.add_column("cash value (CNY)", justify="right")
    table.add_column("seconds", justify="right")
    table.add_row(
        f"{len(book):,}",
        f"{result.total_reserve:,.2f}",
        f"{result.total_cash_value:,.2f}",
        f"{time.perf_counter() - started:.2f}",
    )
    Console().print(table)


@app.command("illustrate")
def illustrate_policy(
    ctx: typer.Context,
    age: Annotated[int, typer.Option(help="age at issue")],
    sex: Annotated[Sex, typer.Option(help="M or F")],
    term: Annotated[int, typer.Option(help="premium term: 1, 3, 5, 10 or 20")],
    sum_assured: Annotated[str, typer.Option(help="first-year sum assured, yuan")],
    issue_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today")] = None,
    years: Annotated[int, typer.Option(help="policy years to show")] = 30,
) -> None:
    """Print a policy illustration table."""
    try:
        issued = (
            date.fromisoformat(issue_date)
            if issue_date
            else to_local(app_context(ctx).clock.now()).date()
        )
        policy = Policy(age, sex, term, Decimal(sum_assured), issued)
        rows = illustrate(policy, years)
    except (ValueError, ArithmeticError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(
        title=f"{policy.basis.table.name}, pricing rate {policy.pricing_rate}, "
        f"premium {policy.gross_premium:,.2f} x {term}"
    )
    for name in ("year", "age", "premium", "paid", "sum assured", "death benefit", "cash value"):
        table.add_column(name, justify="right")
    table.add_column("IRR", justify="right")
    for r in rows:
        table.add_row(
            str(r.policy_year),
            str(r.age),
            f"{r.premium:,.2f}",
            f"{r.cumulative_premium:,.2f}",
            f"{r.sum_assured:,.2f}",
            f"{r.death_benefit:,.2f}",
            f"{r.cash_value:,.2f}",
            "—" if r.surrender_irr is None else f"{r.surrender_irr:.2%}",
        )
    Console().print(table)


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command("table")
def show_table(
    name: Annotated[str, typer.Argument(help=f"one of {', '.join(TABLES)}")],
    rate: Annotated[float, typer.Option(help="effective annual interest rate, e.g. 0.025")],
    age_from: Annotated[int, typer.Option("--from", help="first age")] = 0,
    age_to: Annotated[int, typer.Option("--to", help="last age")] = 105,
) -> None:
    """Print ä, A, ²A, life expectancy and the commutation columns of a table at a rate."""
    if name.upper() not in TABLES:
        console.print(f"[red]error:[/red] no table {name!r}; shipped: {', '.join(TABLES)}")
        raise typer.Exit(2)
    if not -0.5 < rate < 1.0 or not 0 <= age_from <= age_to:
        console.print("[red]error:[/red] need -0.5 < rate < 1 and 0 <= --from <= --to")
        raise typer.Exit(2)
    table = table_by_name(name.upper())
    top = min(age_to, table.max_age)
    out = Table(title=f"{table.name} at {rate:.2%}")
    columns = ("age", "qx", "ä", "A", "²A", "e°", "D", "N", "C", "M")
    for column in columns:
        out.add_column(column, justify="right")
    for r in table_values(table, rate, range(min(age_from, top), top + 1)):
        out.add_row(
            str(r.age),
            f"{r.qx:.6f}",
            f"{r.annuity_due:.4f}",
            f"{r.assurance:.5f}",
            f"{r.assurance_second_moment:.5f}",
            f"{r.life_expectancy:.2f}",
            *(f"{v:.5g}" for v in (r.D, r.N, r.C, r.M)),
        )
    Console(width=max(Console().width, 120)).print(out)


@app.command("guarantee")
def value_the_guarantee(
    age: Annotated[int, typer.Option(help="age at issue")] = 40,
    sex: Annotated[Sex, typer.Option(help="M or F")] = Sex.MALE,
    term: Annotated[int, typer.Option(help="premium term: 1, 3, 5, 10 or 20")] = 10,
    sum_assured: Annotated[str, typer.Option(help="first-year sum assured, yuan")] = "100000",
    curve: Annotated[
        str | None, typer.Option(help="zero curve years:rate,…; default an illustrative curve")
    ] = None,
    mean_reversion: Annotated[float, typer.Option(help="Hull–White a")] = 0.1,
    volatility: Annotated[float, typer.Option(help="Hull–White sigma")] = 0.01,
    scenarios: Annotated[int, typer.Option(help="even number of scenarios")] = 2000,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """The time value of the guarantee for the same policy written at each pricing rate."""
    try:
        model = HullWhite(
            parse_curve(curve) if curve else ILLUSTRATIVE_CURVE, mean_reversion, volatility
        )
        policies = [
            Policy(age, sex, term, Decimal(sum_assured), step.effective_from)
            for step in PRICING_RATES
        ]
    except (ValueError, ArithmeticError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    out = Table(title=f"TVOG, {scenarios} Hull–White scenarios (a={model.a}, σ={model.sigma})")
    for column in ("written from", "guaranteed", "deterministic PV", "TVOG", "95 % interval"):
        out.add_column(column, justify="right")
    with _bar() as progress:
        task = progress.add_task("valuing", total=len(policies))
        for policy in policies:
            try:
                value, _ = value_guarantee([policy], model, scenarios, seed=seed)
            except ValueError as exc:
                progress.stop()
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            low, high = value.interval95
            out.add_row(
                policy.issue_date.isoformat(),
                f"{policy.pricing_rate:.1%}",
                f"{value.deterministic_pv:,.0f}",
                f"{value.tvog:,.0f}",
                f"{low:,.0f} … {high:,.0f}",
            )
            progress.advance(task)
    Console().print(out)


def _model_points(path: Path) -> list[ModelPoint]:
    points = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                policy = Policy(
                    int(row["issue_age"]),
                    Sex(row["sex"]),
                    int(row["pay_term"]),
                    Decimal(row["sum_assured"]),
                    date.fromisoformat(row["issue_date"]),
                )
                points.append(ModelPoint(policy, int(row["count"])))
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"line {line}: {exc}") from exc
    return points


@app.command("ifrs17")
def ifrs17_roll_forward(
    points: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV of model points: issue_age, sex, pay_term, sum_assured, issue_date, count",
        ),
    ],
    years: Annotated[int, typer.Option(help="annual periods to roll forward")] = 10,
    curve: Annotated[
        str | None, typer.Option(help="locked-in zero curve years:rate,…; default illustrative")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="write the roll-forward as CSV")] = None,
) -> None:
    """Measure one group under IFRS 17 (GMM): initial recognition and the yearly roll-forward."""
    try:
        group = _model_points(points)
        with console.status("measuring the group"):
            result = measure_group(
                group, parse_curve(curve) if curve else ILLUSTRATIVE_CURVE, BestEstimate(), years
            )
    except (ValueError, ArithmeticError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    initial = (
        f"BEL {result.initial_bel:,}, RA {result.initial_risk_adjustment:,}, "
        f"CSM {result.initial_csm:,}, loss component {result.initial_loss_component:,}"
    )
    out = Table(title=f"Initial recognition: {initial}")
    for column in (
        "year",
        "BEL closing",
        "RA closing",
        "CSM interest",
        "CSM release",
        "CSM closing",
    ):
        out.add_column(column, justify="right")
    for p in result.periods:
        out.add_row(
            str(p.year),
            *(
                f"{x:,}"
                for x in (p.bel_closing, p.ra_closing, p.csm_interest, p.csm_release, p.csm_closing)
            ),
        )
    Console(width=max(Console().width, 120)).print(out)
    if output is not None:
        output.write_text(roll_forward_csv(result), encoding="utf-8")


LEVEL_TERM_COLUMNS = ("point_id", "age_at_entry", "policy_term", "sum_assured")
LEVEL_TERM_CHUNK = 50_000


def _level_term_points(path: Path) -> tuple[list[str], np.ndarray]:
    """Model points as (ids, int/float matrix); a bad row is refused with its line."""
    ids: list[str] = []
    rows: list[tuple[int, int, float]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(LEVEL_TERM_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"missing columns: {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                age, term = int(row["age_at_entry"]), int(row["policy_term"])
                sum_assured = float(Decimal(row["sum_assured"]))
            except (ValueError, ArithmeticError) as exc:
                raise ValueError(f"line {line}: {exc}") from exc
            if not (0 <= age <= 100 and 1 <= term <= 60 and sum_assured > 0):
                raise ValueError(f"line {line}: need age 0-100, term 1-60 and a positive sum")
            ids.append(row["point_id"])
            rows.append((age, term, sum_assured))
    return ids, np.array(rows, dtype=np.float64).reshape(-1, 3)


@app.command("level-term")
def level_term(
    points: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV of model points: point_id, age_at_entry, policy_term, sum_assured",
        ),
    ],
    table: Annotated[str, typer.Option(help=f"mortality table: {', '.join(TABLES)}")] = "CL1",
    rate: Annotated[float, typer.Option(help="flat annual discount rate")] = 0.025,
    output: Annotated[Path | None, typer.Option(help="write per-point present values")] = None,
) -> None:
    """Level-term model points (BasicTerm_M's method) on any shipped table, monthly."""
    try:
        if table.upper() not in TABLES:
            raise ValueError(f"no table {table!r}; shipped: {', '.join(TABLES)}")
        if not -0.5 < rate < 1.0:
            raise ValueError("the rate must lie between -0.5 and 1")
        ids, matrix = _level_term_points(points)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    chosen = table_by_name(table.upper())
    too_old = matrix[:, 0] + matrix[:, 1] > chosen.max_age
    if too_old.any():
        line = int(np.argmax(too_old)) + 2
        console.print(f"[red]error:[/red] line {line}: cover runs past the table's last age")
        raise typer.Exit(2)
    basis = TermAssumptions(
        mort_table=np.asarray(chosen.q, dtype=np.float64).reshape(-1, 1),
        min_age=0,
        disc_rate_ann=np.full(61, rate),
    )
    results = []
    with _bar() as progress:
        task = progress.add_task("projecting", total=len(ids))
        for start in range(0, len(ids), LEVEL_TERM_CHUNK):
            chunk = matrix[start : start + LEVEL_TERM_CHUNK]
            results.append(
                project(
                    chunk[:, 0].astype(np.int64), chunk[:, 1].astype(np.int64), chunk[:, 2], basis
                )
            )
            progress.advance(task, len(chunk))
    pv = np.concatenate([r.pv_net_cf for r in results]) if results else np.zeros(0)
    premiums = np.concatenate([r.premium_pp for r in results]) if results else np.zeros(0)
    summary = Table(title=f"{len(ids):,} level-term points on {chosen.name} at {rate:.2%}")
    summary.add_column("total PV of net cash flow", justify="right")
    summary.add_column("total monthly premium", justify="right")
    summary.add_row(f"{pv.sum():,.2f}", f"{premiums.sum():,.2f}")
    Console().print(summary)
    if output is not None:
        with output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["point_id", "premium_pp", "pv_net_cf"])
            for point_id, premium, value in zip(ids, premiums, pv, strict=True):
                writer.writerow([point_id, f"{premium:.2f}", f"{value:.2f}"])
