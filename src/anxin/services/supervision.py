"""Service-level targets as data, measured from what happened: alarms, visits, complaints.

Pure: the caller reads the facts (alarm history from `alerts.service`, bookings with their
check-in and check-out times, complaints) and passes them in with the moment of measurement.
Nothing here is typed in by a person: an on-time figure is a comparison of two recorded times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from anxin.core.clock import SHANGHAI


@dataclass(frozen=True)
class Targets:
    """The supervision system's promises; an organisation's contract may set other numbers."""

    alarm_ack_minutes: int = 5  # a person acknowledges an alarm within N minutes
    arrival_grace_minutes: int = 15  # a worker checks in at most N minutes after the booked start
    complaint_close_days: int = 3  # a complaint is closed within N days


@dataclass(frozen=True)
class AlarmFact:
    id: str
    raised_at: datetime
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class VisitFact:
    id: str
    provider_id: str
    start: datetime  # booked start
    minutes: int
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    checklist_complete: bool
    rating: int | None = None  # 1–5 stars from the elder or family

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class ComplaintFact:
    id: str
    provider_id: str
    opened_at: datetime
    closed_at: datetime | None


class Outcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # done, but after the target
    MISSED = "missed"  # not done and the target has passed
    PENDING = "pending"  # not done and the target has not passed yet: not counted


@dataclass
class Tally:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1

    @property
    def decided(self) -> int:
        return sum(n for outcome, n in self.counts.items() if outcome != Outcome.PENDING)

    @property
    def rate(self) -> Decimal | None:
        """Share on time among the decided, to 0.1 %; None when nothing is decided yet."""
        if not self.decided:
            return None
        share = Decimal(self.counts[Outcome.ON_TIME]) / Decimal(self.decided)
        return share.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def alarm_outcome(alarm: AlarmFact, targets: Targets, as_of: datetime) -> Outcome:
    due = alarm.raised_at + timedelta(minutes=targets.alarm_ack_minutes)
    return _outcome(alarm.acknowledged_at, due, as_of)


def visit_outcome(visit: VisitFact, targets: Targets, as_of: datetime) -> Outcome:
    """On time: checked in within the grace, checked out with the checklist complete. Missed:
    no check-in before the booked window closed, or never finished. Late: checked in after
    the grace, or finished without the checklist complete."""
    due = visit.start + timedelta(minutes=targets.arrival_grace_minutes)
    if visit.checked_in_at is None:
        return Outcome.MISSED if as_of >= visit.end else Outcome.PENDING
    if visit.checked_out_at is None:
        return Outcome.MISSED if as_of >= visit.end + timedelta(hours=12) else Outcome.PENDING
    if visit.checked_in_at > due or not visit.checklist_complete:
        return Outcome.LATE
    return Outcome.ON_TIME


def complaint_outcome(complaint: ComplaintFact, targets: Targets, as_of: datetime) -> Outcome:
    due = complaint.opened_at + timedelta(days=targets.complaint_close_days)
    return _outcome(complaint.closed_at, due, as_of)


def _outcome(done_at: datetime | None, due: datetime, as_of: datetime) -> Outcome:
    if done_at is not None:
        return Outcome.ON_TIME if done_at <= due else Outcome.LATE
    return Outcome.MISSED if as_of > due else Outcome.PENDING


@dataclass(frozen=True)
class ProviderScore:
    provider_id: str
    visits: Tally
    complaints: Tally
    mean_rating: Decimal | None
    score: Decimal | None  # 0–100, see `score`


@dataclass(frozen=True)
class MonthReport:
    month: date  # the first day, Shanghai calendar
    targets: Targets
    alarms: Tally
    visits: Tally
    complaints: Tally
    providers: list[ProviderScore]


def in_month(moment: datetime, month: date) -> bool:
    local = moment.astimezone(SHANGHAI)
    return (local.year, local.month) == (month.year, month.month)


def score(visits: Tally, complaints: Tally, mean_rating: Decimal | None) -> Decimal | None:
    """60 % punctuality (visits on time), 40 % satisfaction (mean stars out of 5), less 5
    points per complaint not closed within target; None before any visit is decided."""
    if visits.rate is None:
        return None
    satisfaction = (mean_rating / 5) if mean_rating is not None else visits.rate
    raw = 60 * visits.rate + 40 * satisfaction - 5 * complaints.counts[Outcome.MISSED]
    return max(Decimal(0), raw).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_report(
    *,
    month: date,
    targets: Targets,
    alarms: Iterable[AlarmFact],
    visits: Sequence[VisitFact],
    complaints: Sequence[ComplaintFact],
    as_of: datetime,
) -> MonthReport:
    """Everything whose reference time (raised, booked start, opened) falls in the month."""
    alarm_tally, visit_tally, complaint_tally = Tally(), Tally(), Tally()
    for alarm in alarms:
        if in_month(alarm.raised_at, month):
            alarm_tally.add(alarm_outcome(alarm, targets, as_of))
    per_visits: dict[str, Tally] = defaultdict(Tally)
    per_complaints: dict[str, Tally] = defaultdict(Tally)
    ratings: dict[str, list[int]] = defaultdict(list)
    for visit in visits:
        if in_month(visit.start, month):
            outcome = visit_outcome(visit, targets, as_of)
            visit_tally.add(outcome)
            per_visits[visit.provider_id].add(outcome)
            if visit.rating is not None:
                ratings[visit.provider_id].append(visit.rating)
    for complaint in complaints:
        if in_month(complaint.opened_at, month):
            outcome = complaint_outcome(complaint, targets, as_of)
            complaint_tally.add(outcome)
            per_complaints[complaint.provider_id].add(outcome)
    providers = []
    for provider_id in sorted(set(per_visits) | set(per_complaints)):
        stars = ratings[provider_id]
        mean = (
            (Decimal(sum(stars)) / len(stars)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if stars
            else None
        )
        v, c = per_visits[provider_id], per_complaints[provider_id]
        providers.append(ProviderScore(provider_id, v, c, mean, score(v, c, mean)))
    return MonthReport(month, targets, alarm_tally, visit_tally, complaint_tally, providers)
