"""Which rules apply to a device: the built-in defaults, the organisation's rows and a device's
own, layered by name, parsed once and cached per (organisation, device type).

Layers: defaults < organisation rows < device rows. A disabled rule switches its name off; an
invalid rule is skipped and the layer below keeps working (better a default fall rule than none
while an administrator fixes a typo).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.iot.models import Device, DeviceRule
from anxin.iot.profiles import PROFILES_BY_CODE, metrics_of
from anxin.iot.rules import engine
from anxin.iot.rules.defaults import DEFAULT_RULES


@dataclass(frozen=True)
class LoadedRule:
    """A rule as the engine sees it: parsed, or invalid with the reason."""

    name: str
    device_type: str
    source: str  # "default", "organisation" or "device"
    spec: dict[str, Any]
    enabled: bool
    rule: engine.Rule | None
    reason: str | None
    row_id: str | None = None
    device_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.rule is not None


def load_rule(
    name: str,
    device_type: str,
    spec: Mapping[str, Any],
    *,
    source: str,
    enabled: bool = True,
    row_id: str | None = None,
    device_id: str | None = None,
) -> LoadedRule:
    profile = PROFILES_BY_CODE.get(device_type)
    rule: engine.Rule | None = None
    reason: str | None = None
    if profile is None:
        reason = f"unknown device type {device_type!r}"
    else:
        try:
            rule = engine.parse_rule(name, spec, metrics_of(profile))
        except engine.RuleInvalid as exc:
            reason = exc.reason
    return LoadedRule(
        name, device_type, source, dict(spec), enabled, rule, reason, row_id, device_id
    )


_DEFAULTS: dict[str, list[LoadedRule]] = {
    device_type: [load_rule(n, device_type, s, source="default") for n, s in specs.items()]
    for device_type, specs in DEFAULT_RULES.items()
}


def default_rules(device_type: str) -> list[LoadedRule]:
    return list(_DEFAULTS.get(device_type, []))


def rule_from_row(row: DeviceRule) -> LoadedRule:
    return load_rule(
        row.name,
        row.device_type,
        row.spec,
        source="device" if row.device_id else "organisation",
        enabled=row.enabled,
        row_id=row.id,
        device_id=row.device_id,
    )


def _rule_rows(session: Session, organisation_id: str, device_type: str) -> list[LoadedRule]:
    """The organisation's rule rows for a device type: its own and every device's."""
    stmt = select(DeviceRule).where(
        DeviceRule.organisation_id == organisation_id, DeviceRule.device_type == device_type
    )
    return [rule_from_row(r) for r in session.scalars(stmt.order_by(DeviceRule.created_at))]


def _layer(
    device_type: str, organisation_rows: list[LoadedRule], device_rows: list[LoadedRule]
) -> list[tuple[LoadedRule, LoadedRule | None]]:
    """Every rule in the layers, each with the one that takes effect for its name.

    Layers: defaults < organisation rows < device rows. A disabled rule switches its name off;
    an invalid rule is skipped and the layer below keeps working (better a default fall rule
    than none while an administrator fixes a typo).
    """
    effective: dict[str, LoadedRule | None] = {}
    every: list[LoadedRule] = []
    for layer in (default_rules(device_type), organisation_rows, device_rows):
        for loaded in layer:
            every.append(loaded)
            if not loaded.enabled:
                effective[loaded.name] = None
            elif loaded.valid:
                effective[loaded.name] = loaded
            else:
                effective.setdefault(loaded.name, None)
    return [(loaded, effective.get(loaded.name)) for loaded in every]


def layered_rules(
    session: Session, organisation_id: str, device_type: str, device_id: str | None
) -> list[tuple[LoadedRule, LoadedRule | None]]:
    """Every rule for the type (and device), each with the one that takes effect for its name."""
    rows = _rule_rows(session, organisation_id, device_type)
    return _layer(
        device_type,
        [r for r in rows if r.device_id is None],
        [r for r in rows if device_id is not None and r.device_id == device_id],
    )


def _parsed(layered: list[tuple[LoadedRule, LoadedRule | None]]) -> dict[str, engine.Rule]:
    out: dict[str, engine.Rule] = {}
    for _, effective in layered:
        if effective is not None and effective.rule is not None:
            out[effective.name] = effective.rule
    return out


@dataclass(frozen=True)
class RuleBook:
    """The rules in effect for one organisation and device type: those every device of the
    type shares, and those of the few devices with rules of their own."""

    shared: dict[str, engine.Rule]
    own: dict[str, dict[str, engine.Rule]]

    def for_device(self, device_id: str) -> dict[str, engine.Rule]:
        return self.own.get(device_id, self.shared)


def _rule_book(session: Session, organisation_id: str, device_type: str) -> RuleBook:
    rows = _rule_rows(session, organisation_id, device_type)
    organisation_rows = [r for r in rows if r.device_id is None]
    by_device: dict[str, list[LoadedRule]] = {}
    for row in rows:
        if row.device_id is not None:
            by_device.setdefault(row.device_id, []).append(row)
    return RuleBook(
        shared=_parsed(_layer(device_type, organisation_rows, [])),
        own={
            device_id: _parsed(_layer(device_type, organisation_rows, device_rows))
            for device_id, device_rows in by_device.items()
        },
    )


# Rule books per (organisation, device type), kept briefly: a rule change made in this process
# takes effect at once (`invalidate_rules`); one made by another process within RULE_CACHE_S
# seconds. One book per type (not per device) so that a device reporting once a minute does
# not cost a query on each report.
RULE_CACHE_S = 5.0
_rule_cache: dict[tuple[str, str], tuple[float, RuleBook]] = {}
_rule_cache_lock = threading.Lock()


def invalidate_rules() -> None:
    with _rule_cache_lock:
        _rule_cache.clear()


@dataclass(frozen=True)
class DeviceFacts:
    """What the rules need of a device, as its telemetry event carries it (no row loaded)."""

    id: str
    device_type: str
    organisation_id: str
    owner_kind: str
    owner_id: str

    @classmethod
    def of_event(cls, payload: Mapping[str, Any]) -> DeviceFacts:
        return cls(
            str(payload["device_id"]),
            str(payload["device_type"]),
            str(payload["organisation_id"]),
            str(payload["owner_kind"]),
            str(payload["owner_id"]),
        )


def active_rules(session: Session, device: Device | DeviceFacts) -> dict[str, engine.Rule]:
    """The parsed rules that apply to `device`, by name."""
    key = (device.organisation_id, device.device_type)
    now = time.monotonic()
    with _rule_cache_lock:
        cached = _rule_cache.get(key)
    if cached is None or cached[0] <= now:
        book = _rule_book(session, device.organisation_id, device.device_type)
        with _rule_cache_lock:
            if len(_rule_cache) > 10_000:
                _rule_cache.clear()
            _rule_cache[key] = (now + RULE_CACHE_S, book)
        cached = (now, book)
    return cached[1].for_device(device.id)
