"""Commercial grades of the traded crops: each a set of maximum limits a sample must meet.

The limits follow the shape of China's grain standards (moisture, broken kernels, impurities
for rice after GB/T 1354; free acidity and peroxide value for olive oil after GB/T 23347), with
round values: a contract states its grade and its tolerances, and these are what a sample is
held against.
"""

from __future__ import annotations

GRADES: dict[str, dict[str, dict[str, float]]] = {
    "rice": {
        "premium": {"moisture_pct": 14.5, "broken_pct": 5.0, "impurity_pct": 0.25},
        "first": {"moisture_pct": 15.0, "broken_pct": 10.0, "impurity_pct": 0.3},
        "second": {"moisture_pct": 15.5, "broken_pct": 15.0, "impurity_pct": 0.4},
    },
    "olive": {
        "premium": {"acidity_pct": 0.8, "peroxide_meq": 20.0},
        "first": {"acidity_pct": 2.0, "peroxide_meq": 20.0},
    },
}
NAMES = frozenset(g for crop in GRADES.values() for g in crop)


def limits(crop: str, grade: str) -> dict[str, float] | None:
    return GRADES.get(crop, {}).get(grade)
