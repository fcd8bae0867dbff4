"""Long-term care in a real browser: an application for 朱美芳 is scored by the scheme's
administrator and then by the assessor on the assessor's page; the two agree on grade 2, and
her own page shows the 210-yuan monthly subsidy in large type. Her caregiver, on a phone with
its location on, checks a planned visit in at her door, ticks the checklist, checks out and
has her confirm it; the city supervisor's dashboard counts the visit.

The application itself comes through the API, as the scheme's call centre files it."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from anxin.core.security import Role
from anxin.demo.ltc import ADL, COGNITION, PERCEPTION, id_number
from anxin.ltc.models import LtcBeneficiary, LtcInsured
from anxin.people.models import User
from anxin.people.schemas import UserCreate
from anxin.people.service import create_user
from tests.conftest import DEMO_PASSWORDS, LiveServer, browser_login

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
HER_HOME = {"latitude": 32.0842, "longitude": 121.0730}  # 金沙镇, 通州区 (the demo's register)
PASSWORD = "zhu-meifang-pass"


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
    carer = _token(url, "caregiver")
    plan = httpx.post(f"{url}/api/v1/ltc/plans", headers=carer, json={
        "institution_id": demo.institution_id, "beneficiary_id": her_id,
        "caregiver_id": demo.caregiver_id, "planned_at": live_server.clock.now().isoformat(),
        "services": ["bath", "haircut"]})  # fmt: skip
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                 geolocation=HER_HOME, permissions=["geolocation"])  # fmt: skip
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(15_000)
        browser_login(mobile, url, "caregiver")
        mobile.goto(f"{url}/ltc/visits")
        located = "() => [...document.querySelectorAll('form.located input[name=lat]')]" \
                  ".every(i => i.value !== '')"  # fmt: skip
        mobile.wait_for_function(located)
        mobile.locator(f"#plan-{plan_id} button.check-in").click()
        mobile.locator('section[data-state="in_progress"]').wait_for()
        visit = mobile.locator('section[data-state="in_progress"]')
        visit_id = (visit.get_attribute("id") or "").removeprefix("visit-")
        assert "朱美芳" in visit.inner_text()
        for box in visit.locator("input[name=done]").all():
            box.check()
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        live_server.clock.advance(timedelta(minutes=50))
        mobile.wait_for_function(located)
        visit.locator("button.check-out").click()
        done = mobile.locator(f'#visit-{visit_id}[data-state="not_confirmed"]')
        done.wait_for()
        assert "✘" not in done.inner_text() and done.locator("[data-check]").count() == 0
        done.locator("button.confirm").click()
        mobile.locator(f'#visit-{visit_id}[data-state="confirmed"]').wait_for()
    finally:
        phone.close()

    # The city supervisor sees the visit in the month.
    browser_login(page, url, "ltc-supervisor")
    page.goto(f"{url}/ltc/supervision")
    assert int(page.locator("#visits strong").inner_text()) == visits_before + 1
    assert page.locator("#ltc-visits-chart canvas").count() == 1
    row = page.locator(f'tr[data-institution-id="{demo.institution_id}"]')
    assert row.locator("td").nth(1).inner_text() == str(visits_before + 1)
