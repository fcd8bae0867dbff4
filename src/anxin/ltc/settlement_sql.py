"""The month's visit claim lines computed by PostgreSQL in one statement (set-based).

The same judgement as the Python path (`visits.check_visit`, `settlement._visit_line`), written
as SQL so that a month of hundreds of thousands of visits is checked and priced where the rows
are instead of crossing the wire twice and running ~25 µs of Python each. It must agree with
the Python path line for line — same reasons in the same order, same reason codes, same
numbers to the fen — and `tests/ltc/test_settlement_oracle.py` holds it to that.

How each check is expressed (all per visit of the org's month):
- duration: microseconds as float8, divided as Python divides timedeltas; ``round(float8)`` is
  ``rint``, half to even like Python's ``:.0f``;
- distance: the haversine of `visits.haversine_m`, same operations in the same order on the same
  libm, so the metres printed match;
- services against the menu and the rule of the visit's local day (rules expanded to days);
- overlaps: ``max(end) OVER (PARTITION BY caregiver ORDER BY check_in, id)`` over the earlier
  visits, and the next visit's check-in, find the visits in a clash; only those are paired to
  name the ids;
- price split: ``round(numeric, 2)`` rounds half away from zero, which on amounts ≥ 0 is the
  half-up of `core.money.to_money`.

Only PostgreSQL: SQLite has no exact decimal arithmetic (its NUMERIC is a float), so there the
Python path settles (`settlement_service`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from anxin.core.money import to_money
from anxin.ltc.entitlements import Month
from anxin.ltc.visits import EARTH_RADIUS_M, LOCAL, VisitPolicy, local_start

# Python's `f"{x:.0f}"` of a float: half to even, and "-0" for a small negative number.
_WHOLE = "round({x})::text"


def _haversine(lat: str, lon: str) -> str:
    """`visits.haversine_m(point, home)` as SQL on float8, operation for operation (radians as
    `math.radians` computes them: degrees times pi/180)."""
    rad = "(pi() / 180.0::float8)"
    return (
        f"(2 * {EARTH_RADIUS_M!r}::float8 * asin(least(1.0::float8, sqrt("
        f"power(sin((m.home_lat * {rad} - {lat} * {rad}) / 2), 2)"
        f" + cos({lat} * {rad}) * cos(m.home_lat * {rad})"
        f" * power(sin(((m.home_lon - {lon}) * {rad}) / 2), 2)))))"
    )


_VISIT_LINES = f"""
WITH rule_days AS (
    SELECT DISTINCT ON (r.city, r.grade, d.day) r.id AS rule_id, r.city, r.grade, d.day,
           r.visit_copay_ratio
    FROM ltc_rules r
    CROSS JOIN LATERAL (
        SELECT g::date AS day FROM generate_series(
            greatest(r.valid_from, :month_first),
            least(coalesce(r.valid_to, :month_end), :month_end) - 1, interval '1 day') g
    ) d
    WHERE r.org_id = :org
    ORDER BY r.city, r.grade, d.day, r.id
), rule_services AS (
    SELECT r.id AS rule_id, e.code
    FROM ltc_rules r CROSS JOIN LATERAL json_array_elements_text(r.services) e(code)
    WHERE r.org_id = :org
), ends AS (
    SELECT id, caregiver, check_in, coalesce(check_out, check_in) AS ends,
           max(coalesce(check_out, check_in)) OVER (
               PARTITION BY caregiver ORDER BY check_in, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end,
           lead(check_in) OVER (PARTITION BY caregiver ORDER BY check_in, id) AS next_in
    FROM ltc_month_visits
), clashing AS (
    -- Overlapped by an earlier visit, or overlapping the next one (if any later visit
    -- starts before this one ends, the next does): only these are paired.
    SELECT id, caregiver, check_in, ends FROM ends
    WHERE earlier_end > check_in OR next_in < ends
), pairs AS (
    SELECT a.id AS first, b.id AS second
    FROM clashing a JOIN clashing b ON a.caregiver = b.caregiver
     AND (a.check_in, a.id) < (b.check_in, b.id) AND a.ends > b.check_in
), clashes AS (
    SELECT id, string_agg(other::text, ', ' ORDER BY other) AS ids
    FROM (SELECT first AS id, second AS other FROM pairs
          UNION ALL SELECT second, first FROM pairs) both_ways
    GROUP BY id
), measured AS (
    SELECT v.*, p.id AS person, p.grade, p.home_lat, p.home_lon, rd.rule_id,
           rd.visit_copay_ratio,
           (extract(epoch FROM v.check_out - v.check_in) * 1000000)::bigint::float8
               / 60000000::float8 AS minutes
    FROM ltc_month_visits v
    LEFT JOIN ltc_month_people p ON p.id = v.beneficiary_id
    LEFT JOIN rule_days rd ON rd.city = p.city AND rd.grade = p.grade AND rd.day = v.day
), located AS MATERIALIZED (
    -- Materialised: each distance is used twice below (test and text); computed once.
    SELECT m.*,
           CASE WHEN m.home_lat IS NOT NULL AND m.home_lon IS NOT NULL
                THEN {_haversine("m.in_lat", "m.in_lon")} END AS in_m,
           CASE WHEN m.home_lat IS NOT NULL AND m.home_lon IS NOT NULL
                     AND m.out_lat IS NOT NULL AND m.out_lon IS NOT NULL
                THEN {_haversine("m.out_lat", "m.out_lon")} END AS out_m
    FROM measured m
), codes AS (
    SELECT DISTINCT m.id, e.code, m.rule_id
    FROM measured m CROSS JOIN LATERAL json_array_elements_text(m.services) e(code)
), priced AS (
    SELECT c.id, count(*) AS n, coalesce(sum(s.price), 0) AS amount,
           string_agg(c.code, ', ' ORDER BY c.code COLLATE "C")
               FILTER (WHERE s.code IS NULL) AS unknown,
           string_agg(c.code, ', ' ORDER BY c.code COLLATE "C")
               FILTER (WHERE rs.code IS NULL) AS outside
    FROM codes c
    LEFT JOIN ltc_services s ON s.org_id = :org AND s.code = c.code
    LEFT JOIN rule_services rs ON rs.rule_id = c.rule_id AND rs.code = c.code
    GROUP BY c.id
), found AS (
    -- Each check decided once; `judged` words it and codes it from the same decision.
    SELECT l.id, l.beneficiary_id, l.institution_id, l.visit_copay_ratio, l.grade, l.day,
           l.minutes, l.in_m, l.out_m, cl.ids, pr.unknown, pr.outside,
           coalesce(pr.amount, 0) AS amount,
           CASE WHEN l.person IS NULL THEN 'no_entitlement'
                WHEN l.rule_id IS NULL THEN 'no_rule'
                WHEN pr.unknown IS NOT NULL THEN 'not_on_menu' END AS run_code,
           CASE WHEN l.check_out IS NULL THEN 'not_checked_out'
                WHEN l.minutes < :min_minutes THEN 'too_short' END AS duration,
           (l.home_lat IS NULL OR l.home_lon IS NULL) AS no_home,
           coalesce(l.in_m > :radius, false) AS in_far,
           coalesce(l.out_m > :radius, false) AS out_far,
           pr.n IS NULL AS no_service,
           NOT l.confirmed AS unconfirmed
    FROM located l
    LEFT JOIN priced pr ON pr.id = l.id
    LEFT JOIN clashes cl ON cl.id = l.id
), judged AS (
    SELECT f.id, f.beneficiary_id, f.institution_id, f.visit_copay_ratio, f.amount,
           CASE f.run_code
           WHEN 'no_entitlement' THEN 'the beneficiary has no entitlement this month'
           WHEN 'no_rule' THEN
               'no entitlement rule for grade ' || f.grade || ' on ' || to_char(f.day, 'YYYY-MM-DD')
           WHEN 'not_on_menu' THEN 'services not on the menu: ' || f.unknown
           ELSE nullif(concat_ws('; ',
               CASE f.duration WHEN 'not_checked_out' THEN 'not_checked_out: never checked out'
                    WHEN 'too_short' THEN
                        'too_short: lasted ' || {_WHOLE.format(x="f.minutes")}
                        || ' min, the minimum is ' || :min_text || ' min' END,
               CASE WHEN f.no_home THEN
                   'no_home: the home''s location is not on the register' END,
               CASE WHEN f.in_far THEN
                   'outside_radius: check-in ' || {_WHOLE.format(x="f.in_m")}
                   || ' m from the home, the limit is ' || :radius_text || ' m' END,
               CASE WHEN f.out_far THEN
                   'outside_radius: check-out ' || {_WHOLE.format(x="f.out_m")}
                   || ' m from the home, the limit is ' || :radius_text || ' m' END,
               CASE WHEN f.ids IS NOT NULL THEN
                   'overlap: the caregiver''s visits ' || f.ids || ' overlap it' END,
               CASE WHEN f.no_service THEN 'no_service: no service recorded' END,
               CASE WHEN f.outside IS NOT NULL THEN
                   'service_not_entitled: services not in the entitlement: ' || f.outside END,
               CASE WHEN f.unconfirmed THEN
                   'not_confirmed: not confirmed by the beneficiary or family' END
           ), '')
           END AS reason,
           -- The codes of the reason's parts in the same order, a check once (as in Python).
           coalesce(f.run_code, concat_ws(',', f.duration,
               CASE WHEN f.no_home THEN 'no_home' END,
               CASE WHEN f.in_far OR f.out_far THEN 'outside_radius' END,
               CASE WHEN f.ids IS NOT NULL THEN 'overlap' END,
               CASE WHEN f.no_service THEN 'no_service' END,
               CASE WHEN f.outside IS NOT NULL THEN 'service_not_entitled' END,
               CASE WHEN f.unconfirmed THEN 'not_confirmed' END
           )) AS reason_codes
    FROM found f
)
SELECT id AS ref, beneficiary_id, 'institution:' || institution_id AS payee, amount,
       CASE WHEN reason IS NULL THEN amount - round(amount * visit_copay_ratio, 2)
            ELSE 0 END AS fund,
       CASE WHEN reason IS NULL THEN round(amount * visit_copay_ratio, 2) ELSE 0 END AS copay,
       CASE WHEN reason IS NULL THEN 'VALUATED' ELSE 'REJECTED' END AS state,
       coalesce(left(reason, 500), '') AS reason, reason_codes
FROM judged
"""  # noqa: S608 - no user input is formatted in; the parameters are bound

# The month's visits and entitled people, copied once and ANALYZEd: right after a bulk load
# the planner has no statistics, and with its default of one row it pairs every visit of a
# caregiver with every other by nested loops (minutes instead of seconds).
_INPUTS = {
    "ltc_month_visits": (
        f"""SELECT v.id, v.beneficiary_id, v.institution_id, v.caregiver, v.check_in,
               v.check_out, v.in_lat, v.in_lon, v.out_lat, v.out_lon, v.services, v.confirmed,
               (v.check_in AT TIME ZONE '{LOCAL.key}')::date AS day
        FROM ltc_visits v""",  # noqa: S608 - a constant zone name
        "WHERE v.org_id = :org AND v.check_in >= :start AND v.check_in < :stop",
    ),
    "ltc_month_people": (
        """SELECT b.id, b.city, b.grade, i.lat AS home_lat, i.lon AS home_lon
        FROM ltc_beneficiaries b JOIN ltc_insured i ON i.id = b.insured_id""",
        """WHERE b.org_id = :org AND b.entitled_from < :month_end
          AND (b.entitled_to IS NULL OR b.entitled_to > :month_first)""",
    ),
}
_STAGE = "ltc_visit_lines_stage"
_STAGE_COLUMNS = "ref, beneficiary_id, payee, amount, fund, copay, state, reason, reason_codes"


@dataclass(frozen=True)
class VisitTotals:
    """The staged visit lines summed: what the settlement row records before they are stored."""

    lines: int
    rejected: int
    fund: Decimal  # of the valuated lines
    copay: Decimal  # of the valuated lines


def _parameters(org_id: str, month: Month, policy: VisitPolicy) -> Mapping[str, Any]:
    return {
        "org": org_id,
        "month_first": month.first,
        "month_end": month.end,
        "start": local_start(month.first),
        "stop": local_start(month.end),
        "min_minutes": policy.min_minutes,
        "min_text": str(policy.min_minutes),
        "radius": policy.radius_m,
        "radius_text": f"{policy.radius_m:.0f}",
    }


def _copy_inputs(session: Session, params: Mapping[str, Any]) -> None:
    for table, (query, where) in _INPUTS.items():
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
        session.execute(text(f"CREATE TEMP TABLE {table} AS {query} WITH NO DATA"))
        session.execute(text(f"INSERT INTO {table} {query} {where}"), params)
        session.execute(text(f"ANALYZE {table}"))


def _drop_inputs(session: Session) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {', '.join(_INPUTS)}"))


@contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """JIT off for the statement: its cost estimate (a JSON array per visit is guessed at 100
    elements) makes PostgreSQL compile ~120 functions, which took longer than the query."""
    before = session.scalar(text("SELECT current_setting('jit')"))
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('jit', :before, true)"), {"before": before})


def stage_visit_lines(session: Session, *, org_id: str, month: Month, policy: VisitPolicy) -> None:
    """Compute the month's visit lines into a temporary table, so the settlement row can carry
    their totals (`staged_totals`) before the lines are stored under it (`store_staged`)."""
    params = _parameters(org_id, month, policy)
    _copy_inputs(session, params)
    session.execute(text(f"DROP TABLE IF EXISTS {_STAGE}"))
    session.execute(
        text(
            f"CREATE TEMP TABLE {_STAGE} (ref bigint, beneficiary_id bigint, payee varchar(40), "
            "amount numeric(18, 2), fund numeric(18, 2), copay numeric(18, 2), "
            "state varchar(24), reason varchar(500), reason_codes varchar(200))"
        )
    )
    with _without_jit(session):
        session.execute(
            text(f"INSERT INTO {_STAGE} ({_STAGE_COLUMNS}) {_VISIT_LINES}"),
            params,
        )
    _drop_inputs(session)


def staged_totals(session: Session) -> VisitTotals:
    """One GROUP-BY-free aggregate over the staged lines (they are all of kind visit)."""
    row = session.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE state = 'REJECTED'), "  # noqa: S608 - constant
            "coalesce(sum(fund) FILTER (WHERE state = 'VALUATED'), 0), "
            f"coalesce(sum(copay) FILTER (WHERE state = 'VALUATED'), 0) FROM {_STAGE}"
        )
    ).one()
    return VisitTotals(row[0], row[1], to_money(row[2]), to_money(row[3]))


def store_staged(session: Session, *, settlement_id: int) -> int:
    """Move the staged lines under their settlement; returns how many."""
    stored = session.execute(
        text(
            "INSERT INTO ltc_claim_lines (settlement_id, kind, "  # noqa: S608 - constant
            f"{_STAGE_COLUMNS}) SELECT :settlement_id, 'VISIT', {_STAGE_COLUMNS} FROM {_STAGE}"
        ),
        {"settlement_id": settlement_id},
    )
    session.execute(text(f"DROP TABLE {_STAGE}"))
    return int(stored.rowcount)  # type: ignore[attr-defined]


def visit_lines(
    session: Session, *, org_id: str, month: Month, policy: VisitPolicy
) -> Sequence[Row[Any]]:
    """The same lines as rows (ref, beneficiary_id, payee, amount, fund, copay, state, reason,
    reason_codes), without writing them: for comparing with the Python path."""
    params = _parameters(org_id, month, policy)
    _copy_inputs(session, params)
    with _without_jit(session):
        rows = session.execute(text(_VISIT_LINES), params).all()
    _drop_inputs(session)
    return rows
