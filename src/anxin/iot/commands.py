"""`anxin ingest ...` (telemetry consumers) and `anxin iot ...` (partitions, retention)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from dataclasses import asdict
from typing import Annotated, Any

import typer

from anxin.core.commands import app_context, readable_errors
from anxin.core.context import AppContext
from anxin.core.logs import json_logging

ingest_app = typer.Typer(help="Telemetry ingestion consumers (MQTT, NATS JetStream).")
iot_app = typer.Typer(help="Telemetry storage maintenance: partitions, retention, dead letters.")
dead_letters_app = typer.Typer(help="Messages no transport could process: list and replay.")
iot_app.add_typer(dead_letters_app, name="dead-letters")
device_app = typer.Typer(help="Manage devices.", no_args_is_help=True)

log = logging.getLogger("anxin.ingest")

# Options every consumer takes.
MetricsPort = Annotated[int | None, typer.Option(help="Serve /metrics on this port.")]
PublishEvents = Annotated[
    bool,
    typer.Option(
        "--bus/--no-bus",
        help="Publish telemetry events (rules, live console); --no-bus only stores.",
    ),
]


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


def _ingestor(context: AppContext, transport: str, *, publish: bool = True) -> Any:
    from anxin.core import heap, sqlite_gate
    from anxin.iot.limits import RateLimiter
    from anxin.iot.pipeline import BatchIngestor, DeviceCache
    from anxin.iot.retention import ensure_partitions
    from anxin.iot.service import limits_from

    # A consumer is a bulk writer: on SQLite its units wait while an API request waits.
    sqlite_gate.bulk_writer_process()
    settings = context.settings
    # The context has the same wiring as the web app: rules, owners' flows, the configured bus.
    with context.unit(actor="system:partitions") as uow:
        ensure_partitions(
            session=uow.session,
            now=context.clock.now(),
            ahead=settings.telemetry_partitions_ahead,
            interval=settings.telemetry_partition,
        )
    ingestor = BatchIngestor(
        context=context,
        publish=publish,
        transport=transport,
        max_payload_bytes=settings.ingest_max_payload_bytes or settings.max_payload_bytes,
        max_items=settings.max_batch_items,
        limiter=RateLimiter(rate=settings.telemetry_rate_per_s, burst=settings.telemetry_burst),
        cache=DeviceCache(context.db, ttl_s=settings.ingest_device_cache_s),
        unit_readings=settings.ingest_unit_readings,
        limits=limits_from(settings),
    )
    heap.settle()  # before the first unit: a full GC pass inside one holds up the API
    return ingestor


def _serve_metrics(port: int | None) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1")


@ingest_app.command("mqtt")
def ingest_mqtt(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="Broker, e.g. mqtt://127.0.0.1:1883.")],
    group: Annotated[
        str, typer.Option(help="Shared-subscription group; '' for a plain subscription.")
    ] = "anxin",
    client_id: Annotated[
        str | None, typer.Option(help="Stable id for a persistent session (resumes un-acked).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Messages per unit of work.")] = None,
    metrics_port: MetricsPort = None,
    bus: PublishEvents = True,
) -> None:
    """Consume device telemetry from an MQTT broker (QoS 1, ack after commit) until stopped."""
    from anxin.iot.mqtt import MqttConsumer

    context = app_context(ctx)
    settings = context.settings
    json_logging(settings.log_level)
    _serve_metrics(metrics_port)
    consumer = MqttConsumer(
        url=url,
        ingestor=_ingestor(context, "mqtt", publish=bus),
        group=group,
        client_id=client_id,
        batch_size=batch_size or settings.ingest_batch_size,
        queue_size=settings.ingest_queue_size,
    )
    stats = consumer.run(_stop_on_signals())
    log.info("mqtt consumer stopped", extra={"stats": json.dumps(stats.__dict__)})


@ingest_app.command("nats")
def ingest_nats(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(help="NATS servers, comma-separated (default ANXIN_BUS_URL).")
    ] = None,
    durable: Annotated[str, typer.Option(help="Durable consumer shared by the workers.")] = (
        "anxin-ingest"
    ),
    batch_size: Annotated[int | None, typer.Option(help="Messages per fetch.")] = None,
    ack_wait: Annotated[float, typer.Option(help="Seconds before un-acked redelivery.")] = 30.0,
    replicas: Annotated[int, typer.Option(help="Stream replicas when creating it.")] = 1,
    metrics_port: MetricsPort = None,
    bus: PublishEvents = True,
) -> None:
    """A worker of the JetStream pull-consumer group on ANXIN_TELEMETRY, until stopped."""
    from anxin.iot.nats_ingest import NatsWorker

    context = app_context(ctx)
    settings = context.settings
    servers = url or settings.bus_url
    if not servers.startswith("nats://"):
        typer.echo("error: give --url nats://... or set ANXIN_BUS_URL", err=True)
        raise typer.Exit(2)
    json_logging(settings.log_level)
    _serve_metrics(metrics_port)
    worker = NatsWorker(
        url=servers,
        ingestor=_ingestor(context, "nats", publish=bus),
        durable=durable,
        batch_size=batch_size or settings.ingest_batch_size,
        ack_wait_s=ack_wait,
        replicas=replicas,
    )
    stats = asyncio.run(worker.run(_stop_on_signals()))
    log.info("nats worker stopped", extra={"stats": json.dumps(stats.__dict__)})


@ingest_app.command("events")
def ingest_events(
    ctx: typer.Context,
    durable: Annotated[str, typer.Option(help="Durable consumer name.")] = "anxin-events",
) -> None:
    """Run domain-event handlers from JetStream (ANXIN_BUS_URL=nats://...) until stopped."""
    from anxin.core.nats_bus import JetStreamBus
    from anxin.iot.dead_letters import event_sink

    context = app_context(ctx)
    json_logging(context.settings.log_level)
    bus = context.bus
    if not isinstance(bus, JetStreamBus):
        typer.echo("error: ANXIN_BUS_URL must be nats://... for event consumers", err=True)
        raise typer.Exit(2)
    bus.dead_letters = event_sink(context)
    handled = asyncio.run(bus.run_consumer(_stop_on_signals(), context.unit, durable=durable))
    log.info("event consumer stopped", extra={"handled": handled})


@iot_app.command("partitions")
def partitions(
    ctx: typer.Context,
    ahead: Annotated[int | None, typer.Option(help="Periods to create ahead.")] = None,
) -> None:
    """Create the readings partitions ahead of time (PostgreSQL; nothing to do on SQLite)."""
    from anxin.iot.retention import ensure_partitions, list_partitions

    context = app_context(ctx)
    settings = context.settings
    with context.unit(actor="cli") as uow:
        session = uow.session
        created = ensure_partitions(
            session=session,
            now=uow.now(),
            ahead=ahead or settings.telemetry_partitions_ahead,
            interval=settings.telemetry_partition,
        )
        typer.echo(json.dumps({"created": created, "partitions": list_partitions(session)}))


@iot_app.command("retention")
def retention(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="Keep this many days of readings.")],
) -> None:
    """Drop readings older than N days (whole partitions on PostgreSQL, DELETE on SQLite)."""
    from anxin.iot.retention import apply_retention

    with app_context(ctx).unit(actor="cli") as uow:
        result = apply_retention(session=uow.session, now=uow.now(), days=days)
        typer.echo(
            json.dumps(
                {
                    "cutoff": result.cutoff.isoformat(),
                    "dropped_partitions": result.dropped_partitions,
                    "deleted_readings": result.deleted_readings,
                    "deleted_claims": result.deleted_claims,
                    "deleted_rejections": result.deleted_rejections,
                }
            )
        )


@dead_letters_app.command("list")
def dead_letters_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows per page.")] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="Page: rows older than this id (next_before).")
    ] = None,
    pending: Annotated[bool, typer.Option(help="Only those not replayed yet.")] = False,
) -> None:
    """Every organisation's dead letters, newest first, one JSON object a line."""
    from anxin.iot import dead_letters
    from anxin.iot.views import dead_letter_read

    with app_context(ctx).db.session_scope() as session:
        rows, next_before = dead_letters.list_dead_letters(
            session=session, organisation_id=None, limit=limit, before=before, pending_only=pending
        )
        for row in rows:
            doc = dead_letter_read(row).model_dump(mode="json")
            doc["organisation_id"] = row.organisation_id
            typer.echo(json.dumps(doc, ensure_ascii=False))
    if next_before is not None:
        typer.echo(json.dumps({"next_before": next_before}))


@dead_letters_app.command("replay")
def dead_letters_replay(
    ctx: typer.Context,
    dead_letter_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="Its id.")],
) -> None:
    """Run a dead letter through its transport's pipeline again; exit 2 if it fails again."""
    from anxin.core.errors import AnxinError
    from anxin.iot.replay import replay

    try:
        outcome = replay(
            context=app_context(ctx), dead_letter_id=dead_letter_id, organisation_id=None
        )
    except AnxinError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    if not outcome.replayed:
        typer.echo(f"error: replay of {dead_letter_id} failed: {outcome.note}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(asdict(outcome)))


@device_app.command("register")
@readable_errors
def device_register(
    ctx: typer.Context,
    org: Annotated[str, typer.Option(help="Organisation name.")],
    device_type: Annotated[
        str, typer.Option("--type", help="Device type code, e.g. mmwave_radar.")
    ],
    owner_kind: Annotated[str, typer.Option(help="household, warehouse or farm.")],
    owner_id: Annotated[str, typer.Option(help="Id of the owning household, warehouse or farm.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")],
) -> None:
    """Register a device and print its id and access token as JSON (the token is shown once)."""
    from anxin.iot import service
    from anxin.iot.schemas import DeviceCreate
    from anxin.people import service as people

    data = DeviceCreate(
        device_type=device_type,
        name=name,
        owner_kind=owner_kind,
        owner_id=owner_id,
    )
    with app_context(ctx).unit(actor="cli") as uow:
        organisation = people.get_organisation_by_name(session=uow.session, name=org)
        device, token = service.register_device(
            session=uow.session, organisation_id=organisation.id, data=data, now=uow.now()
        )
        typer.echo(json.dumps({"id": device.id, "device_type": device.device_type, "token": token}))
