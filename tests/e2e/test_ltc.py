"""Long-term care in a real browser: an application for 朱美芳 is scored by the scheme's
administrator and then by the assessor on the assessor's page; the two agree on grade 2, and
her own page shows the 210-yuan monthly subsidy in large type. Her caregiver, on a phone with
its location on, checks a planned visit in at her door, ticks the checklist, checks out and
has her confirm it; the city supervisor's dashboard counts the visit. The caregiver's next
visit lasts ten minutes: when the month is over the scheme's administrator settles it on the
settlement page, which shows that visit rejected as too short, and the supervisor's dashboard
shows the settled month, the rejection by its reason and the fund's money out.

The application itself comes through the API, as the scheme's call centre files it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator
from sqlalchemy import select

from anxin.core.security import Role
from anxin.demo.ltc import ADL, COGNITION, PERCEPTION, id_number
from anxin.ltc.models import LtcBeneficiary, LtcInsured
from anxin.people.models import User
from anxin.people.schemas import UserCreate
from anxin.people.service import create_user
from tests.conftest import DEMO_PASSWORDS, LiveServer, browser_login
from tests.e2e.shots import full_page_shot

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
HER_HOME = {"latitude": 32.0842, "longitude": 121.0730}  # 金沙镇, 通州区 (the demo's register)
PASSWORD = "zhu-meifang-pass"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
LOCATED = (
    "() => [...document.querySelectorAll('form.located input[name=lat]')]"
    ".every(i => i.value !== '')"
)


def _token(url: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{url}/api/v1/auth/token",
                   data={"username": username, "password": DEMO_PASSWORDS[username]})  # fmt: skip
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#logout")
    page.wait_for_url("**/login")


def _score(page, app_id: int) -> None:  # type: ignore[no-untyped-def]
    """Fill the scoring form as the demo's 71-year-old was scored (Barthel 50, mind intact)."""
    card = page.locator(f"#application-{app_id}")
    if card.locator("details[open]").count() == 0:
        card.locator("summary").click()
    for dim, items in (("adl", ADL), ("cognition", COGNITION), ("perception", PERCEPTION)):
        for item, value in items.items():
            card.locator(f'select[name="{dim}.{item}"]').select_option(str(value))
    card.locator("form.score button[type=submit]").click()
    page.locator("#result").wait_for()


def test_application_to_grade_to_entitlement_to_a_verified_visit_on_the_dashboard(  # type: ignore[no-untyped-def]
    live_server: LiveServer, page, chromium
) -> None:
    url = live_server.url
    demo = live_server.demo.ltc
    browser_login(page, url, "ltc-supervisor")
    page.goto(f"{url}/ltc/supervision")
    visits_before = int(page.locator("#visits strong").inner_text())
    _logout(page)

    admin = _token(url, "ltc-admin")
    number = id_number("320612", date(1962, 9, 21), "028")
    body = {"id_number": number, "city": "nantong", "self_assessment": ADL}
    made = httpx.post(f"{url}/api/v1/ltc/applications", headers=admin, json=body)
    assert made.status_code == 201, made.text
    app_id = made.json()["id"]

    # The administrator assigns the assessor, then scores her first.
    browser_login(page, url, "ltc-admin")
    page.goto(f"{url}/ltc/assess")
    card = page.locator(f"#application-{app_id}")
    option = card.locator("select[name=assessor_id] option", has_text="陆刚")
    card.locator("select[name=assessor_id]").select_option(option.get_attribute("value"))
    card.locator("form.assign button").click()
    page.locator(f"#application-{app_id}", has_text="陆刚").wait_for()
    _score(page, app_id)
    assert page.locator("#result").get_attribute("data-state") == "assessing"
    _logout(page)

    # The assessor, a day later: the second score agrees, and the grade is decided.
    live_server.clock.advance(timedelta(days=1))
    browser_login(page, url, "assessor")
    page.goto(f"{url}/ltc/assess")
    assert page.locator(f"#application-{app_id} details[open]").count() == 1  # assigned to me
    _score(page, app_id)
    assert page.locator("#result").get_attribute("data-state") == "decided"
    assert "2级 中度失能" in page.locator("#result-grade").inner_text()
    _logout(page)

    # Her own login sees her entitlement in large type.
    with live_server.app.state.context.unit(actor="test:seed") as uow:
        insured = uow.session.scalar(select(LtcInsured).where(LtcInsured.id_number == number))
        assert insured is not None
        her = uow.session.scalar(
            select(LtcBeneficiary).where(LtcBeneficiary.insured_id == insured.id)
        )
        assert her is not None and her.grade == 2
        her_id = her.id
        org = uow.session.scalar(select(User.organisation_id).where(User.username == "ltc-admin"))
        assert org is not None
        login = create_user(
            session=uow.session, organisation_id=org, now=uow.now(),
            data=UserCreate(username="zhu-meifang", display_name="朱美芳", role=Role.ELDER,
                            password=PASSWORD),
        )  # fmt: skip
        login_id = login.id
    admin = _token(url, "ltc-admin")  # a day has passed: a fresh token
    linked = httpx.post(f"{url}/api/v1/ltc/beneficiaries/{her_id}/viewers", headers=admin,
                        json={"user_id": login_id, "relation": "self"})  # fmt: skip
    assert linked.status_code == 201, linked.text
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "zhu-meifang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/**")
    page.goto(f"{url}/ltc/me")
    assert page.locator("body.large").count() == 1
    assert "210.00" in page.locator("#subsidy").inner_text()
    assert page.locator("#left strong").inner_text() == "8"
    _logout(page)

    # Her caregiver, on a phone at her door: check in, tick, check out, she confirms.
    def nothing_wrong(done: Locator) -> None:
        assert "✘" not in done.inner_text() and done.locator("[data-check]").count() == 0

    _visit_on_the_phone(live_server, chromium, her_id, ["bath", "haircut"], 50, nothing_wrong)

    # The city supervisor sees the visit in the month.
    browser_login(page, url, "ltc-supervisor")
    page.goto(f"{url}/ltc/supervision")
    assert int(page.locator("#visits strong").inner_text()) == visits_before + 1
    assert page.locator("#ltc-visits-chart canvas").count() == 1
    row = page.locator(f'tr[data-institution-id="{demo.institution_id}"]')
    assert row.locator("td").nth(1).inner_text() == str(visits_before + 1)
    _logout(page)

    # Her next visit, the same morning, lasts ten minutes: the phone already says so.
    def too_short(done: Locator) -> None:
        assert done.locator('[data-check="too_short"]').inner_text() == "时长不足"

    live_server.clock.advance(timedelta(minutes=30))  # on to her door again
    short_id = _visit_on_the_phone(live_server, chromium, her_id, ["massage"], 10, too_short)

    # The month ends; the scheme's administrator settles it on the settlement page.
    month = live_server.clock.now().strftime("%Y-%m")
    live_server.clock.advance(timedelta(days=2))  # into the next month: the month is over
    browser_login(page, url, "ltc-admin")
    _settle_on_the_page(page, url, month, short_id)
    _shoot(page, url, f"/ltc/settlements?month={month}", "settlement")
    _logout(page)

    browser_login(page, url, "ltc-supervisor")
    page.goto(f"{url}/ltc/supervision?month={month}&lang=zh")
    assert page.locator("#settlement-state").get_attribute("data-settled") == "yes"
    assert page.locator("#by-reason").count() == 1
    reason = page.locator('#by-reason tr[data-reason="too_short"]')
    assert reason.locator("td").first.inner_text() == "时长不足"
    assert int(reason.locator("td").nth(1).inner_text()) >= 1
    assert float(page.locator("#month-fund-out strong").inner_text()) > 0
    page.click("#to-settlement")
    page.wait_for_url(f"**/ltc/settlements?month={month}")
    assert "时长不足" in page.locator(f"#rejected-visit-{short_id}").inner_text()
    _shoot(page, url, f"/ltc/supervision?month={month}", "supervision")


def _visit_on_the_phone(  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    chromium,
    her_id: int,
    services: list[str],
    minutes: int,
    checked_out: Callable[[Locator], None],
) -> int:
    """A planned visit on the caregiver's phone at her door: check in, tick every service,
    check out `minutes` later (`checked_out` looks at the card then), and she confirms."""
    url, demo = live_server.url, live_server.demo.ltc
    plan = httpx.post(f"{url}/api/v1/ltc/plans", headers=_token(url, "caregiver"), json={
        "institution_id": demo.institution_id, "beneficiary_id": her_id,
        "caregiver_id": demo.caregiver_id, "planned_at": live_server.clock.now().isoformat(),
        "services": services})  # fmt: skip
    assert plan.status_code == 201, plan.text
    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                 geolocation=HER_HOME, permissions=["geolocation"])  # fmt: skip
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(15_000)
        browser_login(mobile, url, "caregiver")
        mobile.goto(f"{url}/ltc/visits")
        mobile.wait_for_function(LOCATED)
        mobile.locator(f"#plan-{plan.json()['id']} button.check-in").click()
        visit = mobile.locator('section[data-state="in_progress"]')
        visit.wait_for()
        visit_id = int((visit.get_attribute("id") or "").removeprefix("visit-"))
        assert "朱美芳" in visit.inner_text()
        for box in visit.locator("input[name=done]").all():
            box.check()
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        live_server.clock.advance(timedelta(minutes=minutes))
        mobile.wait_for_function(LOCATED)
        visit.locator("button.check-out").click()
        done = mobile.locator(f'#visit-{visit_id}[data-state="not_confirmed"]')
        done.wait_for()
        checked_out(done)
        done.locator("button.confirm").click()
        mobile.locator(f'#visit-{visit_id}[data-state="confirmed"]').wait_for()
    finally:
        phone.close()
    return visit_id


def _settle_on_the_page(page, url: str, month: str, short_id: int) -> None:  # type: ignore[no-untyped-def]
    """Settle the month with the confirmation ticked; once closed it offers no second run."""
    page.goto(f"{url}/ltc/settlements?lang=zh")
    row = page.locator(f"#month-{month}")
    assert row.get_attribute("data-settled") == "no"
    row.locator("a.to-settle").click()
    form = page.locator(f'#settle[data-month="{month}"] form')
    form.locator("button[type=submit]").click()  # not ticked: the browser holds the form back
    assert page.url.endswith(f"/ltc/settlements?month={month}#settle")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    page.locator("#settle-done").wait_for()
    assert page.locator(f"#month-{month}").get_attribute("data-settled") == "yes"
    assert page.locator("#settle form").count() == 0  # closed: nothing more to settle
    assert page.locator("#reconciled").get_attribute("data-reconciled") == "yes"
    rejected = page.locator(f"#rejected-visit-{short_id}")
    assert "时长不足" in rejected.inner_text()
    assert "too_short" not in rejected.inner_text() and "lasted" not in rejected.inner_text()


def _shoot(page, url: str, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page in both languages at phone and desktop width, saved for a person to look at;
    at phone width the body never scrolls sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{url}{path}&lang={lang}")
            for chart in page.locator("[data-chart]").all():
                chart.locator("canvas").wait_for()
            full_page_shot(page, SHOTS / f"ltc-e2e--{name}--{width}--{lang}.png")
            if width < 600:
                assert page.evaluate(OVERFLOW) <= 0, (path, lang)
    page.goto(f"{url}{path}&lang=zh")
