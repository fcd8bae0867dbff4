"""Each visit check rejects or flags with its reason; overlap detection; haversine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.ltc.visits import (
    Check,
    GeoPoint,
    Severity,
    VisitFacts,
    VisitPolicy,
    blocking,
    check_visit,
    haversine_m,
    overlaps,
)

HOME = GeoPoint(32.0146, 120.8642)  # Nantong
NEAR = GeoPoint(32.0150, 120.8642)  # ~44 m north
START = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
ENTITLED = frozenset({"bath", "haircut", "massage"})
POLICY = VisitPolicy(min_minutes=30, radius_m=200)

GOOD = VisitFacts(
    id=1, caregiver_id="c7", check_in=START, check_out=START + timedelta(minutes=60), in_at=NEAR,
    out_at=NEAR, services=frozenset({"bath"}), confirmed=True,
)  # fmt: skip


def checks(visit: VisitFacts, overlapping: tuple[int, ...] = ()) -> dict[Check, str]:
    found = check_visit(visit, home=HOME, entitled=ENTITLED, policy=POLICY, overlapping=overlapping)
    return {f.check: f.reason for f in found}


def test_a_good_visit_has_no_findings() -> None:
    assert checks(GOOD) == {}


def test_too_short() -> None:
    short = replace(GOOD, check_out=START + timedelta(minutes=12))
    assert checks(short) == {Check.TOO_SHORT: "lasted 12 min, the minimum is 30 min"}
    assert checks(replace(GOOD, check_out=START + timedelta(minutes=30))) == {}  # the edge is fine


def test_outside_the_radius_names_the_distance() -> None:
    far = GeoPoint(32.0246, 120.8642)  # ~1.1 km
    reasons = checks(replace(GOOD, out_at=far))
    assert reasons[Check.OUTSIDE_RADIUS].startswith("check-out 1112 m from the home")


def test_overlapping_visits_of_one_caregiver() -> None:
    second = replace(GOOD, id=2, check_in=START + timedelta(minutes=45),
                     check_out=START + timedelta(minutes=100))  # fmt: skip
    other_caregiver = replace(second, id=3, caregiver_id="c8")
    after = replace(GOOD, id=4, check_in=START + timedelta(minutes=100),
                    check_out=START + timedelta(minutes=150))  # fmt: skip
    found = overlaps([GOOD, second, other_caregiver, after])
    assert found == {1: [2], 2: [1]}
    assert checks(GOOD, (2,)) == {Check.OVERLAP: "the caregiver's visits 2 overlap it"}


def test_service_outside_the_entitlement() -> None:
    reasons = checks(replace(GOOD, services=frozenset({"bath", "wound_care"})))
    assert reasons == {Check.SERVICE_NOT_ENTITLED: "services not in the entitlement: wound_care"}


def test_unconfirmed_is_a_flag_that_blocks_only_at_settlement() -> None:
    found = check_visit(replace(GOOD, confirmed=False), home=HOME, entitled=ENTITLED, policy=POLICY)
    assert [(f.check, f.severity) for f in found] == [(Check.NOT_CONFIRMED, Severity.FLAG)]
    assert blocking(found, final=False) == []
    assert blocking(found, final=True) == found


def test_radar_absence_is_only_a_flag() -> None:
    found = check_visit(replace(GOOD, presence=False), home=HOME, entitled=ENTITLED, policy=POLICY)
    assert [f.check for f in found] == [Check.NO_PRESENCE]
    assert blocking(found, final=True) == []
    assert checks(replace(GOOD, presence=True)) == {}


def test_a_home_without_location_cannot_be_verified() -> None:
    found = check_visit(GOOD, home=None, entitled=ENTITLED, policy=POLICY)
    assert [f.check for f in found] == [Check.NO_HOME]


def test_never_checked_out() -> None:
    assert Check.NOT_CHECKED_OUT in checks(replace(GOOD, check_out=None, out_at=None))


def test_haversine_known_distance() -> None:
    # One degree of latitude on the mean sphere: 2πR/360.
    assert haversine_m(GeoPoint(0, 0), GeoPoint(1, 0)) == pytest.approx(111_195.1, abs=0.5)


coords = st.builds(GeoPoint, st.floats(-89, 89), st.floats(-179, 179))


@given(coords, coords)
def test_haversine_is_symmetric_and_non_negative(a: GeoPoint, b: GeoPoint) -> None:
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a), abs=1e-6)
    assert 0 <= haversine_m(a, b) <= 20_037_600


@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 500), st.integers(1, 120)), max_size=30)
)
def test_overlaps_agree_with_the_pairwise_definition(raw: list[tuple[int, int, int]]) -> None:
    visits = [
        replace(GOOD, id=i, caregiver_id=str(c), check_in=START + timedelta(minutes=s),
                check_out=START + timedelta(minutes=s + d))
        for i, (c, s, d) in enumerate(raw)
    ]  # fmt: skip
    expected: dict[int, list[int]] = {}
    for a in visits:
        for b in visits:
            if a.id != b.id and a.caregiver_id == b.caregiver_id:
                assert a.check_out and b.check_out
                if a.check_in < b.check_out and b.check_in < a.check_out:
                    expected.setdefault(a.id, []).append(b.id)
    found = overlaps(visits)
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in expected.items()}
