"""Every list and detail route, as every demo role, shows only what that role may see.

The routes come from `app.routes`, so a new GET route is walked without anyone remembering to
add it; one this test cannot exercise must be listed below with the reason, and a route that is
neither (say, a new path parameter) fails the test until it is. Each response is searched for
the identifiers and names of the demo's owners; every one found must belong to an owner the
role may see (VISIBLE). The next leak, in JSON or in a console page, fails the suite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.collateral.models import Loan, PledgeRow, Receipt, StockOwner, Warehouse
from anxin.consult.models import Attachment
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from anxin.homecare.models import Elder, Household
from anxin.iot.models import Device
from anxin.leasing.models import LeaseContract
from anxin.lending.models import Application, Business
from anxin.ltc.models import LtcBeneficiary, LtcInsured
from tests.conftest import DEMO_PASSWORDS, device_headers

# The demo's owners: the two households of the care organisation, the bank's loan and pledge,
# and the port warehouse (its receipts, cranes and the stock owner, the steel trader).
ZHANG, ZHAO, LOAN, WAREHOUSE = "zhang household", "zhao household", "bank loan", "warehouse"
EVERYONE = frozenset({ZHANG, ZHAO, LOAN, WAREHOUSE})
# The clothing trader's small-business loan application, at the bank's lending desk.
APPLICATION = "loan application"
# The Jiangsu machinery maker's lease, at the leasing company (issue 16).
LEASE = "machinery lease"
# The Jinshan cooperative's rice farm (its plot, lot, capture job, cover and claim) and its
# olive grove and its mountain-goat pasture, each with its own farmer.
RICE, GROVE, GOATS = "rice farm", "olive grove", "goat pasture"
# Nantong's long-term care case: 陈玉兰, her home and her ID number (issue 17).
LTC = "ltc case"

# role (demo user) -> owners whose rows it may see
VISIBLE: dict[str, frozenset[str]] = {
    # the care organisation's admin: its own organisation only (ledger bodies included;
    # anxin.ledger.access.READ_ALL_ROLES is for supervisors, not every organisation's admin)
    "admin": frozenset({ZHANG, ZHAO}),
    "butler": frozenset({ZHANG, ZHAO}),  # butler of both elders
    "teamlead": frozenset({ZHANG, ZHAO}),  # leads the butler's team
    "son": frozenset({ZHANG}),
    "daughter": frozenset({ZHANG}),
    "elder": frozenset({ZHANG}),
    "neighbour-family": frozenset({ZHAO}),
    # the family doctor: every elder's card (care team), consultations in the queue or theirs
    "doctor": frozenset({ZHANG, ZHAO}),
    "bank": frozenset({LOAN, WAREHOUSE}),  # its loan and the stock and receipts behind it
    "warehouse": frozenset({LOAN, WAREHOUSE}),  # its warehouse, and the pledge on its stock
    # the bank's loan officer: its own organisation's applications (and the bank's pledge, which
    # its console lists for every bank officer)
    "lender": frozenset({APPLICATION, LOAN, WAREHOUSE}),
    # the home-service worker: the homes of the visits assigned to them (both, in the demo)
    "worker": frozenset({ZHANG, ZHAO}),
    "lessor": frozenset({LEASE}),  # the leasing company's lessor
    "machinery": frozenset({LEASE}),  # the lessee's own account
    "trader": frozenset({APPLICATION}),  # the borrower: his own application and loan
    # the cooperative's brand administrator: its own organisation's farms only
    "coop": frozenset({RICE, GROVE, GOATS}),
    "farmer": frozenset({RICE}),
    "olive-farmer": frozenset({GROVE}),
    "goat-farmer": frozenset({GOATS}),
    "insurer": frozenset({RICE, GROVE, GOATS}),
    # the supermarket's buyer (issue 21): listings show a lot by its trace badge, not its rows
    "buyer": frozenset(),
    # the scheme's staff: 顾建华 waits in the assessors' queue (her name shows on no staff page)
    "ltc-admin": frozenset({LTC}),
    "assessor": frozenset({LTC}),
    # role supervisor: anxin.ledger.access.READ_ALL_ROLES lets a supervisor read every ledger
    # body (the bank's pledge and the warehouse's receipts) — the ledger's rule for regulators
    "ltc-supervisor": frozenset({LOAN, WAREHOUSE}),
    "ltc-elder": frozenset({LTC}),  # her own page
    "ltc-family": frozenset({LTC}),  # her daughter
    "caregiver": frozenset({LTC}),  # her caregiver's day
}

# Path parameters and the demo fixture that names a seeded row for each.
PARAMS = {
    "elder_id": "elder",
    "household_id": "household",
    "device_id": "device",
    "alarm_id": "alarm",
    "notification_id": "notification",
    "pledge_id": "pledge",
    "warehouse_id": "warehouse",
    "seq": "seq",
    "size": "size",
    "month": "month",
    "application_id": "application",
    "booking_id": "booking",
    "contract_id": "lease",
    "consultation_id": "consultation",
    "attachment_id": "attachment",
    "farm_id": "trace_farm",
    "lot_id": "trace_lot",
    "capture_id": "capture",
    "serial": "serial",
    "policy_id": "policy",
    "claim_id": "claim",
    "gtin": "gtin",
    "lot": "lot_code",
    "listing_id": "market_listing",
    "order_id": "market_listing",  # no order in the demo seed: a 404 for everyone
    "rfq_id": "market_listing",  # nor a request for quotes
    "institution_id": "ltc_institution",
    "ltc_application_id": "ltc_application",
}
# GET routes that need a query to answer at all.
QUERIES = {
    "/api/v1/ledger/proofs/inclusion": "index=0&tree_size=1",
    "/api/v1/ledger/proofs/consistency": "first=1&second=2",
    "/api/v1/life/illustration": "issue_age=30&sex=F&pay_term=10&sum_assured=100000",
    "/api/v1/life/illustration.csv": "issue_age=30&sex=F&pay_term=10&sum_assured=100000",
    "/life/illustration": "issue_age=30&sex=F&pay_term=10&sum_assured=100000",
    "/api/v1/life/tables/values": "table=CL1&rate=0.025&age_from=30&age_to=40",
    "/leasing/quote": "cost=3000000&periods=36&annual_rate=5.95&start=2026-12-01",
    # an event's anchor salt (tests/trace/test_trace_api.py: another farmer gets 404)
    "/api/v1/trace/anchors": "eventID=ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0",
}
NOT_WALKED = {
    "/console/stream": "server-sent events: an endless stream; its events are the live hub's, "
    "filtered per listener (tests/web)",
    "/console/collateral/pledges/{pledge_id}/live": "server-sent events, as /console/stream",
    "/openapi.json": "the API's description, no rows",
    "/docs": "Swagger UI, no rows",
    "/docs/oauth2-redirect": "Swagger UI, no rows",
    "/redoc": "ReDoc, no rows",
    "/healthz": "liveness, no rows",
    "/login": "the login form, no rows",
}


@dataclass
class Owners:
    """Identifier or name -> the owner it belongs to."""

    of: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def add(self, owner: str, *marks: str | None) -> None:
        for mark in marks:
            if mark:
                self.of[mark] = owner

    def found_in(self, text: str) -> set[str]:
        return {owner for mark, owner in self.of.items() if mark in text}


def _routes(app: FastAPI) -> Iterator[str]:
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute):
            if "GET" in route.methods:
                yield route.path
        elif hasattr(route, "original_router"):  # FastAPI's wrapper for an included router
            pending.extend(route.original_router.routes)
        elif getattr(route, "path", None) and "GET" in (getattr(route, "methods", None) or ()):
            yield route.path


@pytest.fixture
def seeded(
    client: TestClient,
    demo: DemoInfo,
    demo_devices: dict[str, tuple[str, str]],
    db: Database,
    clock: FrozenClock,
) -> tuple[Owners, dict[str, str]]:
    """The demo, plus a fall alarm in the Zhang household and a signed checkpoint."""
    _, radar_token = demo_devices["mmwave_radar"]
    body = {"message_id": "f-1", "ts": clock.now().isoformat(), "values": {"fall": True}}
    fall = client.post(
        "/api/v1/telemetry",
        content=json.dumps(body).encode(),
        headers=device_headers(radar_token),
    )
    assert fall.status_code == 200, fall.text
    admin = client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORDS["admin"]}
    ).json()["access_token"]
    checkpoint = client.post(
        "/api/v1/ledger/checkpoints", headers={"Authorization": f"Bearer {admin}"}
    )
    assert checkpoint.status_code == 201, checkpoint.text
    alarms = client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {admin}"}).json()
    detail = client.get(
        f"/api/v1/alarms/{alarms[0]['id']}", headers={"Authorization": f"Bearer {admin}"}
    ).json()
    owners = Owners()
    with db.session_scope() as session:
        households = {h.id: h for h in session.scalars(select(Household))}
        label = {h.id: ZHANG if h.id == demo.household_id else ZHAO for h in households.values()}
        for h in households.values():
            owners.add(label[h.id], h.id, h.name)
        for elder in session.scalars(select(Elder)):
            owners.add(label[elder.household_id], elder.id, elder.full_name.split(" ")[0])
        for device in session.scalars(select(Device)):
            farm = {demo.trace.farm_id: RICE, demo.trace.grove_id: GROVE}.get(device.owner_id)
            owner = label.get(device.owner_id) or farm or WAREHOUSE
            if device.owner_kind == "lease_asset":  # a leased machine's tracker
                owner = LEASE
            owners.add(owner, device.id)
        for loan in session.scalars(select(Loan)):
            owners.add(LOAN, loan.id, loan.reference)
        for pledge in session.scalars(select(PledgeRow)):
            owners.add(LOAN, pledge.id)
        for warehouse in session.scalars(select(Warehouse)):
            owners.add(WAREHOUSE, warehouse.id, warehouse.code)
        for receipt in session.scalars(select(Receipt)):
            owners.add(WAREHOUSE, receipt.number)
        for stock_owner in session.scalars(select(StockOwner)):
            owners.add(WAREHOUSE, stock_owner.id)
        for application in session.scalars(select(Application)):
            owners.add(APPLICATION, application.id)
        for business in session.scalars(select(Business)):
            owners.add(APPLICATION, business.credit_code)
        for lease in session.scalars(select(LeaseContract)):
            owners.add(LEASE, lease.id, lease.reference, lease.lessee_credit_code)
        owners.add(ZHANG, demo.consultation_id)
        attachment_id = str(session.scalar(select(Attachment.id)))
        t = demo.trace
        owners.add(RICE, t.farm_id, t.plot_id, t.lot_id, t.capture_id, t.policy_id, t.claim_id)
        owners.add(GROVE, t.grove_id)
        owners.add(GOATS, t.goat_farm_id)
        her = session.get(LtcBeneficiary, demo.ltc.beneficiary_id)
        insured = session.get(LtcInsured, her.insured_id) if her else None
        assert insured is not None
        owners.add(LTC, insured.name, insured.id_number, insured.address)
        owners.add(LTC, "顾建华")  # the applicant waiting for his second assessor
    ids = {
        "elder": demo.elder_id,
        "household": demo.household_id,
        "device": demo_devices["mmwave_radar"][0],
        "alarm": str(alarms[0]["id"]),
        "notification": str(detail["notifications"][0]["id"]),
        "pledge": demo.collateral.pledge_id,
        "warehouse": demo.collateral.warehouse_id,
        "seq": "0",
        "size": str(checkpoint.json()["size"]),
        "month": clock.now().strftime("%Y-%m"),  # an LTC settlement month
        "application": str(demo.loan_application_id),
        "booking": demo.services.booking_id,
        "lease": demo.leasing.contract_id,
        "consultation": str(demo.consultation_id),
        "attachment": attachment_id,
        "trace_farm": demo.trace.farm_id,
        "trace_lot": demo.trace.lot_id,
        "capture": demo.trace.capture_id,
        "serial": demo.trace.serial,
        "policy": demo.trace.policy_id,
        "claim": demo.trace.claim_id,
        "gtin": demo.trace.gtin,
        "lot_code": demo.trace.lot,
        "market_listing": demo.market.listing_id,
        "ltc_institution": str(demo.ltc.institution_id),
        "ltc_application": str(demo.ltc.application_id),
    }
    return owners, ids


def _url(path: str, ids: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    if any(n not in PARAMS for n in names):
        return None
    url = path
    for name in names:
        url = url.replace(f"{{{name}}}", ids[PARAMS[name]])
    query = QUERIES.get(path)
    return f"{url}?{query}" if query else url


def test_every_route_shows_each_role_only_what_it_may_see(app: FastAPI, seeded) -> None:
    owners, ids = seeded
    paths = sorted(set(_routes(app)))
    unknown = [p for p in paths if p not in NOT_WALKED and _url(p, ids) is None]
    assert not unknown, (
        f"routes this test cannot exercise, add them to PARAMS or NOT_WALKED: {unknown}"
    )
    leaks: list[str] = []
    seen: dict[str, set[str]] = {}
    walked = 0
    for username in VISIBLE:
        with TestClient(app) as browser:
            login = browser.post(
                "/login",
                data={"username": username, "password": DEMO_PASSWORDS[username]},
                follow_redirects=False,
            )
            assert login.status_code == 303, login.text
            for path in paths:
                if path in NOT_WALKED:
                    continue
                url = _url(path, ids)
                assert url is not None
                response = browser.get(url, follow_redirects=False)
                assert response.status_code < 500, f"{username} GET {url}: {response.status_code}"
                assert response.status_code != 422, f"{username} GET {url}: {response.text}"
                walked += 1
                if response.status_code != 200:
                    continue  # refused or hidden: nothing shown
                found = owners.found_in(response.text)
                seen.setdefault(username, set()).update(found)
                for owner in sorted(found - VISIBLE[username]):
                    leaks.append(f"{username} GET {path} shows the {owner}'s rows")
    assert not leaks, "\n".join(leaks)
    assert walked >= len(VISIBLE) * 50
    # The table is not vacuous: each role does see each owner it may see somewhere.
    for username, visible in VISIBLE.items():
        assert seen.get(username, set()) == visible, (username, seen.get(username))


def test_receipt_facts_show_bodies_only_to_their_organisation(client, demo, as_user) -> None:
    url = "/api/v1/collateral/ledger/receipts"
    # "admin" and "coop" administer organisations with no warehouse and no pledge
    for outsider in ("son", "butler", "admin", "coop"):
        response = client.get(url, headers=as_user(outsider))
        assert response.status_code == 403
        assert "SCF-2026-0001" not in response.text
    bank = client.get(url, headers=as_user("bank")).json()
    by_action: dict[str, list[dict[str, object]]] = {}
    for fact in bank["entries"]:
        by_action.setdefault(str(fact["action"]), []).append(fact)
    # the bank's own pledge facts in full; the warehouse's issue facts as action and stock only
    assert len(by_action["pledge"]) == 8 and len(by_action["issue"]) == 8
    assert all(f["body"]["loan"] == "SCF-2026-0001" for f in by_action["pledge"])  # type: ignore[index]
    assert all(f["body"] is None and f["stock_key"] for f in by_action["issue"])
    warehouse = client.get(url, headers=as_user("warehouse")).json()
    assert all((f["body"] is None) == (f["action"] == "pledge") for f in warehouse["entries"])
