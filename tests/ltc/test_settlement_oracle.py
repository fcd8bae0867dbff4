"""The set-based visit lines (PostgreSQL, `settlement_sql`) against the Python path, the oracle:
the same month settled both ways must give the same claim lines, field by field.

On SQLite the run settles visits in Python (no exact decimals there), so the first test holds
the stored lines to the oracle computed afresh; on PostgreSQL it holds the SQL to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.context import AppContext
from anxin.core.events import InProcessBus
from anxin.ltc import settlement_sql
from anxin.ltc.entitlements import Month
from anxin.ltc.flows import settle_and_anchor
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcClaimLine,
    LtcInstitution,
    LtcInsured,
    LtcRental,
    LtcRule,
    LtcService,
    LtcVisit,
)
from anxin.ltc.register import id_check_digit
from anxin.ltc.settlement import ClaimLine, LineKind, RunReason, codes_text, split_codes
from anxin.ltc.settlement_service import python_lines, set_based
from anxin.ltc.visits import Check, VisitPolicy
from tests.conftest import ON_POSTGRES

NOV = Month(2026, 11)
HOME = (32.0146, 120.8642)
POLICY = VisitPolicy()
# 10:00 in Nantong on Tuesday 3 November 2026.
TUESDAY = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
Fields = tuple[int, str, Decimal, Decimal, Decimal, str, str, str]


def _rule(city: str, grade: int, start: date, stop: date | None, **terms: Any) -> LtcRule:
    return LtcRule(
        org_id=city, city="nantong", grade=grade, valid_from=start, valid_to=stop,
        monthly_cash=Decimal(terms.get("cash", "210.00")), visits_per_week=2,
        services=terms.get("services", ["bath", "haircut", "massage"]),
        visit_copay_ratio=Decimal(terms.get("copay", "0.10")),
        rental_fund_ratio=Decimal("0.80"), created_at=TUESDAY,
    )  # fmt: skip


def _person(s: Session, city: str, n: int, grade: int, **terms: Any) -> int:
    """An insured person (home at HOME unless `home=None`) entitled at `grade`."""
    first17 = f"32060219500101{n:03d}"
    home = terms.get("home", HOME)
    insured = LtcInsured(
        org_id=city, id_number=first17 + id_check_digit(first17), name=f"居民{n}", sex="F",
        birth_date=date(1950, 1, 1), district="崇川区", address=f"路 {n} 号",
        lat=home[0] if home else None, lon=home[1] if home else None, updated_at=TUESDAY,
    )  # fmt: skip
    s.add(insured)
    s.flush()
    person = LtcBeneficiary(
        org_id=city, insured_id=insured.id, city="nantong", grade=grade,
        entitled_from=terms.get("start", date(2026, 6, 1)), entitled_to=terms.get("stop"),
        created_at=TUESDAY,
    )  # fmt: skip
    s.add(person)
    s.flush()
    return person.id


def seed_scheme(s: Session, city: str) -> dict[str, int]:
    """The menu, rules with a change of grade 2's on 16 November (local), an institution and
    beneficiaries in every situation a visit's line depends on; returns their ids by name."""
    for code, price in [("bath", "60.00"), ("haircut", "15.00"), ("massage", "35.50"),
                        ("wound_care", "80.00")]:  # fmt: skip
        s.add(LtcService(org_id=city, code=code, name_zh=code, name_en=code, price=Decimal(price)))
    change = date(2026, 11, 16)
    s.add_all(
        [
            _rule(city, 2, date(2026, 1, 1), change),
            _rule(
                city,
                2,
                change,
                None,
                cash="240.00",
                copay="0.15",
                services=["bath", "haircut", "massage", "wound_care"],
            ),
            _rule(city, 3, date(2026, 1, 1), None, cash="450.00", copay="0.05"),
            # Grade 4's rule ends mid-month: later visits have no rule.
            _rule(city, 4, date(2026, 1, 1), date(2026, 11, 20), cash="600.00"),
        ]
    )
    institution = LtcInstitution(org_id=city, name="崇川护理站", created_at=TUESDAY)
    s.add(institution)
    s.flush()
    return {
        "institution": institution.id,
        "her": _person(s, city, 1, 2),
        "severe": _person(s, city, 2, 3),
        "mild": _person(s, city, 3, 1),  # grade 1: the city has no rule for it
        "homeless": _person(s, city, 4, 2, home=None),
        "gone": _person(s, city, 5, 2, stop=date(2026, 10, 1)),  # not entitled this month
        "newly": _person(s, city, 6, 3, start=date(2026, 11, 10)),  # graded mid-month
        "regraded": _person(s, city, 7, 2, stop=date(2026, 11, 12)),  # re-assessed to grade 0
        "four": _person(s, city, 8, 4),
    }


def _visit(ids: dict[str, int], who: str, start: datetime, minutes: float | None,
           services: list[str], **facts: Any) -> LtcVisit:  # fmt: skip
    out = facts.get("out", HOME)
    return LtcVisit(
        org_id=facts["city"], beneficiary_id=ids[who], institution_id=ids["institution"],
        caregiver=facts.get("caregiver", f"cg-{who}"), check_in=start,
        check_out=None if minutes is None else start + timedelta(minutes=minutes),
        in_lat=facts.get("at", HOME)[0], in_lon=facts.get("at", HOME)[1],
        out_lat=out[0] if out else None, out_lon=out[1] if out else None, services=services,
        confirmed=facts.get("confirmed", True), presence=facts.get("presence"),
    )  # fmt: skip


def seed_month(s: Session, city: str, ids: dict[str, int]) -> None:
    """One visit per case the checks distinguish (and some that combine them)."""
    day = timedelta(days=1)
    far, near = (HOME[0] + 0.02, HOME[1]), (HOME[0] + 0.0015, HOME[1])  # ~2.2 km, ~167 m

    def v(who: str, start: datetime, minutes: float | None, services: list[str],
          **facts: Any) -> LtcVisit:  # fmt: skip
        return _visit(ids, who, start, minutes, services, city=city, **facts)

    s.add_all(
        [
            v("her", TUESDAY, 60, ["bath", "haircut"]),  # paid
            v("her", TUESDAY + day, 12, ["massage"]),  # too short
            v("her", TUESDAY + 2 * day, 28.5, ["massage"]),  # "28 min": half to even
            v("her", TUESDAY + 3 * day, 29.5, ["massage"]),  # "30 min"
            v("her", TUESDAY + 4 * day, None, ["bath"]),  # never checked out
            v("her", TUESDAY + 5 * day, 45, ["bath"], out=far),  # check-out far away
            v("her", TUESDAY + 6 * day, 45, ["bath"], at=far, out=None),  # checked in far
            v("her", TUESDAY + 7 * day, 45, ["bath"], at=near, out=near),  # inside the radius
            v("her", TUESDAY + 8 * day, 45, ["wound_care"]),  # not entitled before the change
            v("her", TUESDAY + 9 * day, 45, ["karaoke", "bath"]),  # not on the menu
            v("her", TUESDAY + 10 * day, 45, []),  # no service
            v("her", TUESDAY + 11 * day, 45, ["massage"], confirmed=False),
            v("her", TUESDAY + 12 * day, 45, ["massage"], presence=False),  # a flag: paid
            # 00:30 on 16 November in Nantong (still the 15th in UTC): the new rule, at 15 %.
            v("her", datetime(2026, 11, 15, 16, 30, tzinfo=UTC), 45, ["massage", "wound_care"]),
            v("her", TUESDAY + 14 * day, 45, ["haircut", "massage", "haircut"]),
            # Everything wrong at once, in the checks' order.
            v(
                "her",
                TUESDAY + 15 * day,
                5,
                ["wound_care", "bath"],
                at=far,
                out=far,
                confirmed=False,
                caregiver="cg-busy",
            ),
            # Three visits of one caregiver overlapping, one a moment inside another.
            v("severe", TUESDAY + 16 * day, 90, ["bath"], caregiver="cg-busy"),
            v(
                "severe",
                TUESDAY + 16 * day + timedelta(minutes=60),
                60,
                ["bath"],
                caregiver="cg-busy",
            ),
            v(
                "newly",
                TUESDAY + 16 * day + timedelta(minutes=30),
                None,
                ["bath"],
                caregiver="cg-busy",
            ),
            # Back to back is no overlap.
            v("severe", TUESDAY + 17 * day, 60, ["bath"], caregiver="cg-busy"),
            v(
                "severe",
                TUESDAY + 17 * day + timedelta(minutes=60),
                60,
                ["haircut"],
                caregiver="cg-busy",
            ),
            v("mild", TUESDAY, 60, ["bath"]),  # no rule for grade 1
            v("homeless", TUESDAY, 60, ["bath"]),
            v("gone", TUESDAY, 60, ["bath"]),
            v("newly", TUESDAY + 10 * day, 60, ["massage"]),
            v("regraded", TUESDAY + 20 * day, 60, ["massage"]),  # after the entitlement ended
            v("four", TUESDAY + 10 * day, 60, ["massage"]),
            v("four", TUESDAY + 20 * day, 60, ["massage"]),  # grade 4's rule has ended
            # 00:30 on 1 November in Nantong counts; 00:30 on 1 December does not.
            v("her", datetime(2026, 10, 31, 16, 30, tzinfo=UTC), 45, ["bath"]),
            v("her", datetime(2026, 11, 30, 16, 30, tzinfo=UTC), 45, ["bath"]),
        ]
    )
    s.add(
        LtcRental(
            org_id=city, beneficiary_id=ids["her"], depot_id=1, item="wheelchair",
            monthly_rent=Decimal("90.00"), start=date(2026, 10, 20),
        )
    )  # fmt: skip


def _fields(line: ClaimLine | LtcClaimLine) -> Fields:
    codes = line.reason_codes if isinstance(line, LtcClaimLine) else codes_text(line.codes)
    return (
        line.beneficiary_id, line.payee, line.amount, line.fund, line.copay, line.state.value,
        line.reason[:500], codes,
    )  # fmt: skip


def test_the_month_settles_as_the_python_path_does(context: AppContext, city: str) -> None:
    with context.unit(actor="test:seed") as uow:
        ids = seed_scheme(uow.session, city)
        seed_month(uow.session, city, ids)
    with context.unit(actor="test", bus=InProcessBus()) as uow:
        assert set_based(uow.session) is ON_POSTGRES
        run = settle_and_anchor(uow=uow, org_id=city, month=NOV, policy=POLICY)
        assert run.reconciled
        stored = {
            (line.kind, line.ref): _fields(line)
            for line in uow.session.scalars(
                select(LtcClaimLine).where(LtcClaimLine.settlement_id == run.settlement.id)
            )
        }
        oracle = {
            (line.kind, line.ref): _fields(line)
            for line in python_lines(session=uow.session, org_id=city, month=NOV, policy=POLICY)
        }
    visits = {k: f for k, f in oracle.items() if k[0] is LineKind.VISIT}
    assert len(visits) == 29  # all but the December visit
    for key in oracle:  # one by one, so a failure names the line
        assert stored.get(key) == oracle[key], key
    assert stored.keys() == oracle.keys()
    reasons = " | ".join(f[6] for f in visits.values())
    for check in ("too_short: lasted 28 min", "lasted 30 min", "not_checked_out", "no_home",
                  "outside_radius: check-in", "outside_radius: check-out", "overlap",
                  "no_service", "service_not_entitled", "not_confirmed", "not on the menu",
                  "no entitlement rule for grade 1", "no entitlement rule for grade 4",
                  "no entitlement this month"):  # fmt: skip
        assert check in reasons, check
    # Every reason as its code: all the checks that stop a visit and the run's own reasons.
    codes = {code for f in visits.values() for code in split_codes(f[7])}
    every = {c.value for c in Check} | {r.value for r in RunReason}
    assert codes == every - {Check.NO_PRESENCE.value}
    # Everything wrong at once (wound care is entitled from the 16th): each code once.
    assert "too_short,outside_radius,not_confirmed" in {f[7] for f in visits.values()}
    assert all((f[5] == "rejected") == bool(f[7]) for f in oracle.values())
    copays = {f[4] for f in visits.values()}
    assert Decimal("5.33") in copays  # 35.50 × 15 % = 5.325, half up to the fen
    summary = run.settlement.summary
    assert summary["lines"] == len(oracle)
    assert summary["rejected"] == sum(f[5] == "rejected" for f in oracle.values())


VISIT = st.fixed_dictionaries(
    {
        "who": st.sampled_from(["her", "severe", "mild", "homeless", "gone", "newly", "four"]),
        "caregiver": st.sampled_from(["cg-a", "cg-b", "cg-c"]),
        # From a day before the month to a day after it, on the minute's quarter.
        "start": st.integers(-96, 31 * 96).map(lambda q: timedelta(minutes=15 * q)),
        # Whole quarters too, so that visits end exactly when another starts.
        "seconds": st.none() | st.integers(0, 12).map(lambda q: 900 * q) | st.integers(0, 10800),
        "at": st.tuples(st.integers(-30, 30), st.integers(-30, 30)),  # 1e-4 degrees (~11 m)
        "out": st.none() | st.tuples(st.integers(-30, 30), st.integers(-30, 30)),
        "services": st.lists(
            st.sampled_from(["bath", "haircut", "massage", "wound_care", "karaoke"]), max_size=3
        ),
        "confirmed": st.booleans(),
        "presence": st.sampled_from([None, True, False]),
    }
)


def _generated(ids: dict[str, int], city: str, facts: dict[str, Any]) -> LtcVisit:
    def point(offset: tuple[int, int]) -> tuple[float, float]:
        return HOME[0] + offset[0] * 1e-4, HOME[1] + offset[1] * 1e-4

    seconds = facts["seconds"]
    return _visit(
        ids, facts["who"], datetime(2026, 10, 31, 16, tzinfo=UTC) + facts["start"],
        None if seconds is None else seconds / 60, facts["services"], city=city,
        caregiver=facts["caregiver"], at=point(facts["at"]),
        out=point(facts["out"]) if facts["out"] else None, confirmed=facts["confirmed"],
        presence=facts["presence"],
    )  # fmt: skip


@pytest.mark.pg
def test_generated_visits_price_alike_both_ways(context: AppContext, city: str) -> None:
    with context.unit(actor="test:seed") as uow:
        ids = seed_scheme(uow.session, city)
    with context.unit(actor="test") as uow:
        session = uow.session

        @settings(max_examples=60, deadline=None)
        @given(st.lists(VISIT, min_size=1, max_size=12))
        def agree(visits: list[dict[str, Any]]) -> None:
            savepoint = session.begin_nested()
            try:
                session.add_all([_generated(ids, city, facts) for facts in visits])
                session.flush()
                oracle = {
                    line.ref: _fields(line)
                    for line in python_lines(session=session, org_id=city, month=NOV, policy=POLICY)
                    if line.kind is LineKind.VISIT
                }
                rows = settlement_sql.visit_lines(session, org_id=city, month=NOV, policy=POLICY)
                in_sql = {
                    r.ref: (
                        r.beneficiary_id,
                        r.payee,
                        r.amount,
                        r.fund,
                        r.copay,
                        r.state.lower(),
                        r.reason,
                        r.reason_codes,
                    )
                    for r in rows
                }
                assert in_sql == oracle
            finally:
                savepoint.rollback()

        agree()
