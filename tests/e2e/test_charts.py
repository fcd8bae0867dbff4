"""The vendored ECharts draws in a real browser (Debian's chromium), from anxin's own static
files: the bank's pledge page paints its dated value chart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer, browser_login, painted_pixels

pytestmark = pytest.mark.e2e


def test_the_pledge_chart_paints_from_the_vendored_library(
    live_server: LiveServer, page: Any
) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    browser_login(page, live_server.url, "bank")
    page.goto(
        f"{live_server.url}/console/collateral/pledges/{live_server.demo.collateral.pledge_id}"
    )
    assert painted_pixels(page, "#value-chart") > 1000
    # the legend names the three lines, drawn by ECharts from the option
    assert page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#value-chart'))"
        ".getOption().series.map(s => s.name)"
    )[-3:] == ["警戒线", "补仓线", "平仓线"]
    assert all(url.startswith(live_server.url) for url in requested), "no CDN, no internet"
