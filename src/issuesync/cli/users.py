"""``issuesync user …`` and ``issuesync token …``: logins of issuesync and its built-in
tracker, on the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from issuesync.accounts import (
    NewUser,
    Roles,
    change_roles,
    check_password,
    create_token,
    create_user,
    list_tokens,
    revoke_token,
    set_password,
    user_exists,
)
from issuesync.app import initial_password_file
from issuesync.cli.home import UsageError, err, open_readonly, open_services, out, when
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.security import generate_password

user_app = typer.Typer(help="Users of issuesync and of its built-in tracker.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    project_admin: Annotated[
        list[str] | None,
        typer.Option("--project-admin", help="A project key the user administers (repeatable)."),
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="E-mail address (users are mapped by it).")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="The name people see.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="The password; when omitted one is generated and shown once.",
            envvar="ISSUESYNC_USER_PASSWORD",
        ),
    ] = None,
) -> None:
    """Create a user of issuesync and of its built-in tracker."""
    chosen = password or generate_password()
    with open_services() as services:
        create_user(
            services.uow_factory,
            NewUser(
                name=name,
                display_name=display_name,
                email=email,
                password=chosen,
                admin=admin,
                project_admin_keys=tuple(project_admin or ()),
            ),
        )
    roles = ["admin"] if admin else []
    roles += [f"project admin of {k.upper()}" for k in project_admin or ()]
    out.print(f"Created user '{name}'" + (f" ({', '.join(roles)})" if roles else "") + ".")
    if password is None:
        out.print(f"Password (shown once): {chosen}")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="The login name.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="The new password. Other users of this machine may see it in the process "
            "list: prefer the prompt, or --password-stdin in scripts.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the new password from the first line of standard input (for "
            "scripts: printf '%s\\n' \"$PW\" | issuesync user password NAME --password-stdin).",
        ),
    ] = False,
) -> None:
    """Set a user's password: asked twice, hidden, on a terminal; or from --password-stdin.

    For scripts: --password-stdin. Running servers accept the new password at once; the
    old one works 10 seconds more where it was just used (as a revoked token does).
    """
    if password is not None and password_stdin:
        raise UsageError("Give either --password or --password-stdin, not both.")
    if password is None and not password_stdin and not sys.stdin.isatty():
        raise UsageError(
            "Standard input is not a terminal to ask on: give --password-stdin "
            "(the password on its first line) or --password."
        )
    with open_services() as services:
        if not user_exists(services.uow_factory, name):
            raise NotFoundError(f"There is no user named '{name}'.")
        chosen = password if password is not None else _new_password(from_stdin=password_stdin)
        set_password(services.uow_factory, name, chosen)
        settings = services.settings
    said = f"Set the password of '{name}'; running servers accept it now."
    kept = initial_password_file(settings)
    if name == settings.admin_user and kept.exists():
        kept.unlink()  # it no longer holds the password: nobody must be sent to it
        said += f" Removed {kept}: it held the generated one."
    out.print(said, highlight=False)


def _new_password(*, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not line:
            raise InvalidInputError("Standard input held no password on its first line.")
        return line
    while True:  # asked again until it can be a password (empty, say, cannot)
        typed: str = typer.prompt(
            "New password", hide_input=True, confirmation_prompt=True, err=True
        )
        try:
            return check_password(typed)
        except InvalidInputError as exc:
            err.print(f"error: {exc.describe()}", highlight=False)


AdminOption = Annotated[bool, typer.Option("--admin", help="The administrator role.")]
ProjectAdminOption = Annotated[
    list[str] | None,
    typer.Option("--project-admin", help="A project key, to administer (repeatable)."),
]


@user_app.command("grant")
def user_grant(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: AdminOption = False,
    project_admin: ProjectAdminOption = None,
) -> None:
    """Give a user roles: administrator, or administrator of projects (a sync user, say)."""
    _change_roles(name, admin, project_admin or [], grant=True)


@user_app.command("withdraw")
def user_withdraw(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: AdminOption = False,
    project_admin: ProjectAdminOption = None,
) -> None:
    """Take roles back from a user."""
    _change_roles(name, admin, project_admin or [], grant=False)


def _change_roles(name: str, admin: bool, projects: list[str], *, grant: bool) -> None:
    if not admin and not projects:
        what = "grant" if grant else "withdraw"
        raise UsageError(f"Say what to {what}: --admin or --project-admin KEY.")
    with open_services() as services:
        roles = change_roles(
            services.uow_factory,
            name,
            admin=grant if admin else None,
            add_projects=projects if grant else (),
            remove_projects=() if grant else projects,
        )
    out.print(f"'{name}' is now {_roles_text(roles)}.")


def _roles_text(roles: Roles) -> str:
    parts = ["an administrator"] if roles.admin else []
    if roles.project_admin_keys:
        parts.append("administrator of " + ", ".join(roles.project_admin_keys))
    return " and ".join(parts) or "a user without administrator roles"


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
) -> None:
    """Create an API token; it is printed once and stored only hashed."""
    with open_services() as services:
        token = create_token(services.uow_factory, user, name)
    out.print(token, highlight=False)
    err.print(
        f"Use it as `Authorization: Bearer <token>` or as the password of '{user}' in HTTP Basic."
    )


@token_app.command("list")
def token_list(user: Annotated[str, typer.Argument(help="Whose tokens to list.")]) -> None:
    """List a user's API tokens (ids, labels and use; never the tokens)."""
    with open_readonly() as services:
        tokens = list_tokens(services.uow_factory, user)
    if not tokens:
        out.print(f"'{user}' has no API tokens.")
        return
    table = Table("id", "name", "created", "last used")
    for token in tokens:
        table.add_row(str(token.id), token.name, when(token.created_ms), when(token.last_used_ms))
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id, from `token list`.")],
) -> None:
    """Revoke an API token; running servers stop accepting it within 10 seconds."""
    with open_services() as services:
        info = revoke_token(services.uow_factory, token_id)
    out.print(f"Revoked token {info.id} ('{info.name}') of '{info.user}'.")
