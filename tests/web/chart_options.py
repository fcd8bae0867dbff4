"""Reads the ECharts options a page carries (``data-chart`` attributes), for assertions."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_CHART = re.compile(r'<div class="chart" id="([^"]+)"[^>]*data-chart="([^"]*)"')


def chart_options(page_html: str) -> dict[str, dict[str, Any]]:
    return {
        element_id: json.loads(html.unescape(data))
        for element_id, data in _CHART.findall(page_html)
    }


def series_named(option: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [s for s in option["series"] if s["name"] == name]
    assert len(matches) == 1, [s["name"] for s in option["series"]]
    found: dict[str, Any] = matches[0]
    return found
