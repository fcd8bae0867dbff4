"""Disability assessment (pure): the Barthel index and the 2021 national long-term care grade.

Barthel index: Mahoney FI, Barthel DW. "Functional evaluation: the Barthel Index."
Maryland State Medical Journal 1965;14:61-65. Ten activities of daily living, each scored
in steps of five, 0-100 in total.

Grade: 国家医保局办公室、民政部办公厅《长期护理失能等级评估标准（试行）》(医保办发〔2021〕37号,
2021-08-03). Three first-level indicators — activities of daily living (10 items), cognition
(4 items), perception and communication (3 items) — each banded into a level, then combined by
a matrix into grade 0 (basic normal), 1 (mild), 2 (moderate), 3-5 (severe I-III).

The bands and the matrix are *data* (`GradingTable`). The published score bands of the cognition
and perception dimensions and the exact combination matrix could not be checked against the
official text while this was written, so `NATIONAL_2021` is marked provisional; the code depends
only on the table's shape, which `GradingTable` validates (contiguous bands, monotone matrix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class BarthelItem(StrEnum):
    FEEDING = "feeding"
    BATHING = "bathing"
    GROOMING = "grooming"
    DRESSING = "dressing"
    BOWELS = "bowels"
    BLADDER = "bladder"
    TOILET = "toilet"
    TRANSFERS = "transfers"  # bed to chair and back
    MOBILITY = "mobility"  # walking on a level surface
    STAIRS = "stairs"


# The scores each item may take (Mahoney & Barthel 1965): independence in transfers and
# mobility weighs 15, bathing and grooming 5.
BARTHEL_SCORES: Mapping[BarthelItem, frozenset[int]] = {
    BarthelItem.FEEDING: frozenset({0, 5, 10}),
    BarthelItem.BATHING: frozenset({0, 5}),
    BarthelItem.GROOMING: frozenset({0, 5}),
    BarthelItem.DRESSING: frozenset({0, 5, 10}),
    BarthelItem.BOWELS: frozenset({0, 5, 10}),
    BarthelItem.BLADDER: frozenset({0, 5, 10}),
    BarthelItem.TOILET: frozenset({0, 5, 10}),
    BarthelItem.TRANSFERS: frozenset({0, 5, 10, 15}),
    BarthelItem.MOBILITY: frozenset({0, 5, 10, 15}),
    BarthelItem.STAIRS: frozenset({0, 5, 10}),
}


class CognitionItem(StrEnum):
    TIME = "time_orientation"
    PERSON = "person_orientation"
    SPACE = "space_orientation"
    MEMORY = "memory"


class PerceptionItem(StrEnum):
    VISION = "vision"
    HEARING = "hearing"
    COMMUNICATION = "communication"


# Cognition and perception items are ordinal, 0 (worst) to 4 (intact) — provisional, see module.
ORDINAL_MAX = 4


class InvalidScore(ValueError):
    """An item is missing, unknown or scored with a value the scale does not have."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def barthel_index(items: Mapping[str, int]) -> int:
    """The Barthel total (0-100); each of the ten items scored with a value its scale has."""
    total = 0
    for item, allowed in BARTHEL_SCORES.items():
        if item.value not in items:
            raise InvalidScore(f"adl.{item.value}", "missing")
        score = items[item.value]
        if score not in allowed:
            raise InvalidScore(f"adl.{item.value}", f"must be one of {sorted(allowed)}")
        total += score
    for key in items:
        if key not in BarthelItem.__members__.values():
            raise InvalidScore(f"adl.{key}", "not a Barthel item")
    return total


def _ordinal_total(name: str, items: Mapping[str, int], scale: Sequence[StrEnum]) -> int:
    known = {item.value for item in scale}
    for key in items:
        if key not in known:
            raise InvalidScore(f"{name}.{key}", "not an item of this dimension")
    total = 0
    for item in scale:
        if item.value not in items:
            raise InvalidScore(f"{name}.{item.value}", "missing")
        score = items[item.value]
        if not 0 <= score <= ORDINAL_MAX:
            raise InvalidScore(f"{name}.{item.value}", f"must be 0 to {ORDINAL_MAX}")
        total += score
    return total


def cognition_score(items: Mapping[str, int]) -> int:
    return _ordinal_total("cognition", items, list(CognitionItem))


def perception_score(items: Mapping[str, int]) -> int:
    return _ordinal_total("perception", items, list(PerceptionItem))


class Level(IntEnum):
    """The level of one first-level indicator (能力完好 / 轻度受损 / 中度受损 / 重度受损)."""

    INTACT = 0
    MILD = 1
    MODERATE = 2
    SEVERE = 3


class Grade(IntEnum):
    """长期护理失能等级."""

    BASIC_NORMAL = 0  # 基本正常
    MILD = 1  # 轻度失能
    MODERATE = 2  # 中度失能
    SEVERE_I = 3  # 重度失能 I 级
    SEVERE_II = 4  # 重度失能 II 级
    SEVERE_III = 5  # 重度失能 III 级


@dataclass(frozen=True)
class Band:
    """Scores low..high (both inclusive) fall in `level`."""

    low: int
    high: int
    level: Level


@dataclass(frozen=True)
class GradingTable:
    """Bands per dimension and the combination matrix, validated on construction.

    `matrix[adl_level][other_level]` is the grade, where `other_level` is the worse of the
    cognition and perception levels.
    """

    name: str
    source: str
    provisional: bool
    adl: tuple[Band, ...]
    cognition: tuple[Band, ...]
    perception: tuple[Band, ...]
    matrix: tuple[tuple[Grade, ...], ...]

    def __post_init__(self) -> None:
        for dimension, bands, top in (
            ("adl", self.adl, 100),
            ("cognition", self.cognition, ORDINAL_MAX * len(CognitionItem)),
            ("perception", self.perception, ORDINAL_MAX * len(PerceptionItem)),
        ):
            _check_bands(dimension, bands, top)
        levels = len(Level)
        if len(self.matrix) != levels or any(len(row) != levels for row in self.matrix):
            raise ValueError(f"the matrix must be {levels}x{levels}")
        for a in range(levels):
            for o in range(levels):
                # More impairment never lowers the grade.
                if a and self.matrix[a][o] < self.matrix[a - 1][o]:
                    raise ValueError(f"matrix not monotone at adl level {a}, other level {o}")
                if o and self.matrix[a][o] < self.matrix[a][o - 1]:
                    raise ValueError(f"matrix not monotone at adl level {a}, other level {o}")

    def level(self, dimension: str, score: int) -> Level:
        bands: tuple[Band, ...] = getattr(self, dimension)
        for band in bands:
            if band.low <= score <= band.high:
                return band.level
        raise InvalidScore(dimension, f"score {score} is outside every band")


def _check_bands(dimension: str, bands: Sequence[Band], top: int) -> None:
    """Bands must tile 0..top exactly (no gap, no overlap) and worsen as the score falls."""
    ordered = sorted(bands, key=lambda b: b.low)
    expected = 0
    for band in ordered:
        if band.low != expected or band.high < band.low:
            raise ValueError(f"{dimension} bands leave a gap or overlap at {expected}")
        expected = band.high + 1
    if expected != top + 1:
        raise ValueError(f"{dimension} bands must end at {top}")
    levels = [band.level for band in ordered]
    if levels != sorted(levels, reverse=True):
        raise ValueError(f"{dimension} levels must worsen as the score falls")


@dataclass(frozen=True)
class Scores:
    adl: int
    cognition: int
    perception: int


def grade(scores: Scores, table: GradingTable) -> Grade:
    adl = table.level("adl", scores.adl)
    other = max(
        table.level("cognition", scores.cognition), table.level("perception", scores.perception)
    )
    return table.matrix[adl][other]


_G = Grade
# PROVISIONAL data. The ADL bands follow the Barthel-based banding of the standard's ADL
# dimension (100 intact, 65-95 mild, 45-60 moderate, 0-40 severe; Barthel totals are multiples
# of five, so the unreachable 96-99, 61-64 and 41-44 are given to the milder band to keep the
# table a total function of 0..100). The cognition and perception bands and the matrix are our
# reading and await checking against the published tables of 医保办发〔2021〕37号.
# Replace the data, not the code.
NATIONAL_2021 = GradingTable(
    name="national-2021",
    source="医保办发〔2021〕37号《长期护理失能等级评估标准（试行）》",
    provisional=True,
    adl=(
        Band(100, 100, Level.INTACT),
        Band(61, 99, Level.MILD),
        Band(41, 60, Level.MODERATE),
        Band(0, 40, Level.SEVERE),
    ),
    cognition=(
        Band(16, 16, Level.INTACT),
        Band(12, 15, Level.MILD),
        Band(4, 11, Level.MODERATE),
        Band(0, 3, Level.SEVERE),
    ),
    perception=(
        Band(12, 12, Level.INTACT),
        Band(8, 11, Level.MILD),
        Band(4, 7, Level.MODERATE),
        Band(0, 3, Level.SEVERE),
    ),
    matrix=(
        (_G(0), _G(0), _G(1), _G(1)),  # ADL intact
        (_G(1), _G(1), _G(2), _G(2)),  # ADL mildly impaired
        (_G(2), _G(2), _G(3), _G(3)),  # ADL moderately impaired
        (_G(3), _G(4), _G(4), _G(5)),  # ADL severely impaired
    ),
)


class Consensus(StrEnum):
    AGREED = "agreed"  # the two assessors gave the same grade
    NEEDS_THIRD = "needs_third"  # they disagree and no third assessment exists yet
    ARBITRATED = "arbitrated"  # a third assessor decided


@dataclass(frozen=True)
class Outcome:
    consensus: Consensus
    grade: Grade | None


def resolve(first: Grade, second: Grade, third: Grade | None = None) -> Outcome:
    """Two assessors who agree set the grade; if they disagree, the third assessor's grade does."""
    if first == second:
        return Outcome(Consensus.AGREED, first)
    if third is None:
        return Outcome(Consensus.NEEDS_THIRD, None)
    return Outcome(Consensus.ARBITRATED, third)
