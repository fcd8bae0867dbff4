"""Applications for long-term care (pure): the self-assessment gate and the application's course.

An application passes a self-assessment gate (the applicant or family scores the ten Barthel
items), then two assessors visit and score it; agreement sets the grade, disagreement calls a
third assessor whose grade decides (`assessment.resolve`). A reassessment (on schedule or on
request) and an appeal are applications of their own that point at the one they revisit, so
every grade ever given stays in the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .assessment import Consensus, Grade, resolve


class ApplicationKind(StrEnum):
    INITIAL = "initial"
    REASSESSMENT = "reassessment"  # on schedule or on request
    APPEAL = "appeal"  # the applicant contests a decided application


class ApplicationState(StrEnum):
    DECLINED = "declined"  # stopped at the self-assessment gate
    ASSESSING = "assessing"  # waiting for its first or second assessment
    NEEDS_THIRD = "needs_third"  # the two assessors disagree
    DECIDED = "decided"  # a grade is set


# The gate's threshold is city policy, kept as data: a self-assessed Barthel index above it
# (fully independent in every activity) cannot be disability, so no assessor is sent.
GATE_MAX_BARTHEL = 95
# Reassessment every two years unless requested sooner: Nantong's scheme reviews grades
# periodically; the interval is a city parameter, not a finding of the standard.
REASSESS_AFTER_DAYS = 730


def gate(self_barthel: int, *, threshold: int = GATE_MAX_BARTHEL) -> str | None:
    """Why the application stops at the gate, or None if an assessor should visit."""
    if self_barthel > threshold:
        return (
            f"self-assessed Barthel index {self_barthel} is above {threshold}: "
            "independent in daily living"
        )
    return None


@dataclass(frozen=True)
class Course:
    state: ApplicationState
    grade: Grade | None
    consensus: Consensus | None


def course(grades: Sequence[Grade]) -> Course:
    """Where an application stands after its assessments (in the order they were made)."""
    if len(grades) < 2:
        return Course(ApplicationState.ASSESSING, None, None)
    outcome = resolve(grades[0], grades[1], grades[2] if len(grades) > 2 else None)
    if outcome.grade is None:
        return Course(ApplicationState.NEEDS_THIRD, None, outcome.consensus)
    return Course(ApplicationState.DECIDED, outcome.grade, outcome.consensus)


def assessments_allowed(grades: Sequence[Grade]) -> bool:
    """Two assessments, and a third only when the first two disagree."""
    return len(grades) < 2 or (len(grades) == 2 and grades[0] != grades[1])


def reassessment_due(
    decided_on: date, today: date, *, after_days: int = REASSESS_AFTER_DAYS
) -> bool:
    return (today - decided_on).days >= after_days
