"""The pure rule engine: every rule kind, corroboration, windows, validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.core.clock import FrozenClock
from anxin.iot.profiles import PROFILES_BY_CODE, metrics_of
from anxin.iot.rules.defaults import DEFAULT_RULES
from anxin.iot.rules.engine import (
    Condition,
    Firing,
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


SEEN_FALL = {
    "kind": "event",
    "alarm_type": "fall",
    "conditions": [{"key": "fall", "value": True}],
    "corroborate": {
        "mode": "seen",
        "conditions": [{"key": "posture", "op": "eq", "value": "lying"}],
        "within_s": 30,
    },
}


def test_seen_corroboration_raises_at_once():
    run = Run(parse_rule("fall.seen", SEEN_FALL, RADAR))
    run.at(0, fall=True)
    fired = run.at(10, posture="lying")
    assert [(f.severity, f.details["corroboration"], f.at) for f in fired] == [
        (Severity.CRITICAL, "seen", T0 + timedelta(seconds=10))  # the reading that showed it
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


# ---------------------------------------------------------------------------------------------
# Exact outcomes: what the alarm service stores and shows is the Firing and the RuleState, so
# these tests pin them whole (names, times, severities, details) rather than one field.

FALL_CLEARING = {
    # A fall rule that clears, so that clearing after a corroborated CRITICAL can be tested.
    "kind": "event",
    "alarm_type": "fall",
    "severity": "MAJOR",
    "clear": True,
    "conditions": [{"key": "fall", "value": True}],
    "corroborate": {"conditions": [{"key": "motion", "value": False}], "within_s": 60},
}


def at_s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_raise_and_its_corroboration_are_recorded_whole():
    rule = parse_rule("fall.c", FALL_CLEARING, RADAR)
    assert rule.corroborate is not None
    assert (rule.corroborate.mode, rule.corroborate.severity) == ("persist", Severity.CRITICAL)
    run = Run(rule)
    raised = run.at(0, fall=True, motion=False)
    assert raised == [
        Firing("fall.c", "fall", "raise", Severity.MAJOR, T0, {"values": {"fall": True}})
    ]
    assert run.state == RuleState(
        values={"fall": True},
        last_ts=T0,
        matching=True,
        fired=True,
        fired_at=T0,
        severity="MAJOR",
        corroborate_until=at_s(60),
        corroborated=False,
    )
    critical = run.sweep(60)
    assert critical == [
        Firing(
            "fall.c",
            "fall",
            "raise",
            Severity.CRITICAL,
            at_s(60),
            {
                "corroborated": True,
                "corroboration": "persist",
                "signal": "motion eq False",
                "within_s": 60,
                "first_fired_at": T0.isoformat(),
            },
        )
    ]
    assert (run.state.corroborated, run.state.severity, run.state.corroborate_until) == (
        True,
        "CRITICAL",
        None,
    )
    assert RuleState.from_json(run.state.to_json()) == run.state
    # The clear carries the severity the alarm reached, and the state is fully re-armed.
    cleared = run.at(100, fall=False)
    assert cleared == [
        Firing("fall.c", "fall", "clear", Severity.CRITICAL, at_s(100), {"values": {"fall": False}})
    ]
    assert run.state == RuleState(
        values={"fall": False}, last_ts=at_s(100), matching=False, fired_at=T0
    )


def test_clearing_cancels_a_pending_corroboration():
    run = Run(parse_rule("fall.c", FALL_CLEARING, RADAR))
    run.at(0, fall=True, motion=False)
    assert [f.action for f in run.at(10, fall=False)] == ["clear"]
    assert run.sweep(60) == []  # no CRITICAL for a fall that has already cleared


def test_a_rule_that_does_not_clear_only_rearms():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True)
    assert run.at(5, fall=False) == []
    assert (run.state.fired, run.state.since) == (False, None)
    assert run.state.corroborate_until == at_s(60)  # a fall still needs its second signal


def test_a_corroborating_signal_before_any_alarm_does_nothing():
    spec = {**SEEN_FALL, "corroborate": {**SEEN_FALL["corroborate"], "severity": "MINOR"}}
    run = Run(parse_rule("fall.seen", spec, RADAR))
    assert run.at(0, fall=False, posture="lying") == []  # lying in bed is not a fall
    run.at(10, fall=True)
    assert run.sweep(40) == []  # nothing seen within 30 s: it stays at its severity
    assert run.state.corroborate_until is None
    assert run.at(50, posture="lying") == []  # too late to corroborate
    run.at(60, fall=False)
    run.at(70, fall=True)
    fired = run.at(71, posture="lying")
    assert [(f.severity, f.details["corroboration"]) for f in fired] == [(Severity.MINOR, "seen")]


def test_duration_and_absence_raises_carry_their_evidence():
    run = Run(default("mmwave_radar", "radar.bathroom_stay"))
    run.at(0, zone="bathroom", presence=True, motion=False)
    assert run.state.due_at(run.rule) == at_s(1800)
    assert run.sweep(1800) == [
        Firing(
            "radar.bathroom_stay",
            "long_bathroom_stay",
            "raise",
            Severity.MAJOR,
            at_s(1800),
            {
                "since": T0.isoformat(),
                "duration_s": 1800,
                "values": {"zone": "bathroom", "presence": True, "motion": False},
            },
        )
    ]
    assert run.state.due_at(run.rule) is None  # raised: nothing more to wait for

    offline = Run(default("mmwave_radar", "radar.offline"))
    assert offline.state.due_at(offline.rule) is None  # never heard from: no deadline yet
    offline.at(10, heartbeat=True)
    assert offline.sweep(310) == [
        Firing(
            "radar.offline",
            "device_offline",
            "raise",
            Severity.MAJOR,
            at_s(310),
            {"last_seen": at_s(10).isoformat(), "absence_s": 300},
        )
    ]
    assert offline.state.due_at(offline.rule) is None
    assert offline.at(400, heartbeat=True) == [
        Firing(
            "radar.offline",
            "device_offline",
            "clear",
            Severity.MAJOR,
            at_s(400),
            {"back_at": at_s(400).isoformat()},
        )
    ]


def test_nothing_is_due_for_an_event_rule_or_an_unarmed_duration():
    fall = Run(default("mmwave_radar", "radar.fall"))
    fall.at(0, fall=False, motion=True)
    assert fall.state.due_at(fall.rule) is None
    stay = Run(default("mmwave_radar", "radar.bathroom_stay"))
    assert stay.state.due_at(stay.rule) is None
    stay.at(0, zone="kitchen", presence=True, motion=False)
    assert stay.state.due_at(stay.rule) is None


def test_readings_with_the_same_timestamp_are_all_taken():
    run = Run(default("door_sensor", "door.tamper"))
    run.at(10, tamper=False)
    # Two messages stamped in the same second: only an *older* reading is stale.
    assert [f.action for f in run.at(0, tamper=True)] == ["raise"]


@pytest.mark.parametrize(
    ("op", "want", "holds"),
    [
        ("eq", 5, [False, True, False]),
        ("ne", 5, [True, False, True]),
        ("gt", 5, [False, False, True]),
        ("ge", 5, [False, True, True]),
        ("lt", 5, [True, False, False]),
        ("le", 5, [True, True, False]),
        ("in", [4, 6], [True, False, True]),
    ],
)
def test_each_operator_at_its_boundary(op, want, holds):
    cond = Condition("heart_rate", op, want)
    got = [cond.holds({"heart_rate": v}) for v in (4, 5, 6)]
    assert got == holds


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_ordering_needs_a_number_and_a_missing_value_only_satisfies_ne(op):
    cond = Condition("heart_rate", op, 0)
    assert not cond.holds({"heart_rate": "fast"})
    assert not cond.holds({"heart_rate": True})  # a bool is not a number here
    assert not cond.holds({})
    assert not cond.holds({"heart_rate": None})
    assert Condition("heart_rate", "ne", 0).holds({})
    assert Condition("heart_rate", "ne", 0).holds({"heart_rate": None})
    assert not Condition("heart_rate", "eq", None).holds({"heart_rate": None})


def test_window_keeps_its_minutes():
    spec = {
        "kind": "duration",
        "alarm_type": "f",
        "duration_s": 60,
        "conditions": [{"key": "presence", "value": True}],
        "window": {"start": "22:30", "end": "06:15"},
    }
    window = parse_rule("r", spec, RADAR).window
    assert window is not None
    assert (window.start, window.end, window.tz.key) == (time(22, 30), time(6, 15), "Asia/Shanghai")
    assert not window.contains(datetime(2026, 11, 29, 14, 20, tzinfo=UTC))  # 22:20 local
    assert window.contains(datetime(2026, 11, 29, 14, 30, tzinfo=UTC))  # 22:30 local


CORROBORATED = {
    "kind": "event",
    "alarm_type": "fall",
    "conditions": [{"key": "fall", "value": True}],
}


@pytest.mark.parametrize(
    ("corroborate", "reason"),
    [
        ("motion", "corroborate: must be an object"),
        (
            {"mode": "later", "conditions": [{"key": "motion", "value": False}], "within_s": 5},
            "corroborate.mode: 'persist' or 'seen', not 'later'",
        ),
        (
            {"conditions": [], "within_s": 5},
            "corroborate.conditions: must be a non-empty list of {key, op, value}",
        ),
        (
            {"conditions": [{"key": "ctx.household_mode", "value": "away"}], "within_s": 5},
            "corroborate.conditions: only telemetry keys may corroborate",
        ),
        (
            {"conditions": [{"key": "motion", "value": False}], "within_s": 0},
            "within_s: must be between 1 and 86400",
        ),
        (
            {"conditions": [{"key": "motion", "value": False}], "within_s": 86401},
            "within_s: must be between 1 and 86400",
        ),
        (
            {"conditions": [{"key": "motion", "value": False}], "within_s": 5, "severity": "LOUD"},
            "corroborate.severity: unknown severity 'LOUD'; one of CRITICAL, MAJOR, MINOR, WARNING",
        ),
    ],
)
def test_invalid_corroboration_says_exactly_why(corroborate, reason):
    with pytest.raises(RuleInvalid) as info:
        parse_rule("r", {**CORROBORATED, "corroborate": corroborate}, RADAR)
    assert info.value.reason == reason
    assert str(info.value) == reason


@pytest.mark.parametrize("within_s", [1, 86400])
def test_corroboration_window_bounds_are_inclusive(within_s):
    spec = {**CORROBORATED, "corroborate": {"conditions": [{"key": "motion", "value": False}]}}
    spec["corroborate"]["within_s"] = within_s
    corroborate = parse_rule("r", spec, RADAR).corroborate
    assert corroborate is not None and corroborate.within_s == within_s


WINDOWED = {
    "kind": "duration",
    "alarm_type": "f",
    "duration_s": 60,
    "conditions": [{"key": "presence", "value": True}],
}


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ("night", "window: must be an object with start, end and optional tz"),
        ({"start": "22:00", "end": "22:00"}, "window: start and end must differ"),
        ({"start": "22:00", "end": "6"}, "window.end: a local time like '22:00', not '6'"),
        ({"start": "noon", "end": "06:00"}, "window.start: a local time like '22:00', not 'noon'"),
    ],
)
def test_invalid_windows_say_exactly_why(window, reason):
    with pytest.raises(RuleInvalid) as info:
        parse_rule("r", {**WINDOWED, "window": window}, RADAR)
    assert info.value.reason == reason


EVENT = {"kind": "event", "alarm_type": "f", "conditions": [{"key": "fall", "value": True}]}
RADAR_KEYS = ", ".join(sorted(RADAR))


def cond(**item: object) -> dict[str, object]:
    return {
        "kind": "event",
        "alarm_type": "f",
        "conditions": [{"key": "fall", "value": True}, item],
    }


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (["event"], "spec: must be an object"),
        (
            {**EVENT, "alarm_type": "Fall!"},
            "alarm_type: lower-case letters, digits and '_', at most 40",
        ),
        (
            {**EVENT, "severity": "LOUD"},
            "severity: unknown severity 'LOUD'; one of CRITICAL, MAJOR, MINOR, WARNING",
        ),
        ({**EVENT, "clear": "yes"}, "clear: must be true or false"),
        ({**EVENT, "start_on": "edge"}, "start_on: 'level' or 'transition', not 'edge'"),
        ({**EVENT, "description": 5}, "description: must be text"),
        ({**EVENT, "duration_s": 60}, "duration_s: only a duration rule has one"),
        ({**EVENT, "size": 1, "colour": "red"}, "unknown field(s): colour, size"),
        (
            {"kind": "absence", "alarm_type": "off", "absence_s": 60, "conditions": []},
            "conditions: an absence rule has none (it fires on silence)",
        ),
        ({**EVENT, "conditions": {}}, "conditions: must be a non-empty list of {key, op, value}"),
        (cond(), "conditions[1].key: required"),
        (cond(key=5, value=1), "conditions[1].key: required"),
        (cond(key="", value=1), "conditions[1].key: required"),
        (
            {**EVENT, "conditions": ["fall"]},
            "conditions[0]: must be an object with key, op and value",
        ),
        (
            cond(key="fall", op="~", value=True),
            "conditions[1].op: unknown operator '~'; one of eq, ne, gt, ge, lt, le, in",
        ),
        (cond(key="fall"), "conditions[1].value: required"),
        (cond(key="ctx.", value=1), "conditions[1].key: a context key needs a name after 'ctx.'"),
        (
            cond(key="smoke", value=True),
            f"conditions[1].key: this device type reports no 'smoke'; known: {RADAR_KEYS}",
        ),
        (cond(key="zone", op="in", value="bathroom"), "conditions[1]: 'in' needs a non-empty list"),
        (cond(key="zone", op="in", value=[]), "conditions[1]: 'in' needs a non-empty list"),
        (cond(key="fall", op="gt", value=True), "conditions[1]: fall is true/false; use eq or ne"),
        (cond(key="fall", value=3), "conditions[1]: fall is true/false, not 3"),
        (cond(key="heart_rate", value=True), "conditions[1]: heart_rate is a number, not True"),
        (cond(key="heart_rate", value="60"), "conditions[1]: heart_rate is a number, not '60'"),
        (cond(key="posture", value=3), "conditions[1]: posture is text, not 3"),
        (
            cond(key="zone", value="attic"),
            "conditions[1]: zone is one of bathroom, bedroom, living_room, kitchen, not 'attic'",
        ),
    ],
)
def test_invalid_rules_say_exactly_why(spec, reason):
    with pytest.raises(RuleInvalid) as info:
        parse_rule("r", spec, RADAR)
    assert info.value.reason == reason


def test_a_bad_rule_name_is_refused():
    with pytest.raises(RuleInvalid) as info:
        parse_rule("Radar.Fall", EVENT, RADAR)
    assert (
        info.value.reason == "name: lower-case letters, digits, '_', '-', '.'; start with a letter"
    )


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_text_cannot_be_ordered(op):
    with pytest.raises(RuleInvalid) as info:
        parse_rule("r", cond(key="posture", op=op, value="lying"), RADAR)
    assert info.value.reason == "conditions[1]: posture is text; compare with eq, ne or in"


def test_allowed_operators_by_metric_kind():
    for item in (
        {"key": "fall", "op": "ne", "value": False},
        {"key": "fall", "op": "in", "value": [True]},
        {"key": "heart_rate", "op": "in", "value": [60, 70.5]},
        {"key": "zone", "op": "ne", "value": "kitchen"},
    ):
        parse_rule("r", cond(**item), RADAR)


@pytest.mark.parametrize(
    ("kind", "field", "lo", "hi"),
    [("absence", "absence_s", 10, 7 * 24 * 3600), ("duration", "duration_s", 1, 7 * 24 * 3600)],
)
def test_timer_bounds_are_inclusive(kind, field, lo, hi):
    base = {"kind": kind, "alarm_type": "f"}
    if kind == "duration":
        base["conditions"] = [{"key": "presence", "value": True}]
    for ok in (lo, hi):
        assert getattr(parse_rule("r", {**base, field: ok}, RADAR), field) == ok
    for bad in (lo - 1, hi + 1):
        with pytest.raises(RuleInvalid) as info:
            parse_rule("r", {**base, field: bad}, RADAR)
        assert info.value.reason == f"{field}: must be between {lo} and {hi}"
    for bad in ("60", True, 60.0):
        with pytest.raises(RuleInvalid) as info:
            parse_rule("r", {**base, field: bad}, RADAR)
        assert info.value.reason == f"{field}: must be a whole number of seconds"


def test_parsed_defaults():
    rule = parse_rule("r", EVENT, RADAR)
    assert rule == Rule(
        name="r",
        alarm_type="f",
        kind="event",
        severity=Severity.MAJOR,
        conditions=(Condition("fall", "eq", True),),
        duration_s=0,
        absence_s=0,
        clear=False,  # an event (a fall) is resolved by a person, not by the device
        description="",
    )
    described = parse_rule("r", {**EVENT, "description": "Falls", "severity": "minor"}, RADAR)
    assert (described.description, described.severity) == ("Falls", Severity.MINOR)


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        ("08:00", "18:00", ["08:00", "17:59"], ["07:59", "18:00"]),
        ("22:00", "06:00", ["22:00", "23:59", "00:00", "05:59"], ["21:59", "06:00", "12:00"]),
    ],
)
def test_window_includes_its_start_and_excludes_its_end(start, end, inside, outside):
    spec = {**WINDOWED, "window": {"start": start, "end": end, "tz": "UTC"}}
    window = parse_rule("r", spec, RADAR).window
    assert window is not None

    def moment(hhmm: str) -> datetime:
        return datetime.combine(T0.date(), time.fromisoformat(hhmm), tzinfo=UTC)

    assert [window.contains(moment(t)) for t in inside] == [True] * len(inside)
    assert [window.contains(moment(t)) for t in outside] == [False] * len(outside)


def test_an_event_still_true_while_raised_neither_clears_nor_raises_again():
    run = Run(default("door_sensor", "door.tamper"))
    run.at(0, tamper=True)
    assert run.at(5, tamper=True) == []
    assert run.state.fired is True


def test_a_duration_clear_says_since_when():
    run = Run(default("mmwave_radar", "radar.bathroom_stay"))
    run.at(0, zone="bathroom", presence=True, motion=False)
    run.sweep(1800)
    assert run.at(1900, motion=True) == [
        Firing(
            "radar.bathroom_stay",
            "long_bathroom_stay",
            "clear",
            Severity.MAJOR,
            at_s(1900),
            {
                "since": T0.isoformat(),
                "values": {"zone": "bathroom", "presence": True, "motion": True},
            },
        )
    ]


def test_a_second_fall_starts_uncorroborated():
    run = Run(default("mmwave_radar", "radar.fall"))
    run.at(0, fall=True, motion=False)
    run.sweep(60)
    assert run.state.corroborated is True
    run.at(100, fall=False, motion=True)
    run.at(200, fall=True)
    assert (run.state.corroborated, run.state.severity) == (False, "MAJOR")


def test_a_corroboration_names_every_signal_it_waited_for():
    spec = {
        **FALL_CLEARING,
        "corroborate": {
            "conditions": [{"key": "motion", "value": False}, {"key": "presence", "value": True}],
            "within_s": 60,
        },
    }
    run = Run(parse_rule("fall.c", spec, RADAR))
    run.at(0, fall=True, motion=False, presence=True)
    [critical] = run.sweep(60)
    assert critical.details["signal"] == "motion eq False, presence eq True"


def _value_of(metric):
    if metric.kind == "bool":
        return st.booleans()
    if metric.kind == "number":
        lo = metric.minimum if metric.minimum is not None else -1_000.0
        hi = metric.maximum if metric.maximum is not None else 1_000.0
        return st.floats(lo, hi, allow_nan=False)
    return st.sampled_from(metric.choices or ("a", "b"))


@st.composite
def _rule_and_readings(draw):
    device_type = draw(st.sampled_from(sorted(DEFAULT_RULES)))
    metrics = metrics_of(PROFILES_BY_CODE[device_type])
    name = draw(st.sampled_from(sorted(DEFAULT_RULES[device_type])))
    rule = parse_rule(name, DEFAULT_RULES[device_type][name], metrics)
    keys = sorted(rule.keys) or sorted(metrics)[:3]
    readings = draw(
        st.lists(
            st.tuples(
                st.integers(0, 900),  # seconds since the previous reading
                st.fixed_dictionaries({}, optional={k: _value_of(metrics[k]) for k in keys}),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return rule, readings


def _stored_text(state: RuleState) -> str:
    return json.dumps(state.to_json(), sort_keys=True)


@settings(max_examples=150, deadline=None)
@given(_rule_and_readings(), st.booleans())
def test_judging_never_changes_a_state_in_place(case, away):
    """Stored states are parsed once and shared by every reader of the same text
    (`flows._parsed`): the engine must make new states, never change the one it was given."""
    rule, readings = case
    state, at = RuleState(), T0
    for gap, values in readings:
        at += timedelta(seconds=gap)
        before = _stored_text(state)
        after, _ = evaluate(rule, state, Sample(at, values), context={"away": away})
        assert _stored_text(state) == before
        judged = _stored_text(after)
        swept, _ = tick(rule, after, at + timedelta(seconds=gap))
        assert _stored_text(after) == judged
        state = swept if gap % 2 else after
