"""The life domain's setup: the actuarial API, the illustration page and `anxin life`."""

from __future__ import annotations

from anxin.core.domain import Command, Domain, NavLink
from anxin.life import commands, pages, views, workbench


def setup() -> Domain:
    return Domain(
        name="life",
        routers=[views.router, workbench.router, pages.router],
        templates=views.TEMPLATES,
        labels={**views.LABELS, **pages.LABELS},
        nav=[
            NavLink("/life/illustration", "policy_illustration", frozenset(views.ALLOWED)),
            NavLink("/life/workbench", "workbench", frozenset(pages.ACTUARIES)),
        ],
        commands=[Command("life", commands.app)],
    )
