"""The warehouse operator's write routes, end to end through the JSON API, with the exact
fields each response carries (the read schemas are the contract clients code against)."""

from __future__ import annotations

from typing import Any

BASE = "/api/v1/collateral"
SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10]]


def _post(client: Any, url: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    r = client.post(url, headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_an_operator_sets_up_a_warehouse_and_issues_then_cancels_a_receipt(client, demo, as_user):
    op = as_user("warehouse")
    commodity = _post(
        client,
        f"{BASE}/commodities",
        op,
        {"code": "copper", "name_zh": "铜", "name_en": "Copper"},
    )
    assert commodity == {
        "id": commodity["id"],
        "code": "copper",
        "name_zh": "铜",
        "name_en": "Copper",
        "unit": "t",
    }
    owner = _post(client, f"{BASE}/owners", op, {"name": "Copper Trading Co"})
    assert owner == {"id": owner["id"], "name": "Copper Trading Co", "credit_code": None}
    wh = _post(client, f"{BASE}/warehouses", op, {"code": "CU1", "name": "Copper shed"})
    assert set(wh) == {"id", "code", "name", "address", "organisation_id"}
    assert (wh["code"], wh["address"]) == ("CU1", "")
    w = f"{BASE}/warehouses/{wh['id']}"
    zone = _post(
        client,
        f"{w}/zones",
        op,
        {"code": "B1", "kind": "bay", "polygon": SQUARE, "commodity": "copper"},
    )
    assert zone == {
        "id": zone["id"],
        "code": "B1",
        "kind": "bay",
        "polygon": [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
        "commodity_id": commodity["id"],
        "owner_id": None,
    }
    crane = _post(client, f"{w}/cranes", op, {"code": "C1", "hook_tare_kg": 850})
    assert crane["hook_tare_kg"] == 850.0
    assert set(crane["device_tokens"]) == {"crane_hook_scale", "crane_positioner"}

    detail = client.get(w, headers=op).json()
    assert [z["code"] for z in detail["zones"]] == ["B1"]
    # The tokens are shown once, at registration, never in the warehouse's detail.
    assert detail["cranes"] == [{k: v for k, v in crane.items() if k != "device_tokens"}]

    opening = _post(
        client,
        f"{w}/opening-balances",
        op,
        {"zone": "B1", "commodity": "copper", "owner_id": owner["id"], "quantity_kg": 25_000},
    )
    assert (opening["kind"], opening["quantity_kg"]) == ("opening", 25_000)
    assert client.get(f"{w}/stock", headers=op).json() == [
        {
            "zone": "B1",
            "commodity": "copper",
            "owner_id": owner["id"],
            "owner": "Copper Trading Co",
            "quantity_kg": 25_000,
            "quantity_t": "25.000",
            "receipt": None,
            "pledge_id": None,
        }
    ]

    receipt = _post(
        client,
        f"{w}/receipts",
        op,
        {"zone": "B1", "commodity": "copper", "owner_id": owner["id"]},
    )
    assert (receipt["status"], receipt["quantity_kg"], receipt["pledge_id"]) == (
        "issued",
        25_000,
        None,
    )
    assert [e["action"] for e in receipt["ledger"]] == ["issue"]
    assert client.get(f"{w}/receipts", headers=op).json() == [receipt]

    r = client.post(f"{BASE}/receipts/{receipt['id']}/cancel", headers=op)
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert [e["action"] for e in cancelled["ledger"]] == ["issue", "cancel"]
    assert cancelled["ledger"][1]["seq"] > cancelled["ledger"][0]["seq"]
