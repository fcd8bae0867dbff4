"""Apache ECharts option dicts for the console's charts, and the element a page puts them in.

ECharts is vendored under ``/static/vendor/echarts`` (no CDN, no build step); ``charts.js``
finds every ``[data-chart]`` element and draws the option it carries. The pages keep a table
beside each chart, so they stay readable with JavaScript off.

Times go to the browser as the display timezone's wall-clock time written as if it were UTC,
and the option sets ``useUTC``: the axis and tooltips then show the reader the same hours as
the rest of the page (Asia/Shanghai by default), whatever timezone the browser is in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from anxin.core.clock import SHANGHAI, ensure_utc

Point = tuple[datetime, float | None]
Option = dict[str, Any]

# One palette across the console: value/ok green, alarm red, neutral grey.
GREEN, RED, BLUE, AMBER, ORANGE, GREY = (
    "#0b6e4f",
    "#b3261e",
    "#1a73e8",
    "#e8a10a",
    "#e8710a",
    "#6b7785",
)


# The title's line height, and where the legend and the plot start below a one-line title.
# A title too long for the element (a phone is ~340 px wide inside its card) wraps: charts.js
# gives it the element's width and moves the legend and the plot down by the extra lines.
TITLE_LINE = 18
# The plot starts below the legend (24 + 24 px) plus the axis names drawn above it (15 + 14).
LEGEND_TOP = 24
GRID_TOP = 84


def _title(text: str) -> Option:
    return {
        "text": text,
        "left": 0,
        "textStyle": {"fontSize": 14, "lineHeight": TITLE_LINE, "overflow": "break"},
    }


def axis_time(moment: datetime, tz: ZoneInfo = SHANGHAI) -> int:
    """Milliseconds of `moment`'s wall-clock time in `tz`, read as UTC (see the module doc)."""
    local = ensure_utc(moment).astimezone(tz)
    return int(local.replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Line:
    """One series. `dashed` for threshold lines; `area` fills under it; `step` draws a
    stepped line (a value that holds until the next one, such as a valuation)."""

    name: str
    points: Sequence[Point]
    colour: str
    y_axis: int = 0
    dashed: bool = False
    area: bool = False
    step: bool = False
    width: float = 2.0


@dataclass(frozen=True)
class Axis:
    name: str
    min: float | None = None
    max: float | None = None
    # ECharts label formatter template, e.g. "¥{value}"
    unit: str = ""
    hidden: bool = False  # a share (0-1) drawn under the lines needs no scale of its own


@dataclass(frozen=True)
class Band:
    """A shaded stretch of time on the chart (an out-of-bed event, an anomaly)."""

    name: str
    start: datetime
    end: datetime
    colour: str


def _series(line: Line, tz: ZoneInfo, kind: Literal["line"] = "line") -> Option:
    series: Option = {
        "name": line.name,
        "type": kind,
        "yAxisIndex": line.y_axis,
        "showSymbol": False,
        "connectNulls": False,  # a gap in the data is drawn as a gap
        "data": [[axis_time(at, tz), value] for at, value in line.points],
        "itemStyle": {"color": line.colour},
        "lineStyle": {
            "color": line.colour,
            "width": line.width,
            "type": "dashed" if line.dashed else "solid",
        },
    }
    if line.area:
        series["areaStyle"] = {"opacity": 0.15}
    if line.step:
        series["step"] = "end"
    return series


def time_chart(
    *,
    title: str,
    lines: Sequence[Line],
    axes: Sequence[Axis],
    bands: Sequence[Band] = (),
    zoom: bool = False,
    tz: ZoneInfo = SHANGHAI,
) -> Option:
    """A chart over a time axis: legend, tooltip on hover, one or two value axes, shaded
    bands on the first series, and a zoom slider for long series."""
    series = [_series(line, tz) for line in lines]
    if bands and series:
        series[0]["markArea"] = {
            "silent": False,
            "label": {"position": "insideTop"},  # inside the plot, clear of the axis names
            "data": [
                [
                    {
                        "name": band.name,
                        "xAxis": axis_time(band.start, tz),
                        "itemStyle": {"color": band.colour, "opacity": 0.25},
                    },
                    {"xAxis": axis_time(band.end, tz)},
                ]
                for band in bands
            ],
        }
    option: Option = {
        "useUTC": True,
        "animation": False,
        "title": _title(title),
        "legend": {"top": LEGEND_TOP, "type": "scroll"},
        "tooltip": {"trigger": "axis"},
        # containLabel: the axis labels (¥43,800,000) fit inside the element, never clipped
        "grid": {
            "left": 8,
            "right": 8,
            "top": GRID_TOP,
            "bottom": 48 if zoom else 8,
            "containLabel": True,
        },
        "xAxis": {"type": "time"},
        "yAxis": [_axis(axis, i) for i, axis in enumerate(axes)],
        "series": series,
    }
    if zoom:
        option["dataZoom"] = [{"type": "inside"}, {"type": "slider", "height": 18}]
    return option


def category_chart(
    *,
    title: str,
    categories: Sequence[str],
    lines: Sequence[tuple[str, Sequence[float], str]],
    axis: Axis,
    x_name: str = "",
) -> Option:
    """Lines over named steps (policy years): legend, tooltip, zoom for long tables."""
    return {
        "animation": False,
        "title": _title(title),
        "legend": {"top": LEGEND_TOP, "type": "scroll"},
        "tooltip": {"trigger": "axis"},
        # the axis name goes under the labels, centred (at the axis's end it ran off a phone),
        # between them and the zoom slider
        "grid": {"left": 8, "right": 24, "top": GRID_TOP, "bottom": 60, "containLabel": True},
        "xAxis": {
            "type": "category",
            "name": x_name,
            "nameLocation": "middle",
            "nameGap": 26,
            "data": list(categories),
        },
        "yAxis": [_axis(axis)],
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 18}],
        "series": [
            {
                "name": name,
                "type": "line",
                "showSymbol": False,
                "data": [round(v, 2) for v in values],
                "itemStyle": {"color": colour},
                "lineStyle": {"color": colour, "width": 2.5},
            }
            for name, values, colour in lines
        ],
    }


def stacked_bars(
    *, title: str, categories: Sequence[str], stacks: Sequence[tuple[str, Sequence[float], str]]
) -> Option:
    """Horizontal bars, one per category, each split into the named parts (outcomes)."""
    return {
        "animation": False,
        "title": _title(title),
        "legend": {"top": LEGEND_TOP, "type": "scroll"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 24, "top": GRID_TOP, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": list(categories), "inverse": True},
        "series": [
            {
                "name": name,
                "type": "bar",
                "stack": "total",
                "data": list(values),
                "itemStyle": {"color": colour},
                "label": {"show": True, "formatter": "{c}"},
            }
            for name, values, colour in stacks
        ],
    }


def _axis(axis: Axis, index: int = 0) -> Option:
    # The name sits above the axis line; centred there, the left axis's name runs off the
    # element's left edge on a phone. It grows inward instead: rightward on the left axis,
    # leftward on the right one.
    align = "left" if index == 0 else "right"
    out: Option = {
        "type": "value",
        "name": axis.name,
        "scale": True,
        "nameTextStyle": {"align": align},
    }
    if axis.min is not None:
        out["min"] = axis.min
    if axis.max is not None:
        out["max"] = axis.max
    if axis.unit:
        out["axisLabel"] = {"formatter": axis.unit}
    if axis.hidden:
        out["show"] = False
        out["scale"] = False
    return out


def chart_element(
    option: Mapping[str, Any], *, element_id: str, label: str, height_px: int = 320
) -> Markup:
    """The element `charts.js` draws into; the option travels as JSON in an attribute."""
    data = json.dumps(option, ensure_ascii=False, separators=(",", ":"))
    # Everything interpolated passes through escape(); the markup around it is ours.
    return Markup(  # noqa: S704
        f'<div class="chart" id="{escape(element_id)}" role="img" aria-label="{escape(label)}" '
        f'style="height:{int(height_px)}px" data-chart="{escape(data)}"></div>'
    )


SCRIPTS = Markup(
    '<script src="/static/vendor/echarts/echarts.min.js" defer></script>'
    '<script src="/static/charts.js" defer></script>'
)
