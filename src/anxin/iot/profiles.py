"""The catalogue of device types (profiles) and the metrics each may report.

Validation of incoming readings is driven by this table, so adding a device type is adding
an entry here; `anxin migrate` syncs it into the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MetricKind = Literal["number", "bool", "string"]


@dataclass(frozen=True)
class Metric:
    kind: MetricKind
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind}
        if self.unit:
            out["unit"] = self.unit
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class Profile:
    code: str
    name_en: str
    name_zh: str
    owner_kinds: tuple[str, ...]
    # A device silent for longer than this is offline (a silent fall radar is itself a risk).
    offline_after_s: int
    metrics: dict[str, Metric] = field(default_factory=dict)
    # How far back a reading may be stamped; None: ANXIN_TELEMETRY_MAX_AGE_S (7 days).
    max_age_s: int | None = None


def _n(unit: str | None, lo: float, hi: float) -> Metric:
    return Metric("number", unit, lo, hi)


_BOOL = Metric("bool")
# Field devices buffer readings through days without a link and upload them when it is back.
FIELD_BUFFER_S = 30 * 86400
COMMON: dict[str, Metric] = {
    "battery_pct": _n("%", 0, 100),
    "rssi_dbm": _n("dBm", -150, 0),
    "heartbeat": _BOOL,
}

PROFILES: tuple[Profile, ...] = (
    Profile(
        "mmwave_radar",
        "mmWave fall radar",
        "毫米波跌倒雷达",
        ("household",),
        300,
        {
            "presence": _BOOL,
            "motion": _BOOL,
            "fall": _BOOL,
            "posture": Metric("string", choices=("standing", "sitting", "lying", "unknown")),
            "zone": Metric("string", choices=("bathroom", "bedroom", "living_room", "kitchen")),
            "heart_rate": _n("bpm", 20, 250),
            "respiration_rate": _n("/min", 0, 80),
        },
    ),
    Profile(
        "sleep_mat",
        "Sleep mat",
        "睡眠监测垫",
        ("household",),
        600,
        {
            "in_bed": _BOOL,
            "heart_rate": _n("bpm", 0, 250),
            "respiration_rate": _n("/min", 0, 80),
            "movement": _n("index", 0, 100),
        },
    ),
    Profile(
        "door_sensor",
        "Door sensor",
        "门磁",
        ("household", "warehouse"),
        3600,
        {"open": _BOOL, "tamper": _BOOL},
    ),
    Profile(
        "smart_speaker",
        "Smart speaker",
        "智能音箱",
        ("household",),
        900,
        {"sos": _BOOL, "utterance": Metric("string"), "volume": _n("%", 0, 100)},
    ),
    Profile(
        "crane_hook_scale",
        "Crane hook scale",
        "行车吊钩秤",
        ("warehouse",),
        300,
        {"weight_kg": _n("kg", -5_000, 200_000), "stable": _BOOL},
    ),
    Profile(
        "crane_positioner",
        "Crane positioner",
        "行车定位器",
        ("warehouse",),
        300,
        {"x_m": _n("m", -1_000, 10_000), "y_m": _n("m", -1_000, 10_000), "z_m": _n("m", -100, 200)},
    ),
    Profile(
        "weather_station",
        "Weather station",
        "气象站",
        ("farm",),
        1800,
        {
            "rainfall_mm": _n("mm", 0, 500),
            "temperature_c": _n("°C", -60, 70),
            "humidity_pct": _n("%", 0, 100),
            "wind_speed_ms": _n("m/s", 0, 100),
            "pressure_hpa": _n("hPa", 800, 1100),
        },
        max_age_s=FIELD_BUFFER_S,
    ),
    Profile(
        "soil_probe",
        "Soil probe",
        "土壤墒情探头",
        ("farm",),
        3600,
        {
            "moisture_pct": _n("%", 0, 100),
            "temperature_c": _n("°C", -40, 70),
            "ec_ds_m": _n("dS/m", 0, 50),
            "ph": _n("pH", 0, 14),
        },
        max_age_s=FIELD_BUFFER_S,
    ),
    Profile(  # a leased machine's own tracker (leasing, issue 16)
        "machine_tracker",
        "Machine tracker",
        "设备运行监测终端",
        ("lease_asset",),
        3600,
        {
            "running_hours": _n("h", 0, 1_000_000),
            "power_kw": _n("kW", 0, 100_000),
            "running": _BOOL,
            "lat": _n("°", -90, 90),
            "lon": _n("°", -180, 180),
        },
    ),
)

PROFILES_BY_CODE: dict[str, Profile] = {p.code: p for p in PROFILES}


def metrics_of(profile: Profile) -> dict[str, Metric]:
    return {**COMMON, **profile.metrics}
