"""Who may name the sync user of a built-in connector, and whether that user can sync.

The engine writes to a built-in project as its connector's sync user, with that user's
permissions; naming a user there is acting as them (:class:`Editor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.fields import connection_field
from issuesync.domain.connection import LOCAL, TrackerConnection
from issuesync.engine.connectors import PARTNER_SYSTEM
from issuesync.errors import InvalidInputError, PermissionDeniedError
from issuesync.store.sync import ConnectorRow
from issuesync.store.users import User

INVALID: Final = "The integration is not valid."


@dataclass(frozen=True)
class Editor:
    """Who creates or changes an integration, as far as naming sync users goes.

    A system administrator (the CLI acts as one) may name any active user, and
    anyone else only themselves or a user in ``proven``: those whose password or
    API token the request gave and the surface checked (Backbone's
    ``api/backbone/access.py``, through the authenticator, so failed proofs count
    as failed logins). Remote trackers check their own users' credentials and are
    not concerned.
    """

    name: str
    is_admin: bool
    proven: frozenset[str] = frozenset()

    @classmethod
    def of(cls, actor: Editor | str) -> Editor:
        """``actor`` as an editor; a bare name stands for a system administrator (the CLI)."""
        return actor if isinstance(actor, Editor) else cls(actor, is_admin=True)


@dataclass(frozen=True)
class Naming:
    """A built-in connector's sync user as a request sets it: who, and what proves it."""

    side: str
    user: str
    connection: TrackerConnection | None  # what the request gave for that side (its secret)
    changed: bool = True  # False: the stored user, repeated; not checked again


def given_user(connection: TrackerConnection) -> str | None:
    """The sync user a connection names; an empty name is no name."""
    return connection.user or None


def _sync_user_errors(session: Session, naming: Naming, editor: Editor) -> dict[str, str]:
    """400s: the user must exist and be active (the caller too, when it is the default)."""
    user = session.scalar(select(User).where(User.name == naming.user))
    if user is not None and user.active:
        return {}
    named = naming.connection is not None and bool(naming.connection.user)
    if named or naming.user != editor.name:
        problem = f"there is no active user '{naming.user}' in the built-in tracker"
    else:
        problem = (
            f"is required: the sync user defaults to you, and '{naming.user}' is not an "
            "active user of the built-in tracker"
        )
    return {connection_field(naming.side, "user"): problem}


def _require_right_to_name(naming: Naming, editor: Editor) -> None:
    """403 unless ``editor`` may make ``naming.user`` the sync user of a built-in connector."""
    if editor.is_admin or naming.user in {editor.name, *editor.proven}:
        return
    connection = naming.connection
    which = None
    if connection is not None:
        which = "password" if connection.password is not None else None
        which = "token" if connection.token is not None else which
    if which is not None:
        raise PermissionDeniedError(
            f"The {which} given for the sync user '{naming.user}' is not valid.",
            field_errors={
                connection_field(naming.side, which): f"is not a valid {which} of user "
                f"'{naming.user}'"
            },
        )
    raise PermissionDeniedError(
        f"The engine would act as '{naming.user}' in the built-in tracker: only a system "
        "administrator, or that user, may name them as a sync user; anyone else must give "
        "their password or an API token.",
        field_errors={
            connection_field(naming.side, "user"): f"give the password or an API token of "
            f"'{naming.user}' (application.password or application.token), or name yourself"
        },
    )


def check_namings(session: Session, namings: list[Naming], editor: Editor) -> None:
    """400 for a user who cannot sync, then 403 for one the editor may not name."""
    changed = [naming for naming in namings if naming.changed]
    errors: dict[str, str] = {}
    for naming in changed:
        errors |= _sync_user_errors(session, naming, editor)
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)
    for naming in changed:
        _require_right_to_name(naming, editor)


def changed_sync_user(
    side: str, connection: TrackerConnection, row: ConnectorRow, editor: Editor
) -> Naming | None:
    """The built-in sync user a change stores; None when it leaves the stored one alone.

    A change that leaves a built-in connector's user out keeps it, and one that
    repeats it is not checked again, whoever set it; one that names nobody, or
    turns a remote connector into a built-in one without a user, sets the
    editor, as a creation would.
    """
    given = connection.model_fields_set
    system = connection.resolved_system if "system" in given else row.system
    if system != LOCAL or row.system == PARTNER_SYSTEM:
        return None
    if row.system == LOCAL and "user" not in given:
        return None
    user = given_user(connection) or editor.name
    return Naming(side, user, connection, changed=row.system != LOCAL or user != row.user)
