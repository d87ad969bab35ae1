"""What makes an integration's connectors valid, and how a connection is stored on a row.

Each check returns the problems it finds keyed by field (``application/fields.py``); the
callers gather them into one :class:`~issuesync.errors.InvalidInputError`. Secrets are
encrypted before they reach a row, and a stored secret is sent only where it was given for
(:func:`secrets_left_behind`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.fields import (
    SIDES,
    connection_field,
    project_field,
    queries_field,
    queue_field,
)
from issuesync.domain.configuration import Configuration
from issuesync.domain.connection import LOCAL, TrackerConnection
from issuesync.domain.integration import ConnectorDraft
from issuesync.domain.jql import parse_queries
from issuesync.engine.connectors import seal_secret
from issuesync.errors import ConflictError, NotFoundError, QueryError
from issuesync.security import SecretBox
from issuesync.services import Services
from issuesync.store.sync import ConnectorRow, IntegrationRow
from issuesync.trackers.access import TrackerAccess

ProjectExists = Callable[[str, str], bool]
SECRET_FIELD: Final = "password"  # noqa: S105 - the name of a field, not a secret


def project_checker(services: Services) -> ProjectExists:
    """``project_exists`` for this instance: the built-in tracker is asked, others trusted.

    The built-in tracker runs in this process, so its adapter tells at once
    whether the project is there (``describe``, as the administrator, who sees
    every project). A remote tracker's project can only be checked by its adapter
    when the connector connects; until then it is taken as given.
    """

    def exists(system: str, project_key: str) -> bool:
        if system != LOCAL:
            return True
        access = TrackerAccess(system, project_key, None, services.settings.admin_user, None)
        tracker = services.trackers(access)
        try:
            # By key, exactly: the tracker also finds a project by its id or in lower case.
            return tracker.describe().key == project_key
        except NotFoundError:
            return False
        finally:
            tracker.close()

    return exists


def distributed_errors(connectors: tuple[ConnectorDraft, ConnectorDraft]) -> dict[str, str]:
    """A distributed integration exchanges messages with its partner node: both queues are
    files (a shared folder) or both ``http`` (a relation, paired over the node API)."""
    queues = connectors[0].queues
    given = (queues.send_queue, queues.receive_queue) if queues else (None, None)
    if all(queue is not None and queue.type == "file" for queue in given):
        return {}
    if all(queue is not None and queue.type == "http" for queue in given):
        return {}  # a relation's (application/relations.py makes them when it pairs)
    return {
        queue_field(SIDES[0]): (
            "a distributed integration needs file queues: sendQueue and receiveQueue "
            "with '@type': 'file' and the folders shared with the partner node (over HTTP, "
            "pair the two nodes instead: issuesync relation invite / relation accept)"
        )
    }


def connection_errors(
    side: str, connection: TrackerConnection, system: str, systems: Collection[str]
) -> dict[str, str]:
    """An unknown tracker; a password and a token both given."""
    errors: dict[str, str] = {}
    if system not in systems:
        errors[connection_field(side, "system")] = (
            f"'{system}' is not a known tracker; the installed tracker adapters are: "
            f"{', '.join(sorted(systems))}"
        )
    if connection.password is not None and connection.token is not None:
        errors[connection_field(side, "token")] = (
            "give the sync user's password or a token, not both"
        )
    return errors


def query_errors(side: str, system: str, configuration: Configuration | None) -> dict[str, str]:
    """The built-in tracker runs a connector's outgoing queries as JQL: they must parse and,
    together, stay within JQL's limits (``domain/jql/limits.py``), as when they run."""
    if system != LOCAL or configuration is None:
        return {}
    try:
        parse_queries(configuration.sync.outgoing_jqls)
    except QueryError as exc:
        return {queries_field(side): exc.message}
    return {}


Identity = tuple[str, str, str]


def _identity(system: str, base_url: str | None, project_key: str) -> Identity:
    """What makes two connectors the same project: tracker, its base URL, project key."""
    url = "" if system == LOCAL else (base_url or "").rstrip("/").lower()
    return system, url, project_key


def draft_identity(connector: ConnectorDraft) -> Identity:
    """The project a connector of a request names."""
    connection = connector.connection
    return _identity(connection.resolved_system, connection.base_url, connector.project_key)


def row_identity(row: ConnectorRow) -> Identity:
    """The project a stored connector syncs."""
    return _identity(row.system, row.base_url, row.project_key)


def same_project_errors(identities: tuple[Identity, Identity]) -> dict[str, str]:
    """Both connectors name the same project of the same tracker."""
    if identities[0] != identities[1]:
        return {}
    return {
        project_field(SIDES[1]): (
            "An integration needs two different projects; both connectors name "
            f"'{identities[0][2]}' of the same tracker."
        )
    }


def refuse_duplicate(
    session: Session,
    identities: tuple[Identity, Identity],
    *,
    exclude_integration_id: int | None,
) -> None:
    """ConflictError when another integration already syncs the same two projects."""
    wanted = set(identities)
    keys = [identity[2] for identity in identities]
    found: dict[int, set[Identity]] = {}
    for row in session.scalars(select(ConnectorRow).where(ConnectorRow.project_key.in_(keys))):
        if row.integration_id != exclude_integration_id:
            found.setdefault(row.integration_id, set()).add(row_identity(row))
    for integration_id, existing in found.items():
        if existing == wanted:
            other = session.get_one(IntegrationRow, integration_id)
            raise ConflictError(
                f"The projects {keys[0]} and {keys[1]} are already synchronized by {other.key}."
            )


def _place(url: str | None) -> str:
    """A URL as the place a secret is sent to: scheme, host, port and path, any case."""
    return (url or "").strip().rstrip("/").lower()


def secrets_left_behind(row: ConnectorRow, connection: TrackerConnection) -> dict[str, str]:
    """The secrets a change of where a connector connects would send to a new place.

    A stored password, token or proxy password is sent only where it was given
    for: a change that moves the connector to another tracker (``system``,
    ``base_url``) or another proxy must give that secret again, or whoever may
    edit the connection could point it at a server of theirs and receive the
    stored secret. A new proxy in front of a plain-http tracker would see the
    tracker's secret too. Keys are the fields to give, relative to the connection.
    """
    given = connection.model_fields_set
    system = connection.resolved_system if "system" in given else row.system
    if LOCAL in (row.system, system):  # a built-in connector uses no secret, and keeps none
        return {}
    base_url = connection.base_url if "base_url" in given else row.base_url
    new_secret = connection.password is not None or connection.token is not None
    moved = system != row.system or _place(base_url) != _place(row.base_url)
    proxy = connection.proxy
    new_proxy = proxy is not None and _place(proxy.uri) != _place(row.proxy_uri)
    missing: dict[str, str] = {}
    if row.secret is not None and not new_secret:
        if moved:
            missing[SECRET_FIELD] = (
                "give the sync user's password or token again with the new tracker address: "
                "a stored secret is sent only to the tracker it was given for"
            )
        elif new_proxy and _place(base_url).startswith("http://"):
            missing[SECRET_FIELD] = (
                "give the sync user's password or token again with the new proxy: the tracker "
                "is reached over plain http, so the proxy would see the stored secret"
            )
    if new_proxy and row.proxy_secret is not None and proxy is not None and proxy.password is None:
        missing["proxy.password"] = (
            "give the proxy's password again with the new proxyUri: a stored proxy password "
            "is sent only to the proxy it was given for"
        )
    return missing


def apply_connection(
    row: ConnectorRow,
    connection: TrackerConnection,
    secrets: SecretBox,
    *,
    merge: bool = False,
    sync_user: str | None = None,
) -> None:
    """Copy the connection onto the row.

    With ``merge``, only what the change set changes. A secret left out always
    keeps the stored one. A built-in connector stores no new secret: the engine
    runs in-process as ``sync_user`` (checked by the caller), and a password or
    token given only proved who that is; one kept from a remote past is dropped.
    """
    given = connection.model_fields_set
    if not merge or "system" in given:
        row.system = connection.resolved_system
    if not merge or "base_url" in given:
        row.base_url = connection.base_url
    if not merge or "user" in given:
        row.user = connection.user
    if row.system == LOCAL:
        if sync_user is not None:
            row.user = sync_user
        row.secret = None  # the engine works in-process as the user: no secret to keep
    elif connection.password is not None:
        row.secret = seal_secret(secrets, "password", connection.password.get_secret_value())
    elif connection.token is not None:
        row.secret = seal_secret(secrets, "token", connection.token.get_secret_value())
    proxy = connection.proxy
    if proxy is not None:
        row.proxy_uri = proxy.uri
        row.proxy_user = proxy.username
        if proxy.password is not None:
            row.proxy_secret = secrets.encrypt(proxy.password.get_secret_value())
