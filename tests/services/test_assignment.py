"""Assignment by skill, area and free slot; the reasons a worker does not fit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anxin.services.assignment import (
    Shift,
    Unfit,
    Visit,
    Worker,
    choose,
    fit,
    override_blockers,
)
from anxin.services.catalogue import Skill

WEEKDAYS = tuple(Shift(day, time(8, 0), time(18, 0)) for day in range(5))
# Tuesday 8 December 2026, 11:00 in Shanghai.
TUESDAY_11 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
COOK_VISIT = Visit(frozenset({Skill.COOKING}), "徐汇区", TUESDAY_11, 120)


def _worker(
    wid: str, *skills: Skill, areas: tuple[str, ...] = ("徐汇区",), busy: int = 0
) -> Worker:
    visits = tuple(
        (TUESDAY_11 - timedelta(hours=3 + 3 * i), TUESDAY_11 - timedelta(hours=2 + 3 * i))
        for i in range(busy)
    )
    return Worker(wid, frozenset(skills), frozenset(areas), WEEKDAYS, visits)


def test_cook_goes_to_the_fitting_worker_with_the_lightest_day() -> None:
    cleaner = _worker("a-cleaner", Skill.CLEANING)
    far_cook = _worker("b-cook", Skill.COOKING, areas=("浦东新区",))
    busy_cook = _worker("c-cook", Skill.COOKING, Skill.CLEANING, busy=1)
    free_cook = _worker("d-cook", Skill.COOKING)
    assert fit(COOK_VISIT, cleaner) == [Unfit.MISSING_SKILL]
    assert fit(COOK_VISIT, far_cook) == [Unfit.OUTSIDE_AREA]
    assert choose(COOK_VISIT, [cleaner, far_cook, busy_cook, free_cook]) == free_cook
    assert choose(COOK_VISIT, [cleaner, far_cook, busy_cook]) == busy_cook
    assert choose(COOK_VISIT, [cleaner, far_cook]) is None


def test_off_duty_double_booked_and_travel_time() -> None:
    cook = _worker("cook", Skill.COOKING)
    saturday = Visit(COOK_VISIT.skills, "徐汇区", TUESDAY_11 + timedelta(days=4), 120)
    assert fit(saturday, cook) == [Unfit.OFF_DUTY]
    late = Visit(COOK_VISIT.skills, "徐汇区", TUESDAY_11 + timedelta(hours=6), 120)  # 17:00–19:00
    assert fit(late, cook) == [Unfit.OFF_DUTY]
    # A visit ending at 10:45 elsewhere leaves 15 minutes to travel: too little.
    tight = Worker(
        "t",
        cook.skills,
        cook.areas,
        WEEKDAYS,
        ((TUESDAY_11 - timedelta(hours=2), TUESDAY_11 - timedelta(minutes=15)),),
    )
    assert fit(COOK_VISIT, tight) == [Unfit.DOUBLE_BOOKED]
    roomy = Worker(
        "r",
        cook.skills,
        cook.areas,
        WEEKDAYS,
        ((TUESDAY_11 - timedelta(hours=2), TUESDAY_11 - timedelta(minutes=30)),),
    )
    assert fit(COOK_VISIT, roomy) == []


def test_butler_overrides_area_and_calendar_but_not_skill_or_double_booking() -> None:
    far = _worker("far", Skill.COOKING, areas=("浦东新区",))
    assert override_blockers(COOK_VISIT, far) == []
    assert override_blockers(COOK_VISIT, _worker("x", Skill.CLEANING)) == [Unfit.MISSING_SKILL]


_skills = st.frozensets(st.sampled_from(list(Skill)), min_size=1, max_size=3)
_workers = st.lists(
    st.builds(
        Worker,
        id=st.integers(0, 999).map(str),
        skills=_skills,
        areas=st.frozensets(st.sampled_from(["徐汇区", "静安区", "浦东新区"]), min_size=1),
        week=st.lists(
            st.builds(
                Shift,
                weekday=st.integers(0, 6),
                start=st.sampled_from([time(7), time(8), time(13)]),
                end=st.sampled_from([time(12), time(18), time(21)]),
            ),
            max_size=4,
        ).map(tuple),
        busy=st.lists(
            st.integers(0, 7 * 24 * 4).map(
                lambda q: (
                    TUESDAY_11 + timedelta(minutes=15 * q),
                    TUESDAY_11 + timedelta(minutes=15 * q + 90),
                )
            ),
            max_size=3,
        ).map(tuple),
    ),
    max_size=4,
)


# The machine is shared: judge the property, not the speed of drawing examples.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    workers=_workers,
    skills=_skills,
    area=st.sampled_from(["徐汇区", "静安区", "浦东新区"]),
    quarter=st.integers(0, 7 * 24 * 4),
    minutes=st.sampled_from([15, 60, 120, 240]),
)
def test_chosen_worker_fits_and_none_means_nobody_does(
    workers: list[Worker], skills: frozenset[Skill], area: str, quarter: int, minutes: int
) -> None:
    visit = Visit(skills, area, TUESDAY_11 + timedelta(minutes=15 * quarter), minutes)
    chosen = choose(visit, workers)
    if chosen is None:
        assert all(fit(visit, w) for w in workers)
    else:
        assert fit(visit, chosen) == []
        assert skills <= chosen.skills and area in chosen.areas
        assert all(
            visit.end + timedelta(minutes=30) <= s or e + timedelta(minutes=30) <= visit.start
            for s, e in chosen.busy
        )
