"""The monthly settlement as one piece of work: settle, close, anchor the summary in the ledger.

The ledger entry carries the month's totals (not the claim lines, which hold personal data), so
anyone holding the summary can later prove it was fixed when the month closed.
"""

from __future__ import annotations

from anxin.core.unit import UnitOfWork
from anxin.ledger.service import append_entry
from anxin.ltc.entitlements import Month
from anxin.ltc.settlement_service import SettlementResult, settle
from anxin.ltc.visits import VisitPolicy

ENTRY_TYPE = "ltc.settlement"


def settle_and_anchor(
    *, uow: UnitOfWork, org_id: str, month: Month, policy: VisitPolicy | None = None
) -> SettlementResult:
    result = settle(uow=uow, org_id=org_id, month=month, policy=policy or VisitPolicy())
    entry = append_entry(
        session=uow.session, entry_type=ENTRY_TYPE, organisation_id=org_id,
        body=result.settlement.summary, now=uow.now(),
    )  # fmt: skip
    result.settlement.ledger_seq = entry.seq
    uow.session.flush()
    return result
