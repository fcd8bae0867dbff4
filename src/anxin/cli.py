"""The `anxin` command: serve, migrate, demo, and administration of users and devices."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from anxin.collateral import commands as collateral_commands
from anxin.core.config import ConfigurationError, Settings, get_settings
from anxin.core.db import Database
from anxin.core.errors import AnxinError
from anxin.core.security import Role
from anxin.iot import commands as iot_commands
from anxin.ledger import commands as ledger_commands
from anxin.life import commands as life_commands

app = typer.Typer(
    help="anxin (安心): protection services on live data from the physical world.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
org_app = typer.Typer(help="Manage organisations (tenants).", no_args_is_help=True)
device_app = typer.Typer(help="Manage devices.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(org_app, name="org")
app.add_typer(device_app, name="device")
app.add_typer(life_commands.app, name="life")
app.add_typer(ledger_commands.app, name="ledger")
app.add_typer(iot_commands.ingest_app, name="ingest")
app.add_typer(iot_commands.iot_app, name="iot")
app.add_typer(collateral_commands.app, name="collateral")

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def readable_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Errors become one readable line on stderr and a non-zero exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AnxinError as exc:
            raise fail(exc.message, 2 if exc.status_code == 422 else 1) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise fail(f"{field}: {first['msg']}", 2) from exc
        except SQLAlchemyError as exc:
            raise fail(f"database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc

    return wrapper


def _logging(settings: Settings) -> None:
    from anxin.core.logs import json_logging

    json_logging(settings.log_level)


@app.command()
@readable_errors
def migrate() -> None:
    """Create or upgrade the database schema to the latest revision (safe to re-run)."""
    from anxin.bootstrap import prepare_database

    settings = get_settings()
    prepare_database(settings)
    typer.echo(f"database ready: {settings.database_url}")


@app.command()
@readable_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default ANXIN_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ANXIN_PORT).")] = None,
) -> None:
    """Serve the JSON API and the console. Run `anxin migrate` first."""
    import uvicorn

    from anxin.app import create_app

    settings = get_settings()
    _logging(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
    )


@app.command()
@readable_errors
def demo(
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
    from anxin.core.clock import SystemClock
    from anxin.demo import seed_demo

    settings = get_settings()
    if settings.is_production:
        raise fail("the demo seeds known passwords and refuses to run in production", 2)
    prepare_database(settings)
    db = Database.from_settings(settings)
    token_file = Path("var/demo-device-tokens.json")
    with db.session_scope(actor="system:demo") as session:
        info = seed_demo(session=session, now=SystemClock().now(), token_file=token_file)
    db.dispose()
    url = f"http://{host or settings.host}:{port or settings.port}"
    typer.echo(f"anxin demo ready at {url}  (API docs: {url}/docs)")
    typer.echo("demo logins (username / role / password):")
    for username, role, password in info.logins:
        typer.echo(f"  {username:18} {role:10} {password}")
    typer.echo(f"device tokens: {token_file}")
    if serve_console:
        if simulate_devices:
            from anxin.simulator import start_in_background

            typer.echo("simulated devices stream to the demo household; a fall comes in ~20 s")
            start_in_background(settings, url=url)
        serve(host=host, port=port)


@app.command()
@readable_errors
def simulate(
    households: Annotated[int, typer.Option(min=1, max=10_000, help="Households.")] = 1,
    speed: Annotated[
        float, typer.Option(min=0.01, max=10_000, help="Routine speed-up (1 = real time).")
    ] = 1.0,
    url: Annotated[str, typer.Option(help="The running server.")] = "http://127.0.0.1:8000",
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
    from anxin.simulator import run_simulation, summary_lines

    settings = get_settings()
    if settings.is_production:
        raise fail("the simulator registers demo households and refuses to run in production", 2)
    if warehouse:  # issue 7: two cranes' realistic day, see anxin.collateral.simulate
        from anxin.collateral.simulate import run_warehouse_cli

        raise typer.Exit(run_warehouse_cli(settings, url.rstrip("/"), speed, window, progress))
    try:
        stats = run_simulation(
            settings,
            households=households,
            speed=speed,
            url=url.rstrip("/"),
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
        raise typer.Exit(1)


@org_app.command("create")
@readable_errors
def org_create(
    name: Annotated[str, typer.Option(help="Organisation name.")],
    kind: Annotated[
        str, typer.Option(help="care_provider, insurer, bank, warehouse, cooperative, city, …")
    ],
) -> None:
    """Create an organisation (tenant) and print it as JSON."""
    from anxin.core.clock import SystemClock
    from anxin.people import service
    from anxin.people.models import OrganisationKind

    try:
        org_kind = OrganisationKind(kind)
    except ValueError:
        raise fail(f"kind: unknown organisation kind {kind!r}", 2) from None
    db = Database.from_settings(get_settings())
    with db.session_scope(actor="cli") as session:
        org = service.create_organisation(
            session=session, name=name, kind=org_kind, now=SystemClock().now()
        )
        typer.echo(
            json.dumps({"id": org.id, "name": org.name, "kind": org.kind.value}, ensure_ascii=False)
        )


@user_app.command("create")
@readable_errors
def user_create(
    org: Annotated[str, typer.Option(help="Organisation name.")],
    username: Annotated[str, typer.Option(help="Login name (lower case).")],
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(r.value for r in Role))],
    display_name: Annotated[str, typer.Option(help="Name shown to people.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="ANXIN_NEW_USER_PASSWORD",
            help="Password (prompted).",
        ),
    ],
) -> None:
    """Create a user in an organisation and print it as JSON."""
    from anxin.core.clock import SystemClock
    from anxin.people import service
    from anxin.people.schemas import UserCreate

    try:
        user_role = Role(role)
    except ValueError:
        raise fail(f"role: unknown role {role!r}", 2) from None
    data = UserCreate(
        username=username, display_name=display_name, role=user_role, password=password
    )
    db = Database.from_settings(get_settings())
    with db.session_scope(actor="cli") as session:
        organisation = service.get_organisation_by_name(session=session, name=org)
        user = service.create_user(
            session=session, organisation_id=organisation.id, data=data, now=SystemClock().now()
        )
        typer.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role.value}))


@device_app.command("register")
@readable_errors
def device_register(
    org: Annotated[str, typer.Option(help="Organisation name.")],
    device_type: Annotated[
        str, typer.Option("--type", help="Device type code, e.g. mmwave_radar.")
    ],
    owner_kind: Annotated[str, typer.Option(help="household, warehouse or farm.")],
    owner_id: Annotated[str, typer.Option(help="Id of the owning household, warehouse or farm.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")],
) -> None:
    """Register a device and print its id and access token as JSON (the token is shown once)."""
    from anxin.core.clock import SystemClock
    from anxin.iot import service
    from anxin.iot.schemas import DeviceCreate
    from anxin.people import service as people

    data = DeviceCreate(
        device_type=device_type,
        name=name,
        owner_kind=owner_kind,
        owner_id=owner_id,
    )
    db = Database.from_settings(get_settings())
    with db.session_scope(actor="cli") as session:
        organisation = people.get_organisation_by_name(session=session, name=org)
        device, token = service.register_device(
            session=session, organisation_id=organisation.id, data=data, now=SystemClock().now()
        )
        typer.echo(json.dumps({"id": device.id, "device_type": device.device_type, "token": token}))


def main() -> Any:
    """The console entry point: invalid settings read by any command are one line, exit 2."""
    try:
        return app()
    except ConfigurationError as exc:
        typer.echo(f"error: configuration: {exc}", err=True)
        raise SystemExit(2) from exc
