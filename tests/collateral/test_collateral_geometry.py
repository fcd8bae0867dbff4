import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.collateral.cranesim import default_layout
from anxin.collateral.geometry import Layout, Zone, ZoneKind


def test_rect_contains_inside_edge_and_outside() -> None:
    z = Zone.rect("A01", ZoneKind.BAY, 10, 0, 20, 5)
    assert z.contains(15, 2)
    assert z.contains(10, 0)  # a corner is inside
    assert z.contains(20, 3)  # an edge is inside
    assert not z.contains(20.01, 3)
    assert z.distance(23, 5) == pytest.approx(3.0)
    assert z.area == pytest.approx(50.0)


def test_l_shaped_polygon() -> None:
    z = Zone("L", ZoneKind.BAY, ((0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)))
    assert z.contains(2, 8)
    assert z.contains(8, 2)
    assert not z.contains(8, 8)  # the notch
    assert z.distance(8, 8) == pytest.approx(4.0)


def test_locate_with_tolerance_prefers_nearest() -> None:
    lay = Layout.of(
        [Zone.rect("A", ZoneKind.BAY, 0, 0, 10, 10), Zone.rect("G", ZoneKind.GATE, 12, 0, 20, 10)]
    )
    assert lay.locate(5, 5) is lay.zone("A")
    assert lay.locate(11, 5) is None
    found = lay.locate(11.2, 5, tolerance_m=1.0)
    assert found is not None and found.zone_id == "G"
    assert lay.locate(30, 5, tolerance_m=1.0) is None


def test_overlap_and_duplicates_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Layout.of(
            [Zone.rect("A", ZoneKind.BAY, 0, 0, 10, 10), Zone.rect("B", ZoneKind.BAY, 9, 0, 20, 10)]
        )
    with pytest.raises(ValueError, match="overlap"):  # one inside the other
        Layout.of(
            [Zone.rect("A", ZoneKind.BAY, 0, 0, 10, 10), Zone.rect("B", ZoneKind.BAY, 2, 2, 3, 3)]
        )
    with pytest.raises(ValueError, match="duplicate"):
        Layout.of(
            [Zone.rect("A", ZoneKind.BAY, 0, 0, 1, 1), Zone.rect("A", ZoneKind.BAY, 5, 5, 6, 6)]
        )
    Layout.of(
        [Zone.rect("A", ZoneKind.BAY, 0, 0, 10, 10), Zone.rect("B", ZoneKind.BAY, 10, 0, 20, 10)]
    )  # a shared edge is fine


def test_degenerate_zone_refused() -> None:
    with pytest.raises(ValueError, match="area"):
        Zone("Z", ZoneKind.BAY, ((0, 0), (1, 1), (2, 2)))


def test_layout_round_trips() -> None:
    lay = default_layout()
    assert Layout.from_dict(lay.to_dict()) == lay
    assert len(lay.bays()) == 16 and len(lay.gates()) == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5, 205), st.floats(-5, 41)), min_size=1, max_size=30),
    st.sampled_from([0.0, 0.5, 1.5]),
)
def test_locate_many_agrees_with_locate(points: list[tuple[float, float]], tol: float) -> None:
    lay = default_layout()
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    got = lay.locate_many(xs, ys, tolerance_m=tol)
    for (x, y), i in zip(points, got.tolist(), strict=True):
        z = lay.locate(x, y, tolerance_m=tol)
        assert (z.zone_id if z else None) == (lay.zones[i].zone_id if i >= 0 else None)


def test_locate_many_on_a_non_convex_zone() -> None:
    lay = Layout.of(
        [
            Zone("L", ZoneKind.BAY, ((0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10))),
            Zone.rect("G", ZoneKind.GATE, 12, 0, 20, 10),
        ]
    )
    xs, ys = np.meshgrid(np.linspace(-1, 21, 45), np.linspace(-1, 11, 25))
    got = lay.locate_many(xs.ravel(), ys.ravel(), tolerance_m=0.5)
    for x, y, i in zip(xs.ravel().tolist(), ys.ravel().tolist(), got.tolist(), strict=True):
        z = lay.locate(x, y, tolerance_m=0.5)
        assert (z.zone_id if z else None) == (lay.zones[i].zone_id if i >= 0 else None)
