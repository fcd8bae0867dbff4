"""Warehouses, live stock, receipts, pledges, releases, price marks and stocktakes.

Keyword-only functions on the caller's session; they flush, never commit. Who may do what:

* the warehouse operator's organisation owns its warehouses, bays, cranes and stock; its
  ``warehouse_operator`` users (and admins) manage them and request releases;
* a bank (the lender's organisation) sees only the pledges it lent against — any other pledge
  is a 404 — and its ``scf_officer`` users create pledges, approve or reject releases and
  close pledges; risk and loan officers read;
* price marks are market data: any bank officer or admin may enter them.

The modules, each importing only those above it:

* ``common`` — roles, kilograms and tonnes, who sees which pledges and warehouses (the owner
  scopes), the locked stock position;
* ``reference`` — commodities and stock owners;
* ``warehouses`` — warehouses, zones and cranes;
* ``receipts`` — warehouse receipts and their facts on the ledger;
* ``pledges`` — pledges, their valuation (LTV lines, minimum stock) and its alarms;
* ``prices`` — price marks, which re-value every pledge;
* ``releases`` — release orders and what of them lifts may still consume;
* ``stock_ledger`` — live stock, opening balances, lifts booked as movements, stocktakes.

Callers use the package (``from anxin.collateral import service``); it re-exports the API.
"""

from __future__ import annotations

# Models that some callers reach as ``service.<Model>``.
from anxin.collateral.models import Crane, Receipt, StockOwner
from anxin.collateral.service.common import (
    BANK_ROLES,
    KG_PER_T,
    OPERATOR_ROLES,
    in_receipt_finance,
    kg_to_t,
    t_to_kg,
    visible_pledge_ids,
    visible_warehouse_ids,
)
from anxin.collateral.service.pledges import (
    RevaluationReport,
    close_pledge,
    create_pledge,
    get_pledge,
    latest_marks,
    list_pledges,
    pledge_receipts,
    pledged_quantities,
    pure_pledge,
    revalue_pledges,
    valuation_history,
)
from anxin.collateral.service.prices import (
    PRICE_ROLES,
    add_price_marks,
    list_marks,
    parse_price_csv,
)
from anxin.collateral.service.receipts import (
    RECEIPT_ENTRY,
    cancel_receipt,
    double_pledges,
    issue_receipt,
    list_receipts,
)
from anxin.collateral.service.reference import (
    DEFAULT_COMMODITIES,
    commodity_by_code,
    create_commodity,
    create_owner,
    ensure_commodities,
    get_owner,
    list_commodities,
)
from anxin.collateral.service.releases import (
    decide_release,
    list_releases,
    release_remaining_kg,
    release_tolerance_kg,
    request_release,
)
from anxin.collateral.service.stock_ledger import (
    LiftOutcome,
    apply_lift,
    list_movements,
    list_stocktakes,
    pledge_of_bay,
    provisional_outbound,
    record_stocktake,
    set_opening_balance,
    stock,
)
from anxin.collateral.service.warehouses import (
    add_zone,
    crane_for_device,
    crane_state,
    cranes_of,
    create_warehouse,
    geo_zone,
    get_warehouse,
    layout_of,
    list_warehouses,
    register_crane,
    zone_by_code,
    zones_of,
)

__all__ = [
    "BANK_ROLES",
    "DEFAULT_COMMODITIES",
    "KG_PER_T",
    "OPERATOR_ROLES",
    "PRICE_ROLES",
    "RECEIPT_ENTRY",
    "Crane",
    "LiftOutcome",
    "Receipt",
    "RevaluationReport",
    "StockOwner",
    "add_price_marks",
    "add_zone",
    "apply_lift",
    "cancel_receipt",
    "close_pledge",
    "commodity_by_code",
    "crane_for_device",
    "crane_state",
    "cranes_of",
    "create_commodity",
    "create_owner",
    "create_pledge",
    "create_warehouse",
    "decide_release",
    "double_pledges",
    "ensure_commodities",
    "geo_zone",
    "get_owner",
    "get_pledge",
    "get_warehouse",
    "in_receipt_finance",
    "issue_receipt",
    "kg_to_t",
    "latest_marks",
    "layout_of",
    "list_commodities",
    "list_marks",
    "list_movements",
    "list_pledges",
    "list_receipts",
    "list_releases",
    "list_stocktakes",
    "list_warehouses",
    "parse_price_csv",
    "pledge_of_bay",
    "pledge_receipts",
    "pledged_quantities",
    "provisional_outbound",
    "pure_pledge",
    "record_stocktake",
    "register_crane",
    "release_remaining_kg",
    "release_tolerance_kg",
    "request_release",
    "revalue_pledges",
    "set_opening_balance",
    "stock",
    "t_to_kg",
    "valuation_history",
    "visible_pledge_ids",
    "visible_warehouse_ids",
    "zone_by_code",
    "zones_of",
]
