"""The loan's state machine: one path through every consumer-protection gate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.lending.lifecycle import MOVES, PATH, IllegalMove, Stage, advance


def test_the_path_to_disbursement_passes_every_gate_in_order():
    stage = Stage.APPLICATION
    for target in PATH[1:]:
        stage = advance(stage, target)
    assert stage == Stage.ACTIVE
    assert advance(Stage.ACTIVE, Stage.CLOSED) == Stage.CLOSED


@pytest.mark.parametrize(
    "gate", [Stage.DISCLOSED, Stage.RECORDED, Stage.COOLING_OFF, Stage.CALLBACK]
)
def test_skipping_a_gate_names_the_one_missing(gate):
    before = PATH[PATH.index(gate) - 1]
    after = PATH[PATH.index(gate) + 1]
    with pytest.raises(IllegalMove, match=f"must first be {gate}"):
        advance(before, after)


@given(st.sampled_from(list(Stage)), st.sampled_from(list(Stage)))
def test_only_listed_moves_are_allowed(current, target):
    if target in MOVES[current]:
        assert advance(current, target) == target
    else:
        with pytest.raises(IllegalMove):
            advance(current, target)


def test_disbursement_is_reachable_only_through_the_callback():
    # Which stages can reach DISBURSED in one step: only the callback.
    assert [s for s, targets in MOVES.items() if Stage.DISBURSED in targets] == [Stage.CALLBACK]
    # Cancelling is free until the money has gone out, never after.
    for stage in PATH[: PATH.index(Stage.DISBURSED)]:
        if stage != Stage.DECLINED:
            assert Stage.CANCELLED in MOVES[stage]
    assert Stage.CANCELLED not in MOVES[Stage.DISBURSED] | MOVES[Stage.ACTIVE]
    with pytest.raises(IllegalMove, match="can no longer change"):
        advance(Stage.CLOSED, Stage.ACTIVE)
