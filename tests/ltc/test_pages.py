"""The long-term care pages on the demo: each role's page has its rows and words in both
languages; the assessor assigns and scores through the form, the caregiver checks a visit in
and out on the phone page, and bad input is a 422 page naming the field."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.demo.ltc import id_number
from anxin.demo.seed import DemoInfo
from tests.conftest import DEMO_PASSWORDS, console_login, login
from tests.ltc.test_pages_support import ADL_MODERATE, INTACT, score_form
from tests.web.chart_options import chart_options


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_ltc_role_has_its_page(client: TestClient, demo: DemoInfo, lang: str) -> None:
    zh = lang == "zh"
    pages = {
        "ltc-elder": (
            "/ltc/me",
            [
                "陈玉兰",
                "210.00",
                "2级 中度失能" if zh else "moderately disabled",
                "护理床" if zh else "Nursing bed",
                "助浴" if zh else "Bathing",
            ],
        ),
        "ltc-family": ("/ltc/me", ["陈玉兰", "30.00"]),
        "caregiver": ("/ltc/visits", ["陈玉兰", "濠河路", "已确认" if zh else "Confirmed"]),
        # 顾建华, scored by 顾敏 and assigned to 陆刚 (people by their names, not logins)
        "assessor": ("/ltc/assess", ["顾建华", "长护险经办 顾敏", "评估员 陆刚"]),
        "ltc-supervisor": ("/ltc/supervision", ["崇川区康乐护理站", "ltc-grades-chart"]),
        "ltc-admin": ("/ltc/supervision", ["ltc-fund-chart", "ltc-visits-chart"]),
    }
    for username, (path, texts) in pages.items():
        console_login(client, username)
        r = client.get(f"{path}?lang={lang}")
        assert r.status_code == 200, (username, r.text[:500])
        for text in texts:
            assert text in r.text, (username, path, text)
        assert 'action="/logout"' in r.text
        assert f'href="{path}"' in r.text  # the page is in the role's navigation
    assert client.app.state.console.catalog.unknown == set()  # type: ignore[attr-defined]


def test_the_entitlement_page_is_in_large_type(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "ltc-elder")
    html = client.get("/ltc/me").text
    assert '<body class="large">' in html
    assert re.search(r'id="subsidy".*?210\.00', html, re.S)


def test_the_supervisor_charts_carry_the_month(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "ltc-supervisor")
    html = client.get("/ltc/supervision?lang=en").text
    options = chart_options(html)
    visits = options["ltc-visits-chart"]
    assert len(visits["xAxis"]["data"]) == 6 and visits["xAxis"]["data"][-1] == "2026-11"
    assert visits["series"][0]["data"][-1] >= 1  # the demo's visits this month
    fund = options["ltc-fund-chart"]
    assert [s["name"] for s in fund["series"]] == ["In", "Out"]
    assert fund["series"][0]["data"][-1] == 105000.0
    grades = options["ltc-grades-chart"]
    assert grades["series"][0]["data"] == [0, 1, 0, 0, 0]  # her, at grade 2
    csv = client.get("/ltc/supervision.csv?month=2026-11")
    assert csv.status_code == 200 and "崇川区康乐护理站" in csv.content.decode("utf-8-sig")
    assert client.get("/ltc/supervision?month=2026-13").status_code == 422


def test_each_ltc_page_refuses_the_roles_it_is_not_for(client: TestClient, demo: DemoInfo) -> None:
    refused = {
        "caregiver": ["/ltc/me", "/ltc/assess", "/ltc/supervision", "/ltc/supervision.csv"],
        "ltc-elder": ["/ltc/assess", "/ltc/visits", "/ltc/supervision"],
        "ltc-supervisor": ["/ltc/assess", "/ltc/visits"],
        "worker": ["/ltc/supervision"],
    }
    for username, paths in refused.items():
        console_login(client, username)
        for path in paths:
            assert client.get(path).status_code in (403, 404), (username, path)
    console_login(client, "worker")  # the home-services worker: no ltc institution, no visits
    assert "陈玉兰" not in client.get("/ltc/visits").text
    console_login(
        client, "elder"
    )  # an elder of the home-care organisation: no case, told how to apply
    mine = client.get("/ltc/me?lang=en")
    assert mine.status_code == 200 and 'id="no-case"' in mine.text and "陈玉兰" not in mine.text


def test_apply_assign_score_twice_then_the_case_page(
    client: TestClient, demo: DemoInfo, clock: FrozenClock
) -> None:
    admin = login(client, "ltc-admin", DEMO_PASSWORDS["ltc-admin"]).headers
    number = id_number("320612", date(1962, 9, 21), "028")  # 朱美芳: insured, never applied
    body = {"id_number": number, "city": "nantong",
            "self_assessment": ADL_MODERATE}  # fmt: skip
    made = client.post("/api/v1/ltc/applications", json=body, headers=admin)
    assert made.status_code == 201, made.text
    app_id = made.json()["id"]
    console_login(client, "ltc-admin")
    page = client.get("/ltc/assess").text
    assert f'id="application-{app_id}"' in page and "朱美芳" in page
    team = dict(re.findall(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]+)</option>', page))
    assessor = next(uid for uid, name in team.items() if "陆刚" in name)
    r = client.post(
        f"/ltc/assess/{app_id}/assign", data={"assessor_id": assessor}, follow_redirects=False
    )
    assert r.status_code == 303
    again = client.post(f"/ltc/assess/{app_id}/assign", data={"assessor_id": assessor})
    assert again.status_code == 409
    clock.advance(timedelta(days=1))
    form = score_form(clock.now().date().isoformat(), ADL_MODERATE, INTACT)
    bad = client.post(f"/ltc/assess/{app_id}", data={**form, "adl.bathing": "7"})
    assert bad.status_code == 422 and "bathing" in bad.text
    assert (
        client.post(f"/ltc/assess/{app_id}", data={**form, "visited_on": "soon"}).status_code == 422
    )
    first = client.post(f"/ltc/assess/{app_id}", data=form, follow_redirects=True)
    assert first.status_code == 200 and 'data-state="assessing"' in first.text
    console_login(client, "assessor")
    second = client.post(f"/ltc/assess/{app_id}", data=form, follow_redirects=True)
    assert second.status_code == 200, second.text[:500]
    assert 'data-state="decided"' in second.text and "2级 中度失能" in second.text


def test_the_caregiver_checks_a_visit_in_and_out_on_the_phone_page(
    client: TestClient, demo: DemoInfo, clock: FrozenClock
) -> None:
    carer = login(client, "caregiver", DEMO_PASSWORDS["caregiver"]).headers
    plan = client.post(
        "/api/v1/ltc/plans",
        json={"institution_id": demo.ltc.institution_id, "beneficiary_id": demo.ltc.beneficiary_id,
              "caregiver_id": demo.ltc.caregiver_id, "planned_at": clock.now().isoformat(),
              "services": ["bath", "haircut"]},
        headers=carer,
    )  # fmt: skip
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    console_login(client, "caregiver")
    page = client.get("/ltc/visits").text
    assert f'id="plan-{plan_id}"' in page and 'data-state="planned"' in page
    url = f"/ltc/visits/plans/{plan_id}/check-in"
    nowhere = client.post(url, data={"lat": "", "lon": ""})
    assert nowhere.status_code == 422 and "lat" in nowhere.text
    home = {"lat": "32.0302", "lon": "120.8745"}
    r = client.post(url, data=home, follow_redirects=False)
    assert r.status_code == 303
    visit_id = int(r.headers["location"].rsplit("visit-", 1)[1])
    clock.advance(timedelta(minutes=50))
    out = client.post(
        f"/ltc/visits/{visit_id}/check-out", data={**home, "done": ["bath", "haircut"]}
    )
    assert out.status_code == 200 and 'data-state="not_confirmed"' in out.text
    confirmed = client.post(f"/ltc/visits/{visit_id}/confirm")
    assert confirmed.status_code == 200
    card = re.search(rf'id="visit-{visit_id}".*?</section>', confirmed.text, re.S)
    assert card and 'data-state="confirmed"' in card.group(0)
    assert "data-check" not in card.group(0)  # no check found anything wrong
