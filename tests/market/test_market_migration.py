"""market_0002 both ways over existing rows: a payment made before it is the buyer's
(kind payment), a request for quotes made before it takes quotes until its delivery day."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from anxin.core import migrate
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.market.service import CST
from tests.market.test_market_api import _contract

Headers = Callable[[str], dict[str, str]]


def _rows(db: Database) -> tuple[list[Any], list[Any]]:
    with db.engine.connect() as conn:
        payments = list(conn.execute(text("SELECT kind, amount FROM market_payments")))
        rfqs = list(conn.execute(text("SELECT quotes_by, delivery_by FROM market_rfqs")))
    return payments, rfqs


def test_market_0002_down_and_up_keeps_payments_and_requests(
    client: TestClient,
    as_user: Headers,
    demo: Any,
    db: Database,
    database_url: str,
    clock: FrozenClock,
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    today = clock.now().astimezone(CST).date().isoformat()
    order_id = _contract(client, buyer, coop, "prepayment")
    money = {"amount": "100.00", "paid_on": today, "idempotency_key": "before-downgrade"}
    paid = client.post(f"/api/v1/market/orders/{order_id}/payments", headers=buyer, json=money)
    assert paid.status_code == 201, paid.text
    rfq = {"crop": "rice", "grade": "first", "quantity_kg": "10.0", "region": "east",
           "delivery_by": "2026-12-31", "quotes_by": "2026-12-20"}  # fmt: skip
    assert client.post("/api/v1/market/rfqs", headers=buyer, json=rfq).status_code == 201
    db.engine.dispose()

    migrate.downgrade(database_url, "market_0001")
    db.engine.dispose()
    with db.engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM market_payments")).keys()
        assert "kind" not in columns and "idempotency_key" not in columns
    migrate.upgrade(database_url)
    db.engine.dispose()
    payments, rfqs = _rows(db)
    assert [(kind, Decimal(str(amount))) for kind, amount in payments] == [
        ("payment", Decimal("100.00"))
    ]
    # The quote deadline set before the downgrade is gone: it falls back to the delivery day.
    assert [(str(q), str(d)) for q, d in rfqs] == [("2026-12-31", "2026-12-31")]
