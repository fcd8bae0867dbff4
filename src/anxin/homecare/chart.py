"""The sleep chart drawn on the server as inline SVG: no build step, prints well, readable
offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from anxin.core.clock import to_local
from anxin.homecare.sleep import SeriesPoint, SleepReport

WIDTH, HEIGHT = 840, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 36
HR_RANGE = (30.0, 130.0)  # bpm, left axis
RR_RANGE = (0.0, 40.0)  # breaths/min, right axis


def _x(index: int, count: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * index / max(count, 1)


def _y(value: float, lo: float, hi: float) -> float:
    share = (min(max(value, lo), hi) - lo) / (hi - lo)
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def _polyline(points: Sequence[SeriesPoint], field: str, lo: float, hi: float) -> str:
    """Segments break where data is missing, so a gap is never drawn as a straight line."""
    paths: list[str] = []
    current: list[str] = []
    for index, point in enumerate(points):
        value = getattr(point, field)
        if value is None:
            if len(current) > 1:
                paths.append(" ".join(current))
            current = []
            continue
        current.append(f"{_x(index, len(points)) + 2:.1f},{_y(value, lo, hi):.1f}")
    if len(current) > 1:
        paths.append(" ".join(current))
    return "".join(
        f'<polyline class="series-{field.replace("_", "-")}" points="{p}"/>' for p in paths
    )


def sleep_chart(report: SleepReport, *, labels: dict[str, str]) -> Markup:
    """Heart and respiration rate through the night over a band showing time in bed."""
    points = report.series
    count = len(points)
    step = (WIDTH - LEFT - RIGHT) / max(count, 1)
    bed = "".join(
        f'<rect class="in-bed" x="{_x(i, count):.1f}" y="{HEIGHT - BOTTOM - 10}" '
        f'width="{step + 0.5:.1f}" height="10" opacity="{p.in_bed:.2f}"/>'
        for i, p in enumerate(points)
        if p.in_bed
    )
    ticks = []
    for i, point in enumerate(points):
        local = to_local(point.start)
        if local.minute == 0 and local.hour % 2 == 0:
            x = _x(i, count)
            ticks.append(
                f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{local:%H:%M}</text>"
            )
    axes = "".join(
        f'<text x="{LEFT - 6}" y="{_y(v, *HR_RANGE) + 4:.1f}" text-anchor="end">{v:.0f}</text>'
        for v in (40, 60, 80, 100, 120)
    ) + "".join(
        f'<text x="{WIDTH - RIGHT + 6}" y="{_y(v, *RR_RANGE) + 4:.1f}">{v:.0f}</text>'
        for v in (10, 20, 30)
    )
    marks = "".join(
        _anomaly_mark(report, a.start, a.end, escape(a.label_en)) for a in report.anomalies
    )
    title = escape(labels.get("title", "Sleep"))
    legend = (
        f'<text class="legend hr" x="{LEFT}" y="{TOP - 4}">— '
        f"{escape(labels.get('hr', 'HR'))}</text>"
        f'<text class="legend rr" x="{LEFT + 180}" y="{TOP - 4}">— '
        f"{escape(labels.get('rr', 'RR'))}</text>"
        f'<text class="legend bed" x="{LEFT + 380}" y="{TOP - 4}">▮ '
        f"{escape(labels.get('bed', 'in bed'))}</text>"
    )
    # Every interpolated value is a number or passed through escape(): the markup is ours.
    return Markup(  # noqa: S704
        f'<svg class="sleep-chart" viewBox="0 -4 {WIDTH} {HEIGHT + 4}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(ticks)}{bed}{marks}"
        f"{_polyline(points, 'heart_rate', *HR_RANGE)}"
        f"{_polyline(points, 'respiration_rate', *RR_RANGE)}{axes}{legend}</svg>"
    )


def _anomaly_mark(report: SleepReport, start: datetime, end: datetime, label: str) -> str:
    if not report.series:
        return ""
    origin = report.series[0].start
    bucket = timedelta(seconds=300)
    first = int((start - origin) / bucket)
    last = max(first + 1, int((end - origin) / bucket))
    count = len(report.series)
    x1, x2 = _x(max(first, 0), count), _x(min(last, count), count)
    return (
        f'<rect class="anomaly" x="{x1:.1f}" y="{TOP}" width="{max(x2 - x1, 2):.1f}" '
        f'height="{HEIGHT - TOP - BOTTOM}"><title>{label}</title></rect>'
    )
