"""A text consultation in two real browsers: the elder asks, the doctor (seeing the elder's
card) takes it and answers, and each side's page shows the other's message without a reload,
over the live hub's server-sent events. And the doctor's queue page, live: a new request and a
change of triage show without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from anxin.alerts import service as alerts
from anxin.homecare import flows as care_flows
from anxin.homecare.models import Elder
from tests.conftest import DEMO_PASSWORDS, LiveServer, browser_login

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")  # type: ignore[attr-defined]
    browser_page = context.new_page()
    browser_page.set_default_timeout(15_000)
    yield browser_page
    context.close()


def test_elder_asks_by_text_and_the_thread_is_live_on_both_pages(
    live_server: LiveServer, page: object, second_page: object
) -> None:
    elder, doctor = page, second_page
    url = live_server.url
    browser_login(elder, url, "elder")
    elder.goto(f"{url}/consult")  # type: ignore[attr-defined]
    elder.fill("textarea[name=complaint]", "今天胸口有点闷")  # type: ignore[attr-defined]
    elder.click("#ask-form button[type=submit]")  # type: ignore[attr-defined]
    elder.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    consultation_url = elder.url  # type: ignore[attr-defined]
    cid = consultation_url.rsplit("/", 1)[1]

    browser_login(doctor, url, "doctor")
    doctor.goto(f"{url}/consult")  # type: ignore[attr-defined]
    doctor.click(f'tr[data-consultation-id="{cid}"] a')  # type: ignore[attr-defined]
    assert "青霉素 penicillin" in doctor.inner_text("#elder-card")  # type: ignore[attr-defined]
    doctor.click("#take")  # type: ignore[attr-defined]
    doctor.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    doctor.fill("#message-form textarea", "请量一下血压")  # type: ignore[attr-defined]
    doctor.click("#message-form button[type=submit]")  # type: ignore[attr-defined]

    # The elder's page, never reloaded, shows the doctor's answer and the new status.
    elder.locator("#messages li", has_text="请量一下血压").wait_for()  # type: ignore[attr-defined]
    assert elder.url == consultation_url  # type: ignore[attr-defined]
    assert "接诊中" in elder.inner_text("#status")  # type: ignore[attr-defined]

    doctor.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    elder.fill("#message-form textarea", "150/90")  # type: ignore[attr-defined]
    elder.click("#message-form button[type=submit]")  # type: ignore[attr-defined]
    doctor.locator("#messages li", has_text="150/90").wait_for()  # type: ignore[attr-defined]


def test_the_doctors_queue_updates_live_on_a_request_and_a_triage_change(
    live_server: LiveServer, page: object
) -> None:
    doctor, url = page, live_server.url
    browser_login(doctor, url, "doctor")
    doctor.goto(f"{url}/consult")  # type: ignore[attr-defined]
    doctor.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    with live_server.db.session_scope() as session:
        zhao = session.scalars(select(Elder).where(Elder.full_name.like("赵%"))).one()
        zhao_id, household_id = zhao.id, zhao.household_id

    # The neighbour's family asks through the API a minute later (after the demo's request:
    # the queue is oldest first among equals); the doctor's page, never reloaded, lists it.
    live_server.clock.advance(timedelta(minutes=1))
    auth = {"username": "neighbour-family", "password": DEMO_PASSWORDS["neighbour-family"]}
    token = httpx.post(f"{url}/api/v1/auth/token", data=auth).json()["access_token"]
    body = {"elder_id": zhao_id, "mode": "voice", "complaint": "夜里咳嗽 coughing at night"}
    r = httpx.post(f"{url}/api/v1/consult/consultations", json=body,
                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    row = f'#queue-rows tr[data-consultation-id="{cid}"]'
    doctor.wait_for_selector(f"{row}[data-priority='0']")  # type: ignore[attr-defined]
    first = "#queue-rows tr:first-child"
    assert doctor.get_attribute(first, "data-consultation-id") != cid  # type: ignore[attr-defined]

    # An alarm at 赵's home raises the request's priority: it moves to the top, live.
    with live_server.app.state.context.unit(actor="test:alarm") as uow:
        alerts.raise_alarm(
            uow=uow, organisation_id=live_server.demo.organisation_id, owner_kind="household",
            owner_id=household_id, source_kind="test", source_id="e2e-fall", alarm_type="fall",
            severity=alerts.Severity.CRITICAL, title="跌倒 Fall", details={},
            policy=care_flows.ALERT_POLICY, recipients=[], now=uow.now(),
        )  # fmt: skip
    doctor.wait_for_selector(f"{first}[data-consultation-id='{cid}'][data-priority='2']")  # type: ignore[attr-defined]
    assert "家中有未解除告警" in doctor.inner_text(first)  # type: ignore[attr-defined]


# The page's first refetch (on the stream's open) is answered with what the server had then,
# but held until the test lets it through: a change reported meanwhile must not be lost.
_HOLD_FIRST_REFETCH = """(() => {
  const realFetch = window.fetch.bind(window);
  let held = false;
  window.__messages = 0;
  window.fetch = (url, options) => {
    const stale = realFetch(url, options);
    if (held || !String(url).endsWith('/thread')) return stale;
    held = true;
    return new Promise((resolve) => { window.__release = () => resolve(stale); });
  };
  const RealEventSource = window.EventSource;
  window.EventSource = function (url, options) {
    const source = new RealEventSource(url, options);
    source.addEventListener('message', () => { window.__messages += 1; });
    return source;
  };
})();"""


def test_a_change_reported_while_the_page_refetches_is_not_lost(
    live_server: LiveServer, page: object
) -> None:
    url = live_server.url
    auth = {"username": "elder", "password": DEMO_PASSWORDS["elder"]}
    token = httpx.post(f"{url}/api/v1/auth/token", data=auth).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{url}/api/v1/consult/consultations"
    body = {"elder_id": live_server.demo.elder_id, "mode": "text", "complaint": "睡不好"}
    cid = httpx.post(api, json=body, headers=headers).json()["id"]

    browser_login(page, url, "elder")
    page.add_init_script(_HOLD_FIRST_REFETCH)  # type: ignore[attr-defined]
    page.goto(f"{url}/consult/{cid}")  # type: ignore[attr-defined]
    page.wait_for_function("typeof window.__release === 'function'")  # type: ignore[attr-defined]
    r = httpx.post(f"{api}/{cid}/messages", json={"body": "还有点咳嗽"}, headers=headers)
    assert r.status_code == 201, r.text
    page.wait_for_function("window.__messages > 0")  # type: ignore[attr-defined]
    page.evaluate("window.__release()")  # type: ignore[attr-defined]
    # The held answer predates the message; the page asks again and shows it.
    page.locator("#messages li", has_text="还有点咳嗽").wait_for()  # type: ignore[attr-defined]
