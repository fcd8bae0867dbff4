"""`anxin simulate --warehouse`: cranesim's realistic day replayed over HTTP to a running server.

Two cranes of the demo warehouse stream their hook-scale and positioner readings through the
public telemetry API, with the simulator's faults (noise, dropouts, duplicates, late and
out-of-order delivery). The day is stamped so that it ends *now*: every reading lies in the
past, as if a gateway were catching up, so a speed-up never sends a reading from the future.
Before each truck is loaded from pledged bays the operator requests a release for that
truck's load and the bank officer approves it (demo logins, through the API), so the day's
trucks raise no alarm — and the night removal at 02:30, which nobody released, does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from anxin.collateral.cranesim import Simulation, TrueLift, simulate_day
from anxin.core.context import AppContext

log = logging.getLogger(__name__)

CRANE_TOKENS = Path("var/demo-crane-tokens.json")
NIGHT = (2.25 * 3600, 2.95 * 3600)  # 02:15-02:57: the unauthorised removal
DAY = (0.0, 24 * 3600.0)
# `anxin simulate --warehouse` by default: a day in a minute, a pace a person can watch.
WATCHABLE_SPEED = 1440.0


@dataclass(frozen=True)
class Batch:
    arrival: float  # simulated arrival time of the batch's last reading (POSIX s)
    crane: str
    device_type: str
    readings: list[dict[str, Any]]


@dataclass
class WarehouseStats:
    batches: int = 0
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    releases: int = 0
    lifts_planned: int = 0
    unauthorised_planned: int = 0
    problems: list[str] = field(default_factory=list)


def batches(
    sim: Simulation, *, window: tuple[float, float], shift: float, batch_s: float = 5.0
) -> list[Batch]:
    """The streams inside `window` (seconds after the simulated midnight), cut into batches
    of `batch_s` of arrival time per device, in arrival order; timestamps moved by `shift`."""
    lo, hi = sim.start + window[0], sim.start + window[1]
    out: list[Batch] = []
    for crane, streams in sim.cranes.items():
        w = streams.weights
        keep = (w.t >= lo) & (w.t < hi)
        out += _cut(
            crane,
            "crane_hook_scale",
            streams.weight_arrival[keep],
            w.t[keep],
            {"weight_kg": w.kg[keep], "stable": w.stable[keep]},
            shift,
            batch_s,
        )
        p = streams.positions
        keep = (p.t >= lo) & (p.t < hi)
        out += _cut(
            crane,
            "crane_positioner",
            streams.position_arrival[keep],
            p.t[keep],
            {"x_m": p.x[keep], "y_m": p.y[keep]},
            shift,
            batch_s,
        )
    out.sort(key=lambda b: (b.arrival, b.crane, b.device_type))
    return out


def _cut(
    crane: str,
    device_type: str,
    arrival: Any,
    t: Any,
    columns: dict[str, Any],
    shift: float,
    batch_s: float,
) -> list[Batch]:
    if len(t) == 0:
        return []
    order = np.argsort(arrival, kind="stable")
    slots = np.floor(arrival[order] / batch_s).astype(np.int64)
    out: list[Batch] = []
    start = 0
    for end in range(1, len(order) + 1):
        if end == len(order) or slots[end] != slots[start]:
            rows = []
            for j in order[start:end]:
                ts = float(t[j]) + shift
                rows.append(
                    {
                        "message_id": f"{crane}-{device_type[6:9]}-{round(float(t[j]) * 1000)}",
                        "ts": datetime.fromtimestamp(ts, tz=UTC).isoformat(),
                        "values": {
                            k: bool(a[j]) if a.dtype == np.bool_ else float(a[j])
                            for k, a in columns.items()
                        },
                    }
                )
            out.append(Batch(float(arrival[order[end - 1]]), crane, device_type, rows))
            start = end
    return out


def post_batch(client: Any, token: str, batch: Batch, *, retries: int = 20) -> dict[str, Any]:
    """Post one batch; a rate-limited device (HTTP 429) waits and tries again."""
    body = json.dumps({"readings": batch.readings}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = client.post("/api/v1/telemetry", content=body, headers=headers)
    for _ in range(retries):
        if response.status_code != 429:
            break
        time.sleep(0.25)
        response = client.post("/api/v1/telemetry", content=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"telemetry refused: HTTP {response.status_code}: {response.text[:300]}")
    result: dict[str, Any] = response.json()
    return result


def replay(
    client: Any,
    tokens: dict[str, dict[str, str]],
    plan: Iterable[Batch],
    *,
    speed: float | None = None,
    before: Callable[[Batch], None] | None = None,
    stats: WarehouseStats | None = None,
) -> WarehouseStats:
    """Post the batches in order; with `speed`, paced to simulated arrival / speed."""
    stats = stats or WarehouseStats()
    t_wall = time.monotonic()
    t_sim: float | None = None
    for batch in plan:
        if speed:
            t_sim = batch.arrival if t_sim is None else t_sim
            wait = (batch.arrival - t_sim) / speed - (time.monotonic() - t_wall)
            if wait > 0:
                time.sleep(min(wait, 5.0))
        if before is not None:
            before(batch)
        try:
            result = post_batch(client, tokens[batch.crane][batch.device_type], batch)
        except Exception as exc:
            stats.failed += 1
            stats.problems.append(str(exc)[:200])
            continue
        stats.batches += 1
        stats.sent += len(batch.readings)
        stats.accepted += int(result.get("accepted", 0))
        stats.duplicates += int(result.get("duplicates", 0))
    return stats


def truck_loads(
    sim: Simulation, pledged_bays: set[str], window: tuple[float, float]
) -> list[tuple[float, int]]:
    """Authorised outbound lifts from pledged bays, grouped per truck as (first pick, kg)."""
    lo, hi = sim.start + window[0], sim.start + window[1]
    lifts = sorted(
        (
            x
            for x in sim.truth
            if x.authorised
            and x.direction.value == "outbound"
            and x.pick_zone in pledged_bays
            and lo <= x.t_pick < hi
        ),
        key=lambda x: x.t_pick,
    )
    groups: list[list[TrueLift]] = []
    for lift in lifts:
        if groups and lift.t_pick - groups[-1][-1].t_set < 1800:
            groups[-1].append(lift)
        else:
            groups.append([lift])
    # Ask for a little more than the mill weight: the release is consumed by weighed lifts.
    return [(g[0].t_pick, int(sum(x.net_kg for x in g) * 1.02) + 100) for g in groups]


def _login(client: Any, username: str) -> dict[str, str]:
    from anxin.demo.seed import DEMO_USERS

    password = next(p for u, _, _, p in DEMO_USERS if u == username)
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    if response.status_code != 200:
        raise RuntimeError(f"demo login {username!r} failed: HTTP {response.status_code}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def release_and_approve(client: Any, pledge_id: str, kg: int, note: str) -> str:
    """The operator asks for a release of `kg`; the bank officer approves it (demo logins)."""
    operator, bank = _login(client, "warehouse"), _login(client, "bank")
    response = client.post(
        f"/api/v1/collateral/pledges/{pledge_id}/releases",
        headers=operator,
        json={"quantity_t": f"{kg / 1000:.3f}", "note": note},
    )
    if response.status_code != 201:
        raise RuntimeError(f"release request refused: {response.status_code} {response.text[:200]}")
    release_id = str(response.json()["id"])
    response = client.post(
        f"/api/v1/collateral/releases/{release_id}/approve",
        headers=bank,
        json={"note": "simulated truck"},
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"release approval refused: {response.status_code} {response.text[:200]}"
        )
    return release_id


def prepare_cranes(
    context: AppContext, *, token_file: Path = CRANE_TOKENS
) -> tuple[Any, dict[str, dict[str, str]]]:
    """Seed the demo if needed and make sure we hold a working token for each crane device
    (a device whose token we lost gets a fresh one)."""
    from sqlalchemy import select

    from anxin.collateral.models import Crane
    from anxin.core.security import hash_device_token
    from anxin.demo.seed import seed_demo
    from anxin.iot import service as iot
    from anxin.iot.models import Device
    from anxin.people import service as people
    from anxin.people.models import User

    tokens: dict[str, dict[str, str]] = {}
    if token_file.exists():
        tokens = json.loads(token_file.read_text())
    with context.unit(actor="system:simulator") as uow:
        session = uow.session
        info = seed_demo(uow=uow, token_file=token_file.with_name("demo-device-tokens.json"))
        demo = info.collateral
        if token_file.exists():
            tokens = json.loads(token_file.read_text())
        operator_user = session.scalar(select(User).where(User.username == "warehouse"))
        assert operator_user is not None
        operator = people.principal_of(operator_user)
        for crane in session.scalars(select(Crane).where(Crane.warehouse_id == demo.warehouse_id)):
            mine = tokens.setdefault(crane.code, {})
            for device_id in (crane.scale_device_id, crane.positioner_device_id):
                device = session.get(Device, device_id)
                assert device is not None
                token = mine.get(device.device_type)
                if token is None or hash_device_token(token) != device.token_hash:
                    _, token = iot.rotate_token(uow=uow, principal=operator, device_id=device.id)
                    mine[device.device_type] = token
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(json.dumps(tokens, indent=2))
    token_file.chmod(0o600)
    return demo, tokens


def run_warehouse(
    context: AppContext,
    *,
    url: str,
    seed: int = 20261129,
    speed: float = 60.0,
    window: str = "day",
    progress: Callable[[str], None] | None = None,
    token_file: Path = CRANE_TOKENS,
    now: datetime | None = None,
) -> WarehouseStats:
    """Seed or reuse the demo warehouse, then replay `window` of the day to `url`, paced at
    `speed` (None or 0: as fast as the server takes it). `now` is the server's clock."""
    import httpx

    from anxin.demo.homes import wait_for_server

    span = NIGHT if window == "night" else DAY
    now = now or context.clock.now()
    demo, tokens = prepare_cranes(context, token_file=token_file)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() - 86400
    sim = simulate_day(seed, midnight)
    shift = now.timestamp() - (sim.start + span[1])
    # Devices may post ~10 messages/s (iot's rate limit): a batch spans speed/4 simulated
    # seconds (at most five minutes, like a gateway that buffers), so each device posts about
    # four times a second up to speed 1200 and five times at the watchable day-in-a-minute.
    plan = batches(
        sim, window=span, shift=shift, batch_s=min(300.0, max(2.0, speed / 4)) if speed else 60.0
    )
    pledged = {f"B{i:02d}" for i in range(1, 9)}
    loads = truck_loads(sim, pledged, span)
    stats = WarehouseStats(
        lifts_planned=sum(1 for x in sim.truth if span[0] <= x.t_pick - sim.start < span[1]),
        unauthorised_planned=sum(1 for x in sim.truth if not x.authorised),
    )
    say = progress or (lambda _line: None)
    say(
        f"replaying {len(plan)} batches ({sum(len(b.readings) for b in plan)} readings, "
        f"{stats.lifts_planned} lifts, {len(loads)} released truck loads) at {speed:g}x to {url}"
    )
    with httpx.Client(base_url=url, timeout=30.0) as client:
        if not wait_for_server(client):
            raise RuntimeError(f"no anxin server answers at {url}/healthz")
        pending = list(loads)

        def before(batch: Batch) -> None:
            while pending and pending[0][0] - 120 <= batch.arrival:
                at, kg = pending.pop(0)
                release_and_approve(
                    client,
                    demo.pledge_id,
                    kg,
                    f"truck at {datetime.fromtimestamp(at + shift, tz=UTC):%H:%M}",
                )
                stats.releases += 1
                say(f"release of {kg / 1000:.1f} t requested and approved")

        last = [0.0]

        def tick(batch: Batch) -> None:
            before(batch)
            if batch.arrival - last[0] > 900:
                last[0] = batch.arrival
                clock = datetime.fromtimestamp(batch.arrival - sim.start, tz=UTC)
                say(f"simulated {clock:%H:%M} · posted {stats.sent} readings")

        replay(client, tokens, plan, speed=speed, before=tick, stats=stats)
    return stats


def iter_lines(stats: WarehouseStats) -> Iterator[str]:
    yield (
        f"batches {stats.batches}, readings sent {stats.sent}, accepted {stats.accepted}, "
        f"duplicates {stats.duplicates}, failed {stats.failed}"
    )
    yield (
        f"lifts in the window {stats.lifts_planned}; releases approved {stats.releases}; "
        f"unauthorised lifts in the day {stats.unauthorised_planned}"
    )
    yield from (f"problem: {p}" for p in stats.problems[:5])


def run_warehouse_cli(
    context: AppContext, url: str, speed: float, window: str, progress: bool
) -> int:
    """`anxin simulate --warehouse`: returns the exit code."""
    import typer

    if window not in ("day", "night"):
        typer.echo("error: --window is 'day' or 'night'", err=True)
        return 2
    try:
        stats = run_warehouse(
            context, url=url, speed=speed, window=window, progress=typer.echo if progress else None
        )
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    for line in iter_lines(stats):
        typer.echo(line)
    return 0 if stats.accepted else 1
