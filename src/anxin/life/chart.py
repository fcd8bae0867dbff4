"""A server-rendered SVG line chart: cash value against premiums paid, by policy year.

Inline SVG prints crisply and needs no JavaScript or build step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]
    colour: str
    css_class: str


def _nice_step(top: float, ticks: int = 5) -> float:
    raw = top / ticks if top > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * magnitude:
            return m * magnitude
    return 10.0 * magnitude


def _money_tick(value: float, lang: str) -> str:
    # Chinese readers count in 万 (1e4) and 亿 (1e8); English readers in k and M
    if lang == "zh":
        if value >= 1e8:
            return f"{value / 1e8:g}亿"
        if value >= 1e4:
            return f"{value / 1e4:g}万"
    else:
        if value >= 1e6:
            return f"{value / 1e6:g}M"
        if value >= 1e3:
            return f"{value / 1e3:g}k"
    return f"{value:g}"


def line_chart(
    years: Sequence[int],
    series: Sequence[Series],
    title: str,
    x_label: str,
    width: int = 760,
    height: int = 320,
    lang: str = "zh",
) -> str:
    """SVG markup; every point carries a <title> so hovering shows the exact amount."""
    left, right, top, bottom = 64, 16, 36, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((max(s.values, default=0.0) for s in series), default=0.0)
    step = _nice_step(highest)
    y_top = step * max(1, math.ceil(highest / step))
    first, last = (years[0], years[-1]) if years else (1, 1)
    span = max(last - first, 1)

    def sx(year: int) -> float:
        return left + (year - first) / span * plot_w

    def sy(value: float) -> float:
        return top + plot_h - value / y_top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="life-chart">',
        f'<text x="{left}" y="20" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= y_top + 1e-9:
        y = sy(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde3ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_money_tick(tick, lang)}</text>"
        )
        tick += step
    label_every = max(1, math.ceil(len(years) / 12))
    for k, year in enumerate(years):
        if k % label_every == 0 or k == len(years) - 1:
            parts.append(
                f'<text x="{sx(year):.1f}" y="{top + plot_h + 16}" font-size="11" '
                f'text-anchor="middle">{year}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    for n, s in enumerate(series):
        points = " ".join(
            f"{sx(yr):.1f},{sy(v):.1f}" for yr, v in zip(years, s.values, strict=True)
        )
        parts.append(
            f'<polyline class="{escape(s.css_class)}" fill="none" stroke="{escape(s.colour)}" '
            f'stroke-width="2.5" points="{points}"/>'
        )
        for yr, v in zip(years, s.values, strict=True):
            parts.append(
                f'<circle cx="{sx(yr):.1f}" cy="{sy(v):.1f}" r="2" fill="{escape(s.colour)}">'
                f"<title>{escape(s.label)} {yr}: {v:,.2f}</title></circle>"
            )
        # legend on the title line, right-aligned, clear of the plot
        lx = width - right - (len(series) - n) * 170
        parts.append(
            f'<rect x="{lx}" y="12" width="14" height="4" fill="{escape(s.colour)}"/>'
            f'<text x="{lx + 20}" y="18" font-size="12">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
