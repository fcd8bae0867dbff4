"""The pure escalation state machine and back-off maths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from anxin.alerts import escalation as m
from anxin.alerts.policies import CATALOGUE

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def policy(**overrides: object) -> m.Policy:
    doc = {
        "code": "p",
        "steps": [
            {"wait_s": 120, "notify": [{"roles": ["family"], "channels": ["sms"]}]},
            {"wait_s": 60, "notify": [{"roles": ["emergency_contact"], "channels": ["voice"]}]},
        ],
        **overrides,
    }
    return m.parse_policy(doc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_every_catalogue_policy_is_valid():
    for doc in CATALOGUE:
        parsed = m.parse_policy(doc)
        assert m.parse_policy(m.policy_document(parsed)) == parsed


def test_start_fires_the_first_step_and_waits():
    p = policy()
    t = m.start(p, T0)
    assert t.fire == p.steps[0]
    assert t.state.step_index == 0 and t.state.fired == 1 and t.state.next_at == at(120)
    assert m.tick(p, t.state, at(119)).fire is None
    later = m.tick(p, t.state, at(120))
    assert later.fire == p.steps[1] and later.reason == "timeout"
    assert later.state.next_at == at(180)
    done = m.tick(p, later.state, at(180))
    assert done.fire is None and done.state.status == "exhausted"
    assert m.tick(p, done.state, at(1000)).reason is None


def test_stop_ends_it():
    p = policy()
    state = m.stop(m.start(p, T0).state, "acknowledged")
    assert state.status == "stopped" and state.next_at is None
    assert m.tick(p, state, at(500)).fire is None


def test_undelivered_escalates_at_once_by_rule():
    p = policy()
    s = m.start(p, T0).state
    t = m.tick(p, s, at(5), delivered=2, undelivered=1)
    assert t.fire == p.steps[1] and t.reason == "undelivered"
    strict = policy(escalate_on_undelivered="all")
    s = m.start(strict, T0).state
    assert m.tick(strict, s, at(5), delivered=2, undelivered=1).fire is None
    assert m.tick(strict, s, at(5), undelivered=3).reason == "undelivered"
    never = policy(escalate_on_undelivered="none")
    assert m.tick(never, m.start(never, T0).state, at(5), undelivered=3).fire is None


def test_the_last_step_repeats():
    p = policy(repeat_last=2)
    s = m.start(p, T0).state
    fired = []
    now = T0
    while s.next_at is not None:
        now = s.next_at
        t = m.tick(p, s, now)
        fired.append(t.reason)
        s = t.state
    assert fired[:4] == ["timeout", "repeat", "repeat", "exhausted"]
    assert s.status == "exhausted" and s.fired == 4


def test_overdue():
    s = m.start(policy(), T0).state
    assert not m.overdue(s, at(140), grace_s=30)
    assert m.overdue(s, at(151), grace_s=30)
    assert not m.overdue(m.stop(s, "x"), at(1000), grace_s=30)


def test_invalid_policies_name_every_problem():
    with pytest.raises(m.PolicyInvalid) as info:
        m.parse_policy(
            {
                "code": "bad",
                "steps": [
                    {"wait_s": -1, "notify": [{"roles": [], "channels": ["pigeon"]}]},
                    "nope",
                ],
                "escalate_on_undelivered": "sometimes",
            }
        )
    text = str(info.value)
    for fragment in ("wait_s", "roles", "pigeon", "steps[1]", "escalate_on_undelivered"):
        assert fragment in text
    with pytest.raises(m.PolicyInvalid):
        m.parse_policy({"code": "x", "steps": []})
    with pytest.raises(m.PolicyInvalid):
        m.parse_policy(["not", "an", "object"])


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 10, 30])
def test_retry_delay_is_exponential_with_jitter_and_capped(attempt):
    ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
    low = m.retry_delay(attempt, base_s=2, cap_s=300, jitter=0.0)
    high = m.retry_delay(attempt, base_s=2, cap_s=300, jitter=0.999999)
    assert low == pytest.approx(ceiling / 2)
    assert ceiling / 2 <= high < ceiling + 1e-9
    assert m.retry_delay(attempt + 1, base_s=2, cap_s=300, jitter=0) >= low
