"""The device rule engine (pure): ThingsBoard-style alarm rules per device profile.

A rule is data (a JSON object, stored per device type or per device) that `parse_rule`
validates against the device profile's metrics. Four kinds:

- ``event``: the condition becomes true on a reading (radar ``fall``; door ``open`` while the
  household is ``away``). Fires on the false→true edge.
- ``duration``: the condition has held for ``duration_s`` (bathroom presence without motion;
  out of bed at night). ``start_on: "transition"`` arms the timer only when the condition
  turns true after having been seen false, so "out of bed" starts when the elder *gets up*,
  not because nobody has gone to bed yet. An optional local-time ``window`` limits when the
  condition may start (the night, in Asia/Shanghai by default).
- ``absence``: no reading for ``absence_s`` seconds: the device is offline.
- any kind may carry ``corroborate``: a second signal that raises the severity, either a
  signal that must *persist* through the next ``within_s`` seconds (fall, then no movement →
  CRITICAL) or one that must be *seen* within them.

The engine keeps per (device, rule) state in a small JSON-able `RuleState`; the caller stores it
(``rule_state`` table) so timers survive a restart. Every function here takes the time as an
argument and does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from anxin.iot.profiles import Metric

CONTEXT_PREFIX = "ctx."
ALARM_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,79}$")
OPS = ("eq", "ne", "gt", "ge", "lt", "le", "in")
Kind = Literal["event", "duration", "absence"]


class Severity(StrEnum):
    """ThingsBoard's order, most severe first."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"


class RuleInvalid(ValueError):
    """A rule that cannot be used; `reason` says why, in words an administrator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        if self.key not in values or values[self.key] is None:
            return self.op == "ne"
        have = values[self.key]
        want = self.value
        if self.op == "eq":
            return bool(have == want)
        if self.op == "ne":
            return bool(have != want)
        if self.op == "in":
            return have in want
        if isinstance(have, bool) or not isinstance(have, int | float):
            return False
        if self.op == "gt":
            return bool(have > want)
        if self.op == "ge":
            return bool(have >= want)
        if self.op == "lt":
            return bool(have < want)
        return bool(have <= want)


@dataclass(frozen=True)
class TimeWindow:
    """A local time-of-day window; `start > end` wraps past midnight (22:00–06:00)."""

    start: time
    end: time
    tz: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Corroboration:
    mode: Literal["persist", "seen"]
    conditions: tuple[Condition, ...]
    within_s: int
    severity: Severity


@dataclass(frozen=True)
class Rule:
    name: str
    alarm_type: str
    kind: Kind
    severity: Severity
    conditions: tuple[Condition, ...] = ()
    duration_s: int = 0
    absence_s: int = 0
    window: TimeWindow | None = None
    start_on: Literal["level", "transition"] = "level"
    clear: bool = True
    corroborate: Corroboration | None = None
    description: str = ""

    # Cached: the engine asks for them for every reading and rule (a frozen dataclass keeps a
    # __dict__, which cached_property writes without going through __setattr__).
    @cached_property
    def keys(self) -> frozenset[str]:
        """The telemetry keys the rule reads (context keys excluded)."""
        conds = list(self.conditions)
        if self.corroborate:
            conds.extend(self.corroborate.conditions)
        return frozenset(c.key for c in conds if not c.key.startswith(CONTEXT_PREFIX))

    @cached_property
    def condition_keys(self) -> frozenset[str]:
        return frozenset(c.key for c in self.conditions if not c.key.startswith(CONTEXT_PREFIX))

    @cached_property
    def context_keys(self) -> frozenset[str]:
        return frozenset(
            c.key[len(CONTEXT_PREFIX) :]
            for c in self.conditions
            if c.key.startswith(CONTEXT_PREFIX)
        )


# ---------------------------------------------------------------------------------------------
# Validation


def _int(spec: Mapping[str, Any], name: str, *, lo: int, hi: int) -> int:
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleInvalid(f"{name}: must be a whole number of seconds")
    if not lo <= value <= hi:
        raise RuleInvalid(f"{name}: must be between {lo} and {hi}")
    return value


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(str(value).upper())
    except ValueError:
        known = ", ".join(s.value for s in Severity)
        raise RuleInvalid(f"{where}: unknown severity {value!r}; one of {known}") from None


def _check_value(key: str, op: str, value: Any, metric: Metric, where: str) -> None:
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise RuleInvalid(f"{where}: 'in' needs a non-empty list")
    for item in values:
        if metric.kind == "bool":
            if not isinstance(item, bool):
                raise RuleInvalid(f"{where}: {key} is true/false, not {item!r}")
            if op not in ("eq", "ne", "in"):
                raise RuleInvalid(f"{where}: {key} is true/false; use eq or ne")
        elif metric.kind == "number":
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise RuleInvalid(f"{where}: {key} is a number, not {item!r}")
        else:
            if not isinstance(item, str):
                raise RuleInvalid(f"{where}: {key} is text, not {item!r}")
            if op in ("gt", "ge", "lt", "le"):
                raise RuleInvalid(f"{where}: {key} is text; compare with eq, ne or in")
            if metric.choices and item not in metric.choices:
                raise RuleInvalid(
                    f"{where}: {key} is one of {', '.join(metric.choices)}, not {item!r}"
                )


def _conditions(raw: Any, metrics: Mapping[str, Metric], where: str) -> tuple[Condition, ...]:
    if not isinstance(raw, list) or not raw:
        raise RuleInvalid(f"{where}: must be a non-empty list of {{key, op, value}}")
    out: list[Condition] = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise RuleInvalid(f"{at}: must be an object with key, op and value")
        key = item.get("key")
        op = item.get("op", "eq")
        if not isinstance(key, str) or not key:
            raise RuleInvalid(f"{at}.key: required")
        if op not in OPS:
            raise RuleInvalid(f"{at}.op: unknown operator {op!r}; one of {', '.join(OPS)}")
        if "value" not in item:
            raise RuleInvalid(f"{at}.value: required")
        value = item["value"]
        if key.startswith(CONTEXT_PREFIX):
            if len(key) == len(CONTEXT_PREFIX):
                raise RuleInvalid(f"{at}.key: a context key needs a name after 'ctx.'")
        elif key not in metrics:
            known = ", ".join(sorted(metrics))
            raise RuleInvalid(f"{at}.key: this device type reports no {key!r}; known: {known}")
        else:
            _check_value(key, str(op), value, metrics[key], at)
        out.append(Condition(key, str(op), value))
    return tuple(out)


def _clock_time(value: Any, where: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise RuleInvalid(f"{where}: a local time like '22:00', not {value!r}") from None


def _window(raw: Any) -> TimeWindow:
    if not isinstance(raw, Mapping):
        raise RuleInvalid("window: must be an object with start, end and optional tz")
    tz_name = raw.get("tz", "Asia/Shanghai")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleInvalid(f"window.tz: unknown time zone {tz_name!r}") from None
    start = _clock_time(raw.get("start"), "window.start")
    end = _clock_time(raw.get("end"), "window.end")
    if start == end:
        raise RuleInvalid("window: start and end must differ")
    return TimeWindow(start, end, tz)


def _corroboration(raw: Any, metrics: Mapping[str, Metric]) -> Corroboration:
    if not isinstance(raw, Mapping):
        raise RuleInvalid("corroborate: must be an object")
    mode = raw.get("mode", "persist")
    if mode not in ("persist", "seen"):
        raise RuleInvalid(f"corroborate.mode: 'persist' or 'seen', not {mode!r}")
    conditions = _conditions(raw.get("conditions"), metrics, "corroborate.conditions")
    if any(c.key.startswith(CONTEXT_PREFIX) for c in conditions):
        raise RuleInvalid("corroborate.conditions: only telemetry keys may corroborate")
    return Corroboration(
        mode=mode,
        conditions=conditions,
        within_s=_int(raw, "within_s", lo=1, hi=24 * 3600),
        severity=_severity(raw.get("severity", "CRITICAL"), "corroborate.severity"),
    )


def parse_rule(name: str, spec: Mapping[str, Any], metrics: Mapping[str, Metric]) -> Rule:
    """Validate a stored rule against the device profile; raise `RuleInvalid` with the reason."""
    if not RULE_NAME.match(name):
        raise RuleInvalid("name: lower-case letters, digits, '_', '-', '.'; start with a letter")
    if not isinstance(spec, Mapping):
        raise RuleInvalid("spec: must be an object")
    kind = spec.get("kind")
    if kind not in ("event", "duration", "absence"):
        raise RuleInvalid(f"kind: 'event', 'duration' or 'absence', not {kind!r}")
    alarm_type = spec.get("alarm_type")
    if not isinstance(alarm_type, str) or not ALARM_TYPE.match(alarm_type):
        raise RuleInvalid("alarm_type: lower-case letters, digits and '_', at most 40")
    severity = _severity(spec.get("severity", "MAJOR"), "severity")
    clear = spec.get("clear", kind != "event")
    if not isinstance(clear, bool):
        raise RuleInvalid("clear: must be true or false")
    start_on = spec.get("start_on", "level")
    if start_on not in ("level", "transition"):
        raise RuleInvalid(f"start_on: 'level' or 'transition', not {start_on!r}")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise RuleInvalid("description: must be text")
    conditions: tuple[Condition, ...] = ()
    duration_s = absence_s = 0
    if kind == "absence":
        absence_s = _int(spec, "absence_s", lo=10, hi=7 * 24 * 3600)
        if "conditions" in spec:
            raise RuleInvalid("conditions: an absence rule has none (it fires on silence)")
    else:
        conditions = _conditions(spec.get("conditions"), metrics, "conditions")
        if kind == "duration":
            duration_s = _int(spec, "duration_s", lo=1, hi=7 * 24 * 3600)
        elif "duration_s" in spec:
            raise RuleInvalid("duration_s: only a duration rule has one")
    window = _window(spec["window"]) if spec.get("window") is not None else None
    corroborate = (
        _corroboration(spec["corroborate"], metrics)
        if spec.get("corroborate") is not None
        else None
    )
    known = {
        "kind", "alarm_type", "severity", "clear", "start_on", "description", "conditions",
        "duration_s", "absence_s", "window", "corroborate",
    }  # fmt: skip
    unknown = sorted(set(spec) - known)
    if unknown:
        raise RuleInvalid(f"unknown field(s): {', '.join(unknown)}")
    return Rule(
        name=name,
        alarm_type=alarm_type,
        kind=kind,
        severity=severity,
        conditions=conditions,
        duration_s=duration_s,
        absence_s=absence_s,
        window=window,
        start_on=start_on,
        clear=clear,
        corroborate=corroborate,
        description=description,
    )


# ---------------------------------------------------------------------------------------------
# State and evaluation


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _dt(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


@dataclass(frozen=True)
class RuleState:
    """What the engine remembers per (device, rule); stored as JSON between readings."""

    values: dict[str, Any] = field(default_factory=dict)  # last known value per key read
    last_ts: datetime | None = None  # newest reading seen
    matching: bool | None = None  # the condition at the last reading (None: never evaluated)
    since: datetime | None = None  # duration: when the condition started holding
    fired: bool = False  # an alarm is raised and not yet cleared by this rule
    fired_at: datetime | None = None
    severity: str | None = None
    corroborate_until: datetime | None = None  # a pending corroboration window
    corroborated: bool = False

    def evolve(self, **changes: Any) -> RuleState:
        """A copy with `changes` applied: `dataclasses.replace` without its per-call walk over
        the fields and `__init__` (the engine makes one per rule and reading; a quarter of the
        cost of `replace`). Every field is copied, so no default factory is needed."""
        unknown = changes.keys() - self.__dict__.keys()
        if unknown:
            raise TypeError(f"RuleState has no field(s) {', '.join(sorted(unknown))}")
        copy = object.__new__(RuleState)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy

    def due_at(self, rule: Rule) -> datetime | None:
        """The next moment a sweep must look at this state (None: nothing pending)."""
        moments: list[datetime] = []
        if rule.kind == "duration" and self.since is not None and not self.fired:
            moments.append(self.since + timedelta(seconds=rule.duration_s))
        if rule.kind == "absence" and self.last_ts is not None and not self.fired:
            moments.append(self.last_ts + timedelta(seconds=rule.absence_s))
        if self.corroborate_until is not None:
            moments.append(self.corroborate_until)
        return min(moments) if moments else None

    def to_json(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "last_ts": _iso(self.last_ts),
            "matching": self.matching,
            "since": _iso(self.since),
            "fired": self.fired,
            "fired_at": _iso(self.fired_at),
            "severity": self.severity,
            "corroborate_until": _iso(self.corroborate_until),
            "corroborated": self.corroborated,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RuleState:
        if not data:
            return cls()
        return cls(
            values=dict(data.get("values") or {}),
            last_ts=_dt(data.get("last_ts")),
            matching=data.get("matching"),
            since=_dt(data.get("since")),
            fired=bool(data.get("fired")),
            fired_at=_dt(data.get("fired_at")),
            severity=data.get("severity"),
            corroborate_until=_dt(data.get("corroborate_until")),
            corroborated=bool(data.get("corroborated")),
        )


@dataclass(frozen=True)
class Firing:
    """One outcome of a rule: raise (or raise again at a higher severity) or clear an alarm."""

    rule: str
    alarm_type: str
    action: Literal["raise", "clear"]
    severity: Severity
    at: datetime
    details: dict[str, Any]


@dataclass(frozen=True)
class Sample:
    """One reading: its time and the values it reported."""

    ts: datetime
    values: Mapping[str, Any]


def _all(conditions: Sequence[Condition], values: Mapping[str, Any]) -> bool:
    return all(c.holds(values) for c in conditions)


def _raise(rule: Rule, state: RuleState, at: datetime, **details: Any) -> tuple[RuleState, Firing]:
    pending = (
        at + timedelta(seconds=rule.corroborate.within_s) if rule.corroborate is not None else None
    )
    state = state.evolve(
        fired=True,
        fired_at=at,
        severity=rule.severity.value,
        corroborate_until=pending,
        corroborated=False,
    )
    return state, Firing(rule.name, rule.alarm_type, "raise", rule.severity, at, details)


def _clear(
    rule: Rule, state: RuleState, at: datetime, **details: Any
) -> tuple[RuleState, list[Firing]]:
    """The condition ended. A rule that does not clear (a fall needs a person to resolve it)
    only re-arms, and a pending corroboration keeps running."""
    was_fired = state.fired
    if not rule.clear:
        return state.evolve(fired=False, since=None), []
    severity = Severity(state.severity) if state.severity else rule.severity
    state = state.evolve(
        fired=False, since=None, corroborate_until=None, corroborated=False, severity=None
    )
    if was_fired:
        return state, [Firing(rule.name, rule.alarm_type, "clear", severity, at, details)]
    return state, []


def _corroborated(rule: Rule, state: RuleState, at: datetime) -> tuple[RuleState, Firing]:
    assert rule.corroborate is not None
    severity = rule.corroborate.severity
    state = state.evolve(corroborate_until=None, corroborated=True, severity=severity.value)
    signal = ", ".join(f"{c.key} {c.op} {c.value}" for c in rule.corroborate.conditions)
    details = {
        "corroborated": True,
        "corroboration": rule.corroborate.mode,
        "signal": signal,
        "within_s": rule.corroborate.within_s,
        "first_fired_at": _iso(state.fired_at),
    }
    return state, Firing(rule.name, rule.alarm_type, "raise", severity, at, details)


def tick(rule: Rule, state: RuleState, now: datetime) -> tuple[RuleState, list[Firing]]:
    """Fire whatever is due at `now` (the periodic sweep, and before each new reading)."""
    firings: list[Firing] = []
    if rule.kind == "duration" and state.since is not None and not state.fired:
        deadline = state.since + timedelta(seconds=rule.duration_s)
        if now >= deadline:
            state, firing = _raise(
                rule,
                state,
                now,
                since=_iso(state.since),
                duration_s=rule.duration_s,
                values=dict(state.values),
            )
            firings.append(firing)
    if rule.kind == "absence" and state.last_ts is not None and not state.fired:
        deadline = state.last_ts + timedelta(seconds=rule.absence_s)
        if now >= deadline:
            state, firing = _raise(
                rule, state, now, last_seen=_iso(state.last_ts), absence_s=rule.absence_s
            )
            firings.append(firing)
    if state.corroborate_until is not None and now >= state.corroborate_until:
        assert rule.corroborate is not None
        if rule.corroborate.mode == "persist":
            state, firing = _corroborated(rule, state, state.corroborate_until)
            firings.append(firing)
        else:
            state = state.evolve(corroborate_until=None)
    return state, firings


def evaluate(
    rule: Rule,
    state: RuleState,
    sample: Sample,
    *,
    context: Mapping[str, Any] | None = None,
) -> tuple[RuleState, list[Firing]]:
    """Feed one reading to one rule. Readings older than the last one seen are ignored."""
    if state.last_ts is not None and sample.ts < state.last_ts:
        return state, []
    firings: list[Firing] = []
    if rule.kind != "absence":
        # Whatever fell due before this reading fires first, at its own time. (A reading ends
        # a silence instead: absences fire from the sweep only.)
        state, due = tick(rule, state, sample.ts)
        firings.extend(due)
    relevant = {k: v for k, v in sample.values.items() if k in rule.keys}
    # Remember only what the conditions read: a corroborating signal is judged on the readings
    # themselves, so storing it would only rewrite the state on every reading.
    remembered = rule.condition_keys
    values = {**state.values, **{k: v for k, v in relevant.items() if k in remembered}}

    if rule.kind == "absence":
        state = state.evolve(values=values, last_ts=sample.ts)
        if state.fired:
            state, cleared = _clear(rule, state, sample.ts, back_at=_iso(sample.ts))
            firings.extend(cleared)
        return state, firings

    # The reading's time, values and the condition's truth in one new state: a quiet reading
    # (nothing fires, no timer starts or ends) rebuilds the state once per rule.
    merged = {**values, **{CONTEXT_PREFIX + k: v for k, v in (context or {}).items()}}
    matching = _all(rule.conditions, merged)
    previous = state.matching
    state = state.evolve(values=values, last_ts=sample.ts, matching=matching)
    reported = any(c.key in relevant for c in rule.conditions)

    # Corroboration watches readings after the alarm.
    if rule.corroborate is not None and state.corroborate_until is not None:
        agrees = _all(rule.corroborate.conditions, relevant) if relevant else None
        touched = any(c.key in relevant for c in rule.corroborate.conditions)
        if rule.corroborate.mode == "seen" and touched and agrees:
            state, firing = _corroborated(rule, state, sample.ts)
            firings.append(firing)
        elif rule.corroborate.mode == "persist" and touched and not agrees:
            state = state.evolve(corroborate_until=None)  # the second signal disagreed

    if rule.kind == "event":
        if matching and not state.fired and reported and previous is not True:
            state, firing = _raise(rule, state, sample.ts, values=dict(values))
            firings.append(firing)
        elif not matching and state.fired:
            state, cleared = _clear(rule, state, sample.ts, values=dict(values))
            firings.extend(cleared)
        return state, firings

    # Duration.
    if matching and state.since is None and not state.fired:
        armed = rule.start_on == "level" or previous is False
        in_window = rule.window is None or rule.window.contains(sample.ts)
        if armed and in_window:
            state = state.evolve(since=sample.ts)
            state, due = tick(rule, state, sample.ts)
            firings.extend(due)
    elif not matching:
        if state.fired:
            state, cleared = _clear(
                rule, state, sample.ts, since=_iso(state.since), values=dict(values)
            )
            firings.extend(cleared)
        if state.since is not None:
            state = state.evolve(since=None)
    return state, firings
