"""The reason codes of claim lines settled before they were stored (`ltc_0009`): the migration
reads them from the reason text by the rules the console used, and gives a settled month the
very codes the run stores now; downgrading drops them and keeps the text."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import inspect, text

from anxin.core import migrate
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.events import InProcessBus
from anxin.ltc import review
from anxin.ltc.flows import settle_and_anchor
from anxin.ltc.models import LtcSettlement
from anxin.ltc.settlement import split_codes
from anxin.migrations.versions.ltc_0009_reason_codes import reason_codes
from tests.ltc.test_settlement_oracle import NOV, POLICY, seed_month, seed_scheme

Codes = dict[tuple[str, int], str]

# Lines an older run could have stored: a rejection in words no rule knows, and a valuated
# rental with a note (a note is no reason: no codes).
_OLDER_LINES = """
    INSERT INTO ltc_claim_lines
        (settlement_id, kind, ref, beneficiary_id, payee, amount, fund, copay, state, reason)
    VALUES (:settlement, 'VISIT', 0, 1, 'institution:1', 10, 0, 0, 'REJECTED',
            'a reason of an older run'),
           (:settlement, 'RENTAL', 0, 1, 'depot:1', 10, 0, 10, 'VALUATED',
            'no entitlement: the beneficiary pays')
"""


def test_reasons_become_codes_in_their_order_once_each() -> None:
    two = "too_short: lasted 12 min, the minimum is 30 min; not_confirmed: not confirmed"
    assert reason_codes(two) == ["too_short", "not_confirmed"]
    again = "outside_radius: check-in 900 m; outside_radius: check-out 950 m"
    assert reason_codes(again) == ["outside_radius"]
    assert reason_codes("the beneficiary has no entitlement this month") == ["no_entitlement"]
    assert reason_codes("no entitlement rule for grade 2 on 2026-11-03") == ["no_rule"]
    assert reason_codes("services not on the menu: karaoke") == ["not_on_menu"]
    assert reason_codes("something new: the run learnt a reason") == ["other"]
    assert reason_codes("") == ["other"]


def _codes(db: Database, settlement_id: int) -> Codes:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, ref, reason_codes FROM ltc_claim_lines WHERE settlement_id = :s"),
            {"s": settlement_id},
        )
        return {(kind, ref): codes for kind, ref, codes in rows}


def _columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("ltc_claim_lines")}


def _settle_november(context: AppContext, city: str) -> int:
    with context.unit(actor="test:seed") as uow:
        seed_month(uow.session, city, seed_scheme(uow.session, city))
    with context.unit(actor="test", bus=InProcessBus()) as uow:
        run = settle_and_anchor(uow=uow, org_id=city, month=NOV, policy=POLICY)
        return run.settlement.id


def test_the_migration_gives_settled_lines_the_codes_the_run_stores(
    database_url: str, context: AppContext, db: Database, city: str
) -> None:
    settlement_id = _settle_november(context, city)
    stored = _codes(db, settlement_id)
    assert {codes for codes in stored.values() if "," in codes}  # some lines have several
    db.engine.dispose()
    migrate.downgrade(database_url, "ltc_0008")
    db.engine.dispose()
    assert "reason_codes" not in _columns(db)
    with db.engine.begin() as conn:
        conn.execute(text(_OLDER_LINES), {"settlement": settlement_id})
    db.engine.dispose()
    migrate.upgrade(database_url)
    db.engine.dispose()
    assert "reason_codes" in _columns(db)
    migrated = _codes(db, settlement_id)
    by_reason = Counter(c for codes in migrated.values() for c in split_codes(codes))
    assert migrated.pop(("VISIT", 0)) == "other"
    assert migrated.pop(("RENTAL", 0)) == ""
    for key, codes in stored.items():  # one by one, so a failure names the line
        assert migrated[key] == codes, key
    assert migrated.keys() == stored.keys()
    # Rejections by reason group the stored codes: a line counts under each of its codes.
    with context.unit() as uow:
        settlement = uow.session.get(LtcSettlement, settlement_id)
        assert settlement is not None
        counted = review.rejections_by_reason(session=uow.session, settlement=settlement)
    assert {r.code: r.lines for r in counted} == by_reason
    assert [r.lines for r in counted] == sorted((r.lines for r in counted), reverse=True)
