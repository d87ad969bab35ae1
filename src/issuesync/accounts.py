"""Users and API tokens, as the CLI and the APIs create them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.security import generate_token, hash_password, token_digest
from issuesync.store.base import now_ms
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import ApiToken, ProjectAdmin, User

MAX_NAME = 255


@dataclass(frozen=True)
class NewUser:
    """What is needed to create a user."""

    name: str
    display_name: str | None = None
    email: str | None = None
    password: str | None = None
    admin: bool = False
    project_admin_keys: tuple[str, ...] = ()


def create_user(uow_factory: UnitOfWorkFactory, new: NewUser) -> int:
    """Create a user; returns its id. A taken name is a ConflictError."""
    name = new.name.strip()
    if not name or len(name) > MAX_NAME or any(ch.isspace() or ch == ":" for ch in name):
        raise InvalidInputError(
            f"'{new.name}' is not a valid user name: "
            "use no spaces or colons, at most 255 characters."
        )
    if new.email is not None and "@" not in new.email:
        raise InvalidInputError(f"'{new.email}' is not an e-mail address.")
    keys = _project_keys(new.project_admin_keys)
    with uow_factory() as uow:
        if uow.session.scalar(select(User.id).where(User.name == name)) is not None:
            raise ConflictError(f"A user named '{name}' already exists.")
        user = User(
            name=name,
            display_name=new.display_name or name,
            email=new.email,
            is_admin=new.admin,
            active=True,
            password_hash=hash_password(new.password) if new.password else None,
            created_ms=now_ms(),
        )
        user.project_admin_keys = [ProjectAdmin(project_key=k) for k in keys]
        uow.session.add(user)
        uow.flush()
        user_id = user.id
        uow.commit()
    return user_id


@dataclass(frozen=True)
class Roles:
    """What a user may administer: everything (``admin``), or some projects."""

    admin: bool
    project_admin_keys: tuple[str, ...]


def change_roles(
    uow_factory: UnitOfWorkFactory,
    user_name: str,
    *,
    admin: bool | None = None,
    add_projects: Iterable[str] = (),
    remove_projects: Iterable[str] = (),
) -> Roles:
    """Make a user an administrator or not, and of which projects; returns the new roles.

    Running servers see the change within 10 seconds (their remembered logins lapse).
    """
    added, removed = _project_keys(add_projects), _project_keys(remove_projects)
    with uow_factory() as uow:
        user = uow.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFoundError(f"There is no user named '{user_name}'.")
        if admin is not None:
            user.is_admin = admin
        held = {p.project_key.upper(): p for p in user.project_admin_keys}
        for key in removed:
            if key in held:
                user.project_admin_keys.remove(held.pop(key))
        for key in added:
            if key not in held:
                held[key] = ProjectAdmin(project_key=key)
                user.project_admin_keys.append(held[key])
        roles = Roles(user.is_admin, tuple(sorted(held)))
        uow.commit()
    return roles


def _project_keys(keys: Iterable[str]) -> list[str]:
    cleaned = []
    for key in keys:
        upper = key.strip().upper()
        if not upper or not upper.replace("_", "").isalnum():
            raise InvalidInputError(f"'{key}' is not a project key.")
        cleaned.append(upper)
    return list(dict.fromkeys(cleaned))


def create_token(
    uow_factory: UnitOfWorkFactory,
    user_name: str,
    token_name: str = "cli",  # noqa: S107 - a label, not a secret
) -> str:
    """Create an API token for a user; the token is returned once and stored only hashed."""
    token = generate_token()
    with uow_factory() as uow:
        user = uow.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFoundError(f"There is no user named '{user_name}'.")
        uow.session.add(
            ApiToken(
                user_id=user.id,
                name=token_name,
                token_hash=token_digest(token),
                created_ms=now_ms(),
            )
        )
        uow.commit()
    return token


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about an API token: never the token itself."""

    id: int
    user: str
    name: str
    created_ms: int
    last_used_ms: int | None


def list_tokens(uow_factory: UnitOfWorkFactory, user_name: str) -> list[TokenInfo]:
    """The API tokens of a user, oldest first."""
    with uow_factory(readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFoundError(f"There is no user named '{user_name}'.")
        rows = uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
        return [TokenInfo(t.id, user.name, t.name, t.created_ms, t.last_used_ms) for t in rows]


def revoke_token(uow_factory: UnitOfWorkFactory, token_id: int) -> TokenInfo:
    """Delete an API token; requests with it fail from now on (after at most 10 s elsewhere)."""
    with uow_factory() as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None:
            raise NotFoundError(f"There is no API token with id {token_id}.")
        info = TokenInfo(
            token.id, token.user.name, token.name, token.created_ms, token.last_used_ms
        )
        uow.session.delete(token)
        uow.commit()
    return info
