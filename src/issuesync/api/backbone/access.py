"""Who may see and steer which integration in the Backbone API.

Who sees which integration is the application's rule (:mod:`issuesync.application.access`,
which the dashboard applies too). A project administrator creates integrations
only between projects of theirs (a remote tracker's side is guarded by its own
credentials). A file queue's folder is a place on the server's disk: only an
administrator names one (:func:`require_queue_paths`).
"""

from __future__ import annotations

import base64

from issuesync.api.backbone.documents.bodies import (
    Application,
    ConnectorSpec,
    IntegrationSpec,
    Queue,
)
from issuesync.application.access import (
    LOCAL,
    require_some_project,
    sees,
    visible_connector,
    visible_integration,
    visible_integration_ids,
)
from issuesync.application.integrations import Editor, load_queue
from issuesync.auth import Authenticator
from issuesync.domain import connection
from issuesync.errors import AuthenticationError, PermissionDeniedError
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorRow

__all__ = [  # the routes reach the shared rules through this module
    "require_some_project",
    "sees",
    "visible_connector",
    "visible_integration",
    "visible_integration_ids",
]

SIDES = ("firstConnector", "secondConnector")
QUEUE_FIELDS = ("sendQueue", "receiveQueue")


def require_create(principal: Principal, spec: IntegrationSpec) -> None:
    """A project administrator may pair only built-in projects they administer."""
    require_some_project(principal)
    if principal.is_admin:
        return
    require_queue_paths(principal, spec, stored=None)
    for connector in (spec.first_connector, spec.second_connector):
        application = connector.connection.application
        if application.resolved_system == LOCAL and not principal.administers(
            connector.project_key
        ):
            raise PermissionDeniedError(
                f"You must administer project {connector.project_key} to synchronize it."
            )


def require_update(
    principal: Principal, spec: IntegrationSpec, stored: tuple[ConnectorRow, ConnectorRow]
) -> None:
    """What a project administrator may not change in an integration they may see."""
    require_queue_paths(principal, spec, stored=stored)


def require_queue_paths(
    principal: Principal,
    spec: IntegrationSpec,
    *,
    stored: tuple[ConnectorRow, ConnectorRow] | None,
) -> None:
    """403 unless an administrator names the folder (``path``) of a file queue.

    A project administrator may ask for file queues without a path (the
    default folders inside the data folder), and may send back, unchanged, a
    path the integration already has (``stored``), as a ``GET`` showed it.
    """
    if principal.is_admin:
        return
    for side, connector, index in zip(SIDES, _connectors(spec), (0, 1), strict=True):
        settings = connector.connection.connector
        if settings is None:
            continue
        given = (settings.send_queue, settings.receive_queue)
        kept = _stored_queues(stored[index]) if stored else (None, None)
        for label, queue, old in zip(QUEUE_FIELDS, given, kept, strict=True):
            if _names_a_folder(queue) and not _same_folder(queue, old):
                raise PermissionDeniedError(
                    "Only an administrator may name the folder of a file queue "
                    f"({side}.connection.connector.{label}.path); leave 'path' out to use "
                    "the integration's own folders."
                )


def _connectors(spec: IntegrationSpec) -> tuple[ConnectorSpec, ConnectorSpec]:
    return spec.first_connector, spec.second_connector


def _stored_queues(row: ConnectorRow) -> tuple[connection.Queue, connection.Queue]:
    return load_queue(row.send_queue), load_queue(row.receive_queue)


def _names_a_folder(queue: Queue | None) -> bool:
    return queue is not None and queue.type == "file" and queue.path is not None


def _same_folder(queue: Queue | None, stored: connection.Queue | None) -> bool:
    if queue is None or stored is None:
        return False
    return (queue.type, queue.path) == (stored.type, stored.path)


# --- naming the sync user of a built-in connector --------------------------------------------


def sync_user_editor(
    authenticator: Authenticator, principal: Principal, spec: IntegrationSpec
) -> Editor:
    """The caller as the engine's :class:`Editor`: who they are, and which users they proved.

    The engine lets a caller who is not an administrator name only themselves,
    or a user whose password or API token the body gives, as the sync user of a
    built-in connector. Those proofs are checked here, before the write
    transaction, by the same authenticator as a login (a token must be the named
    user's own and the user active), so a wrong one counts as a failed login
    wherever those are counted. Only proofs that matter are tried: an
    administrator needs none, and neither does a caller naming themselves.
    """
    if principal.is_admin:
        return Editor(principal.name, is_admin=True)
    sides = (spec.first_connector, spec.second_connector)
    proven = {
        user
        for application in (side.connection.application for side in sides)
        if (user := _proven_user(authenticator, principal, application)) is not None
    }
    return Editor(principal.name, is_admin=False, proven=frozenset(proven))


def _proven_user(
    authenticator: Authenticator, principal: Principal, application: Application
) -> str | None:
    """The built-in user the application names, when its password or token is theirs."""
    user = application.user
    secret = application.password or application.token
    if (
        not user
        or secret is None
        or user == principal.name
        or application.resolved_system != LOCAL
        or ":" in user  # no user has one; it would split the Basic credentials elsewhere
    ):
        return None
    credentials = base64.b64encode(f"{user}:{secret.get_secret_value()}".encode()).decode()
    try:
        proved = authenticator.authenticate(f"Basic {credentials}")
    except AuthenticationError:
        return None
    return user if proved.name == user else None
