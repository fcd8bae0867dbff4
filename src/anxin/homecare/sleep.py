"""The nightly sleep report from a sleep mat (pure: samples in, report out, no I/O).

A night runs 20:00–10:00 Asia/Shanghai. The mat reports ``in_bed``, ``heart_rate``,
``respiration_rate`` and ``movement`` about once a minute. From those:

- **time in bed**: the sum of the in-bed stretches inside the night. A sample stands for the
  time until the next sample, but never longer than `max_gap_s` (a silent mat is *no data*,
  not "in bed"); `coverage_s` says how much of the night the data covers.
- **sleep onset**: the first moment in bed from which movement stays below `still_movement`
  for `settle_s` (without movement data: the start of the first in-bed stretch of at least
  `settle_s`). **Wake**: the end of the last in-bed stretch of at least `settle_s`.
- **out-of-bed events** between onset and wake: count, longest, each with start and end.
- **heart and respiration rate** while in bed: mean, minimum, maximum.
- **anomalies**: heart rate over `hr_high` or under `hr_low` sustained for `hr_sustain_s`;
  apnoea-like pauses (respiration at or under `rr_pause`), low respiration (under `rr_low`
  sustained for `rr_sustain_s`); a night-time out-of-bed event longer than `long_out_of_bed_s`.
- a **series** in `bucket_s` buckets for the chart (share in bed, mean HR, RR, movement).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT_START = time(20, 0)
NIGHT_END = time(10, 0)


@dataclass(frozen=True)
class Thresholds:
    max_gap_s: int = 600
    settle_s: int = 600
    still_movement: float = 30.0
    hr_high: float = 100.0
    hr_low: float = 40.0
    hr_sustain_s: int = 300
    rr_pause: float = 5.0
    rr_low: float = 10.0
    rr_sustain_s: int = 300
    long_out_of_bed_s: int = 20 * 60
    bucket_s: int = 300


@dataclass(frozen=True)
class MatSample:
    ts: datetime
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Anomaly:
    kind: str  # tachycardia | bradycardia | apnoea_like | low_respiration | long_out_of_bed
    start: datetime
    end: datetime
    duration_s: int
    value: float | None
    label_en: str
    label_zh: str


@dataclass(frozen=True)
class Vital:
    mean: float | None
    min: float | None
    max: float | None
    samples: int


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    in_bed: float | None  # share of the bucket's samples in bed
    heart_rate: float | None
    respiration_rate: float | None
    movement: float | None


@dataclass(frozen=True)
class SleepReport:
    night: date
    window_start: datetime
    window_end: datetime
    samples: int
    coverage_s: int
    time_in_bed_s: int
    sleep_onset: datetime | None
    wake: datetime | None
    sleep_period_s: int
    out_of_bed_count: int
    out_of_bed_longest_s: int
    out_of_bed: list[Span]
    heart_rate: Vital
    respiration_rate: Vital
    anomalies: list[Anomaly]
    series: list[SeriesPoint] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def night_window(night: date, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """The night that starts on the evening of `night`: 20:00 that day to 10:00 the next."""
    start = datetime.combine(night, NIGHT_START, tzinfo=tz)
    end = datetime.combine(night + timedelta(days=1), NIGHT_END, tzinfo=tz)
    return start, end


def last_night(now: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    """The most recent night that has begun: tonight after 20:00, else the previous evening."""
    local = now.astimezone(tz)
    return local.date() if local.time() >= NIGHT_START else local.date() - timedelta(days=1)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _in_bed(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return None


def _stretches(
    samples: Sequence[MatSample],
    predicate: Callable[[MatSample], bool | None],
    end_of_data: datetime,
    max_gap_s: int,
) -> list[Span]:
    """Maximal runs of samples where `predicate` is true. A run ends at the first sample where it
    is false, or at the last true sample plus at most `max_gap_s` when the data stops."""
    spans: list[Span] = []
    start: datetime | None = None
    last: datetime | None = None
    gap = timedelta(seconds=max_gap_s)
    for sample in samples:
        verdict = predicate(sample)
        if verdict is None:
            continue
        if start is not None and last is not None and sample.ts - last > gap:
            spans.append(Span(start, last + gap))  # the data stopped: close at the gap
            start = None
        if verdict and start is None:
            start = sample.ts
        elif not verdict and start is not None:
            spans.append(Span(start, sample.ts))
            start = None
        last = sample.ts
    if start is not None and last is not None:
        spans.append(Span(start, min(last + gap, end_of_data)))
    return spans


def _vital(values: list[float]) -> Vital:
    if not values:
        return Vital(None, None, None, 0)
    return Vital(round(fmean(values), 1), min(values), max(values), len(values))


def _covered(samples: Sequence[MatSample], end: datetime, max_gap_s: int) -> int:
    if not samples:
        return 0
    total = 0.0
    for here, there in zip(samples, [*samples[1:], None], strict=True):
        until = there.ts if there is not None else end
        total += min((until - here.ts).total_seconds(), max_gap_s)
    return int(total)


def _vital_anomalies(
    samples: Sequence[MatSample], end: datetime, limits: Thresholds
) -> list[Anomaly]:
    def when(key: str, test: Callable[[float], bool]) -> Callable[[MatSample], bool | None]:
        def predicate(sample: MatSample) -> bool | None:
            if _in_bed(sample.values.get("in_bed")) is False:
                return False
            value = _num(sample.values.get(key))
            return None if value is None else test(value)

        return predicate

    def extreme(span: Span, key: str, pick: Callable[[list[float]], float]) -> float | None:
        inside = [
            v
            for s in samples
            if span.start <= s.ts < span.end and (v := _num(s.values.get(key))) is not None
        ]
        return pick(inside) if inside else None

    out: list[Anomaly] = []
    checks: list[tuple[str, str, Callable[[float], bool], int, Callable[[list[float]], float], str, str]] = [  # noqa: E501
        ("tachycardia", "heart_rate", lambda v: v > limits.hr_high, limits.hr_sustain_s, max,
         f"heart rate over {limits.hr_high:g} bpm", f"心率持续高于 {limits.hr_high:g} 次/分"),
        ("bradycardia", "heart_rate", lambda v: 0 < v < limits.hr_low, limits.hr_sustain_s, min,
         f"heart rate under {limits.hr_low:g} bpm", f"心率持续低于 {limits.hr_low:g} 次/分"),
        ("apnoea_like", "respiration_rate", lambda v: v <= limits.rr_pause, 0, min,
         "breathing pause (apnoea-like)", "呼吸暂停样事件"),
        ("low_respiration", "respiration_rate", lambda v: limits.rr_pause < v < limits.rr_low,
         limits.rr_sustain_s, min, f"respiration under {limits.rr_low:g}/min",
         f"呼吸频率持续低于 {limits.rr_low:g} 次/分"),
    ]  # fmt: skip
    for kind, key, test, sustain_s, pick, en, zh in checks:
        for span in _stretches(samples, when(key, test), end, limits.max_gap_s):
            if span.seconds >= sustain_s:
                value = extreme(span, key, pick)
                out.append(Anomaly(kind, span.start, span.end, span.seconds, value, en, zh))
    return out


def _bucket_series(
    samples: Sequence[MatSample], start: datetime, end: datetime, bucket_s: int
) -> list[SeriesPoint]:
    buckets: dict[int, list[MatSample]] = {}
    for sample in samples:
        index = int((sample.ts - start).total_seconds() // bucket_s)
        buckets.setdefault(index, []).append(sample)
    count = int((end - start).total_seconds() // bucket_s)
    points: list[SeriesPoint] = []
    for index in range(count):
        group = buckets.get(index, [])

        def mean(key: str, group: list[MatSample] = group) -> float | None:
            values = [
                v
                for s in group
                if _in_bed(s.values.get("in_bed")) is not False
                and (v := _num(s.values.get(key))) is not None
                and (key == "movement" or v > 0)
            ]
            return round(fmean(values), 1) if values else None

        beds = [b for s in group if (b := _in_bed(s.values.get("in_bed"))) is not None]
        points.append(
            SeriesPoint(
                start=start + timedelta(seconds=index * bucket_s),
                in_bed=round(sum(beds) / len(beds), 2) if beds else None,
                heart_rate=mean("heart_rate"),
                respiration_rate=mean("respiration_rate"),
                movement=mean("movement"),
            )
        )
    return points


def sleep_report(
    samples: Sequence[MatSample], *, night: date, limits: Thresholds | None = None
) -> SleepReport:
    """The report for `night` from the mat's samples (any order; outside the window ignored)."""
    limits = limits or Thresholds()
    start, end = (moment.astimezone(UTC) for moment in night_window(night))
    inside = sorted((s for s in samples if start <= s.ts < end), key=lambda s: s.ts)
    beds = _stretches(inside, lambda s: _in_bed(s.values.get("in_bed")), end, limits.max_gap_s)
    time_in_bed = sum(span.seconds for span in beds)
    settled = [span for span in beds if span.seconds >= limits.settle_s]

    onset: datetime | None = None
    wake: datetime | None = None
    if settled:
        wake = settled[-1].end
        has_movement = any(_num(s.values.get("movement")) is not None for s in inside)
        if has_movement:
            for still in _stretches(
                inside,
                lambda s: (
                    _in_bed(s.values.get("in_bed")) is True
                    and (_num(s.values.get("movement")) or 0.0) < limits.still_movement
                ),
                end,
                limits.max_gap_s,
            ):
                if still.seconds >= limits.settle_s:
                    onset = still.start
                    break
        if onset is None:
            onset = settled[0].start
        if onset >= wake:
            onset = settled[0].start

    out_of_bed: list[Span] = []
    if onset is not None and wake is not None:
        # Only what the mat reported as out of bed counts; a silent mat is missing data.
        up = _stretches(
            inside,
            lambda s: None if (b := _in_bed(s.values.get("in_bed"))) is None else not b,
            end,
            limits.max_gap_s,
        )
        out_of_bed = [span for span in up if span.start >= onset and span.end <= wake]

    in_bed_samples = [s for s in inside if _in_bed(s.values.get("in_bed")) is True]
    heart = [
        v for s in in_bed_samples if (v := _num(s.values.get("heart_rate"))) is not None and v > 0
    ]
    breath = [
        v
        for s in in_bed_samples
        if (v := _num(s.values.get("respiration_rate"))) is not None and v > 0
    ]
    anomalies = _vital_anomalies(inside, end, limits)
    for span in out_of_bed:
        if span.seconds >= limits.long_out_of_bed_s:
            anomalies.append(
                Anomaly(
                    "long_out_of_bed",
                    span.start,
                    span.end,
                    span.seconds,
                    None,
                    f"out of bed for {span.seconds // 60} minutes at night",
                    f"夜间离床 {span.seconds // 60} 分钟",
                )
            )
    anomalies.sort(key=lambda a: a.start)
    return SleepReport(
        night=night,
        window_start=start,
        window_end=end,
        samples=len(inside),
        coverage_s=_covered(inside, end, limits.max_gap_s),
        time_in_bed_s=time_in_bed,
        sleep_onset=onset,
        wake=wake,
        sleep_period_s=int((wake - onset).total_seconds()) if onset and wake else 0,
        out_of_bed_count=len(out_of_bed),
        out_of_bed_longest_s=max((s.seconds for s in out_of_bed), default=0),
        out_of_bed=out_of_bed,
        heart_rate=_vital(heart),
        respiration_rate=_vital(breath),
        anomalies=anomalies,
        series=_bucket_series(inside, start, end, limits.bucket_s),
    )
