"""The default rule set per device profile: data, validated like any stored rule.

An organisation overrides a default by storing a rule of the same name (or disables it with
``enabled: false``); a device-level rule overrides both for one device.
"""

from __future__ import annotations

from typing import Any

from anxin.iot.profiles import PROFILES_BY_CODE

NIGHT = {"start": "22:00", "end": "06:00", "tz": "Asia/Shanghai"}


def _offline(device_type: str, severity: str, description: str) -> dict[str, Any]:
    return {
        "kind": "absence",
        "alarm_type": "device_offline",
        "severity": severity,
        "absence_s": PROFILES_BY_CODE[device_type].offline_after_s,
        "description": description,
    }


DEFAULT_RULES: dict[str, dict[str, dict[str, Any]]] = {
    "mmwave_radar": {
        "radar.fall": {
            "kind": "event",
            "alarm_type": "fall",
            "severity": "MAJOR",
            "conditions": [{"key": "fall", "op": "eq", "value": True}],
            "corroborate": {
                "mode": "persist",
                "conditions": [{"key": "motion", "op": "eq", "value": False}],
                "within_s": 60,
                "severity": "CRITICAL",
            },
            "description": "Fall detected; no movement in the next 60 s makes it CRITICAL.",
        },
        "radar.bathroom_stay": {
            "kind": "duration",
            "alarm_type": "long_bathroom_stay",
            "severity": "MAJOR",
            "conditions": [
                {"key": "zone", "op": "eq", "value": "bathroom"},
                {"key": "presence", "op": "eq", "value": True},
                {"key": "motion", "op": "eq", "value": False},
            ],
            "duration_s": 30 * 60,
            "description": "Someone in the bathroom without moving for 30 minutes.",
        },
        "radar.offline": _offline(
            "mmwave_radar", "MAJOR", "A silent fall radar protects nobody: no data for 5 minutes."
        ),
    },
    "sleep_mat": {
        "mat.night_out_of_bed": {
            "kind": "duration",
            "alarm_type": "night_out_of_bed",
            "severity": "MINOR",
            "conditions": [{"key": "in_bed", "op": "eq", "value": False}],
            "start_on": "transition",
            "window": NIGHT,
            "duration_s": 20 * 60,
            "description": "Got out of bed at night (22:00–06:00) and not back for 20 minutes.",
        },
        "mat.offline": _offline("sleep_mat", "MINOR", "Sleep mat silent for 10 minutes."),
    },
    "door_sensor": {
        "door.intrusion": {
            "kind": "event",
            "alarm_type": "intrusion",
            "severity": "CRITICAL",
            "conditions": [
                {"key": "open", "op": "eq", "value": True},
                {"key": "ctx.household_mode", "op": "eq", "value": "away"},
            ],
            "description": "Front door opened while the household is in away mode.",
        },
        "door.tamper": {
            "kind": "event",
            "alarm_type": "tamper",
            "severity": "MINOR",
            "conditions": [{"key": "tamper", "op": "eq", "value": True}],
            "clear": True,
            "description": "The door sensor reports tampering.",
        },
        "door.offline": _offline("door_sensor", "WARNING", "Door sensor silent for an hour."),
    },
    "smart_speaker": {
        "speaker.sos": {
            "kind": "event",
            "alarm_type": "sos",
            "severity": "CRITICAL",
            "conditions": [{"key": "sos", "op": "eq", "value": True}],
            "description": "The elder asked the speaker for help.",
        },
        "speaker.offline": _offline(
            "smart_speaker", "WARNING", "Smart speaker silent for 15 minutes."
        ),
    },
    "machine_tracker": {  # leasing (issue 16): a silent tracker may be a machine taken away
        "machine.offline": _offline(
            "machine_tracker", "MAJOR", "A leased machine's tracker silent for an hour."
        ),
    },
}
