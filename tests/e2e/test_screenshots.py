"""Every console page as each demo role sees it, at phone (390 px) and desktop (1366 px)
width, in Chinese and English, saved under var/screenshots/ for a person to look through.

At phone width the body never scrolls sideways: wide tables scroll inside their own box."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from anxin.demo.sleep import backfill_demo_mat
from tests.conftest import DEMO_PASSWORDS, LiveServer
from tests.e2e.shots import full_page_shot

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (390, 1366)
LANGS = ("zh", "en")
ROLES = (
    "butler",
    "son",
    "elder",
    "bank",
    "lender",
    "admin",
    "lessor",
    "farmer",
    "coop",
    "insurer",
    "doctor",
)
# Nantong's long-term care insurance: her page, the assessor, her caregiver, the supervisor.
ROLES += ("ltc-elder", "assessor", "caregiver", "ltc-supervisor")
# Pages whose interesting state needs a query: the illustration with a quote on it.
EXTRA = {
    "admin": ["/life/illustration?issue_age=30&sex=F&pay_term=10&sum_assured=100000"],
    "lessor": ["/leasing/quote?cost=3000000&periods=36&annual_rate=5.95&start=2026-12-01&vat=on"],
    # October, settled by the test before the pictures (`_settle`): the settlement and the
    # dashboard of a settled month
    "ltc-supervisor": ["/ltc/settlements?month=2026-10", "/ltc/supervision?month=2026-10"],
    "coop": ["/market/listings/new"],  # the listing form, reached from the market's listings
}
NAV = re.compile(r'<nav class="no-print"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="(/[^"#]*)"')
# Pages reached from a list rather than the header: the first of each kind is visited too.
DETAILS = (
    re.compile(r"^/console/elders/[^/?]+$"),
    re.compile(r"^/console/alarms/[0-9a-f-]{16,}$"),
    re.compile(r"^/console/collateral/pledges/[^/?]+$"),
    re.compile(r"^/lending/applications/[^/?]+$"),
    re.compile(r"^/leasing/contracts/[^/?]+$"),
    re.compile(r"^/consult/[0-9a-f-]{16,}$"),
    re.compile(r"^/market/orders/[^/?]+$"),
)
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _fall(live: LiveServer) -> None:
    from anxin.iot.models import Device

    with live.db.session_scope() as session:
        radar = next(
            token
            for device_id, token in live.demo.device_tokens.items()
            if (d := session.get(Device, device_id)) and d.device_type == "mmwave_radar"
        )
    body = {"message_id": "shot-fall", "values": {"fall": True, "posture": "lying"}}
    r = httpx.post(
        f"{live.url}/api/v1/telemetry", json=body, headers={"Authorization": f"Bearer {radar}"}
    )
    assert r.status_code == 200, r.text


def _settle(live: LiveServer, month: str) -> None:
    """The scheme's administrator settles a month through the API (generous timeouts: the
    machine is shared, and a password hash or the month's run may take seconds)."""
    token = httpx.post(
        f"{live.url}/api/v1/auth/token",
        data={"username": "ltc-admin", "password": DEMO_PASSWORDS["ltc-admin"]},
        timeout=120,
    ).json()["access_token"]
    r = httpx.post(
        f"{live.url}/api/v1/ltc/settlements/{month}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert r.status_code == 201, r.text


def _pages(page: Any, base: str) -> list[str]:
    """Home, every header link and the first detail page of each kind they list."""
    page.goto(f"{base}/")
    html = page.content()
    nav = NAV.search(html)
    header = [h for h in HREF.findall(nav.group(1) if nav else "") if "lang=" not in h]
    paths = ["/", *[h for h in header if h not in ("/docs", "/")]]
    seen = set(paths)
    for path in list(paths):
        page.goto(f"{base}{path}")
        for href in HREF.findall(page.content()):
            kind = next((p for p in DETAILS if p.match(href)), None)
            if kind is not None and not any(kind.match(s) for s in seen):
                paths.append(href)
                seen.add(href)
    return paths


def _name(role: str, path: str, width: int, lang: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:60] or "home"
    return f"{role}--{slug}--{width}--{lang}.png"


def test_every_page_per_role_at_phone_and_desktop_width(
    live_server: LiveServer, chromium: Any
) -> None:
    with live_server.app.state.context.unit(actor="test:demo") as uow:
        backfill_demo_mat(uow, list(live_server.demo.device_tokens))
    _fall(live_server)
    _settle(live_server, "2026-10")
    SHOTS.mkdir(parents=True, exist_ok=True)
    overflowing: list[str] = []
    taken = 0
    for role in ROLES:
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", DEMO_PASSWORDS[role])
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        paths = _pages(page, live_server.url) + EXTRA.get(role, [])
        for lang in LANGS:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for path in paths:
                    joiner = "&" if "?" in path else "?"
                    response = page.goto(f"{live_server.url}{path}{joiner}lang={lang}")
                    assert response is not None and response.ok, (role, path)
                    for chart in page.locator("[data-chart]").all():
                        chart.locator("canvas").wait_for()  # drawn before the picture
                    full_page_shot(page, SHOTS / _name(role, path, width, lang))
                    taken += 1
                    if width < 600 and page.evaluate(OVERFLOW) > 0:
                        overflowing.append(f"{role} {path} {lang}")
        context.close()
    assert taken >= 4 * 15  # every role's pages, in both languages and widths
    assert overflowing == [], "the body scrolls sideways on a phone"
