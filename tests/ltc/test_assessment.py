"""The Barthel index, the grading bands at their edges, and the two-assessor rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.ltc.assessment import (
    BARTHEL_SCORES,
    NATIONAL_2021,
    Band,
    BarthelItem,
    Consensus,
    Grade,
    InvalidScore,
    Level,
    Scores,
    barthel_index,
    cognition_score,
    grade,
    resolve,
)

FULL = {item.value: max(scores) for item, scores in BARTHEL_SCORES.items()}

barthel_items = st.fixed_dictionaries(
    {item.value: st.sampled_from(sorted(scores)) for item, scores in BARTHEL_SCORES.items()}
)


def test_barthel_is_100_for_independence_and_0_for_total_dependence() -> None:
    assert barthel_index(FULL) == 100
    assert barthel_index(dict.fromkeys(FULL, 0)) == 0


@given(barthel_items)
def test_barthel_is_a_multiple_of_five_within_0_100(items: dict[str, int]) -> None:
    total = barthel_index(items)
    assert 0 <= total <= 100 and total % 5 == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({**FULL, "bathing": 10}, "adl.bathing"),  # bathing scores 0 or 5 only
        ({k: v for k, v in FULL.items() if k != "stairs"}, "adl.stairs"),
        ({**FULL, "cooking": 5}, "adl.cooking"),
    ],
)
def test_barthel_names_the_bad_item(items: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidScore) as caught:
        barthel_index(items)
    assert caught.value.field == field


def test_cognition_items_are_bounded() -> None:
    items = {"time_orientation": 4, "person_orientation": 4, "space_orientation": 4, "memory": 5}
    with pytest.raises(InvalidScore, match=r"cognition\.memory"):
        cognition_score(items)


@pytest.mark.parametrize(
    ("adl", "level"),
    [(100, Level.INTACT), (95, Level.MILD), (65, Level.MILD), (60, Level.MODERATE),
     (45, Level.MODERATE), (40, Level.SEVERE), (0, Level.SEVERE)],
)  # fmt: skip
def test_adl_band_edges(adl: int, level: Level) -> None:
    assert NATIONAL_2021.level("adl", adl) is level


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (Scores(100, 16, 12), Grade.BASIC_NORMAL),
        (Scores(100, 12, 12), Grade.BASIC_NORMAL),  # mild cognition alone: still normal
        (Scores(100, 11, 12), Grade.MILD),  # moderate cognition
        (Scores(95, 16, 12), Grade.MILD),
        (Scores(60, 16, 12), Grade.MODERATE),  # the 71-year-old of the demo
        (Scores(60, 16, 7), Grade.SEVERE_I),  # moderate perception worsens it
        (Scores(40, 16, 12), Grade.SEVERE_I),
        (Scores(40, 15, 12), Grade.SEVERE_II),
        (Scores(0, 3, 12), Grade.SEVERE_III),
        (Scores(40, 16, 3), Grade.SEVERE_III),
    ],
)
def test_grade_combines_the_three_dimensions(scores: Scores, expected: Grade) -> None:
    assert grade(scores, NATIONAL_2021) is expected


@given(
    st.integers(0, 100), st.integers(0, 100), st.integers(0, 16), st.integers(0, 12),
    st.integers(0, 12),
)  # fmt: skip
def test_more_impairment_never_lowers_the_grade(
    adl: int, worse_adl: int, cognition: int, perception: int, worse_perception: int
) -> None:
    low, high = sorted((adl, worse_adl))
    better = grade(Scores(high, cognition, max(perception, worse_perception)), NATIONAL_2021)
    worse = grade(Scores(low, cognition, min(perception, worse_perception)), NATIONAL_2021)
    assert worse >= better


def test_bands_are_data_and_are_validated() -> None:
    assert NATIONAL_2021.provisional  # the published numbers are still to be checked
    gap = (Band(100, 100, Level.INTACT), Band(0, 98, Level.SEVERE))
    with pytest.raises(ValueError, match="gap"):
        replace(NATIONAL_2021, adl=gap)
    lower = tuple(tuple(Grade.BASIC_NORMAL for _ in row) for row in NATIONAL_2021.matrix)
    replace(NATIONAL_2021, matrix=lower)  # a flat matrix is monotone
    upside_down = tuple(reversed(NATIONAL_2021.matrix))
    with pytest.raises(ValueError, match="monotone"):
        replace(NATIONAL_2021, matrix=upside_down)


def test_a_city_may_grade_with_its_own_table() -> None:
    strict = replace(
        NATIONAL_2021,
        adl=(Band(100, 100, Level.INTACT), Band(81, 99, Level.MILD), Band(41, 80, Level.MODERATE),
             Band(0, 40, Level.SEVERE)),
    )  # fmt: skip
    assert grade(Scores(70, 16, 12), NATIONAL_2021) is Grade.MILD
    assert grade(Scores(70, 16, 12), strict) is Grade.MODERATE


def test_two_assessors_agree_or_a_third_decides() -> None:
    assert resolve(Grade.MODERATE, Grade.MODERATE).consensus is Consensus.AGREED
    pending = resolve(Grade.MODERATE, Grade.SEVERE_I)
    assert pending.consensus is Consensus.NEEDS_THIRD and pending.grade is None
    decided = resolve(Grade.MODERATE, Grade.SEVERE_I, Grade.MODERATE)
    assert decided.consensus is Consensus.ARBITRATED and decided.grade is Grade.MODERATE


def test_item_names_are_the_enum_values() -> None:
    assert {item.value for item in BarthelItem} == set(FULL)
