"""One layout for every page: the header shows exactly the pages the viewer's role may open,
the language switch and log out; every link in it opens."""

import re

import pytest

from anxin.core.security import Role
from tests.conftest import DEMO_PASSWORDS

NAV = re.compile(r'<nav class="no-print"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"')

# What each demo role finds in its header, besides the language switch and the API docs.
EXPECTED = {
    "butler": [
        "/console/alarms",
        "/console/outbox",
        "/consult",
        "/services/board",
        "/services/supervision",
    ],
    "son": ["/family", "/consult", "/services", "/ltc/me"],
    "elder": ["/family", "/consult", "/services", "/ltc/me"],
    "worker": ["/services/day", "/ltc/visits"],
    "doctor": ["/console/alarms", "/consult"],
    "bank": ["/console/collateral"],
    "lender": ["/console/collateral", "/lending"],
    "lending-qc": ["/console/collateral", "/lending", "/lending/portfolio"],
    "trader": ["/lending/my"],
    "admin": [
        "/console/alarms",
        "/console/outbox",
        "/console/collateral",
        "/life/illustration",
        "/life/workbench",
        "/lending",
        "/lending/portfolio",
        "/services/board",
        "/services/supervision",
        "/leasing",
        "/leasing/quote",
        "/trace/brand",
        "/trace/insurance",
        "/market",
        "/market/orders",
        "/market/forecasts",
    ],
    "lessor": ["/leasing", "/leasing/quote"],
    "machinery": ["/leasing/statement"],
    "buyer": ["/market", "/market/orders"],  # the supermarket chain (issue 21)
    # the Jinshan rice cooperative (issue 20)
    "farmer": ["/trace/farm", "/trace/capture"],
    "insurer": ["/trace/insurance"],
    # Nantong's long-term care insurance (issue 17)
    "ltc-elder": ["/family", "/consult", "/services", "/ltc/me"],
    "ltc-family": ["/family", "/consult", "/services", "/ltc/me"],
    "caregiver": ["/services/day", "/ltc/visits"],
    "assessor": ["/ltc/assess", "/ltc/supervision", "/ltc/settlements"],
    "ltc-admin": ["/ltc/assess", "/ltc/supervision", "/ltc/settlements"],
    "ltc-supervisor": ["/ltc/supervision", "/ltc/settlements"],
}


def _header_links(html: str) -> list[str]:
    match = NAV.search(html)
    assert match, "the page has no header navigation"
    return [h for h in LINK.findall(match.group(1)) if "lang=" not in h and h != "/docs"]


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_only_what_it_may_open(client, demo, app, username):
    client.post("/login", data={"username": username, "password": DEMO_PASSWORDS[username]})
    home = client.get("/")
    links = _header_links(home.text)
    assert sorted(links) == sorted(EXPECTED[username])
    assert 'action="/logout"' in home.text
    for path in links:
        opened = client.get(path)
        assert opened.status_code == 200, (path, opened.text[:300])
        # the same header on the page itself, with the page marked as current
        assert sorted(_header_links(opened.text)) == sorted(EXPECTED[username])
        assert f'href="{path}" aria-current="page"' in opened.text
        assert 'action="/logout"' in opened.text


def test_navigation_is_built_from_the_domains_for_the_role(app):
    console = app.state.console
    assert [link.path for link in console.links_for(Role.FAMILY)] == [
        "/consult",
        "/family",
        "/ltc/me",
        "/services",
    ]
    assert "/console/collateral" not in [link.path for link in console.links_for(Role.BUTLER)]


def test_the_illustration_page_has_the_layout_and_keeps_its_query_across_languages(client, demo):
    client.post("/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"]})
    page = client.get(
        "/life/illustration?issue_age=40&sex=F&pay_term=10&sum_assured=100000&lang=en"
    )
    assert page.status_code == 200
    assert 'action="/logout"' in page.text and 'href="/console/alarms"' in page.text
    switch = re.search(r'<a href="([^"]+)" id="language">', page.text)
    assert switch and "issue_age=40" in switch.group(1) and "lang=zh" in switch.group(1)


def test_the_login_page_shows_no_navigation_and_no_logout(client):
    page = client.get("/login")
    assert _header_links(page.text) == [] and 'action="/logout"' not in page.text


def test_the_elder_reads_their_pages_in_large_type(client, demo):
    client.post("/login", data={"username": "elder", "password": DEMO_PASSWORDS["elder"]})
    assert '<body class="large">' in client.get("/family").text
    client.post("/logout")
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    assert '<body class="">' in client.get("/family").text


def test_the_illustration_form_as_first_shown_submits_to_an_illustration(client, demo):
    client.post("/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"]})
    form = client.get("/life/illustration").text
    values = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form))
    values |= {"sex": "M", "pay_term": "10"}  # the selects' defaults
    shown = client.get("/life/illustration", params={k: v for k, v in values.items() if v})
    assert shown.status_code == 200 and 'id="illustration"' in shown.text


def test_the_cooperatives_listing_form_has_the_layout(client, demo):
    """Reached from the market's listings, not the header: the same header, nothing marked."""
    client.post("/login", data={"username": "coop", "password": DEMO_PASSWORDS["coop"]})
    page = client.get("/market/listings/new")
    assert page.status_code == 200 and 'id="listing-form"' in page.text
    assert 'action="/logout"' in page.text
    home = _header_links(client.get("/").text)
    assert "/market" in home and _header_links(page.text) == home
