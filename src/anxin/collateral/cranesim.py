"""Synthetic crane streams with known truth, for tests, benchmarks and the demo.

Pure: a seeded `numpy.random.Generator`, no I/O, no clock (the caller passes `start`).

Each lift cycle is physics-flavoured rather than a clean step: the empty hook travels to the
load, rests slack on it while slings go on, takes the load up over a stretching rope, bounces on
hoisting, swings while the crane travels (rope tension on a pendulum is m·g·(3·cos θ − 2·cos θ0),
so a swing makes the scale breathe at twice the pendulum frequency and look still at its
turning points), settles, is lowered and set down, and the hook goes slack again while the
slings come off. The indicator adds white noise, rounds to its division, drifts at zero, and
flags "stable" from its own short window, occasionally wrongly. The network then loses
readings (singly and in bursts), duplicates some and delivers them out of order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from anxin.collateral.geometry import Layout, Zone, ZoneKind
from anxin.collateral.lifts import Direction, LiftConfig, PositionSeries, WeightSeries, classify

FloatArray = npt.NDArray[np.float64]
G = 9.81


@dataclass(frozen=True, slots=True)
class CraneSpec:
    crane_id: str
    hook_tare_kg: float = 1850.0  # hook block and coil tongs
    scale_hz: float = 8.0
    positioner_hz: float = 1.0
    rope_m: float = 9.0  # pendulum length with the load at carrying height
    speed_mps: float = 1.2
    home: tuple[float, float] = (100.0, 18.0)

    def lift_config(self, **overrides: object) -> LiftConfig:
        """Detector settings matching this crane (its tare); overrides pass through."""
        return replace(LiftConfig(hook_tare_kg=self.hook_tare_kg), **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class NoiseModel:
    weight_sigma_kg: float = 6.0  # indicator noise, plus a part proportional to the load
    weight_sigma_frac: float = 0.0002
    division_kg: float = 10.0
    stable_n: int = 5  # the indicator's own stability window (readings)
    stable_band_kg: float = 50.0
    stable_flip_p: float = 0.005  # stability flag simply wrong
    zero_drift_kg: float = 30.0  # bound of the zero's random walk
    swing_theta_max: float = 0.12  # rad
    unsettled_p: float = 0.01  # operator never lets the load hang still
    weight_drop_p: float = 0.01
    weight_bursts_per_h: float = 0.5
    weight_burst_s: tuple[float, float] = (2.0, 20.0)
    pos_sigma_m: float = 0.10
    pos_outlier_p: float = 0.003
    pos_drop_p: float = 0.02
    pos_bursts_per_h: float = 1.0
    pos_burst_s: tuple[float, float] = (5.0, 40.0)
    dup_p: float = 0.01
    latency_mean_s: float = 0.3
    late_p: float = 0.01  # held back in a gateway buffer
    late_s: tuple[float, float] = (2.0, 20.0)

    @classmethod
    def clean(cls) -> NoiseModel:
        """No network faults and an ideal indicator flag: the detector's best case."""
        return cls(
            stable_flip_p=0.0,
            unsettled_p=0.0,
            weight_drop_p=0.0,
            weight_bursts_per_h=0.0,
            pos_outlier_p=0.0,
            pos_drop_p=0.0,
            pos_bursts_per_h=0.0,
            dup_p=0.0,
            late_p=0.0,
            latency_mean_s=0.0,
        )


@dataclass(frozen=True, slots=True)
class Task:
    kind: str  # ship_discharge | truck_loading | internal | night_removal | ...
    source: str  # zone ids
    dest: str
    net_kg: float
    earliest: float  # POSIX seconds
    authorised: bool = True


@dataclass(frozen=True, slots=True)
class TrueLift:
    crane_id: str
    kind: str
    t_pick: float  # the load leaves the ground
    t_set: float  # the load is down
    net_kg: float
    pick_xy: tuple[float, float]
    set_xy: tuple[float, float]
    pick_zone: str
    set_zone: str
    direction: Direction
    authorised: bool
    settled: bool  # hung still at some moment (False: no honest stable weight exists)

    @property
    def duration_s(self) -> float:
        return self.t_set - self.t_pick


@dataclass(frozen=True)
class CraneStreams:
    spec: CraneSpec
    weights: WeightSeries  # in arrival order
    positions: PositionSeries  # in arrival order
    weight_arrival: FloatArray
    position_arrival: FloatArray


@dataclass(frozen=True)
class Simulation:
    layout: Layout
    cranes: dict[str, CraneStreams]
    truth: list[TrueLift]
    start: float
    end: float
    noise: NoiseModel = field(default_factory=NoiseModel)

    def lift_config(self, crane_id: str, **overrides: object) -> LiftConfig:
        return self.cranes[crane_id].spec.lift_config(**overrides)

    @property
    def n_readings(self) -> int:
        return sum(len(c.weights) + len(c.positions) for c in self.cranes.values())


# --------------------------------------------------------------------------- layout


def default_layout() -> Layout:
    """A 200 m × 36 m steel shed: a quay gate at x=0, two truck gates at x=200, 16 bays."""
    zones = [
        Zone.rect("QUAY", ZoneKind.GATE, 0, 0, 14, 36),
        Zone.rect("TRUCK-A", ZoneKind.GATE, 186, 0, 200, 17),
        Zone.rect("TRUCK-B", ZoneKind.GATE, 186, 19, 200, 36),
    ]
    for row, (y0, y1) in (("A", (1.0, 17.0)), ("B", (19.0, 35.0))):
        for i in range(8):
            x0 = 16.0 + 21.0 * i
            zones.append(Zone.rect(f"{row}{i + 1:02d}", ZoneKind.BAY, x0, y0, x0 + 19.0, y1))
    return Layout.of(zones)


DEFAULT_CRANES = (
    CraneSpec("C1", hook_tare_kg=1850.0, scale_hz=8.0, positioner_hz=2.0, home=(40.0, 18.0)),
    CraneSpec("C2", hook_tare_kg=1240.0, scale_hz=5.0, positioner_hz=1.0, home=(160.0, 18.0)),
)


# --------------------------------------------------------------------------- plans


def _load_kg(rng: np.random.Generator) -> float:
    # Steel coils of 8-30 t and rebar bundles of 2-5 t, weighed to the kilogram at the mill.
    if rng.random() < 0.7:
        return float(round(rng.uniform(8000.0, 30000.0)))
    return float(round(rng.uniform(2000.0, 5000.0)))


def plan_day(
    rng: np.random.Generator,
    start: float,
    layout: Layout,
    ship_tonnes: float = 1000.0,
    trucks: int = 14,
    internal: int = 24,
    night_removals: int = 3,
) -> dict[str, list[Task]]:
    """A working day from midnight `start`: a ship discharged over the day shift, trucks
    loaded, stock reshuffled, and at 02:30 an unauthorised removal onto a truck."""
    bays = [z.zone_id for z in layout.bays()]
    truck_gates = [z.zone_id for z in layout.gates() if z.zone_id.startswith("TRUCK")]
    quay = "QUAY"
    h = 3600.0
    c1: list[Task] = []
    c2: list[Task] = []
    total = 0.0
    t = start + 6 * h
    while total < ship_tonnes * 1000.0:
        kg = _load_kg(rng)
        total += kg
        c1.append(Task("ship_discharge", quay, str(rng.choice(bays[:8])), kg, t))
        t += float(rng.uniform(60.0, 360.0))
    for i in range(trucks):
        t = start + 8 * h + i * (12 * h / max(trucks, 1))
        gate = truck_gates[i % len(truck_gates)]
        loaded = 0.0
        while loaded < 25000.0:
            kg = _load_kg(rng)
            loaded += kg
            c2.append(Task("truck_loading", str(rng.choice(bays)), gate, kg, t))
    for i in range(internal):
        a, b = rng.choice(len(bays), size=2, replace=False)
        t = start + 7 * h + float(rng.uniform(0, 14 * h))
        (c1 if i % 2 else c2).append(Task("internal", bays[a], bays[b], _load_kg(rng), t))
    for i in range(night_removals):
        c2.append(
            Task(
                "night_removal",
                str(rng.choice(bays[8:])),
                truck_gates[-1],
                _load_kg(rng),
                start + 2.5 * h + 240.0 * i,
                authorised=False,
            )
        )
    return {"C1": sorted(c1, key=lambda k: k.earliest), "C2": sorted(c2, key=lambda k: k.earliest)}


def plan_lifts(
    rng: np.random.Generator,
    start: float,
    layout: Layout,
    n_lifts: int,
    crane_ids: tuple[str, ...] = ("C1", "C2"),
    mean_idle_s: float = 20.0,
) -> dict[str, list[Task]]:
    """`n_lifts` back-to-back lifts (40% inbound, 40% outbound, 20% internal): the benchmark."""
    bays = [z.zone_id for z in layout.bays()]
    gates = [z.zone_id for z in layout.gates()]
    plans: dict[str, list[Task]] = {c: [] for c in crane_ids}
    for i in range(n_lifts):
        u = rng.random()
        if u < 0.4:
            kind, src, dst = "inbound", str(rng.choice(gates)), str(rng.choice(bays))
        elif u < 0.8:
            kind, src, dst = "outbound", str(rng.choice(bays)), str(rng.choice(gates))
        else:
            a, b = rng.choice(len(bays), size=2, replace=False)
            kind, src, dst = "internal", bays[a], bays[b]
        plans[crane_ids[i % len(crane_ids)]].append(
            Task(kind, src, dst, _load_kg(rng), start + float(rng.exponential(mean_idle_s)))
        )
    return plans


# --------------------------------------------------------------------------- simulation


def simulate_day(
    seed: int,
    start: float,
    noise: NoiseModel | None = None,
    cranes: tuple[CraneSpec, ...] = DEFAULT_CRANES,
    layout: Layout | None = None,
    **plan_kw: float,
) -> Simulation:
    """One realistic day (two cranes, ~1,000 t ship, trucks, moves, a night removal)."""
    lay = layout or default_layout()
    rng = np.random.default_rng(seed)
    plans = plan_day(rng, start, lay, **plan_kw)  # type: ignore[arg-type]
    return simulate(rng, start, plans, noise, cranes, lay, end=start + 86400.0)


def simulate_lifts(
    seed: int,
    n_lifts: int,
    start: float = 1_780_000_000.0,
    noise: NoiseModel | None = None,
    cranes: tuple[CraneSpec, ...] = DEFAULT_CRANES,
    layout: Layout | None = None,
) -> Simulation:
    """`n_lifts` lifts worked back to back by the cranes, split evenly."""
    lay = layout or default_layout()
    rng = np.random.default_rng(seed)
    plans = plan_lifts(rng, start, lay, n_lifts, tuple(c.crane_id for c in cranes))
    return simulate(rng, start, plans, noise, cranes, lay)


def simulate(
    rng: np.random.Generator,
    start: float,
    plans: dict[str, list[Task]],
    noise: NoiseModel | None = None,
    cranes: tuple[CraneSpec, ...] = DEFAULT_CRANES,
    layout: Layout | None = None,
    end: float | None = None,
) -> Simulation:
    lay = layout or default_layout()
    nm = noise or NoiseModel()
    truth: list[TrueLift] = []
    streams: dict[str, CraneStreams] = {}
    crane_end = start
    cycles_by_crane: dict[str, list[_Cycle]] = {}
    for spec in cranes:
        cycles = _schedule(rng, spec, plans.get(spec.crane_id, []), lay, start, nm)
        cycles_by_crane[spec.crane_id] = cycles
        if cycles:
            crane_end = max(crane_end, cycles[-1].t[10] + 30.0)
    stop = end if end is not None else crane_end
    for spec in cranes:
        cycles = cycles_by_crane[spec.crane_id]
        streams[spec.crane_id] = _render(rng, spec, cycles, start, stop, nm)
        truth += [c.truth for c in cycles if c.t[9] <= stop]
    truth.sort(key=lambda tl: (tl.t_pick, tl.crane_id))
    return Simulation(lay, streams, truth, start, stop, nm)


@dataclass
class _Cycle:
    t: list[float]  # phase boundaries T0..T10 (see _schedule)
    p0: tuple[float, float]  # where the crane came from
    pick: tuple[float, float]
    drop: tuple[float, float]
    kg: float
    slack: float  # hook reading while resting slack, as a fraction of the tare
    theta0: float  # swing amplitude while carrying (rad)
    tau_swing: float  # swing decay once the crane stops (s)
    bounce: tuple[float, float, float]  # amplitude, frequency (Hz), decay (s)
    truth: TrueLift


def _travel_s(a: tuple[float, float], b: tuple[float, float], v: float) -> float:
    # Gantry and trolley move at once; with acceleration ramps, about +2 s per move.
    d = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
    return d / v + (2.0 if d > 0.5 else 0.0)


def _spot(rng: np.random.Generator, zone: Zone, margin: float = 1.5) -> tuple[float, float]:
    x0, y0, x1, y1 = zone.bounds
    for _ in range(100):
        x = float(rng.uniform(x0 + margin, x1 - margin))
        y = float(rng.uniform(y0 + margin, y1 - margin))
        if zone.distance(x, y) == 0.0 and all(
            zone.distance(x + dx, y + dy) == 0.0
            for dx, dy in ((margin, 0), (-margin, 0), (0, margin), (0, -margin))
        ):
            return x, y
    raise ValueError(f"zone {zone.zone_id} too small to place a load")


def _schedule(
    rng: np.random.Generator,
    spec: CraneSpec,
    tasks: list[Task],
    layout: Layout,
    start: float,
    nm: NoiseModel,
) -> list[_Cycle]:
    pos = spec.home
    free = start
    out: list[_Cycle] = []
    for task in tasks:
        src, dst = layout.zone(task.source), layout.zone(task.dest)
        pick, drop = _spot(rng, src), _spot(rng, dst)
        unsettled = rng.random() < nm.unsettled_p
        t0 = free
        t1 = max(free, task.earliest)  # idle until the task may start
        t2 = t1 + _travel_s(pos, pick, spec.speed_mps)  # travel empty
        t3 = t2 + float(rng.uniform(15.0, 45.0))  # lower, sling on: T3 = pick
        t4 = t3 + float(rng.uniform(1.0, 3.0))  # rope takes the load up
        t5 = t4 + (float(rng.uniform(0.2, 0.6)) if unsettled else float(rng.uniform(2.0, 8.0)))
        t6 = t5 + _travel_s(pick, drop, spec.speed_mps)  # carry
        t7 = t6 + (0.0 if unsettled else float(rng.uniform(0.0, 8.0)))  # settle
        t8 = t7 + float(rng.uniform(3.0, 8.0))  # lower
        t9 = t8 + float(rng.uniform(1.0, 3.0))  # set down: T9
        t10 = t9 + float(rng.uniform(10.0, 30.0))  # slings off
        theta0 = float(
            rng.uniform(0.06, nm.swing_theta_max)
            if unsettled
            else rng.uniform(0.01, nm.swing_theta_max)
        )
        tau = math.inf if unsettled else float(rng.uniform(2.0, 6.0))
        bounce = (
            float(rng.uniform(0.02, 0.08)),
            float(rng.uniform(1.0, 2.0)),
            float(rng.uniform(0.5, 1.5)),
        )
        truth = TrueLift(
            spec.crane_id,
            task.kind,
            t3,
            t9,
            task.net_kg,
            pick,
            drop,
            src.zone_id,
            dst.zone_id,
            classify(src, dst),
            task.authorised,
            not unsettled,
        )
        out.append(
            _Cycle(
                [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10],
                pos,
                pick,
                drop,
                task.net_kg,
                float(rng.uniform(0.2, 0.8)),
                theta0,
                tau,
                bounce,
                truth,
            )
        )
        pos, free = drop, t10
    return out


def _ease(u: FloatArray) -> FloatArray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


def _load_on_hook(c: _Cycle, t: FloatArray, tare: float, rope_m: float) -> FloatArray:
    """Scale reading minus the tare: the load's rope tension, or negative while slack."""
    ph = c.t
    out = np.zeros_like(t)
    slack = -(1.0 - c.slack) * tare
    att = (t >= ph[2] + 3.0) & (t < ph[3] - 2.0)
    det = (t >= ph[9] + 2.0) & (t < ph[10] - 3.0)
    out[att | det] = slack
    hung = (t >= ph[3]) & (t < ph[9])
    th = t[hung]
    amp, freq, decay = c.bounce
    dyn = 1.0 + np.where(
        th >= ph[4],
        amp * np.exp(-(th - ph[4]) / decay) * np.sin(2 * np.pi * freq * (th - ph[4])),
        0.0,
    )
    omega = math.sqrt(G / rope_m)
    theta_amp = np.where(
        th < ph[5],
        0.0,
        np.where(
            th < ph[6], c.theta0, c.theta0 * np.exp(-np.maximum(th - ph[6], 0.0) / c.tau_swing)
        ),
    )
    theta = theta_amp * np.sin(omega * (th - ph[5]))
    dyn *= 3.0 * np.cos(theta) - 2.0 * np.cos(theta_amp)
    up = np.clip((th - ph[3]) / (ph[4] - ph[3]), 0.0, 1.0)
    down = np.clip((ph[9] - th) / (ph[9] - ph[8]), 0.0, 1.0)
    ramp = up * down
    out[hung] = c.kg * dyn * ramp
    return out


def _crane_xy(c: _Cycle, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    ph = c.t
    u_empty = _ease((t - ph[1]) / max(ph[2] - ph[1], 1e-9))
    u_load = _ease((t - ph[5]) / max(ph[6] - ph[5], 1e-9))
    x = np.where(
        t < ph[5],
        c.p0[0] + (c.pick[0] - c.p0[0]) * u_empty,
        c.pick[0] + (c.drop[0] - c.pick[0]) * u_load,
    )
    y = np.where(
        t < ph[5],
        c.p0[1] + (c.pick[1] - c.p0[1]) * u_empty,
        c.pick[1] + (c.drop[1] - c.pick[1]) * u_load,
    )
    return x, y


def _render(
    rng: np.random.Generator,
    spec: CraneSpec,
    cycles: list[_Cycle],
    start: float,
    stop: float,
    nm: NoiseModel,
) -> CraneStreams:
    # -- hook scale
    n = max(int((stop - start) * spec.scale_hz), 1)
    wt = start + np.arange(n) / spec.scale_hz + rng.uniform(0.0, 0.004, n)
    load = np.zeros(n)
    bounds = np.array([c.t[0] for c in cycles] + [math.inf])
    idx = np.searchsorted(wt, bounds)
    for i, c in enumerate(cycles):
        sl = slice(int(idx[i]), int(idx[i + 1]))
        load[sl] = _load_on_hook(c, wt[sl], spec.hook_tare_kg, spec.rope_m)
    steps = rng.normal(0.0, 1.0, max(int((stop - start) / 60.0) + 2, 2))
    drift = np.clip(np.cumsum(steps) * 2.0, -nm.zero_drift_kg, nm.zero_drift_kg)
    drift_t = start + 60.0 * np.arange(drift.shape[0])
    gross = spec.hook_tare_kg + load + np.interp(wt, drift_t, drift)
    gross += rng.normal(0.0, 1.0, n) * (nm.weight_sigma_kg + nm.weight_sigma_frac * np.abs(load))
    kg = np.round(gross / nm.division_kg) * nm.division_kg
    k = max(nm.stable_n, 1)
    stable = np.zeros(n, dtype=bool)
    if n >= k:
        win = np.lib.stride_tricks.sliding_window_view(kg, k)
        stable[k - 1 :] = (win.max(axis=1) - win.min(axis=1)) <= nm.stable_band_kg
    stable ^= rng.random(n) < nm.stable_flip_p
    keep = _survivors(rng, wt, nm.weight_drop_p, nm.weight_bursts_per_h, nm.weight_burst_s)
    w_t, w_kg, w_st = wt[keep], kg[keep], stable[keep]
    w_order, w_arr = _deliver(rng, w_t, nm)
    weights = WeightSeries(w_t[w_order], w_kg[w_order], w_st[w_order])

    # -- positioner
    m = max(int((stop - start) * spec.positioner_hz), 1)
    pt = start + np.arange(m) / spec.positioner_hz + rng.uniform(0.0, 0.01, m)
    px = np.full(m, spec.home[0])
    py = np.full(m, spec.home[1])
    pidx = np.searchsorted(pt, bounds)
    for i, c in enumerate(cycles):
        sl = slice(int(pidx[i]), int(pidx[i + 1]))
        px[sl], py[sl] = _crane_xy(c, pt[sl])
    if cycles:  # parked where the last set-down left it
        tail = slice(int(pidx[-1]), m)
        px[tail], py[tail] = _crane_xy(cycles[-1], pt[tail])
    px += rng.normal(0.0, nm.pos_sigma_m, m)
    py += rng.normal(0.0, nm.pos_sigma_m, m)
    out = rng.random(m) < nm.pos_outlier_p
    px[out] += rng.choice([-1.0, 1.0], int(out.sum())) * rng.uniform(3.0, 20.0, int(out.sum()))
    keep = _survivors(rng, pt, nm.pos_drop_p, nm.pos_bursts_per_h, nm.pos_burst_s)
    p_t, p_x, p_y = pt[keep], px[keep], py[keep]
    p_order, p_arr = _deliver(rng, p_t, nm)
    positions = PositionSeries(p_t[p_order], p_x[p_order], p_y[p_order])
    return CraneStreams(spec, weights, positions, w_arr, p_arr)


def _survivors(
    rng: np.random.Generator,
    t: FloatArray,
    drop_p: float,
    bursts_per_h: float,
    burst_s: tuple[float, float],
) -> npt.NDArray[np.bool_]:
    keep: npt.NDArray[np.bool_] = rng.random((t.shape[0],)) >= drop_p
    if t.shape[0] and bursts_per_h > 0:
        span_h = (t[-1] - t[0]) / 3600.0
        nb = int(rng.poisson(bursts_per_h * span_h))
        for b0, blen in zip(rng.uniform(t[0], t[-1], nb), rng.uniform(*burst_s, nb), strict=True):
            keep &= ~((t >= b0) & (t < b0 + blen))
    return keep


def _deliver(
    rng: np.random.Generator, t: FloatArray, nm: NoiseModel
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Indices in arrival order (with duplicates) and their arrival times."""
    n = t.shape[0]
    dup = np.flatnonzero(rng.random(n) < nm.dup_p)
    src = np.concatenate([np.arange(n), dup]).astype(np.int64)
    lat: FloatArray = np.zeros(src.shape[0])
    if nm.latency_mean_s > 0:
        lat += rng.exponential(nm.latency_mean_s, src.shape[0])
    late: npt.NDArray[np.bool_] = rng.random((src.shape[0],)) < nm.late_p
    lat[late] += rng.uniform(*nm.late_s, int(late.sum()))
    lat[n:] += rng.uniform(0.5, 5.0, dup.shape[0])  # a resend comes after the original
    arrival = t[src] + lat
    order = np.argsort(arrival, kind="stable")
    return src[order], arrival[order]
