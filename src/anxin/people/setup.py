"""The people domain's setup: organisations, users, roles and login."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.people import commands, views


def setup() -> Domain:
    return Domain(
        name="people",
        routers=[views.router],
        commands=[Command("org", commands.org_app), Command("user", commands.user_app)],
    )
