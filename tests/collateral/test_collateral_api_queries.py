"""Collateral list endpoints load a list in a fixed number of SQL statements (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from tests.conftest import START

from anxin.collateral.models import (
    Loan,
    Movement,
    MovementKind,
    PledgeRow,
    PledgeState,
    PriceMark,
    Receipt,
    ReceiptStatus,
    ReleaseOrder,
    ReleaseStatus,
    StockOwner,
    StockPosition,
    Stocktake,
    WarehouseZone,
    ZoneKind,
)
from anxin.people.models import User

BASE = "/api/v1/collateral"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends to the database inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _seed(context: Any, demo: Any, start: int, count: int) -> None:
    """`count` more of everything the bank lists: pledges (each with its loan, borrower,
    receipt and stock), movements, stocktakes, releases of the demo pledge and price marks."""
    c = demo.collateral
    with context.unit(actor="test:seed") as uow:
        session = uow.session
        pledge = session.get(PledgeRow, c.pledge_id)
        assert pledge is not None
        bay = session.scalar(
            select(WarehouseZone).where(
                WarehouseZone.warehouse_id == c.warehouse_id, WarehouseZone.kind == ZoneKind.BAY
            )
        )
        bank_user = session.scalar(select(User).where(User.username == "bank"))
        assert bay is not None and bank_user is not None
        for i in range(start, start + count):
            owner = StockOwner(name=f"trader {i}", created_at=START)
            session.add(owner)
            session.flush()
            loan = Loan(
                lender_org_id=c.bank_org_id,
                borrower_id=owner.id,
                reference=f"LOAN-Q-{i}",
                principal=Decimal("1000000.00"),
                outstanding=Decimal("900000.00"),
                created_at=START,
            )
            session.add(loan)
            session.flush()
            row = PledgeRow(
                loan_id=loan.id,
                lender_org_id=c.bank_org_id,
                borrower_id=owner.id,
                warehouse_id=c.warehouse_id,
                commodity_id=pledge.commodity_id,
                haircut=Decimal("0.2"),
                warning_ltv=Decimal("0.75"),
                margin_call_ltv=Decimal("0.8"),
                liquidation_ltv=None,
                min_quantity_kg=0,
                state=PledgeState.ACTIVE,
                status="ok",
                quantity_kg=1000,
                below_minimum=False,
                created_at=START,
            )
            session.add(row)
            session.flush()
            session.add_all(
                [
                    Receipt(
                        number=f"WR-Q-{i}",
                        warehouse_id=c.warehouse_id,
                        zone_id=bay.id,
                        commodity_id=pledge.commodity_id,
                        owner_id=owner.id,
                        quantity_kg=1000,
                        status=ReceiptStatus.PLEDGED,
                        pledge_id=row.id,
                        live_key=f"q:{i}",
                        ledger_seqs=[],
                        issued_at=START,
                    ),
                    StockPosition(
                        warehouse_id=c.warehouse_id,
                        zone_id=bay.id,
                        commodity_id=pledge.commodity_id,
                        owner_id=owner.id,
                        quantity_kg=1000,
                        updated_at=START,
                    ),
                    Movement(
                        id=f"q-{i}",
                        warehouse_id=c.warehouse_id,
                        kind=MovementKind.LIFT,
                        direction="outbound",
                        from_zone_id=bay.id,
                        commodity_id=pledge.commodity_id,
                        owner_id=owner.id,
                        quantity_kg=10,
                        pledge_id=row.id,
                        occurred_at=START,
                        recorded_at=START,
                    ),
                    Stocktake(
                        warehouse_id=c.warehouse_id,
                        zone_id=bay.id,
                        commodity_id=pledge.commodity_id,
                        owner_id=owner.id,
                        counted_kg=1000,
                        book_kg=1000,
                        difference_kg=0,
                        tolerance_kg=10,
                        outcome="matched",
                        explanation="",
                        counted_by=bank_user.id,
                        counted_at=START,
                    ),
                    ReleaseOrder(
                        pledge_id=c.pledge_id,
                        quantity_kg=1000,
                        status=ReleaseStatus.REJECTED,
                        requested_by=bank_user.id,
                        requested_at=START,
                    ),
                    PriceMark(
                        commodity_id=pledge.commodity_id,
                        as_of=date(2000, 1, 1) + timedelta(days=i),
                        price=Decimal("3000.00"),
                        created_at=START,
                    ),
                ]
            )


def _lists(client: Any, headers: dict[str, str], demo: Any) -> dict[str, str]:
    w, p = demo.collateral.warehouse_id, demo.collateral.pledge_id
    return {
        "pledges": f"{BASE}/pledges",
        "receipts": f"{BASE}/warehouses/{w}/receipts",
        "stock": f"{BASE}/warehouses/{w}/stock",
        "warehouse movements": f"{BASE}/warehouses/{w}/movements",
        "stocktakes": f"{BASE}/warehouses/{w}/stocktakes",
        "releases": f"{BASE}/pledges/{p}/releases",
        "prices": f"{BASE}/prices",
    }


def _measure(
    client: Any, db: Any, headers: dict[str, str], urls: dict[str, str]
) -> dict[str, tuple[int, int]]:
    """name -> (rows returned, SQL statements run) for each list."""
    out = {}
    for name, url in urls.items():
        with statements(db.engine) as seen:
            r = client.get(url, headers=headers)
        assert r.status_code == 200, (name, r.text)
        out[name] = (len(r.json()), len(seen))
    return out


def test_collateral_lists_run_the_same_statements_for_5_rows_as_for_50(
    client, demo, db, context, as_user
):
    bank = as_user("bank")
    urls = _lists(client, bank, demo)
    _seed(context, demo, 0, 5)
    few = _measure(client, db, bank, urls)
    _seed(context, demo, 5, 45)
    many = _measure(client, db, bank, urls)
    # Each list really shows the 45 new rows, so the comparison below is about them.
    assert {n: many[n][0] - few[n][0] for n in urls} == dict.fromkeys(urls, 45)
    assert {n: many[n][1] for n in urls} == {n: few[n][1] for n in urls}
