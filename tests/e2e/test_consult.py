"""A text consultation in two real browsers: the elder asks, the doctor (seeing the elder's
card) takes it and answers, and each side's page shows the other's message without a reload,
over the live hub's server-sent events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, browser_login

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
