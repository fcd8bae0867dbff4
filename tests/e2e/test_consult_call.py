"""A video call between two real Chromium pages: the doctor rings from the consultation page,
the elder answers on theirs, WebRTC connects peer to peer (signalled only through anxin's call
API and the console event stream, `iceServers: []`), both pages receive the other's video
frames from Chromium's fake camera, and hanging up records the call's duration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from anxin.consult.models import Call, CallStatus
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, browser_login

pytestmark = pytest.mark.e2e

# Chromium's own fake camera and microphone, granted without a prompt.
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# The remote video has decoded frames of a real size (not just a stream object attached).
REMOTE_FRAMES = """() => {
  const v = document.getElementById('remote-video');
  return v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
}"""


@pytest.fixture(scope="module")
def media_chromium(chromium: object) -> Iterator[object]:
    """A second Chromium, with fake media, from the session's Playwright (one per thread)."""
    browser = chromium.browser_type.launch(  # type: ignore[attr-defined]
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *FAKE_MEDIA]
    )
    yield browser
    browser.close()


def _page(browser: object) -> object:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


@pytest.fixture
def two_pages(media_chromium: object) -> Iterator[tuple[object, object]]:
    elder, doctor = _page(media_chromium), _page(media_chromium)
    yield elder, doctor
    for page in (elder, doctor):
        page.context.close()  # type: ignore[attr-defined]


def test_doctor_video_calls_the_elder_both_see_each_other_and_the_duration_is_recorded(
    live_server: LiveServer, two_pages: tuple[object, object]
) -> None:
    elder, doctor = two_pages
    url = live_server.url
    browser_login(elder, url, "elder")
    elder.goto(f"{url}/consult")  # type: ignore[attr-defined]
    elder.select_option("#ask-form select[name=mode]", "video")  # type: ignore[attr-defined]
    elder.fill("textarea[name=complaint]", "想让医生看看腿上的红肿")  # type: ignore[attr-defined]
    elder.click("#ask-form button[type=submit]")  # type: ignore[attr-defined]
    cid = elder.url.rsplit("/", 1)[1]  # type: ignore[attr-defined]

    browser_login(doctor, url, "doctor")
    doctor.goto(f"{url}/consult/{cid}")  # type: ignore[attr-defined]
    doctor.click("#take")  # type: ignore[attr-defined]
    doctor.wait_for_selector("#call[data-signal=open]")  # type: ignore[attr-defined]
    # The elder's page had no call panel while the request waited; it opens on the taken one.
    elder.goto(f"{url}/consult/{cid}")  # type: ignore[attr-defined]
    elder.wait_for_selector("#call[data-signal=open]")  # type: ignore[attr-defined]

    doctor.click("#call-video")  # type: ignore[attr-defined]
    doctor.wait_for_selector("#call-state[data-state=ringing]")  # type: ignore[attr-defined]
    elder.wait_for_selector("#call-state[data-state=incoming]")  # type: ignore[attr-defined]
    assert "医生来电" in elder.inner_text("#call-state")  # type: ignore[attr-defined]
    elder.click("#call-answer")  # type: ignore[attr-defined]

    for side in (doctor, elder):
        side.wait_for_selector("#call[data-connection=connected]")  # type: ignore[attr-defined]
        side.wait_for_function(REMOTE_FRAMES)  # type: ignore[attr-defined]
        assert "通话中" in side.inner_text("#call-state")  # type: ignore[attr-defined]

    with live_server.db.session_scope() as session:
        call = session.scalars(select(Call).where(Call.consultation_id == cid)).one()
        assert call.status == CallStatus.ACTIVE and call.started_at is not None
        call_id = call.id

    live_server.clock.advance(timedelta(minutes=4, seconds=5))
    doctor.click("#call-hangup")  # type: ignore[attr-defined]
    # The elder's side is told and drops its half; both pages' call logs show 4:05.
    elder.wait_for_selector("#call-state[data-state=ended]")  # type: ignore[attr-defined]
    for side in (doctor, elder):
        row = side.locator(f'#calls tr[data-call-id="{call_id}"][data-status=ended]')  # type: ignore[attr-defined]
        row.wait_for()
        assert row.locator(".duration").inner_text() == "4:05"
    assert elder.evaluate("document.getElementById('remote-video').srcObject") is None  # type: ignore[attr-defined]

    with live_server.db.session_scope() as session:
        ended = session.get(Call, call_id)
        assert ended is not None and ended.duration_s == 245
        assert ended.status == CallStatus.ENDED
