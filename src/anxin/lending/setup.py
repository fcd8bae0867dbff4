"""The lending domain's setup: small-business loan applications, the scorecard and decisions."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.lending import commands, views


def setup() -> Domain:
    return Domain(
        name="lending",
        routers=[views.router],
        commands=[Command("lending", commands.app)],
    )
