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


# Every text ECharts drew (title, legend, axis labels), as its box in the element's pixels;
# the title's lines are separate boxes once it wraps.
_TEXT_BOXES = """(selector) => {
  const el = document.querySelector(selector);
  const chart = echarts.getInstanceByDom(el);
  const out = [];
  chart.getZr().storage.getDisplayList(true).forEach((d) => {
    if (!d.style || typeof d.style.text !== 'string' || !d.style.text) return;
    const r = d.getBoundingRect().clone();
    r.applyTransform(d.getComputedTransform());
    let x0 = r.x, y0 = r.y, x1 = r.x + r.width, y1 = r.y + r.height;
    for (let n = d; n; n = n.parent || n.__hostTarget) {
      // the zoom slider's labels show only while a handle is dragged
      if (n.invisible || n.ignore) return;
      // a scrolling legend clips the items past its edge (its pager shows them)
      const clip = n.getClipPath && n.getClipPath();
      if (clip) {
        const c = clip.getBoundingRect().clone();
        c.applyTransform(n.getComputedTransform());
        x0 = Math.max(x0, c.x); y0 = Math.max(y0, c.y);
        x1 = Math.min(x1, c.x + c.width); y1 = Math.min(y1, c.y + c.height);
      }
    }
    if (x1 - x0 < 1 || y1 - y0 < 1) return;
    out.push({text: String(d.style.text), x: x0, y: y0, w: x1 - x0, h: y1 - y0});
  });
  return {width: el.clientWidth, boxes: out};
}"""


def _assert_fits(page: Any, selector: str) -> None:
    """Nothing the chart wrote runs past the element's edges, and no two texts (title lines,
    legend, axis names, labels) are drawn over each other."""
    page.wait_for_selector(f"{selector} canvas")
    drawn = page.evaluate(_TEXT_BOXES, selector)
    boxes = drawn["boxes"]
    assert boxes, f"nothing drawn in {selector}"
    for box in boxes:
        assert box["x"] >= -1 and box["x"] + box["w"] <= drawn["width"] + 1, (selector, box)
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"] + 1
                or b["x"] + b["w"] <= a["x"] + 1
                or a["y"] + a["h"] <= b["y"] + 1
                or b["y"] + b["h"] <= a["y"] + 1
            )
            assert apart, (selector, a, b)


def test_the_sleep_chart_fits_a_phone_in_english(live_server: LiveServer, page: Any) -> None:
    with live_server.app.state.context.unit(actor="system:demo") as uow:
        backfill_demo_mat(uow, list(live_server.demo.device_tokens))
    page.set_viewport_size({"width": 390, "height": 900})
    browser_login(page, live_server.url, "son")
    page.goto(f"{live_server.url}/console/elders/{live_server.demo.elder_id}?lang=en")
    _assert_fits(page, "#sleep-chart")


def test_long_chart_titles_wrap_inside_a_phone(live_server: LiveServer, page: Any) -> None:
    """The workbench's English titles are wider than a 390 px phone: they wrap inside the
    element, and the legend and plot move down below the title's last line."""
    page.set_viewport_size({"width": 390, "height": 900})
    browser_login(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/life/workbench?lang=en")
    for selector in ("#table-chart", "#fan-chart", "#guarantee-chart", "#ifrs-chart"):
        _assert_fits(page, selector)
    page.goto(
        f"{live_server.url}/life/illustration?issue_age=30&sex=F&pay_term=10"
        "&sum_assured=100000&lang=en"
    )
    page.locator("[data-chart]").first.locator("canvas").wait_for()
    selector = "#" + page.locator("[data-chart]").first.get_attribute("id")
    _assert_fits(page, selector)
