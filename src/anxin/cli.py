"""The `anxin` command: serve, migrate, demo and simulate here; every domain adds its own
command groups (`anxin user …`, `anxin device …`, `anxin ledger …`) through its setup."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from anxin.core.commands import (
    EXIT_NO,
    EXIT_REFUSED,
    CliRuntime,
    app_context,
    fail,
    one_line,
    readable_errors,
)
from anxin.core.config import ConfigurationError, Settings, get_settings
from anxin.core.domain import Domain
from anxin.core.errors import AnxinError
from anxin.domains import build_context, discover


def _logging(settings: Settings) -> None:
    from anxin.core.logs import json_logging

    json_logging(settings.log_level)


@readable_errors
def migrate() -> None:
    """Create or upgrade the database schema to the latest revision (safe to re-run)."""
    from anxin.bootstrap import prepare_database

    settings = get_settings()
    prepare_database(settings)
    typer.echo(f"database ready: {settings.database_url}")


@readable_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default ANXIN_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ANXIN_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Serving processes. Background workers run in one of them (the leader).",
        ),
    ] = 1,
) -> None:
    """Serve the JSON API and the console. Run `anxin migrate` first."""
    import uvicorn

    settings = get_settings()
    _logging(settings)
    common: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": settings.log_level.lower(),
    }
    if workers > 1:
        # Each process builds its own app from the environment's settings.
        uvicorn.run("anxin.app:create_app", factory=True, workers=workers, **common)
        return
    from anxin.app import create_app

    uvicorn.run(create_app(settings), **common)


@readable_errors
def demo(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    serve_console: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")
    ] = True,
    simulate_devices: Annotated[
        bool,
        typer.Option("--simulate/--no-simulate", help="Stream the demo household's devices."),
    ] = True,
) -> None:
    """Set up the embedded demo (SQLite, simulated devices, local outbox) and serve the console."""
    from anxin.bootstrap import prepare_database
    from anxin.demo.live import bring_to_life
    from anxin.demo.seed import seed_demo

    settings = get_settings()
    if settings.is_production:
        raise fail("the demo seeds known passwords and refuses to run in production", 2)
    prepare_database(settings)
    context = app_context(ctx)
    token_file = Path("var/demo-device-tokens.json")
    with context.unit(actor="system:demo") as uow:
        info = seed_demo(uow=uow, token_file=token_file)
    with context.unit(actor="system:demo") as uow:
        nights = bring_to_life(uow, info)
    # A checkpoint over the seed, so the trace page's proofs verify from the first scan rather
    # than after the checkpointer's first interval.
    from anxin.ledger.keys import KeyFileError
    from anxin.ledger.runtime import checkpoint_now

    try:
        typer.echo(f"ledger checkpoint at size {checkpoint_now(context)}")
    except KeyFileError as exc:
        typer.echo(f"no ledger checkpoint (the trace page waits for one): {exc}")
    url = f"http://{host or settings.host}:{port or settings.port}"
    typer.echo(f"anxin demo ready at {url}  (API docs: {url}/docs)")
    typer.echo("demo logins (username / role / password):")
    for username, role, password in info.logins:
        typer.echo(f"  {username:18} {role:10} {password}")
    typer.echo(f"device tokens: {token_file}")
    if nights:
        typer.echo(f"sleep mat: {nights} readings of the last seven nights")
    if serve_console:
        if simulate_devices:
            from anxin.demo.homes import start_in_background

            typer.echo("simulated devices stream to the demo household; a fall comes in ~20 s")
            start_in_background(context, url=url)
        serve(host=host, port=port)


def server_url(settings: Settings) -> str:
    """Where `anxin serve` listens, as a client reaches it (a wildcard bind is reached on
    loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


@readable_errors
def simulate(
    ctx: typer.Context,
    households: Annotated[int, typer.Option(min=1, max=10_000, help="Households.")] = 1,
    speed: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            max=10_000,
            help="Speed-up (1 = real time). Default: 1 for households; 1440 for --warehouse "
            "(a crane day in about a minute).",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="The running server (default: ANXIN_HOST and ANXIN_PORT)."),
    ] = None,
    duration: Annotated[float, typer.Option(min=1, help="Run time in seconds.")] = 300.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same run).")] = 42,
    first_fall: Annotated[
        float, typer.Option(help="Seconds until the demo household's scripted fall.")
    ] = 20.0,
    progress: Annotated[bool, typer.Option("--progress/--quiet", help="Live display.")] = True,
    warehouse: Annotated[
        bool, typer.Option("--warehouse", help="Replay the demo warehouse's crane day instead.")
    ] = False,
    window: Annotated[
        str, typer.Option(help="With --warehouse: 'day' or 'night' (the 02:30 removal only).")
    ] = "day",
) -> None:
    """Stream simulated radar, sleep-mat and door readings over HTTP, with scripted incidents.

    Registers (or reuses) the demo household and N-1 simulated ones in the configured database,
    then posts readings to --url like real devices (falls, long bathroom stays, night wandering,
    intrusions while away, devices going silent).
    """
    from anxin.demo.homes import run_simulation, summary_lines

    settings = get_settings()
    if settings.is_production:
        raise fail("the simulator registers demo households and refuses to run in production", 2)
    url = (url or server_url(settings)).rstrip("/")
    if warehouse:  # issue 7: two cranes' realistic day, see anxin.collateral.simulate
        from anxin.demo.warehouse import WATCHABLE_SPEED, run_warehouse_cli

        context = app_context(ctx)
        raise typer.Exit(
            run_warehouse_cli(context, url, speed or WATCHABLE_SPEED, window, progress)
        )
    try:
        stats = run_simulation(
            app_context(ctx),
            households=households,
            speed=speed or 1.0,
            url=url,
            duration_s=duration,
            seed=seed,
            first_fall_s=first_fall,
            progress=progress,
        )
    except RuntimeError as exc:
        raise fail(str(exc)) from exc
    for line in summary_lines(stats):
        typer.echo(line)
    if stats.accepted == 0:
        raise typer.Exit(EXIT_NO)


PLATFORM_COMMANDS = (migrate, serve, demo, simulate)


def build(domains: Sequence[Domain]) -> typer.Typer:
    """The `anxin` command over `domains`: the platform's commands and every domain's groups.
    Commands reach a context wired with the same domains (`core.commands.app_context`)."""
    cli = typer.Typer(
        help="anxin (安心): protection services on live data from the physical world.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @cli.callback()
    def _runtime(ctx: typer.Context) -> None:
        runtime = CliRuntime(build=lambda settings: build_context(settings, domains=domains))
        ctx.obj = runtime
        ctx.call_on_close(runtime.close)

    for command in PLATFORM_COMMANDS:
        cli.command()(command)
    for domain in domains:
        for group in domain.commands:
            cli.add_typer(group.app, name=group.name)
    return cli


app = build(discover())


def main() -> Any:
    """The console entry point: invalid settings, and any typed, database or file error that a
    sub-command did not turn into a line itself, are one line on stderr and exit 2."""
    try:
        return app()
    except (ConfigurationError, AnxinError, ValidationError, SQLAlchemyError, OSError) as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise SystemExit(EXIT_REFUSED) from exc
