"""The vendored ECharts draws in a real browser (Debian's chromium), from anxin's own static
files: the bank's pledge page paints its dated value chart, the elder card last night's sleep."""

from __future__ import annotations

from typing import Any

import pytest

from anxin.demo.sleep import backfill_demo_mat
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


def test_the_elder_card_paints_last_nights_sleep_on_a_fresh_demo(
    live_server: LiveServer, page: Any
) -> None:
    with live_server.app.state.context.unit(actor="system:demo") as uow:  # as `anxin demo`
        backfill_demo_mat(uow, list(live_server.demo.device_tokens))
    browser_login(page, live_server.url, "son")
    page.goto(f"{live_server.url}/console/elders/{live_server.demo.elder_id}")
    assert painted_pixels(page, "#sleep-chart") > 1000
    heart = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#sleep-chart'))"
        ".getOption().series[0].data.filter(p => p[1] !== null).length"
    )
    assert heart > 80  # five-minute buckets of a night in bed
