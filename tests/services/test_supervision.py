"""Supervision figures against hand-built event histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from anxin.services.supervision import (
    AlarmFact,
    ComplaintFact,
    Outcome,
    Targets,
    VisitFact,
    month_report,
)

T = Targets(alarm_ack_minutes=5, arrival_grace_minutes=15, complaint_close_days=3)
DEC = date(2026, 12, 1)
# 09:00 on Tuesday 8 December 2026 in Shanghai.
T0 = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
AS_OF = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def visit(
    vid: str,
    provider: str,
    checked_in: float | None,
    checked_out: float | None,
    *,
    checklist: bool = True,
    rating: int | None = None,
    start: datetime = T0,
) -> VisitFact:
    return VisitFact(
        vid, provider, start, 120,
        None if checked_in is None else start + m(checked_in),
        None if checked_out is None else start + m(checked_out),
        checklist, rating,
    )  # fmt: skip


def test_alarms_on_time_late_missed_pending_and_other_month() -> None:
    alarms = [
        AlarmFact("on-time", T0, T0 + m(4)),
        AlarmFact("exactly", T0, T0 + m(5)),
        AlarmFact("late", T0, T0 + m(12)),
        AlarmFact("missed", T0, None),
        AlarmFact("pending", AS_OF - m(2), None),
        # 23:50 on 30 November in Shanghai: November's, not counted.
        AlarmFact("november", datetime(2026, 11, 30, 15, 50, tzinfo=UTC), None),
        # 00:10 on 1 December in Shanghai is December's, though still 30 November in UTC.
        AlarmFact("december", datetime(2026, 11, 30, 16, 10, tzinfo=UTC), T0),
    ]
    report = month_report(
        month=DEC, targets=T, alarms=alarms, visits=[], complaints=[], as_of=AS_OF
    )
    assert report.alarms.counts == {
        Outcome.ON_TIME: 2, Outcome.LATE: 2, Outcome.MISSED: 1, Outcome.PENDING: 1
    }  # fmt: skip
    assert report.alarms.rate == Decimal("0.400")


def test_visits_and_provider_scores() -> None:
    visits = [
        visit("on-time", "p1", 10, 125, rating=5),
        visit("grace-edge", "p1", 15, 130, rating=4),
        visit("late-arrival", "p1", 40, 150, rating=3),
        visit("checklist-missing", "p2", 0, 120, checklist=False),
        visit("no-show", "p2", None, None),
        visit("never-out", "p2", 5, None),
        visit("tomorrow", "p2", None, None, start=AS_OF + timedelta(days=1)),
        visit("in-progress", "p2", 5, None, start=AS_OF - m(30)),
    ]
    complaints = [
        ComplaintFact("closed", "p2", T0, T0 + timedelta(days=2)),
        ComplaintFact("open-past-target", "p2", T0, None),
        ComplaintFact("closed-late", "p1", T0, T0 + timedelta(days=4)),
        ComplaintFact("open-within", "p1", AS_OF - timedelta(days=1), None),
    ]
    report = month_report(
        month=DEC, targets=T, alarms=[], visits=visits, complaints=complaints, as_of=AS_OF
    )
    assert report.visits.counts == {
        Outcome.ON_TIME: 2, Outcome.LATE: 2, Outcome.MISSED: 2, Outcome.PENDING: 2
    }  # fmt: skip
    assert report.complaints.counts == {
        Outcome.ON_TIME: 1, Outcome.LATE: 1, Outcome.MISSED: 1, Outcome.PENDING: 1
    }  # fmt: skip
    p1, p2 = report.providers
    assert (p1.provider_id, p1.visits.rate, p1.mean_rating) == (
        "p1",
        Decimal("0.667"),
        Decimal("4.00"),
    )
    # 60 × 0.667 + 40 × 4/5 = 72.0; the late-closed complaint costs nothing, an overdue one 5.
    assert p1.score == Decimal("72.0")
    assert (p2.visits.rate, p2.mean_rating) == (Decimal("0.000"), None)
    assert p2.score == Decimal("0.0")  # 0 punctuality, no rating → 0, less 5, floored at 0


@given(
    acks=st.lists(st.one_of(st.none(), st.integers(0, 60 * 24 * 40)), max_size=30),
    as_of=st.integers(0, 60 * 24 * 40),
)
def test_every_alarm_of_the_month_is_counted_once(acks: list[int | None], as_of: int) -> None:
    alarms = [
        AlarmFact(str(i), T0 + m(i * 97), None if a is None else T0 + m(i * 97 + a))
        for i, a in enumerate(acks)
    ]
    report = month_report(
        month=DEC, targets=T, alarms=alarms, visits=[], complaints=[], as_of=T0 + m(as_of)
    )
    assert sum(report.alarms.counts.values()) == len(acks)  # all raised in December
    rate = report.alarms.rate
    assert rate is None or Decimal(0) <= rate <= Decimal(1)
