"""Home services in a real browser: the elder taps "cleaning" on her large-type page, the butler
assigns it on the board, the worker checks in, ticks the checklist and checks out on a
phone-sized page, and her son rates the visit; the month's report counts it on time. A fall at
the same home puts an emergency-help request on top of the butler's board."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import LiveServer, browser_login
from tests.e2e.test_care_alarms import _radar_token

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#logout")
    page.wait_for_url("**/login")


def test_elder_books_cleaning_butler_assigns_worker_visits_family_rates(
    live_server: LiveServer, page, chromium
) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    # The elder: large type, a day and a time, one tap on the service.
    browser_login(page, url, "elder")
    page.goto(f"{url}/services")
    assert page.locator("body.large").count() == 1
    page.fill("input[name=day]", "2026-11-29")  # the live clock's day (10:00 in Shanghai)
    page.fill("input[name=at]", "19:00")  # after the worker's shift: the butler decides
    page.click('button[name=scenario][value="cleaning"]')
    page.locator("#booked").wait_for()
    booking_id = page.url.split("booked=")[1]
    row = page.locator(f'table.svc-upcoming tr[data-booking-id="{booking_id}"]')
    assert row.get_attribute("data-status") == "requested"
    _logout(page)

    # The butler: the request is on the board; assign the worker.
    browser_login(page, url, "butler")
    page.goto(f"{url}/services/board")
    line = page.locator(f'tr[data-booking-id="{booking_id}"]')
    assert line.get_attribute("data-status") == "requested"
    worker = line.locator("select[name=worker_id] option", has_text="王秀英")
    line.locator("select[name=worker_id]").select_option(worker.get_attribute("value"))
    line.locator("button[type=submit]").click()
    page.locator(f'tr[data-booking-id="{booking_id}"][data-status="assigned"]').wait_for()
    _logout(page)

    # The worker, on a phone, at 19:05.
    live_server.clock.set(datetime(2026, 11, 29, 11, 5, tzinfo=UTC))
    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(15_000)
        browser_login(mobile, url, "worker")
        mobile.goto(f"{url}/services/day")
        visit = mobile.locator(f"#visit-{booking_id}")
        visit.locator("button.check-in").click()
        visit = mobile.locator(f'#visit-{booking_id}[data-status="in_progress"]')
        visit.wait_for()
        for box in visit.locator("input[name=done]").all():
            box.check()
        # Nothing is wider than the phone: no sideways scrolling.
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        live_server.clock.set(datetime(2026, 11, 29, 13, 0, tzinfo=UTC))
        visit.locator("button.check-out").click()
        mobile.locator(f'#visit-{booking_id}[data-status="done"]').wait_for()
        assert mobile.locator(f"#visit-{booking_id} li").count() == 4
        assert "✘" not in mobile.locator(f"#visit-{booking_id}").inner_text()
    finally:
        phone.close()

    # Her son rates it.
    browser_login(page, url, "son")
    page.goto(f"{url}/services")
    past = page.locator(f'table.svc-past tr[data-booking-id="{booking_id}"]')
    past.locator("input[name=comment]").fill("很干净")
    past.locator('button[name=stars][value="5"]').click()
    page.locator(f'table.svc-past tr[data-booking-id="{booking_id}"] .rating').wait_for()
    assert (
        "★★★★★" in page.locator(f'table.svc-past tr[data-booking-id="{booking_id}"]').inner_text()
    )
    _logout(page)

    # The month's report counts it: checked in at 19:05 for 19:00, checklist complete.
    browser_login(page, url, "butler")
    page.goto(f"{url}/services/supervision?month=2026-11")
    visits = page.locator('tr[data-measure="services_visits"] td').all_inner_texts()
    # On time: the demo's cleaning and meal delivery, and this one.
    assert visits[1] == "3", visits
    pdf = page.request.get(f"{url}/services/supervision.pdf?month=2026-11")
    assert pdf.ok and pdf.body().startswith(b"%PDF")


def test_a_fall_puts_an_emergency_request_on_top_of_the_board(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    browser_login(page, url, "elder")
    page.goto(f"{url}/services")
    page.click('button[name=scenario][value="emergency_help"]')
    page.locator("#booked").wait_for()
    emergency = page.url.split("booked=")[1]
    _logout(page)

    radar = _radar_token(live_server)
    reading = {"message_id": "e2e-fall-1", "values": {"fall": True, "presence": True}}
    r = httpx.post(
        f"{url}/api/v1/telemetry",
        json=reading,
        headers={"Authorization": f"Bearer {radar}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text

    browser_login(page, url, "butler")
    page.goto(f"{url}/services/board")
    first = page.locator("table.svc-board tbody tr").first
    assert first.get_attribute("data-booking-id") == emergency
    assert "svc-alarm" in (first.get_attribute("class") or "")


def test_the_speaker_books_a_cook_the_worker_visits_the_elder_rates_the_report_counts_it(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    from anxin.iot import service as iot
    from anxin.iot.schemas import DeviceCreate

    url, demo = live_server.url, live_server.demo
    with live_server.app.state.context.unit(actor="test:seed") as uow:
        _, token = iot.register_device(
            session=uow.session,
            organisation_id=demo.organisation_id,
            data=DeviceCreate(
                device_type="smart_speaker",
                name="客厅音箱",
                owner_kind="household",
                owner_id=demo.household_id,
            ),
            now=uow.now(),
        )
    speaker = {"Authorization": f"Bearer {token}"}
    heard = httpx.post(
        f"{url}/api/v1/services/speaker/utterances",
        json={"text": "明天中午帮我叫个做饭的阿姨"},
        headers=speaker,
        timeout=60,  # a loaded test machine; the browser steps wait as long
    ).json()
    assert heard["understood"] and heard["booking"]["status"] == "draft", heard
    booking_id = heard["booking"]["id"]
    confirmed = httpx.post(
        f"{url}/api/v1/services/speaker/bookings/{booking_id}/confirm", headers=speaker, timeout=60
    ).json()
    assert confirmed["booking"]["status"] == "assigned"  # the demo's cook fits: no butler needed

    # Monday 30 November, 11:03 in Shanghai: the cook arrives.
    live_server.clock.set(datetime(2026, 11, 30, 3, 3, tzinfo=UTC))
    browser_login(page, url, "worker")
    page.goto(f"{url}/services/day")
    page.locator(f"#visit-{booking_id} button.check-in").click()
    visit = page.locator(f'#visit-{booking_id}[data-status="in_progress"]')
    for box in visit.locator("input[name=done]").all():
        box.check()
    live_server.clock.set(datetime(2026, 11, 30, 5, 0, tzinfo=UTC))
    visit.locator("button.check-out").click()
    page.locator(f'#visit-{booking_id}[data-status="done"]').wait_for()
    _logout(page)

    browser_login(page, url, "elder")
    page.goto(f"{url}/services")
    page.locator(
        f'table.svc-past tr[data-booking-id="{booking_id}"] button[name=stars][value="5"]'
    ).click()
    page.locator(f'table.svc-past tr[data-booking-id="{booking_id}"] .rating').wait_for()
    _logout(page)

    browser_login(page, url, "butler")
    page.goto(f"{url}/services/supervision?month=2026-11")
    visits = page.locator('tr[data-measure="services_visits"] td').all_inner_texts()
    assert visits[1] == "3", visits  # the demo's two on-time visits and this one
