"""The counterfeit checks, pure: great-circle distances, the travel limit, sales regions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anxin.trace.counterfeit import (
    COARSE_ERROR_KM,
    Point,
    Sighting,
    coarse,
    haversine_km,
    impossible_travel,
    in_region,
    outside_region,
)

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
SHANGHAI = Point(31.23, 121.47)
BEIJING = Point(39.90, 116.40)
CHENGDU = Point(30.66, 104.07)

lat = st.floats(-89.9, 89.9)
lon = st.floats(-179.9, 179.9)
points = st.builds(Point, lat, lon)
# A shared machine can be slow to draw floats; the checks themselves are cheap.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_known_distances() -> None:
    # Shanghai People's Square to Tiananmen: about 1,067 km great-circle.
    assert 1060 < haversine_km(SHANGHAI, BEIJING) < 1075
    assert 1650 < haversine_km(SHANGHAI, CHENGDU) < 1680
    assert haversine_km(Point(0, 0), Point(0, 180)) == haversine_km(Point(90, 0), Point(-90, 0))


@RELAXED
@given(points, points, points)
def test_distance_is_a_metric(a: Point, b: Point, c: Point) -> None:
    assert abs(haversine_km(a, b) - haversine_km(b, a)) < 1e-6
    assert haversine_km(a, a) < 1e-6
    assert haversine_km(a, c) <= haversine_km(a, b) + haversine_km(b, c) + 1e-6
    assert haversine_km(a, b) <= 20016  # half the circumference


@RELAXED
@given(lat, lon)
def test_coarse_moves_a_point_by_less_than_the_allowance(la: float, lo: float) -> None:
    assert haversine_km(Point(la, lo), coarse(la, lo)) <= COARSE_ERROR_KM + 1e-6


def test_two_distant_cities_an_hour_apart_is_impossible() -> None:
    first = Sighting(T0, SHANGHAI)
    finding = impossible_travel(first, Sighting(T0 + timedelta(hours=1), CHENGDU))
    assert finding is not None
    assert finding.code == "impossible_travel"
    assert finding.evidence["distance_km"] > 1600
    assert finding.evidence["speed_kmh"] > 900
    # A day later the same trip is a flight and a bag in a suitcase.
    assert impossible_travel(first, Sighting(T0 + timedelta(hours=24), CHENGDU)) is None


@RELAXED
@given(points, st.floats(0, 48))
def test_the_same_place_is_never_impossible(p: Point, hours: float) -> None:
    assert impossible_travel(Sighting(T0, p), Sighting(T0 + timedelta(hours=hours), p)) is None


@RELAXED
@given(points, points, st.floats(0.01, 1000))
def test_travel_at_or_under_the_limit_is_allowed(a: Point, b: Point, hours: float) -> None:
    slow = haversine_km(a, b) / 900 <= hours
    result = impossible_travel(Sighting(T0, a), Sighting(T0 + timedelta(hours=hours), b))
    if slow:
        assert result is None


def test_neighbouring_cells_at_once_are_not_travel() -> None:
    a, b = coarse(31.24, 121.46), coarse(31.26, 121.54)
    assert impossible_travel(Sighting(T0, a), Sighting(T0, b)) is None


def test_sales_region_with_a_hole() -> None:
    east_china = {
        "type": "Polygon",
        "coordinates": [
            [[114, 27], [123, 27], [123, 36], [114, 36], [114, 27]],
            [[120, 30], [121, 30], [121, 31], [120, 31], [120, 30]],
        ],
    }
    assert in_region(SHANGHAI, east_china)
    assert not in_region(BEIJING, east_china)
    assert not in_region(Point(30.5, 120.5), east_china)  # in the hole
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            east_china["coordinates"],
            [[[115, 39], [118, 39], [118, 41], [115, 41], [115, 39]]],
        ],
    }
    assert in_region(BEIJING, multi)
    assert outside_region(Sighting(T0, BEIJING), east_china) is not None
    assert outside_region(Sighting(T0, BEIJING), None) is None
    assert outside_region(Sighting(T0, None), east_china) is None
