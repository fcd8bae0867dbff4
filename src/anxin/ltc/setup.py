"""The long-term care insurance domain's setup: enrolment, the fund, settlement."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.ltc import commands, views


def setup() -> Domain:
    return Domain(
        name="ltc",
        routers=[views.router],
        commands=[Command("ltc", commands.app)],
    )
