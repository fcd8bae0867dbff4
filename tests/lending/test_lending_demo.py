"""The demo seeds the clothing trader's 300,000-yuan application at review; the demo loan
officer scores it and the bank's risk officer sees it, the care organisation does not."""

from __future__ import annotations

from anxin.demo.lending import AMOUNT, seed_lending

BASE = "/api/v1/lending"


def test_the_demo_application_waits_at_review_and_can_be_decided(client, demo, as_user, context):
    lender = as_user("lender")
    [app] = client.get(f"{BASE}/applications?stage=review", headers=lender).json()
    assert app["id"] == demo.loan_application_id
    assert app["amount"] == str(AMOUNT) and app["stage"] == "review"
    # Seeding again finds it and adds nothing.
    with context.unit(actor="test:seed") as uow:
        assert seed_lending(uow=uow, now=uow.now()) == app["id"]
    assert len(client.get(f"{BASE}/applications", headers=lender).json()) == 1
    decision = client.post(f"{BASE}/applications/{app['id']}/decision", headers=lender)
    assert decision.status_code == 201, decision.text
    assert decision.json()["outcome"] == "approved"
    risk = as_user("bank-risk")
    assert client.get(f"{BASE}/applications/{app['id']}", headers=risk).status_code == 200
    assert (
        client.get(f"{BASE}/applications/{app['id']}", headers=as_user("admin")).status_code == 404
    )
