"""SD Elements' ``params`` and issuesync's neutral models, both ways.

A connection's ``params`` hold three kinds of keys:

- its settings (:class:`~issuesync.domain.scheduled.ConnectionSettings`):
  ``issue_tracker_project``, ``issue_tracker_title_format``,
  ``issue_tracker_parent_issue``, ``sde_statuses_in_scope`` (a comma-separated string,
  or a list), ``sde_min_priority`` (1-10) and ``conflict_policy``;
- its tracker connector's (:class:`~issuesync.domain.scheduled.TrackerServer`):
  ``issue_tracker_server``, ``_method``, ``_validate_cert``, ``_auth_mode``, ``_user``
  and the write-only ``issue_tracker_pass``. Shown from the connector; a connection's
  body may repeat them as they are (a script sends back what it read) but changes them
  only at the connector;
- every other key, stored as given and shown back, with no effect (``sde_businessunit``,
  ``rally_workspace``, ...); ``null`` removes one. ``sde_project`` (the project's name)
  and ``last_successful_run`` are shown, and passed over when sent.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Final

from pydantic import SecretStr, ValidationError

from issuesync.api.connections.bodies import Fields, model_errors
from issuesync.application.connections import ConnectionView, TrackerServerView
from issuesync.domain.configuration import template_problem
from issuesync.domain.scheduled import (
    MAX_EXTRAS,
    MAX_RANK,
    MIN_RANK,
    ConflictPolicy,
    ConnectionSettings,
    TrackerServer,
)

PROJECT: Final = "issue_tracker_project"
TITLE_FORMAT: Final = "issue_tracker_title_format"
PARENT: Final = "issue_tracker_parent_issue"
STATUSES: Final = "sde_statuses_in_scope"
MIN_PRIORITY: Final = "sde_min_priority"
CONFLICT_POLICY: Final = "conflict_policy"
PASSWORD: Final = "issue_tracker_pass"  # noqa: S105 - the param's name, not a secret
# The tracker connector's params, by its model's fields (the secret apart).
SERVER_PARAMS: Final = {
    "issue_tracker_server": "server",
    "issue_tracker_method": "method",
    "issue_tracker_validate_cert": "validate_cert",
    "issue_tracker_auth_mode": "auth_mode",
    "issue_tracker_user": "user",
}
SHOWN_ONLY: Final = ("sde_project", "last_successful_run")
METHODS: Final = ("http", "https")
AUTH_MODES: Final = ("basic", "token")
MAX_STATUSES: Final = 100
MAX_EXTRA_KEY: Final = 100
MAX_EXTRA_CHARS: Final = 4096
# The seed's order of params (extras it shows in their places, others after them).
PARAM_ORDER: Final = (
    "sde_project",
    "issue_tracker_auth_mode",
    "issue_tracker_user",
    "sde_verification_filter",
    "jira_version",
    "rally_workspace",
    "issue_tracker_method",
    "issue_tracker_validate_cert",
    TITLE_FORMAT,
    "issue_tracker_server",
    "sde_businessunit",
    "sde_application",
    PROJECT,
    PARENT,
    "issue_tracker_phases",
    STATUSES,
    CONFLICT_POLICY,
    MIN_PRIORITY,
    "issue_tracker_reference_context",
    "session_capture_socket",
)
# A tracker server's fields by the names a body gives them.
SERVER_NAMES: Final = {
    "name": "name",
    "system": "system",
    "secret": f"params.{PASSWORD}",
    **{field: f"params.{key}" for key, field in SERVER_PARAMS.items()},
}
_SETTINGS_NAMES: Final = {
    "tracker_project": PROJECT,
    "title_format": TITLE_FORMAT,
    "parent_issue": PARENT,
    "statuses": STATUSES,
    "min_priority": MIN_PRIORITY,
    "conflict_policy": CONFLICT_POLICY,
    "extras": "",
}


# -- a connection's params ------------------------------------------------------------------


def connection_settings(
    params: Fields, stored: ConnectionSettings | None
) -> ConnectionSettings | None:
    """The settings ``params`` give, merged into ``stored`` (None: a new connection, which
    must name its tracker project); None when a param is wrong (named in the errors)."""
    values = stored.model_dump() if stored is not None else {}
    extras: dict[str, object] = dict(stored.extras) if stored is not None else {}
    if stored is None:
        params.text(PROJECT, required=True)
    for key, value in params.data.items():
        if key in SERVER_PARAMS or key in SHOWN_ONLY or key == PASSWORD:
            continue  # the connector's (checked by refuse_changed_server), or shown only
        if key in _READERS:
            values[_FIELDS[key]] = _READERS[key](params)
        elif len(key) > MAX_EXTRA_KEY:
            params.refuse("", f"A param's name has at most {MAX_EXTRA_KEY} characters.")
        elif value is None:
            extras.pop(key, None)
        elif len(json.dumps(value)) > MAX_EXTRA_CHARS:
            params.refuse(key, f"Ensure this value has at most {MAX_EXTRA_CHARS} characters.")
        else:
            extras[key] = value
    if len(extras) > MAX_EXTRAS:
        params.refuse("", f"At most {MAX_EXTRAS} params besides issuesync's own are kept.")
    if params.refused():
        return None
    try:
        return ConnectionSettings.model_validate(values | {"extras": extras})
    except ValidationError as exc:  # what the readers let through: no value is repeated
        names = {
            field: f"{params.prefix}{key}" if key else params.prefix.rstrip(".")
            for field, key in _SETTINGS_NAMES.items()
        }
        params.errors.update(model_errors(exc, names))
        return None


def _title_format(params: Fields) -> str | None:
    value = params.text(TITLE_FORMAT)
    problem = template_problem(value) if value is not None else None
    if problem:
        params.refuse(TITLE_FORMAT, problem)
    return value


def _statuses(params: Fields) -> list[str] | None:
    value = params.data[STATUSES]
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        params.refuse(STATUSES, "Give the statuses as a comma-separated string or a list.")
        return None
    names = [item.strip() for item in items if item.strip()]
    if len(names) > MAX_STATUSES or any(len(name) > 255 for name in names):  # noqa: PLR2004 - a status's length
        params.refuse(STATUSES, f"At most {MAX_STATUSES} statuses of 255 characters each.")
        return None
    return names


def _project(params: Fields) -> str | None:
    return params.text(PROJECT)


def _parent(params: Fields) -> str | None:
    return params.text(PARENT, nullable=True, blank=True) or None


def _min_priority(params: Fields) -> int | None:
    return params.integer(MIN_PRIORITY, nullable=True, low=MIN_RANK, high=MAX_RANK)


def _conflict_policy(params: Fields) -> str | None:
    return params.choice(CONFLICT_POLICY, [c.value for c in ConflictPolicy])


_READERS: Final[dict[str, Callable[[Fields], object]]] = {
    PROJECT: _project,
    TITLE_FORMAT: _title_format,
    PARENT: _parent,
    STATUSES: _statuses,
    MIN_PRIORITY: _min_priority,
    CONFLICT_POLICY: _conflict_policy,
}
_FIELDS: Final = {key: field for field, key in _SETTINGS_NAMES.items() if key}


def refuse_changed_server(params: Fields, server_id: int, server: TrackerServer) -> None:
    """Refuse the connector's params that differ from the connector's own values; the same
    values pass (a script sends back what it read). The password is compared, never shown."""
    moved = (
        f"This belongs to tracker connector {server_id}: change it there, at "
        f"PATCH /api/v2/connections/connectors/{server_id}/."
    )
    for key, field in SERVER_PARAMS.items():
        if key in params and not _same(params.data[key], getattr(server, field)):
            params.refuse(key, moved)
    if PASSWORD in params:
        given = params.data[PASSWORD]
        stored = server.secret.get_secret_value() if server.secret is not None else ""
        same = isinstance(given, str | None) and hmac.compare_digest(
            (given or "").encode(), stored.encode()
        )
        if not same:
            params.refuse(PASSWORD, moved)


def _same(given: object, stored: object) -> bool:
    if stored is None:
        return given is None or given == ""
    if isinstance(stored, bool):
        return given is stored
    return isinstance(given, str) and stored in (given.strip(), given.strip().rstrip("/"))


def settings_params(view: ConnectionView) -> dict[str, object] | None:
    """A connection's params as SD Elements shows them (None for a caller who may not edit
    it); never the password."""
    settings = view.settings
    if settings is None:
        return None
    values: dict[str, object] = {"sde_project": view.project_name}
    values |= server_params(view.tracker_server)
    values |= {
        TITLE_FORMAT: settings.title_format,
        PROJECT: settings.tracker_project,
        STATUSES: ",".join(settings.statuses),
        CONFLICT_POLICY: settings.conflict_policy.value,
    }
    if settings.parent_issue is not None:
        values[PARENT] = settings.parent_issue
    if settings.min_priority is not None:
        values[MIN_PRIORITY] = settings.min_priority
    values |= settings.extras
    ordered = {key: values[key] for key in PARAM_ORDER if key in values}
    return ordered | values


# -- a tracker connector's params -------------------------------------------------------------


def server_params(server: TrackerServerView) -> dict[str, object]:
    """A tracker connector's params (never its password)."""
    return {key: getattr(server, field) for key, field in SERVER_PARAMS.items()}


def system_of(fields: Fields, *, required: bool = False) -> str | None:
    """A body's ``system``: its id, or the seed's object ``{"id": ..., "name": ...}``."""
    if isinstance(fields.data.get("system"), dict):
        system = fields.object("system")
        return system.text("id", required=True, max_length=32) if system is not None else None
    return fields.text("system", required=required, max_length=32)


def server_changes(params: Fields, *, creating: bool, own_only: bool = True) -> dict[str, object]:
    """The tracker server's fields that ``params`` give (a connector's: ``own_only``, any
    other key is refused)."""
    changes: dict[str, object] = {}
    for key in params.data if own_only else ():
        if key not in SERVER_PARAMS and key != PASSWORD:
            known = ", ".join([*SERVER_PARAMS, PASSWORD])
            params.refuse(key, f"Not a param of a tracker connector: use {known}.")
    readers: dict[str, Callable[[], object]] = {
        "server": lambda: params.text("issue_tracker_server", required=creating, max_length=1024),
        "method": lambda: params.choice("issue_tracker_method", METHODS),
        "validate_cert": lambda: params.boolean("issue_tracker_validate_cert"),
        "auth_mode": lambda: params.choice("issue_tracker_auth_mode", AUTH_MODES),
        "user": lambda: params.text("issue_tracker_user", nullable=True, blank=True) or None,
    }
    for key, field in SERVER_PARAMS.items():
        if key in params or (creating and field == "server"):
            changes[field] = readers[field]()
    if PASSWORD in params:
        secret = params.text(PASSWORD, nullable=True, blank=True, max_length=1024)
        changes["secret"] = SecretStr(secret) if secret else None
    return changes


def tracker_server(values: Mapping[str, object], errors: dict[str, str]) -> TrackerServer | None:
    """A tracker server from its fields; None with the errors named in the body's terms
    (the messages never repeat a value: the model hides its input)."""
    try:
        return TrackerServer.model_validate(dict(values))
    except ValidationError as exc:
        errors.update(model_errors(exc, SERVER_NAMES))
        return None
