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


# ------------------------------------------------ validation: every problem, in words
# Policies are typed by administrators; the exact problem list is what they read, so the
# tests below pin each message (and its `steps[i].notify[j].` address) rather than a fragment.


def problems_of(doc: object) -> list[str]:
    with pytest.raises(m.PolicyInvalid) as info:
        m.parse_policy(doc)
    # The exception's text is the problems joined, so a log line carries all of them.
    assert str(info.value) == "; ".join(info.value.problems)
    return info.value.problems


STEP = {"wait_s": 60, "notify": [{"roles": ["family"], "channels": ["sms"]}]}


def test_a_policy_must_be_an_object():
    assert problems_of(["not", "an", "object"]) == ["policy must be a JSON object"]


@pytest.mark.parametrize("code", [None, "", 5, True])
def test_a_policy_without_a_textual_code_is_refused(code):
    doc = {"steps": [STEP]} if code is None else {"code": code, "steps": [STEP]}
    # Only the code is named: the name falls back to it and must not add a second problem.
    assert problems_of(doc) == ["code: required"]


def test_the_code_argument_overrides_and_the_name_defaults_to_the_code():
    parsed = m.parse_policy({"steps": [STEP]}, code="falls")
    assert (parsed.code, parsed.name) == ("falls", "falls")
    named = m.parse_policy({"code": "x", "name": "Falls, night", "steps": [STEP]})
    assert named.name == "Falls, night"


def test_a_name_that_is_not_text_is_refused():
    assert problems_of({"code": "p", "name": 5, "steps": [STEP]}) == ["name: must be text"]


@pytest.mark.parametrize("steps", [None, [], {"wait_s": 1}])
def test_a_policy_without_steps_is_refused(steps):
    doc = {"code": "p"} if steps is None else {"code": "p", "steps": steps}
    assert problems_of(doc) == ["steps: at least one step is required"]


def test_every_bad_step_and_target_is_named_with_its_address():
    doc = {
        "code": "p",
        "steps": [
            "nope",
            {"wait_s": True, "notify": "sms"},
            {"wait_s": "5"},
            {"notify": ["x", {"roles": "family", "channels": ["sms"]}, "y"]},
            {
                "wait_s": 1,
                "notify": [
                    {"roles": ["family", 3], "channels": ["pigeon", "sms", "fax"]},
                    {"roles": [""], "channels": [], "purpose": "gossip"},
                ],
            },
        ],
    }
    known = "console, push, sms, voice, webhook"
    assert problems_of(doc) == [
        "steps[0]: must be an object",
        "steps[1].wait_s: must be a whole number of 0 or more",
        "steps[1].notify: at least one target is required",
        "steps[2].wait_s: must be a whole number of 0 or more",
        "steps[2].notify: at least one target is required",
        "steps[3].notify[0]: must be an object",
        "steps[3].notify[2]: must be an object",
        "steps[4].notify[0].roles: a non-empty list of roles is required",
        f"steps[4].notify[0].channels: unknown fax, pigeon; known: {known}",
        "steps[4].notify[1].roles: a non-empty list of roles is required",
        "steps[4].notify[1].channels: a non-empty list of channels is required",
        "steps[4].notify[1].purpose: must be one of alert, call_task",
    ]


def test_policy_level_settings_are_checked():
    doc = {
        "code": "p",
        "steps": [STEP],
        "repeat_last": -1,
        "receipt_timeout_s": 1.5,
        "escalate_on_undelivered": "sometimes",
        "stop_on_clear": "yes",
    }
    assert problems_of(doc) == [
        "repeat_last: must be a whole number of 0 or more",
        "receipt_timeout_s: must be a whole number of 0 or more",
        "escalate_on_undelivered: must be any, all or none",
        "stop_on_clear: must be true or false",
    ]


def test_defaults_and_given_settings_are_kept():
    bare = m.parse_policy({"code": "p", "steps": [{"notify": [{"roles": "a", "channels": "sms"}]}]})
    assert bare == m.Policy(
        code="p",
        name="p",
        steps=(m.Step((m.Target(("a",), ("sms",), "alert"),), 0),),
        repeat_last=0,
        receipt_timeout_s=60,
        escalate_on_undelivered="any",
        stop_on_clear=False,
    )
    full = m.parse_policy(
        {
            "code": "p",
            "steps": [
                {
                    "wait_s": 0,
                    "notify": [{"roles": ["nurse"], "channels": ["voice"], "purpose": "call_task"}],
                }
            ],
            "repeat_last": 3,
            "receipt_timeout_s": 30,
            "escalate_on_undelivered": "all",
            "stop_on_clear": True,
        }
    )
    assert full.steps[0].targets[0].purpose == "call_task"
    assert (full.repeat_last, full.receipt_timeout_s) == (3, 30)
    assert (full.escalate_on_undelivered, full.stop_on_clear) == ("all", True)


# ------------------------------------------------ the state machine, step by step


def test_each_transition_says_why_and_records_how_far_it_got():
    p = policy(repeat_last=1)
    first = m.start(p, T0)
    assert first.reason == "start"
    assert (first.state.step_index, first.state.repeats_done, first.state.fired) == (0, 0, 1)
    second = m.advance(p, first.state, at(120))  # the caller's default reason is a timeout
    assert second.reason == "timeout" and second.fire == p.steps[1]
    assert (second.state.step_index, second.state.repeats_done, second.state.fired) == (1, 0, 2)
    again = m.advance(p, second.state, at(180))
    assert again.reason == "repeat" and again.fire == p.steps[1]
    assert (again.state.step_index, again.state.repeats_done, again.state.fired) == (1, 1, 3)
    assert again.state.next_at == at(240)
    done = m.advance(p, again.state, at(240))
    assert done == m.Transition(
        m.State("exhausted", 1, 1, 3, next_at=None, stop_reason="exhausted"), None, "exhausted"
    )


def test_a_finished_escalation_never_moves_again():
    p = policy()
    stopped = m.stop(m.start(p, T0).state, "acknowledged")
    assert stopped.stop_reason == "acknowledged"
    assert m.stop(stopped, "resolved") is stopped  # the first reason stands
    for later in (m.advance(p, stopped, at(999)), m.tick(p, stopped, at(999), undelivered=1)):
        assert later == m.Transition(stopped, None, None)


def test_a_tick_before_anything_is_due_changes_nothing():
    p = policy()
    s = m.start(p, T0).state
    assert m.tick(p, s, at(119), delivered=1, outstanding=1) == m.Transition(s, None, None)


def test_overdue_only_past_the_grace():
    s = m.start(policy(), T0).state  # next step due at 120 s
    assert not m.overdue(s, at(150), grace_s=30)  # exactly the grace: not yet
    assert m.overdue(s, at(150.001), grace_s=30)


def test_retry_delay_clamps_attempt_and_jitter():
    # An attempt below 1 counts as the first; jitter outside [0, 1) is held inside it.
    assert m.retry_delay(0, base_s=2, cap_s=300, jitter=0) == 1.0
    assert m.retry_delay(-3, base_s=2, cap_s=300, jitter=0) == 1.0
    assert m.retry_delay(3, base_s=2, cap_s=300, jitter=0.5) == pytest.approx(4 + 2)
    assert m.retry_delay(3, base_s=2, cap_s=300, jitter=-1) == 4.0
    assert 7.99 < m.retry_delay(3, base_s=2, cap_s=300, jitter=5) < 8.0
