"""The pure rule engine: every rule kind, corroboration, windows, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from anxin.core.clock import FrozenClock
from anxin.iot.profiles import PROFILES_BY_CODE, metrics_of
from anxin.iot.rules.defaults import DEFAULT_RULES
from anxin.iot.rules.engine import (
    Rule,
    RuleInvalid,
    RuleState,
    Sample,
    Severity,
    evaluate,
    parse_rule,
    tick,
)

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
RADAR = metrics_of(PROFILES_BY_CODE["mmwave_radar"])
MAT = metrics_of(PROFILES_BY_CODE["sleep_mat"])
DOOR = metrics_of(PROFILES_BY_CODE["door_sensor"])


def default(device_type: str, name: str) -> Rule:
    profile = metrics_of(PROFILES_BY_CODE[device_type])
    return parse_rule(name, DEFAULT_RULES[device_type][name], profile)


class Run:
    """Feeds readings to one rule with a FrozenClock-like time line; collects firings."""

    def __init__(self, rule: Rule, start: datetime = T0) -> None:
        self.rule = rule
        self.clock = FrozenClock(start)
        self.state = RuleState()
        self.firings: list = []

    def at(self, seconds: float, context: dict | None = None, **values: object) -> list:
        self.clock.set(
            self.clock.now() if seconds == 0 else self._start() + timedelta(seconds=seconds)
        )
        # Round-trip through JSON as the database does, so stored state is what we test.
        self.state = RuleState.from_json(self.state.to_json())
        self.state, fired = evaluate(
            self.rule, self.state, Sample(self.clock.now(), values), context=context
        )
        self.firings.extend(fired)
        return fired

    def sweep(self, seconds: float) -> list:
        self.state = RuleState.from_json(self.state.to_json())
        self.state, fired = tick(self.rule, self.state, self._start() + timedelta(seconds=seconds))
        self.firings.extend(fired)
        return fired

    def _start(self) -> datetime:
        return T0


def test_every_default_rule_is_valid():
    for device_type, specs in DEFAULT_RULES.items():
        metrics = metrics_of(PROFILES_BY_CODE[device_type])
        for name, spec in specs.items():
            parse_rule(name, spec, metrics)


def test_fall_event_fires_once_per_fall_and_rearms():
    run = Run(default("mmwave_radar", "radar.fall"))
    assert run.at(0, presence=True, motion=True, fall=False) == []
    fired = run.at(5, fall=True, posture="lying")
    assert [(f.alarm_type, f.action, f.severity) for f in fired] == [
        ("fall", "raise", Severity.MAJOR)
    ]
    assert run.at(6, fall=True) == []  # still the same fall
    assert run.at(7, fall=False, motion=True) == []  # a fall is not cleared by the device
    assert [f.action for f in run.at(300, fall=True)] == ["raise"]  # a second fall


def test_fall_with_no_movement_afterwards_becomes_critical():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True, motion=True)  # moving while falling does not count
    run.at(20, motion=False, posture="lying")
    assert run.sweep(59) == []
    assert run.state.due_at(run.rule) == T0 + timedelta(seconds=60)
    fired = run.sweep(60)
    assert [(f.action, f.severity) for f in fired] == [("raise", Severity.CRITICAL)]
    assert fired[0].details["corroborated"] is True
    assert run.sweep(120) == []


def test_fall_then_movement_stays_major():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True)
    run.at(30, motion=True, posture="standing")  # got up: the second signal disagrees
    assert run.sweep(61) == []
    assert run.state.corroborate_until is None


def test_corroboration_fires_on_the_next_reading_after_the_window_too():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True)
    fired = run.at(90, presence=True, motion=False)  # no sweep ran (server was down)
    assert [f.severity for f in fired] == [Severity.CRITICAL]
    assert fired[0].at == T0 + timedelta(seconds=60)


def test_seen_corroboration_raises_at_once():
    spec = {
        "kind": "event",
        "alarm_type": "fall",
        "conditions": [{"key": "fall", "value": True}],
        "corroborate": {
            "mode": "seen",
            "conditions": [{"key": "posture", "op": "eq", "value": "lying"}],
            "within_s": 30,
        },
    }
    run = Run(parse_rule("fall.seen", spec, RADAR))
    run.at(0, fall=True)
    fired = run.at(10, posture="lying")
    assert [(f.severity, f.details["corroboration"]) for f in fired] == [
        (Severity.CRITICAL, "seen")
    ]


def test_door_open_fires_only_when_household_is_away():
    run = Run(default("door_sensor", "door.intrusion"))
    assert run.at(0, context={"household_mode": "home"}, open=True) == []
    run.at(10, context={"household_mode": "home"}, open=False)
    fired = run.at(20, context={"household_mode": "away"}, open=True)
    assert [(f.alarm_type, f.severity) for f in fired] == [("intrusion", Severity.CRITICAL)]


def test_bathroom_stay_fires_after_duration_and_clears():
    run = Run(default("mmwave_radar", "radar.bathroom_stay"))
    run.at(0, zone="bathroom", presence=True, motion=True)
    run.at(60, zone="bathroom", presence=True, motion=False)  # still from here
    run.at(600, presence=True, motion=False)
    assert run.sweep(60 + 1799) == []
    fired = run.sweep(60 + 1800)
    assert [(f.alarm_type, f.action) for f in fired] == [("long_bathroom_stay", "raise")]
    assert fired[0].details["since"] == (T0 + timedelta(seconds=60)).isoformat()
    assert run.sweep(5000) == []
    cleared = run.at(5001, motion=True)
    assert [(f.action, f.alarm_type) for f in cleared] == [("clear", "long_bathroom_stay")]


def test_bathroom_motion_resets_the_timer():
    run = Run(default("mmwave_radar", "radar.bathroom_stay"))
    run.at(0, zone="bathroom", presence=True, motion=False)
    run.at(1000, motion=True)
    run.at(1001, motion=False)
    assert run.sweep(1800) == []
    assert [f.action for f in run.sweep(1001 + 1800)] == ["raise"]


def test_out_of_bed_at_night_needs_getting_up_inside_the_window():
    rule = default("sleep_mat", "mat.night_out_of_bed")
    # 23:00 Shanghai = 15:00 UTC. Not yet in bed at night: no alarm however long.
    evening = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    run = Run(rule)
    run.state, _ = evaluate(rule, run.state, Sample(evening, {"in_bed": False}))
    run.state, fired = tick(rule, run.state, evening + timedelta(hours=2))
    assert fired == []
    # In bed at 23:30, up at 02:00 (18:00 UTC), not back by 02:20.
    run.state, _ = evaluate(
        rule, run.state, Sample(evening + timedelta(minutes=30), {"in_bed": True})
    )
    up = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    run.state, _ = evaluate(rule, run.state, Sample(up, {"in_bed": False}))
    run.state, fired = tick(rule, run.state, up + timedelta(minutes=19))
    assert fired == []
    run.state, fired = tick(rule, run.state, up + timedelta(minutes=20))
    assert [(f.alarm_type, f.severity) for f in fired] == [("night_out_of_bed", Severity.MINOR)]
    run.state, cleared = evaluate(
        rule, run.state, Sample(up + timedelta(minutes=25), {"in_bed": True})
    )
    assert [f.action for f in cleared] == ["clear"]


def test_getting_up_in_the_morning_is_not_night_wandering():
    rule = default("sleep_mat", "mat.night_out_of_bed")
    state = RuleState()
    night = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 23:00 local
    state, _ = evaluate(rule, state, Sample(night, {"in_bed": True}))
    morning = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 07:30 local
    state, _ = evaluate(rule, state, Sample(morning, {"in_bed": False}))
    state, fired = tick(rule, state, morning + timedelta(hours=1))
    assert fired == []


def test_absence_fires_offline_and_clears_when_back():
    run = Run(default("mmwave_radar", "radar.offline"))
    run.at(0, heartbeat=True)
    assert run.sweep(299) == []
    fired = run.sweep(300)
    assert [(f.alarm_type, f.action, f.severity) for f in fired] == [
        ("device_offline", "raise", Severity.MAJOR)
    ]
    assert run.sweep(900) == []  # once
    back = run.at(1000, presence=False)
    assert [(f.alarm_type, f.action) for f in back] == [("device_offline", "clear")]


def test_absence_deadline_moves_with_every_reading():
    run = Run(default("mmwave_radar", "radar.offline"))
    run.at(0, heartbeat=True)
    run.at(200, presence=True)
    assert run.sweep(300) == []
    assert run.state.due_at(run.rule) == T0 + timedelta(seconds=500)


def test_stale_readings_are_ignored():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(100, fall=False)
    state_before = run.state
    assert run.at(50, fall=True) == []
    assert run.state == state_before


def test_event_rule_with_clear_emits_clear():
    run = Run(default("door_sensor", "door.tamper"))
    assert [f.action for f in run.at(0, tamper=True)] == ["raise"]
    assert [f.action for f in run.at(5, tamper=False)] == ["clear"]


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"kind": "weird", "alarm_type": "x"}, "kind"),
        ({"kind": "event", "alarm_type": "Fall!", "conditions": []}, "alarm_type"),
        ({"kind": "event", "alarm_type": "fall", "conditions": []}, "conditions"),
        (
            {
                "kind": "event",
                "alarm_type": "fall",
                "conditions": [{"key": "smoke", "value": True}],
            },
            "reports no 'smoke'",
        ),
        (
            {"kind": "event", "alarm_type": "fall", "conditions": [{"key": "fall", "value": 3}]},
            "true/false",
        ),
        (
            {"kind": "event", "alarm_type": "f", "conditions": [{"key": "zone", "value": "attic"}]},
            "one of bathroom",
        ),
        (
            {
                "kind": "event",
                "alarm_type": "f",
                "conditions": [{"key": "fall", "op": "~", "value": True}],
            },
            "unknown operator",
        ),
        (
            {"kind": "duration", "alarm_type": "f", "conditions": [{"key": "fall", "value": True}]},
            "duration_s",
        ),
        ({"kind": "absence", "alarm_type": "off", "absence_s": 0}, "absence_s"),
        (
            {"kind": "absence", "alarm_type": "off", "absence_s": 60, "severity": "LOUD"},
            "severity",
        ),
        (
            {
                "kind": "duration",
                "alarm_type": "f",
                "duration_s": 60,
                "conditions": [{"key": "presence", "value": True}],
                "window": {"start": "25:00", "end": "06:00"},
            },
            "window.start",
        ),
        (
            {
                "kind": "duration",
                "alarm_type": "f",
                "duration_s": 60,
                "conditions": [{"key": "presence", "value": True}],
                "window": {"start": "22:00", "end": "06:00", "tz": "Mars/Olympus"},
            },
            "window.tz",
        ),
        (
            {"kind": "absence", "alarm_type": "off", "absence_s": 60, "colour": "red"},
            "unknown field",
        ),
    ],
)
def test_invalid_rules_say_why(spec, reason):
    with pytest.raises(RuleInvalid) as info:
        parse_rule("r", spec, RADAR)
    assert reason in info.value.reason


def test_state_round_trips_through_json():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True, motion=False)
    restored = RuleState.from_json(run.state.to_json())
    assert restored == run.state
    assert restored.corroborate_until == T0 + timedelta(seconds=60)


def test_speaker_sos_is_critical_at_once():
    run = Run(default("smart_speaker", "speaker.sos"))
    fired = run.at(0, sos=True, utterance="救命 help")
    assert [(f.alarm_type, f.severity, f.action) for f in fired] == [
        ("sos", Severity.CRITICAL, "raise")
    ]


def test_numeric_and_membership_operators():
    spec = {
        "kind": "duration",
        "alarm_type": "high_heart_rate",
        "severity": "WARNING",
        "duration_s": 120,
        "conditions": [
            {"key": "heart_rate", "op": "gt", "value": 100},
            {"key": "zone", "op": "in", "value": ["bedroom", "living_room"]},
        ],
    }
    run = Run(parse_rule("radar.hr", spec, RADAR))
    run.at(0, heart_rate=120, zone="kitchen")
    assert run.sweep(500) == []  # not in a watched zone
    run.at(600, heart_rate=120, zone="bedroom")
    run.at(660, heart_rate=101)
    assert [f.alarm_type for f in run.sweep(720)] == ["high_heart_rate"]
    assert [f.action for f in run.at(800, heart_rate=80)] == ["clear"]


def test_a_reading_after_a_long_gap_ends_the_silence_without_an_offline_blip():
    run = Run(default("mmwave_radar", "radar.offline"))
    run.at(0, heartbeat=True)
    assert run.at(1000, heartbeat=True) == []  # no sweep ran: nothing to raise or clear
    assert run.state.due_at(run.rule) == T0 + timedelta(seconds=1300)
