"""Simulated households: realistic radar, sleep-mat and door readings over HTTP, with incidents.

`anxin simulate --households N --speed X --url …` registers (or reuses) N households' devices
and streams readings to a running server through the public telemetry API, exactly as real
devices would. Everything is seeded: the same seed gives the same readings and incidents.

**Time.** Readings carry the wall-clock time (the server refuses readings from the future), and
the server's rules time them on that clock. `--speed` runs the elder's *routine* faster (a
simulated day passes in 24/X hours, and devices report X times as often); incidents that a
rule must time (a long bathroom stay, wandering at night, a silent device) last as long in
real time as the rule needs, so they fire at any speed. Night-time rules use the real local
time, as in a real home.

**Incidents** (scripted per household): ``fall`` (radar fall, then lying still: MAJOR, then
CRITICAL after 60 s), ``bathroom_stay`` (still in the bathroom for 31 minutes),
``night_wandering`` (out of bed for 21 minutes), ``intrusion`` (the household switches to away
and the door opens) and ``silence`` (the radar stops reporting for 5½ minutes).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from anxin.core.clock import SHANGHAI, Clock
from anxin.core.context import AppContext

log = logging.getLogger(__name__)

IncidentKind = Literal["fall", "bathroom_stay", "night_wandering", "intrusion", "silence"]
INCIDENT_KINDS: tuple[IncidentKind, ...] = (
    "fall",
    "bathroom_stay",
    "night_wandering",
    "intrusion",
    "silence",
)
# Wall-clock length of each incident: long enough for the default rules to fire.
INCIDENT_SECONDS: dict[str, float] = {
    "fall": 90.0,
    "bathroom_stay": 31 * 60.0,
    "night_wandering": 21 * 60.0,
    "intrusion": 45.0,
    "silence": 330.0,
}
# Seconds of simulated time between two reports of each device type.
REPORT_EVERY_S: dict[str, float] = {"mmwave_radar": 10.0, "sleep_mat": 30.0, "door_sensor": 60.0}
MIN_WALL_INTERVAL_S = 0.5
ZONES = ("living_room", "kitchen", "bedroom", "bathroom")


def _rng(key: str) -> random.Random:
    """A generator seeded by a string: the same run, the same readings (not for secrets)."""
    return random.Random(key)  # noqa: S311 - simulation, not security


@dataclass(frozen=True)
class Incident:
    kind: IncidentKind
    household: int
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


@dataclass
class SimDevice:
    id: str
    device_type: str
    token: str
    next_s: float = 0.0
    seq: int = 0
    last_open: bool | None = None


@dataclass
class SimHousehold:
    index: int
    name: str
    household_id: str
    devices: dict[str, SimDevice]
    base_hr: float = 64.0
    base_rr: float = 15.0


@dataclass
class Stats:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    per_household: dict[int, int] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)


def default_script(
    households: int, duration_s: float, *, seed: int, first_fall_s: float = 20.0
) -> list[Incident]:
    """Household 0 falls after `first_fall_s`; then every household works through the short
    incidents (in a different order each) before the long ones, never two at once in one home,
    and starts over until `duration_s`."""
    rng = _rng(f"script:{seed}")
    script: list[Incident] = []
    short: list[IncidentKind] = ["intrusion", "silence", "fall"]
    long: list[IncidentKind] = ["bathroom_stay", "night_wandering"]
    for index in range(households):
        t = first_fall_s if index == 0 else 40.0 + rng.uniform(0, 60)
        turn = index % len(short)
        kinds = short[turn:] + short[:turn] + long[index % 2 :] + long[: index % 2]
        if index == 0:  # the demo household falls first
            kinds = ["fall", *(k for k in kinds if k != "fall")]
        done = 0
        while t < duration_s:  # round and round for long runs (the demo runs for a day)
            kind = kinds[done % len(kinds)]
            incident = Incident(kind, index, t, INCIDENT_SECONDS[kind])
            script.append(incident)
            t = incident.end_s + 30.0 + rng.uniform(0, 60)
            done += 1
    return sorted(script, key=lambda i: (i.start_s, i.household))


ModeSetter = Callable[[str, str], None]


class Simulator:
    """Generates and posts readings; `run` drives it in real time or, for tests, on a clock."""

    def __init__(
        self,
        households: list[SimHousehold],
        client: httpx.Client,
        *,
        speed: float = 1.0,
        seed: int = 42,
        script: list[Incident] | None = None,
        clock: Clock,
        mode_setter: ModeSetter | None = None,
        run_id: str | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.households = households
        self.client = client
        self.speed = speed
        self.seed = seed
        self.script = script if script is not None else []
        self.clock = clock
        self.mode_setter = mode_setter
        self.run_id = run_id or f"{seed}-{int(self.clock.now().timestamp())}"
        self.stats = Stats()
        self.started_at = self.clock.now()
        self._announced: set[Incident] = set()
        self._ended: set[Incident] = set()
        for household in households:
            rng = _rng(f"household:{seed}:{household.index}")
            household.base_hr = round(rng.uniform(58, 70), 1)
            household.base_rr = round(rng.uniform(13, 17), 1)
            for offset, device in enumerate(household.devices.values()):
                device.next_s = offset * 0.1  # first reports spread a little

    # --- behaviour ---------------------------------------------------------------------------

    def sim_time(self, t: float) -> datetime:
        """The simulated local time `t` wall seconds into the run."""
        return (self.started_at + timedelta(seconds=t * self.speed)).astimezone(SHANGHAI)

    def routine(self, household: SimHousehold, t: float) -> tuple[str, bool, bool]:
        """(where, in_bed, moving) from the simulated local time of day."""
        local = self.sim_time(t)
        minutes = local.hour * 60 + local.minute
        slot = int((t * self.speed) // 600)  # a new decision every 10 simulated minutes
        rng = _rng(f"slot:{self.seed}:{household.index}:{slot}")
        if minutes >= 22 * 60 + 30 or minutes < 6 * 60 + 30:
            if 2 * 60 <= minutes < 2 * 60 + 6:
                return "bathroom", False, True
            return "bedroom", True, rng.random() < 0.1
        if 9 * 60 + 30 <= minutes < 10 * 60 + 30:
            return "out", False, False
        zone = rng.choices(ZONES, weights=(5, 2, 2, 1))[0]
        return zone, False, rng.random() < 0.7

    def incidents_at(self, household: SimHousehold, t: float) -> list[Incident]:
        return [i for i in self.script if i.household == household.index and i.active(t)]

    def values_for(self, household: SimHousehold, device: SimDevice, t: float) -> dict[str, Any]:
        where, in_bed, moving = self.routine(household, t)
        rng = _rng(f"reading:{self.seed}:{device.id}:{device.seq}")
        kinds = {i.kind: i for i in self.incidents_at(household, t)}
        fall = kinds.get("fall")
        if fall is not None or "bathroom_stay" in kinds:
            where, in_bed, moving = "bathroom", False, False
        elif "night_wandering" in kinds:
            where, in_bed, moving = "living_room", False, True
        elif "intrusion" in kinds:
            where, in_bed, moving = "out", False, False
        values: dict[str, Any] = {"heartbeat": True}
        if device.device_type == "mmwave_radar":
            present = where != "out"
            values.update(presence=present, motion=present and moving, fall=False)
            if present:
                values["zone"] = where
                values["posture"] = (
                    "lying"
                    if in_bed
                    else ("standing" if moving else rng.choice(["sitting"] * 3 + ["standing"]))
                )
            if fall is not None:
                values.update(posture="lying", zone="bathroom", presence=True, motion=False)
                values["fall"] = t - fall.start_s < 5.0 / self.speed + 1.0
        elif device.device_type == "sleep_mat":
            values["in_bed"] = in_bed
            if in_bed:
                wave = 2.0 * _sine(self.sim_time(t))
                hr = rng.gauss(household.base_hr + wave, 2.5)
                rr = rng.gauss(household.base_rr, 0.8)
                values.update(
                    heart_rate=round(min(max(hr, 55.0), 75.0), 1),
                    respiration_rate=round(min(max(rr, 12.0), 18.0), 1),
                    movement=round(rng.uniform(20, 50) if moving else rng.uniform(0, 10), 1),
                )
            else:
                values.update(heart_rate=0.0, respiration_rate=0.0, movement=0.0)
        elif device.device_type == "door_sensor":
            values.update(open=self.door_open(household, t), tamper=False)
        return values

    def door_open(self, household: SimHousehold, t: float) -> bool:
        """Open while someone passes: leaving or coming back, or the intruder (a pure function
        of time, so the sensor can report on change)."""
        intrusion = next(
            (i for i in self.incidents_at(household, t) if i.kind == "intrusion"), None
        )
        if intrusion is not None:  # the family set "away"; someone opens the door
            return 2.0 <= t - intrusion.start_s < 12.0
        before = max(t - 10.0 / self.speed, 0.0)
        return (self.routine(household, t)[0] == "out") != (
            self.routine(household, before)[0] == "out"
        )

    # --- driving -----------------------------------------------------------------------------

    def _silenced(self, household: SimHousehold, device: SimDevice, t: float) -> bool:
        return device.device_type == "mmwave_radar" and any(
            i.kind == "silence" for i in self.incidents_at(household, t)
        )

    def _announce(self, t: float) -> None:
        for incident in self.script:
            if incident in self._announced or incident.start_s > t:
                continue
            self._announced.add(incident)
            household = self.households[incident.household]
            self.stats.incidents.append(
                f"{self.sim_time(t):%H:%M:%S} {household.name}: {incident.kind}"
            )
            if incident.kind == "intrusion" and self.mode_setter is not None:
                self.mode_setter(household.household_id, "away")
            # The devices that see the incident report at once.
            for device in household.devices.values():
                if incident.kind in ("fall", "bathroom_stay", "intrusion"):
                    device.next_s = min(device.next_s, t)
        for incident in self.script:
            if incident in self._announced and incident.end_s <= t and incident not in self._ended:
                self._ended.add(incident)
                if incident.kind == "intrusion" and self.mode_setter is not None:
                    self.mode_setter(self.households[incident.household].household_id, "home")

    def step(self, t: float) -> int:
        """Post every reading due at wall offset `t`; returns how many were posted."""
        self._announce(t)
        posted = 0
        for household in self.households:
            for device in household.devices.values():
                changed = (
                    device.device_type == "door_sensor"
                    and self.door_open(household, t) != device.last_open
                )
                if device.next_s > t and not changed:
                    continue
                interval = max(REPORT_EVERY_S[device.device_type] / self.speed, MIN_WALL_INTERVAL_S)
                device.next_s = t + interval
                if self._silenced(household, device, t):
                    continue
                values = self.values_for(household, device, t)
                if device.device_type == "door_sensor":
                    device.last_open = bool(values["open"])
                self._post(household, device, values)
                posted += 1
        return posted

    def _post(self, household: SimHousehold, device: SimDevice, values: dict[str, Any]) -> None:
        device.seq += 1
        body = {
            "message_id": f"sim-{self.run_id}-{device.seq}",
            "ts": self.clock.now().isoformat(),
            "values": values,
        }
        self.stats.sent += 1
        self.stats.per_household[household.index] = (
            self.stats.per_household.get(household.index, 0) + 1
        )
        try:
            response = self.client.post(
                "/api/v1/telemetry",
                content=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Bearer {device.token}",
                    "Content-Type": "application/json",
                },
            )
        except httpx.HTTPError as exc:
            self.stats.failed += 1
            log.warning("simulator: %s: %s", device.id, exc)
            return
        if response.status_code in (200, 422) and response.headers.get(
            "content-type", ""
        ).startswith("application/json"):
            result = response.json()
            if "accepted" in result:
                self.stats.accepted += int(result["accepted"])
                self.stats.duplicates += int(result["duplicates"])
                self.stats.rejected += int(result["rejected"])
                for rejection in result.get("rejections", [])[:3]:
                    self.stats.rejections.append(str(rejection.get("reason")))
                return
        self.stats.failed += 1
        self.stats.rejections.append(f"HTTP {response.status_code}: {response.text[:200]}")

    def run(
        self,
        duration_s: float,
        *,
        realtime: bool = True,
        tick_s: float = 0.25,
        advance: Callable[[float], None] | None = None,
        on_tick: Callable[[float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> Stats:
        """Run for `duration_s` wall seconds. With `realtime=False`, `advance(seconds)` moves the
        (test) clock instead of sleeping."""
        t = 0.0
        begun = time.monotonic()
        while t < duration_s and not (stop is not None and stop.is_set()):
            self.step(t)
            if on_tick is not None:
                on_tick(t)
            t += tick_s
            if realtime:
                delay = begun + t - time.monotonic()
                if delay > 0:
                    if stop is not None:
                        stop.wait(delay)
                    else:
                        time.sleep(delay)
            elif advance is not None:
                advance(tick_s)
        return self.stats


def _sine(local: datetime) -> float:
    """A gentle night-time dip and morning rise in heart rate (−1…1 over the day)."""
    import math

    hours = local.hour + local.minute / 60
    return math.sin((hours - 10) / 24 * 2 * math.pi)


# --- registering the simulated households (service layer, same database as the server) --------

SIM_PREFIX = "模拟家庭 Sim household"
SIM_DEVICE_TYPES = ("mmwave_radar", "sleep_mat", "door_sensor")


def prepare_households(
    *,
    context: AppContext,
    households: int,
    demo_token_file: Path,
    sim_token_file: Path,
) -> list[SimHousehold]:
    """The demo household plus `households - 1` simulated ones, created once and reused.

    Device tokens are kept in `demo_token_file` (the demo's) and `sim_token_file`; a device
    whose token is unknown gets a fresh one (the old token stops working).
    """
    from sqlalchemy import select

    from anxin.core.security import hash_device_token
    from anxin.demo.seed import demo_household, seed_demo
    from anxin.demo.tokens import read_tokens, write_tokens
    from anxin.homecare import service as homecare
    from anxin.homecare.models import Elder, Household
    from anxin.homecare.schemas import ElderCreate, EmergencyContact, HouseholdCreate
    from anxin.iot import service as iot
    from anxin.iot.models import Device
    from anxin.iot.schemas import DeviceCreate
    from anxin.people import service as people
    from anxin.people.models import User

    out: list[SimHousehold] = []
    with context.unit(actor="system:simulator") as uow:
        session, now = uow.session, uow.now()
        info = seed_demo(uow=uow, token_file=demo_token_file)
        admin_user = session.scalar(
            select(User).where(
                User.organisation_id == info.organisation_id, User.username == "admin"
            )
        )
        butler = session.scalar(
            select(User).where(
                User.organisation_id == info.organisation_id, User.username == "butler"
            )
        )
        assert admin_user is not None and butler is not None
        admin = people.principal_of(admin_user)
        demo_tokens = read_tokens(demo_token_file)
        sim_tokens = read_tokens(sim_token_file)

        def devices_of(household_id: str, tokens: dict[str, str]) -> dict[str, SimDevice]:
            found: dict[str, SimDevice] = {}
            rows = session.scalars(
                select(Device)
                .where(Device.owner_kind == "household", Device.owner_id == household_id)
                .order_by(Device.created_at)
            )
            for device in rows:
                if device.device_type not in SIM_DEVICE_TYPES or device.device_type in found:
                    continue
                token = tokens.get(device.id)
                if token is None or hash_device_token(token) != device.token_hash:
                    device, token = iot.rotate_token(uow=uow, principal=admin, device_id=device.id)
                    tokens[device.id] = token
                found[device.device_type] = SimDevice(device.id, device.device_type, token)
            for device_type in SIM_DEVICE_TYPES:
                if device_type not in found:
                    device, token = iot.register_device(
                        session=session,
                        organisation_id=admin.organisation_id,
                        data=DeviceCreate(
                            device_type=device_type,
                            name=f"模拟 Simulated {device_type}",
                            owner_kind="household",
                            owner_id=household_id,
                        ),
                        now=now,
                    )
                    tokens[device.id] = token
                    found[device_type] = SimDevice(device.id, device_type, token)
            return found

        home = demo_household(session)
        assert home is not None
        out.append(SimHousehold(0, home.name, home.id, devices_of(home.id, demo_tokens)))
        for index in range(1, households):
            name = f"{SIM_PREFIX} {index}"
            household = session.scalar(
                select(Household).where(
                    Household.organisation_id == admin.organisation_id, Household.name == name
                )
            )
            if household is None:
                household = homecare.create_household(
                    session=session,
                    principal=admin,
                    data=HouseholdCreate(name=name, address=f"南通市 Nantong, simulated #{index}"),
                    now=now,
                )
            if session.scalar(select(Elder.id).where(Elder.household_id == household.id)) is None:
                homecare.create_elder(
                    session=session,
                    principal=admin,
                    data=ElderCreate(
                        household_id=household.id,
                        full_name=f"模拟老人 Sim elder {index}",
                        birth_date=date(now.year - 70 - index % 20, 1 + index % 12, 1 + index % 28),
                        sex="F" if index % 2 else "M",
                        phone=f"+86 139 1000 {index:04d}",
                        butler_user_id=butler.id,
                        emergency_contacts=[
                            EmergencyContact(
                                name=f"紧急联系人 Contact {index}",
                                phone=f"+86 138 2000 {index:04d}",
                                relation="child",
                            )
                        ],
                    ),
                    now=now,
                )
            out.append(
                SimHousehold(index, name, household.id, devices_of(household.id, sim_tokens))
            )
        write_tokens(demo_token_file, session, demo_tokens)
        write_tokens(sim_token_file, session, sim_tokens)
    return out


def db_mode_setter(context: AppContext) -> ModeSetter:
    """Switch a household's mode (home/away) as its family would, through the service layer."""

    def set_mode(household_id: str, mode: str) -> None:
        from anxin.homecare.models import Household, HouseholdMode

        with context.unit(actor="system:simulator") as uow:
            household = uow.session.get(Household, household_id)
            if household is not None:
                household.mode = HouseholdMode(mode)

    return set_mode


# --- the live display ------------------------------------------------------------------------


def render(sim: Simulator, t: float, duration_s: float) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    stats = sim.stats
    table = Table(title=f"anxin simulator · {t:5.0f}/{duration_s:.0f} s · speed ×{sim.speed:g}")
    for column in ("household", "readings", "now", "incident"):
        table.add_column(column)
    for household in sim.households:
        active = ", ".join(i.kind for i in sim.incidents_at(household, t)) or "—"
        table.add_row(
            household.name,
            str(stats.per_household.get(household.index, 0)),
            f"{sim.sim_time(t):%H:%M}",
            active,
        )
    summary = Text(
        f"sent {stats.sent} · accepted {stats.accepted} · duplicates {stats.duplicates} · "
        f"rejected {stats.rejected} · failed {stats.failed}"
    )
    recent = Text("\n".join(stats.incidents[-5:]) or "no incidents yet", style="dim")
    return Group(table, summary, recent)


def wait_for_server(client: httpx.Client, *, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def summary_lines(stats: Stats) -> Iterable[str]:
    yield (
        f"sent {stats.sent}, accepted {stats.accepted}, duplicates {stats.duplicates}, "
        f"rejected {stats.rejected}, failed {stats.failed}"
    )
    yield from (f"incident {line}" for line in stats.incidents)
    yield from (f"rejection: {line}" for line in stats.rejections[:5])


# --- entry points for the CLI and the demo ---------------------------------------------------

DEMO_TOKENS = Path("var/demo-device-tokens.json")
SIM_TOKENS = Path("var/sim-device-tokens.json")


def run_simulation(
    context: AppContext,
    *,
    households: int,
    speed: float,
    url: str,
    duration_s: float,
    seed: int = 42,
    first_fall_s: float = 20.0,
    progress: bool = True,
    stop: threading.Event | None = None,
    demo_token_file: Path = DEMO_TOKENS,
    sim_token_file: Path = SIM_TOKENS,
) -> Stats:
    """Register (or reuse) the households, wait for the server, stream until `duration_s`."""
    prepared = prepare_households(
        context=context,
        households=households,
        demo_token_file=demo_token_file,
        sim_token_file=sim_token_file,
    )
    with httpx.Client(base_url=url, timeout=10.0) as client:
        if not wait_for_server(client):
            raise RuntimeError(f"no anxin server answers at {url}/healthz")
        sim = Simulator(
            prepared,
            client,
            speed=speed,
            seed=seed,
            script=default_script(households, duration_s, seed=seed, first_fall_s=first_fall_s),
            clock=context.clock,
            mode_setter=db_mode_setter(context),
        )
        if not progress:
            return sim.run(duration_s, stop=stop)
        from rich.live import Live

        with Live(render(sim, 0, duration_s), refresh_per_second=4) as live:
            stats = sim.run(
                duration_s,
                stop=stop,
                on_tick=lambda t: live.update(render(sim, t, duration_s)),
            )
        live.console.print()
        return stats


def start_in_background(context: AppContext, *, url: str, seed: int = 42) -> threading.Thread:
    """`anxin demo`: stream the demo household in a daemon thread once the server is up; the
    scripted fall comes 20 s in, so its alarm is on the butler's queue within the first minute."""

    def work() -> None:
        try:
            stats = run_simulation(
                context,
                households=1,
                speed=1.0,
                url=url,
                duration_s=24 * 3600.0,
                seed=seed,
                progress=False,
            )
            log.info("simulator finished: %s", next(iter(summary_lines(stats))))
        except Exception:
            log.exception("demo simulator stopped")

    thread = threading.Thread(target=work, name="anxin-simulator", daemon=True)
    thread.start()
    return thread
