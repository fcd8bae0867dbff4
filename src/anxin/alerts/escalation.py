"""Escalation policies as a pure state machine: no I/O, `now` is always an argument.

A policy is an ordered list of steps. Each step notifies some recipient roles on some channels
(and may hand someone a call task), then waits `wait_s` seconds. When the wait is over and
nobody has acknowledged, the next step fires; after the last step, that step repeats
`repeat_last` more times, then the escalation is exhausted. Acknowledgement (or resolution)
stops it. A message of the current step that is *undelivered* (failed, or no delivery receipt
within `receipt_timeout_s`) fires the next step at once instead of waiting.

A policy may also say who hears of a *repeat* (the same condition again, e.g. a second fall)
once nobody is being escalated to any more — the alarm was acknowledged, or the escalation
ran out — and how often at most (`on_repeat`); `renotify` decides, one repeat at a time.

Policies arrive as plain data (a JSON document stored in `escalation_policies`);
`parse_policy` validates one and raises `PolicyInvalid` with every problem named.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

CHANNELS = frozenset({"sms", "voice", "push", "webhook", "console"})
PURPOSES = frozenset({"alert", "call_task"})
UndeliveredRule = Literal["any", "all", "none"]
Status = Literal["active", "stopped", "exhausted"]
# Why an escalation ended (`State.stop_reason`): the pages show each through a label.
STOP_REASONS = ("acknowledged", "resolved", "cleared", "exhausted")


class PolicyInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Target:
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    purpose: str = "alert"


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    wait_s: int


@dataclass(frozen=True)
class OnRepeat:
    """Whom a repeat of an alarm nobody is escalating any more notifies, and at most how
    often: repeats closer than `min_interval_s` to the last renotification are counted, not
    sent (a radar that reports the same fall every few seconds must not flood the butler)."""

    targets: tuple[Target, ...]
    min_interval_s: int = 60


@dataclass(frozen=True)
class Policy:
    code: str
    name: str
    steps: tuple[Step, ...]
    repeat_last: int = 0
    receipt_timeout_s: int = 60
    escalate_on_undelivered: UndeliveredRule = "any"
    stop_on_clear: bool = False
    on_repeat: OnRepeat | None = None


@dataclass(frozen=True)
class State:
    status: Status
    step_index: int  # the step that fired last; -1 before the first
    repeats_done: int
    fired: int  # how many steps fired in all (the sequence number of the current step)
    next_at: datetime | None  # when the next step is due if nobody acknowledges
    stop_reason: str | None = None


@dataclass(frozen=True)
class Transition:
    state: State
    fire: Step | None  # the step to carry out now, if any
    reason: str | None = None  # "start" | "timeout" | "undelivered" | "repeat" | ...


def _problem_list(data: Any) -> tuple[list[str], dict[str, Any]]:
    if not isinstance(data, dict):
        return ["policy must be a JSON object"], {}
    return [], data


def _int(data: dict[str, Any], key: str, default: int, problems: list[str], where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{where}{key}: must be a whole number of 0 or more")
        return default
    return value


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return None


def _targets(raw_targets: Any, where: str, problems: list[str]) -> list[Target]:
    """The `notify` list of a step (or of `on_repeat`); problems are appended, not raised."""
    if not isinstance(raw_targets, list) or not raw_targets:
        problems.append(f"{where}notify: at least one target is required")
        raw_targets = []
    targets: list[Target] = []
    for t_index, raw_target in enumerate(raw_targets):
        t_where = f"{where}notify[{t_index}]."
        if not isinstance(raw_target, dict):
            problems.append(f"{where}notify[{t_index}]: must be an object")
            continue
        roles = _strings(raw_target.get("roles"))
        channels = _strings(raw_target.get("channels"))
        purpose = raw_target.get("purpose", "alert")
        if roles is None:
            problems.append(f"{t_where}roles: a non-empty list of roles is required")
        if channels is None:
            problems.append(f"{t_where}channels: a non-empty list of channels is required")
        else:
            unknown = sorted(set(channels) - CHANNELS)
            if unknown:
                problems.append(
                    f"{t_where}channels: unknown {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(CHANNELS))}"
                )
        if purpose not in PURPOSES:
            problems.append(f"{t_where}purpose: must be one of {', '.join(sorted(PURPOSES))}")
        if roles and channels:
            targets.append(Target(roles, channels, str(purpose)))
    return targets


def _on_repeat(raw: Any, problems: list[str]) -> OnRepeat | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append("on_repeat: must be an object")
        return None
    targets = _targets(raw.get("notify"), "on_repeat.", problems)
    min_interval_s = _int(raw, "min_interval_s", 60, problems, "on_repeat.")
    return OnRepeat(tuple(targets), min_interval_s)


def parse_policy(data: Any, *, code: str | None = None) -> Policy:
    """Validate a policy document; raises `PolicyInvalid` listing every problem."""
    problems, doc = _problem_list(data)
    if problems:
        raise PolicyInvalid(problems)
    policy_code = code or doc.get("code")
    if not isinstance(policy_code, str) or not policy_code:
        problems.append("code: required")
        policy_code = "?"
    name = doc.get("name", policy_code)
    if not isinstance(name, str):
        problems.append("name: must be text")
        name = policy_code
    raw_steps = doc.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("steps: at least one step is required")
        raw_steps = []
    for index, raw in enumerate(raw_steps):
        where = f"steps[{index}]."
        if not isinstance(raw, dict):
            problems.append(f"steps[{index}]: must be an object")
            continue
        wait_s = _int(raw, "wait_s", 0, problems, where)
        targets = _targets(raw.get("notify"), where, problems)
        steps.append(Step(tuple(targets), wait_s))
    repeat_last = _int(doc, "repeat_last", 0, problems, "")
    receipt_timeout_s = _int(doc, "receipt_timeout_s", 60, problems, "")
    rule = doc.get("escalate_on_undelivered", "any")
    if rule not in ("any", "all", "none"):
        problems.append("escalate_on_undelivered: must be any, all or none")
        rule = "any"
    stop_on_clear = doc.get("stop_on_clear", False)
    if not isinstance(stop_on_clear, bool):
        problems.append("stop_on_clear: must be true or false")
        stop_on_clear = False
    on_repeat = _on_repeat(doc.get("on_repeat"), problems)
    if problems:
        raise PolicyInvalid(problems)
    return Policy(
        code=policy_code,
        name=name,
        steps=tuple(steps),
        repeat_last=repeat_last,
        receipt_timeout_s=receipt_timeout_s,
        escalate_on_undelivered=rule,
        stop_on_clear=stop_on_clear,
        on_repeat=on_repeat,
    )


def _notify_document(targets: tuple[Target, ...]) -> list[dict[str, Any]]:
    return [
        {"roles": list(t.roles), "channels": list(t.channels), "purpose": t.purpose}
        for t in targets
    ]


def policy_document(policy: Policy) -> dict[str, Any]:
    """The inverse of `parse_policy`: what is stored."""
    doc: dict[str, Any] = {
        "code": policy.code,
        "name": policy.name,
        "repeat_last": policy.repeat_last,
        "receipt_timeout_s": policy.receipt_timeout_s,
        "escalate_on_undelivered": policy.escalate_on_undelivered,
        "stop_on_clear": policy.stop_on_clear,
        "steps": [
            {"wait_s": step.wait_s, "notify": _notify_document(step.targets)}
            for step in policy.steps
        ],
    }
    if policy.on_repeat is not None:
        doc["on_repeat"] = {
            "min_interval_s": policy.on_repeat.min_interval_s,
            "notify": _notify_document(policy.on_repeat.targets),
        }
    return doc


def start(policy: Policy, now: datetime) -> Transition:
    """The first step fires at once."""
    initial = State(status="active", step_index=-1, repeats_done=0, fired=0, next_at=now)
    return advance(policy, initial, now, reason="start")


def _fire(
    policy: Policy, state: State, index: int, repeats: int, now: datetime, why: str
) -> Transition:
    step = policy.steps[index]
    new = replace(
        state,
        step_index=index,
        repeats_done=repeats,
        fired=state.fired + 1,
        next_at=now + timedelta(seconds=step.wait_s),
    )
    return Transition(new, step, why)


def advance(policy: Policy, state: State, now: datetime, *, reason: str = "timeout") -> Transition:
    """Fire the next step (or repeat the last, or finish); the caller decided it is time."""
    if state.status != "active":
        return Transition(state, None, None)
    nxt = state.step_index + 1
    if nxt < len(policy.steps):
        return _fire(policy, state, nxt, state.repeats_done, now, reason)
    if state.repeats_done < policy.repeat_last:
        return _fire(policy, state, state.step_index, state.repeats_done + 1, now, "repeat")
    done = replace(state, status="exhausted", next_at=None, stop_reason="exhausted")
    return Transition(done, None, "exhausted")


def tick(
    policy: Policy,
    state: State,
    now: datetime,
    *,
    delivered: int = 0,
    undelivered: int = 0,
    outstanding: int = 0,
) -> Transition:
    """What happens at `now`, given the delivery status of the current step's messages.

    `undelivered` counts messages of the current step that failed or got no receipt in time,
    `delivered` those delivered, `outstanding` those still on their way.
    """
    if state.status != "active":
        return Transition(state, None, None)
    rule = policy.escalate_on_undelivered
    if undelivered and (rule == "any" or (rule == "all" and delivered == 0 and outstanding == 0)):
        return advance(policy, state, now, reason="undelivered")
    if state.next_at is not None and now >= state.next_at:
        return advance(policy, state, now, reason="timeout")
    return Transition(state, None, None)


def stop(state: State, reason: str) -> State:
    if state.status != "active":
        return state
    return replace(state, status="stopped", next_at=None, stop_reason=reason)


def overdue(state: State, now: datetime, grace_s: float) -> bool:
    """A step that should have fired more than `grace_s` ago has not (the engine was down)."""
    return (
        state.status == "active"
        and state.next_at is not None
        and now - state.next_at > timedelta(seconds=grace_s)
    )


def retry_delay(attempt: int, *, base_s: float, cap_s: float, jitter: float) -> float:
    """Exponential back-off with jitter: attempt 1 waits about base, then 2x, 4x … up to cap.

    `jitter` in [0, 1) (a random draw) spreads the wait over [d/2, d) ("equal jitter"), so
    retries of many messages after an outage do not arrive together.
    """
    if attempt < 1:
        attempt = 1
    ceiling = float(min(cap_s, base_s * 2.0 ** (attempt - 1)))
    return ceiling / 2 + (ceiling / 2) * min(max(jitter, 0.0), 0.999999)


RepeatDecision = Literal["escalating", "no_rule", "rate_limited", "renotify"]


def renotify(
    policy: Policy, state: State, now: datetime, last_renotified_at: datetime | None
) -> tuple[RepeatDecision, Step | None]:
    """What a repeat of the alarm does: nothing while the escalation is still active (its own
    steps are notifying people), nothing without an `on_repeat` rule, nothing again within
    `min_interval_s` of the last renotification; otherwise the `on_repeat` targets hear of
    it at once, as a step of their own that waits for nothing."""
    if state.status == "active":
        return "escalating", None
    rule = policy.on_repeat
    if rule is None or not rule.targets:
        return "no_rule", None
    if last_renotified_at is not None and now - last_renotified_at < timedelta(
        seconds=rule.min_interval_s
    ):
        return "rate_limited", None
    return "renotify", Step(rule.targets, 0)
