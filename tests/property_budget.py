"""How many examples a property test draws: all of them, or a fifth under mutation testing.

`make mutation` (scripts/mutation.py) sets ANXIN_MUTATION=1 and then runs the tests once per
mutant; at full size the collateral properties alone would take hours of the shared CPUs. A fifth,
from a fixed seed, keeps the run in minutes and its scores repeatable. A mutant that only the
full example count would catch then counts as surviving: the score is a lower bound.
"""

from __future__ import annotations

import os

from hypothesis import settings

UNDER_MUTATION = os.environ.get("ANXIN_MUTATION") == "1"


def examples(n: int) -> settings:
    if UNDER_MUTATION:
        return settings(max_examples=max(10, n // 5), deadline=None, derandomize=True)
    return settings(max_examples=n, deadline=None)
