"""Users and API tokens, as the CLI and the APIs create them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.security import generate_token, hash_password, token_digest, verify_password
from issuesync.store.base import now_ms
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import ApiToken, ProjectAdmin, User

MAX_NAME = 255
# Far more than any password manager makes, and short enough that the longest name and
# password still fit the Authorization header a server reads (MAX_AUTHORIZATION_CHARS).
MAX_PASSWORD = 1024


def check_password(password: str) -> str:
    """``password`` when it can be a password; else an InvalidInputError saying why.

    One to 1,024 characters without control characters (a newline could not be typed
    at a prompt nor sent on one line of standard input); nothing else is imposed, for
    `user create` and `user password` alike.
    """
    if not password:
        raise InvalidInputError("The password is empty.")
    if len(password) > MAX_PASSWORD:
        raise InvalidInputError(f"The password is longer than {MAX_PASSWORD} characters.")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in password):  # noqa: PLR2004 - ASCII controls
        raise InvalidInputError("The password has a control character (a newline, a tab, NUL).")
    return password


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
    if new.password:
        check_password(new.password)
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


def set_password(uow_factory: UnitOfWorkFactory, user_name: str, password: str) -> None:
    """Give a user a new password (:func:`check_password`'s rules).

    Running servers accept it at once: a remembered login is tied to the stored hash it
    matched. A header with the old password that a server checked in the last 10
    seconds is remembered that long, as a revoked token is.
    """
    hashed = hash_password(check_password(password))
    with uow_factory() as uow:
        user = uow.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFoundError(f"There is no user named '{user_name}'.")
        user.password_hash = hashed
        uow.commit()


def user_exists(uow_factory: UnitOfWorkFactory, user_name: str) -> bool:
    """Whether a user of that name exists (active or not)."""
    with uow_factory(readonly=True) as uow:
        return uow.session.scalar(select(User.id).where(User.name == user_name)) is not None


def password_matches(uow_factory: UnitOfWorkFactory, user_name: str, password: str) -> bool:
    """Whether ``password`` is the stored password of the user (False: no such user)."""
    with uow_factory(readonly=True) as uow:
        stored = uow.session.scalar(select(User.password_hash).where(User.name == user_name))
    return verify_password(password, stored)


@dataclass(frozen=True)
class AdminPassword:
    """Where the administrator's password is, as the server tells it at start.

    ``configured_differs``: ISSUESYNC_ADMIN_PASSWORD is set but is not the stored
    password (it is used only when the administrator is created). ``where``: the
    variable, the file of the generated password, or None when neither holds it.
    """

    configured_differs: bool
    where: str | None


def find_admin_password(
    uow_factory: UnitOfWorkFactory, name: str, configured: str | None, generated_file: Path
) -> AdminPassword:
    """Which of ``configured`` (ISSUESYNC_ADMIN_PASSWORD) and the password in
    ``generated_file`` is the administrator's stored password (a scrypt each)."""
    if configured is not None:
        if password_matches(uow_factory, name, configured):
            return AdminPassword(configured_differs=False, where="ISSUESYNC_ADMIN_PASSWORD")
        differs = True
    else:
        differs = False
    try:
        kept = generated_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        kept = ""
    if kept and password_matches(uow_factory, name, kept):
        return AdminPassword(configured_differs=differs, where=str(generated_file))
    return AdminPassword(configured_differs=differs, where=None)


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
