"""A video call between two real Chromium pages: the doctor rings from the consultation page,
the elder answers on theirs, WebRTC connects peer to peer (signalled only through anxin's call
API and the console event stream, `iceServers: []`), both pages receive the other's video
frames from Chromium's fake camera, and hanging up records the call's duration.

And the whole consultation in the browser (issue 19's done-when): asked by text, answered,
a video call, a prescription written on the doctor's page, its reminder, the elder's
confirmation, and a missed dose that reaches the family."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from anxin.alerts.models import Alarm, Notification
from anxin.consult.models import Call, CallStatus, Dose
from anxin.consult.worker import DoseSweeper
from anxin.core.clock import SHANGHAI
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


def _connect_video(doctor: object, elder: object) -> None:
    """The doctor rings, the elder answers, and both pages decode the other's video frames."""
    doctor.click("#call-video")  # type: ignore[attr-defined]
    doctor.wait_for_selector("#call-state[data-state=ringing]")  # type: ignore[attr-defined]
    elder.wait_for_selector("#call-state[data-state=incoming]")  # type: ignore[attr-defined]
    assert "医生来电" in elder.inner_text("#call-state")  # type: ignore[attr-defined]
    elder.click("#call-answer")  # type: ignore[attr-defined]
    for side in (doctor, elder):
        side.wait_for_selector("#call[data-connection=connected]")  # type: ignore[attr-defined]
        side.wait_for_function(REMOTE_FRAMES)  # type: ignore[attr-defined]
        assert "通话中" in side.inner_text("#call-state")  # type: ignore[attr-defined]


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

    _connect_video(doctor, elder)

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


def _at(live_server: LiveServer, hh: int, mm: int) -> None:
    """Moves the live server's clock forward to hh:mm today in Shanghai."""
    now = live_server.clock.now()
    target = datetime.combine(now.astimezone(SHANGHAI).date(), datetime.min.time(), SHANGHAI)
    target = target.replace(hour=hh, minute=mm)
    assert target > now
    live_server.clock.advance(target - now)


def _sweep_doses(live_server: LiveServer) -> None:
    """One tick of the server's own medication sweeper, now rather than at its next half
    minute (its rows are locked with skip-locked, so a tick of its thread meanwhile is safe)."""
    [sweeper] = [w for w in live_server.app.state.workers if isinstance(w, DoseSweeper)]
    assert sweeper.running
    sweeper.tick()


def test_asked_by_text_answered_called_prescribed_reminded_confirmed_and_a_miss_told(
    live_server: LiveServer, two_pages: tuple[object, object], media_chromium: object
) -> None:
    elder, doctor = two_pages
    url = live_server.url
    # The elder asks by text; the doctor, seeing her card (her penicillin allergy), answers.
    browser_login(elder, url, "elder")
    elder.goto(f"{url}/consult")  # type: ignore[attr-defined]
    elder.select_option("#ask-form select[name=mode]", "text")  # type: ignore[attr-defined]
    elder.fill("textarea[name=complaint]", "这几天头晕,腿没力气")  # type: ignore[attr-defined]
    elder.click("#ask-form button[type=submit]")  # type: ignore[attr-defined]
    elder.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    cid = elder.url.rsplit("/", 1)[1]  # type: ignore[attr-defined]
    browser_login(doctor, url, "doctor")
    doctor.goto(f"{url}/consult")  # type: ignore[attr-defined]
    doctor.click(f'tr[data-consultation-id="{cid}"] a')  # type: ignore[attr-defined]
    assert "青霉素 penicillin" in doctor.inner_text("#elder-card")  # type: ignore[attr-defined]
    doctor.click("#take")  # type: ignore[attr-defined]
    doctor.fill("#message-form textarea", "我们视频看一下")  # type: ignore[attr-defined]
    doctor.click("#message-form button[type=submit]")  # type: ignore[attr-defined]
    elder.locator("#messages li", has_text="我们视频看一下").wait_for()  # type: ignore[attr-defined]

    # A video call on the same consultation: both sides see the other's frames.
    elder.goto(f"{url}/consult/{cid}")  # type: ignore[attr-defined]
    for side in (doctor, elder):
        side.wait_for_selector("#call[data-signal=open]")  # type: ignore[attr-defined]
    _connect_video(doctor, elder)
    doctor.click("#call-hangup")  # type: ignore[attr-defined]
    elder.wait_for_selector("#call-state[data-state=ended]")  # type: ignore[attr-defined]

    # The doctor prescribes on the page: vitamin D at 11:00 and 12:00 today (it is 10:00).
    doctor.fill("#prescription-form input[name=drug]", "维生素D vitamin D")  # type: ignore[attr-defined]
    doctor.fill("#prescription-form input[name=strength]", "400 IU")  # type: ignore[attr-defined]
    doctor.fill("#prescription-form input[name=dose]", "1 tablet")  # type: ignore[attr-defined]
    doctor.select_option("#prescription-form select[name=frequency]", "bid")  # type: ignore[attr-defined]
    doctor.fill("#prescription-form input[name=duration_days]", "1")  # type: ignore[attr-defined]
    doctor.fill("#prescription-form input[name=quantity]", "2")  # type: ignore[attr-defined]
    doctor.fill("#prescription-form input[name=times]", "11:00 12:00")  # type: ignore[attr-defined]
    doctor.click("#prescription-form button[type=submit]")  # type: ignore[attr-defined]
    rx = doctor.locator("#prescriptions tr[data-prescription-id]", has_text="维生素D")  # type: ignore[attr-defined]
    rx.wait_for()
    rx_id = rx.get_attribute("data-prescription-id")
    with live_server.db.session_scope() as session:
        rows = session.scalars(
            select(Dose).where(Dose.prescription_id == rx_id).order_by(Dose.due_at)
        ).all()
        first, second = (d.id for d in rows)  # exactly two doses

    # The elder's own page lists today's doses, live.
    elder.goto(f"{url}/consult")  # type: ignore[attr-defined]
    elder.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
    dose = '#today li[data-dose-id="{}"][data-status="{}"]'
    elder.wait_for_selector(dose.format(first, "due") + ":not(.due-now)")  # type: ignore[attr-defined]

    # 11:00: the sweeper reminds her; her page, not reloaded, says take it now; she confirms.
    _at(live_server, 11, 0)
    _sweep_doses(live_server)
    elder.wait_for_selector(dose.format(first, "due") + ".due-now")  # type: ignore[attr-defined]
    with live_server.db.session_scope() as session:
        pushed = session.scalars(
            select(Notification).where(
                Notification.purpose == "reminder", Notification.recipient_role == "elder"
            )
        ).all()
        assert [n.channel.value for n in pushed if "维生素D" in n.body] == ["push"]
    elder.click(f'#today li[data-dose-id="{first}"] button.confirm-dose')  # type: ignore[attr-defined]
    elder.wait_for_selector(dose.format(first, "taken"))  # type: ignore[attr-defined]

    # Her son watches the family page; the 12:00 dose is reminded and left untaken.
    family = _page(media_chromium)
    try:
        browser_login(family, url, "son")
        family.goto(f"{url}/family")  # type: ignore[attr-defined]
        family.wait_for_selector("body[data-live=open]")  # type: ignore[attr-defined]
        _at(live_server, 12, 0)
        _sweep_doses(live_server)
        elder.wait_for_selector(dose.format(second, "due") + ".due-now")  # type: ignore[attr-defined]
        _at(live_server, 12, 59)
        _sweep_doses(live_server)  # within the hour's grace: still due
        with live_server.db.session_scope() as session:
            assert session.scalars(select(Dose.status).where(Dose.id == second)).one() == "due"
        _at(live_server, 13, 1)
        _sweep_doses(live_server)
        # The missed dose reaches the family: on the son's page, live, and in the outbox.
        missed = family.locator("tr[data-type=missed_dose]", has_text="维生素D")  # type: ignore[attr-defined]
        missed.wait_for()
        assert "12:00" in missed.inner_text()
        alarm_id = missed.get_attribute("data-alarm-id")
    finally:
        family.context.close()  # type: ignore[attr-defined]
    elder.wait_for_selector(dose.format(second, "missed"))  # type: ignore[attr-defined]
    with live_server.db.session_scope() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None and alarm.details["dose_id"] == second
        told = session.scalars(
            select(Notification.recipient_role).where(Notification.alarm_id == alarm_id)
        ).all()
        assert "family" in told
        taken = session.get(Dose, first)
        assert taken is not None and taken.confirmed_at is not None
