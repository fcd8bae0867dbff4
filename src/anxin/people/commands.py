"""``anxin org …`` and ``anxin user …``: organisations (tenants) and their users."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from anxin.core.commands import app_context, fail, readable_errors
from anxin.core.security import Role

org_app = typer.Typer(help="Manage organisations (tenants).", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)


Username = Annotated[str, typer.Argument(help="Login name.")]
# A password is prompted for (twice, hidden), or read from the environment by scripts.
NewPassword = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="ANXIN_NEW_USER_PASSWORD",
        help="Password (prompted; or ANXIN_NEW_USER_PASSWORD).",
    ),
]


@org_app.command("create")
@readable_errors
def org_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Organisation name.")],
    kind: Annotated[
        str, typer.Option(help="care_provider, insurer, bank, warehouse, cooperative, city, …")
    ],
) -> None:
    """Create an organisation (tenant) and print it as JSON."""
    from anxin.people import service
    from anxin.people.models import OrganisationKind

    try:
        org_kind = OrganisationKind(kind)
    except ValueError:
        raise fail(f"kind: unknown organisation kind {kind!r}", 2) from None
    with app_context(ctx).unit(actor="cli") as uow:
        org = service.create_organisation(
            session=uow.session, name=name, kind=org_kind, now=uow.now()
        )
        typer.echo(
            json.dumps({"id": org.id, "name": org.name, "kind": org.kind.value}, ensure_ascii=False)
        )


@user_app.command("create")
@readable_errors
def user_create(
    ctx: typer.Context,
    org: Annotated[str, typer.Option(help="Organisation name.")],
    username: Annotated[str, typer.Option(help="Login name (lower case).")],
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(r.value for r in Role))],
    display_name: Annotated[str, typer.Option(help="Name shown to people.")],
    password: NewPassword,
) -> None:
    """Create a user in an organisation and print it as JSON."""
    from anxin.people import service
    from anxin.people.schemas import UserCreate

    try:
        user_role = Role(role)
    except ValueError:
        raise fail(f"role: unknown role {role!r}", 2) from None
    data = UserCreate(
        username=username, display_name=display_name, role=user_role, password=password
    )
    with app_context(ctx).unit(actor="cli") as uow:
        organisation = service.get_organisation_by_name(session=uow.session, name=org)
        user = service.create_user(
            session=uow.session, organisation_id=organisation.id, data=data, now=uow.now()
        )
        typer.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role.value}))


def _user_json(user: Any) -> str:
    return json.dumps(
        {
            "id": user.id,
            "username": user.username,
            "role": user.role.value,
            "is_active": user.is_active,
        },
        ensure_ascii=False,
    )


@user_app.command("list")
@readable_errors
def user_list(
    ctx: typer.Context, org: Annotated[str, typer.Option(help="Organisation name.")]
) -> None:
    """Print the organisation's users, one JSON object a line."""
    from anxin.people import service

    with app_context(ctx).unit(actor="cli") as uow:
        organisation = service.get_organisation_by_name(session=uow.session, name=org)
        for user in service.list_organisation_users(
            session=uow.session, organisation_id=organisation.id
        ):
            typer.echo(_user_json(user))


def _set_active(ctx: typer.Context, username: str, active: bool) -> None:
    from anxin.people import service

    with app_context(ctx).unit(actor="cli") as uow:
        user = service.get_user_by_username(session=uow.session, username=username)
        service.change_active(session=uow.session, user=user, active=active, by_user_id=None)
        typer.echo(_user_json(user))


@user_app.command("enable")
@readable_errors
def user_enable(ctx: typer.Context, username: Username) -> None:
    """Enable a disabled account."""
    _set_active(ctx, username, True)


@user_app.command("disable")
@readable_errors
def user_disable(ctx: typer.Context, username: Username) -> None:
    """Disable an account at once (refused for an organisation's last active admin)."""
    _set_active(ctx, username, False)


@user_app.command("reset-password")
@readable_errors
def user_reset_password(
    ctx: typer.Context,
    username: Username,
    password: NewPassword,
) -> None:
    """Set a new password for a user."""
    from anxin.people import service
    from anxin.people.schemas import PasswordReset

    data = PasswordReset(password=password)
    with app_context(ctx).unit(actor="cli") as uow:
        user = service.get_user_by_username(session=uow.session, username=username)
        service.reset_password(session=uow.session, user=user, password=data.password)
        typer.echo(_user_json(user))
