"""Which worker can take a visit: skill, service area and a free slot in the weekly calendar.

Pure: the caller loads the workers (with their calendars and the visits they already have) in
one query and passes them in. `fit` says why a worker cannot take a visit, so the butler's
board can show it and the butler can override knowingly; `choose` picks one automatically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from anxin.core.clock import SHANGHAI
from anxin.services.catalogue import Skill

# Time to travel between two homes in the same district; visits closer than this overlap.
TRAVEL = timedelta(minutes=30)


@dataclass(frozen=True)
class Shift:
    """One recurring working period of a worker's week, in Shanghai time (Monday = 0)."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Worker:
    id: str
    skills: frozenset[Skill]
    areas: frozenset[str]  # districts served, e.g. "徐汇区"
    week: tuple[Shift, ...]
    busy: tuple[tuple[datetime, datetime], ...] = ()  # visits already assigned (UTC-aware)


@dataclass(frozen=True)
class Visit:
    skills: frozenset[Skill]
    area: str
    start: datetime  # UTC-aware
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


class Unfit(StrEnum):
    MISSING_SKILL = "missing_skill"
    OUTSIDE_AREA = "outside_area"
    OFF_DUTY = "off_duty"
    DOUBLE_BOOKED = "double_booked"


def fit(visit: Visit, worker: Worker) -> list[Unfit]:
    """Every reason the worker cannot take the visit; empty when they can."""
    reasons: list[Unfit] = []
    if not visit.skills <= worker.skills:
        reasons.append(Unfit.MISSING_SKILL)
    if visit.area not in worker.areas:
        reasons.append(Unfit.OUTSIDE_AREA)
    if not _on_duty(visit, worker.week):
        reasons.append(Unfit.OFF_DUTY)
    if any(_overlaps(visit, start, end) for start, end in worker.busy):
        reasons.append(Unfit.DOUBLE_BOOKED)
    return reasons


def choose(visit: Visit, workers: Iterable[Worker]) -> Worker | None:
    """The fitting worker with the fewest visits that day (spreads the load), ties by id."""
    fitting = [w for w in workers if not fit(visit, w)]
    if not fitting:
        return None
    day = visit.start.astimezone(SHANGHAI).date()

    def load(worker: Worker) -> tuple[int, str]:
        same_day = sum(1 for start, _ in worker.busy if start.astimezone(SHANGHAI).date() == day)
        return same_day, worker.id

    return min(fitting, key=load)


# The butler may override the area and the calendar (a worker agrees to travel or to stay
# late), never the skill (a cleaner does not bathe an elder) nor a double booking.
OVERRIDABLE = frozenset({Unfit.OUTSIDE_AREA, Unfit.OFF_DUTY})


def override_blockers(visit: Visit, worker: Worker) -> list[Unfit]:
    return [reason for reason in fit(visit, worker) if reason not in OVERRIDABLE]


def _on_duty(visit: Visit, week: Sequence[Shift]) -> bool:
    start = visit.start.astimezone(SHANGHAI)
    end = visit.end.astimezone(SHANGHAI)
    if start.date() != end.date() and end.time() != time(0, 0):
        return False  # no shift runs past midnight
    finish = end.time() if start.date() == end.date() else time.max
    return any(
        s.weekday == start.weekday() and s.start <= start.time() and finish <= s.end for s in week
    )


def _overlaps(visit: Visit, start: datetime, end: datetime) -> bool:
    return visit.start < end + TRAVEL and start < visit.end + TRAVEL
