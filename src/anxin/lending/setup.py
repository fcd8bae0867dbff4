"""The lending domain's setup: small-business loan applications, the scorecard and decisions."""

from __future__ import annotations

from pathlib import Path

from anxin.core.domain import Command, Domain, NavLink
from anxin.core.security import Role
from anxin.lending import commands, pages, views


def setup() -> Domain:
    return Domain(
        name="lending",
        routers=[views.router],
        pages=[pages.router],
        templates=Path(__file__).parent / "templates",
        labels=pages.LABELS,
        nav=[
            NavLink("/lending", "lending_queue", pages.OFFICERS),
            NavLink(
                "/lending/portfolio",
                "lending_portfolio",
                frozenset({Role.RISK_OFFICER, Role.ADMIN}),
            ),
        ],
        commands=[Command("lending", commands.app)],
    )
