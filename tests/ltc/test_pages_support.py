"""Scores and the scoring form's fields, shared by the page tests and the browser test."""

from __future__ import annotations

from anxin.demo.ltc import ADL, COGNITION, PERCEPTION

ADL_MODERATE = dict(ADL)  # Barthel 50: moderately dependent
INTACT = {**COGNITION, **PERCEPTION}


def score_form(visited_on: str, adl: dict[str, int], mind: dict[str, int]) -> dict[str, str]:
    """The assessor's form as the browser posts it: `adl.feeding`, `cognition.memory`, ..."""
    form = {"visited_on": visited_on}
    form.update({f"adl.{k}": str(v) for k, v in adl.items()})
    for key, value in mind.items():
        dim = "cognition" if key in COGNITION else "perception"
        form[f"{dim}.{key}"] = str(value)
    return form
