"""An integration's conflicts, for ``GET /integrations/{key}/conflicts`` (seed 001).

Two kinds, each a :class:`Conflict` with a stable ``id``, a ``message`` naming
the offending item and a ``resolution`` saying exactly what to change:

- **validation** conflicts: the configuration checked against both trackers'
  real schemas (``Tracker.describe``) and connections (``Tracker.test_connection``),
  so that a mistake shows before the first message fails on it. Each connector's
  configuration speaks from its own side (``localField``/``local``: its project;
  ``remoteField``/``remote``: the partner's, see ``domain/configuration.py``), and
  is checked for what the engine does with it (``domain/mapping.py``): its
  fields, value mappings and ``fieldDefaults`` exist and are allowed; every
  status of its project reaches a partner status (``remote_status``) and every
  status pair names real statuses; every issue type of its project is created
  on the partner's side as a type the partner has (the sender's outgoing, the
  receiver's incoming type mappings, else the same name: ``plan_create``); and
  the partner's required fields are filled on create, by a mapping both sides
  hold or by the partner's ``fieldDefaults``. ``comment`` and ``attachment``
  are switches, not fields. A connector of the other node (``partner``) is
  not readable here, nor is one whose tracker cannot be opened: that is a
  ``connectionFailed`` conflict, and the checks that need its schema are left out.
- **data** conflicts: a field both sides changed since they last agreed,
  waiting for a person (``incoming.ConflictPendingError``): one per waiting
  message, decided with ``incoming.resolve``.

A conflict names the connector whose configuration (or queue) holds it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import JsonValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.domain.configuration import GLOBAL_WORKFLOW
from issuesync.domain.conflict import ERROR, WARNING, Conflict, ConflictField
from issuesync.domain.diff import Winner
from issuesync.domain.mapping import SUB_OBJECTS, ConnectorMapping
from issuesync.domain.redaction import redact
from issuesync.domain.urls import without_credentials
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    ConnectorConfig,
    connector_configs,
    connector_rows,
    tracker_access,
)
from issuesync.engine.pipeline import incoming
from issuesync.errors import IssueSyncError, NotFoundError
from issuesync.services import Services
from issuesync.store.sync import ConflictRow, IntegrationRow, MessageRow
from issuesync.trackers.adapter import FieldInfo, ProjectSchema

CONNECTION_FAILED = "connectionFailed"
CONNECTION_CHECK_FAILED = "connectionCheckFailed"
UNKNOWN_FIELD = "unknownField"
VALUE_NOT_ALLOWED = "valueNotAllowed"
UNKNOWN_STATUS = "unknownStatus"
UNMAPPED_STATUS = "unmappedStatus"
UNKNOWN_ISSUE_TYPE = "unknownIssueType"
UNMAPPED_ISSUE_TYPE = "unmappedIssueType"
REQUIRED_FIELD_NOT_FILLED = "requiredFieldNotFilled"
CONCURRENT_CHANGE = "concurrentChange"

# Required fields the engine always gives a new issue: its type, project and parent, and
# the reporter (the sync user when the partner's is not mapped).
ENGINE_FILLED = frozenset({"issuetype", "project", "parent", "status", "reporter"})
APPLICATION_CONNECTION = "PUT /integrations/{key}/applicationConnection"
UNKNOWN = {"field": UNKNOWN_FIELD, "status": UNKNOWN_STATUS, "issue type": UNKNOWN_ISSUE_TYPE}
CHECK_FIXES = {
    "user": "name a sync user that exists and is active in the tracker, or activate '{user}'",
    "project": "create project {project} in the tracker, or connect to a project that exists",
    "write": "let the sync user '{user}' create and edit issues, comment and attach in {project}",
}


# --- validation ------------------------------------------------------------------------------


def validation_conflicts(
    session: Session, services: Services, integration: IntegrationRow
) -> list[Conflict]:
    """The integration's configuration checked against both trackers; empty when it can work.

    Opens each connector's tracker as its sync user (and closes it again); a
    tracker that cannot be opened or reached is a conflict, never an error.
    Call it with a read-only session: a connection test opens a write unit of
    work of its own.
    """
    configs = connector_configs(session, integration.id)
    found: dict[str, Conflict] = {}
    schemas = [_open(session, services, config, integration.key, found) for config in configs]
    for index, config in enumerate(configs):
        schema, theirs = schemas[index], schemas[1 - index]
        if schema is not None:
            checker = _Checker(config, schema, configs[1 - index], theirs, found)
            checker.run()
    return list(found.values())


def _add(
    found: dict[str, Conflict],
    kind: str,
    config: ConnectorConfig,
    item: str,
    message: str,
    resolution: str,
    severity: str = ERROR,
) -> None:
    digest = hashlib.sha256(f"{kind}|{config.key}|{item}".encode()).hexdigest()[:10]
    conflict_id = f"{kind}-{config.key}-{digest}"
    found.setdefault(
        conflict_id,
        Conflict(
            conflict_id,
            "validation",
            kind,
            config.key,
            config.project_key,
            message,
            resolution,
            severity=severity,
        ),
    )


def _open(
    session: Session,
    services: Services,
    config: ConnectorConfig,
    integration_key: str,
    found: dict[str, Conflict],
) -> ProjectSchema | None:
    """The project's schema, after the connection test; None when it cannot be read here."""
    if config.system == PARTNER_SYSTEM:
        return None  # the other node of a distributed integration checks it
    access = tracker_access(session, services.secrets, config)
    known = access.known_secrets()
    user = config.user or services.settings.admin_user
    fix = APPLICATION_CONNECTION.format(key=integration_key)
    before = len(found)
    try:
        tracker = services.trackers(access)
        try:
            for check in tracker.test_connection().checks:
                if not check.ok:
                    how = CHECK_FIXES.get(check.name, "correct the connection so that it passes")
                    said = f": {redact(check.detail, known).rstrip('.')}" if check.detail else ""
                    _add(
                        found,
                        CONNECTION_CHECK_FAILED,
                        config,
                        check.name,
                        f"The connection test of connector {config.key} failed the check "
                        f"'{check.name}'{said}.",
                        _sentence(how.format(user=user, project=config.project_key))
                        + f" (the connection is changed with {fix}).",
                    )
            return tracker.describe()
        finally:
            tracker.close()
    # OSError: a network failure an adapter did not translate is still no reason to fail.
    except (IssueSyncError, OSError) as exc:
        if len(found) == before:  # one conflict per connector: the failed check says it
            detail = redact(exc.describe(), known) if isinstance(exc, IssueSyncError) else ""
            detail = detail or type(exc).__name__
            where = f" at {without_credentials(config.base_url)}" if config.base_url else ""
            _add(
                found,
                CONNECTION_FAILED,
                config,
                config.system,
                f"Connector {config.key} cannot connect to its '{config.system}' tracker{where} "
                f"as '{user}': {detail}",
                f"Make the tracker reachable, or correct connector {config.key}'s system, "
                f"baseUrl, user and password or token with {fix}; its configuration is "
                "checked against the project once it connects.",
            )
        return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _has(names: Iterable[str], name: object) -> bool:
    return isinstance(name, str) and name.casefold() in {n.casefold() for n in names}


def _choices(names: Iterable[str], limit: int = 30) -> str:
    listed = [f"'{n}'" for n in names]
    return ", ".join(listed[:limit]) + (", ..." if len(listed) > limit else "") or "none"


def _types(schema: ProjectSchema) -> tuple[str, ...]:
    return (*schema.issue_types, *schema.subtask_types)


@dataclass
class _Checker:
    """One connector's configuration against its project and, when readable, the partner's."""

    me: ConnectorConfig
    mine: ProjectSchema
    partner: ConnectorConfig
    theirs: ProjectSchema | None
    found: dict[str, Conflict]
    created_types: set[str] = field(default_factory=set)  # the partner's, for our issues

    def run(self) -> None:
        self.check_fields()
        self.check_defaults()
        self.check_statuses()
        self.check_issue_types()
        self.check_required()

    def add(
        self, kind: str, item: str, message: str, resolution: str, severity: str = ERROR
    ) -> None:
        _add(self.found, kind, self.me, item, message, resolution, severity)

    def exists(
        self, what: str, name: str, schema: ProjectSchema | None, attribute: str, entry: str
    ) -> bool:
        """Whether the project has the field, status or issue type; a conflict if not."""
        if schema is None:
            return True  # not readable here
        if what == "field":
            known = schema.field(name) is not None
            names = tuple(f.name if f.custom else f.id for f in schema.fields)
        else:
            names = schema.statuses if what == "status" else _types(schema)
            known = _has(names, name)
        if not known:
            where = f"the {attribute} of {entry}"
            self.add(
                UNKNOWN[what],
                f"{where}:{schema.key}:{name}",
                f"{_sentence(where)} of connector {self.me.key} names the {what} '{name}', "
                f"which project {schema.key} does not have.",
                f"Replace '{name}' in {where} with {'an' if what[0] == 'i' else 'a'} {what} of "
                f"project {schema.key} ({_choices(names)}), or remove {entry}.",
            )
        return known

    def allowed(self, info: FieldInfo | None, value: object, project: str, entry: str) -> None:
        if info is None or not info.allowed_values or not isinstance(value, str):
            return
        if not _has(info.allowed_values, value):
            self.add(
                VALUE_NOT_ALLOWED,
                f"{entry}:{info.id}:{value}",
                f"{_sentence(entry)} of connector {self.me.key} uses '{value}', which the "
                f"field '{info.name}' of project {project} does not allow.",
                f"Use one of the values {project} allows for '{info.name}' "
                f"({_choices(info.allowed_values)}) instead of '{value}' in {entry}.",
            )

    def check_fields(self) -> None:
        theirs = self.theirs
        for mapping in self.me.configuration.field_mappings:
            if mapping.local_field in SUB_OBJECTS:
                continue  # a switch for comments or attachments, not a field
            entry = f"the field mapping '{mapping.local_field}' -> '{mapping.remote_field}'"
            self.exists("field", mapping.local_field, self.mine, "localField", entry)
            self.exists("field", mapping.remote_field, theirs, "remoteField", entry)
            local = self.mine.field(mapping.local_field)
            remote = theirs.field(mapping.remote_field) if theirs else None
            for pair in mapping.value_mappings:
                values = f"the value mapping '{pair.local}' -> '{pair.remote}' of {entry}"
                self.allowed(local, pair.local, self.mine.key, values)
                self.allowed(remote, pair.remote, theirs.key if theirs else "", values)

    def check_defaults(self) -> None:
        for default in self.me.configuration.field_defaults:
            entry = f"the fieldDefaults entry for '{default.field}'"
            if self.exists("field", default.field, self.mine, "field", entry):
                self.allowed(self.mine.field(default.field), default.value, self.mine.key, entry)
            if default.issue_type is not None:
                self.exists("issue type", default.issue_type, self.mine, "issueType", entry)

    def check_statuses(self) -> None:
        mine, theirs = self.mine, self.theirs
        for workflow in self.me.configuration.workflow_mappings:
            entry = f"the workflow mapping '{workflow.id}'"
            if workflow.id != GLOBAL_WORKFLOW:
                self.exists("issue type", workflow.id, mine, "id", entry)
            for pair in workflow.status_mappings:
                pair_in = f"the status mapping '{pair.local}' -> '{pair.remote}' in {entry}"
                self.exists("status", pair.local, mine, "local status", pair_in)
                self.exists("status", pair.remote, theirs, "remote status", pair_in)
        if theirs is None:
            return
        mapping = ConnectorMapping(self.me.configuration)
        for status in mine.statuses:
            # Only what no pair maps: a pair to a missing status is reported above.
            stranded = [
                t
                for t in _types(mine) or ("",)
                if _has((status,), target := mapping.remote_status(status, t or None))
                and not _has(theirs.statuses, target)
            ]
            if stranded:
                which = "" if len(stranded) >= len(_types(mine)) else f" ({_choices(stranded)})"
                self.add(
                    UNMAPPED_STATUS,
                    status,
                    f"Status '{status}' of project {mine.key} has no status in project "
                    f"{theirs.key}{which}: {theirs.key} has no status of that name and no "
                    f"workflow mapping of connector {self.me.key} maps it.",
                    f'Add {{"local": "{status}", "remote": <one of {_choices(theirs.statuses)}>}} '
                    f"to the statusMappings of connector {self.me.key}'s '{GLOBAL_WORKFLOW}' "
                    f"workflow mapping (or the issue type's), or add the status to {theirs.key}.",
                )

    def check_issue_types(self) -> None:
        mine, theirs = self.mine, self.theirs
        mappings = self.me.configuration.issue_type_mappings
        for direction, pairs in (("outgoing", mappings.outgoing), ("incoming", mappings.incoming)):
            for pair in pairs:
                entry = f"the {direction} issue type mapping '{pair.local}' -> '{pair.remote}'"
                self.exists("issue type", pair.local, mine, "local type", entry)
                if direction == "incoming":  # an outgoing one's remote: see below
                    self.exists("issue type", pair.remote, theirs, "remote type", entry)
        if theirs is None:
            return
        ours = ConnectorMapping(self.me.configuration)
        partners = ConnectorMapping(self.partner.configuration)
        # A tracker where every type may be a sub-task (Redmine: any issue may have a
        # parent) has no type that is only a sub-task's: each is checked as a standard one.
        every_type_nests = set(mine.subtask_types) >= set(_types(mine))
        only_subtasks = set() if every_type_nests else set(mine.subtask_types)
        for name in _types(mine):
            target = partners.local_issue_type(name, ours.remote_issue_type(name)) or name
            subtask = name in only_subtasks
            fits = theirs.subtask_types if subtask else theirs.issue_types
            if _has(fits, target):
                self.created_types.add(target)
                continue
            if subtask and not theirs.subtask_types and _has(theirs.issue_types, target):
                # A tracker without sub-tasks (GitHub) takes them as standard issues.
                self.created_types.add(target)
                self.add(
                    UNMAPPED_ISSUE_TYPE,
                    name,
                    f"Sub-tasks of type '{name}' in project {mine.key} are created in project "
                    f"{theirs.key} as '{target}', without their parent: {theirs.key} has no "
                    "sub-tasks.",
                    "Nothing is blocked. To keep them out, leave sub-tasks out of connector "
                    f"{self.me.key}'s outgoingJqls.",
                    WARNING,
                )
                continue
            kind = "sub-task type" if subtask else "standard issue type"
            there = (
                f"is not a {kind} there" if _has(_types(theirs), target) else f"{theirs.key} lacks"
            )
            self.add(
                UNMAPPED_ISSUE_TYPE,
                name,
                f"Issues of type '{name}' in project {mine.key} would be created in project "
                f"{theirs.key} as '{target}', which {there}.",
                f'Add {{"local": "{name}", "remote": <one of {_choices(fits)}>}} to the '
                f"outgoing issueTypeMappings of connector {self.me.key} and the mirrored pair "
                f"to the incoming ones of connector {self.partner.key} (replacing any pair for "
                f"'{name}' there), or create the {kind} '{target}' in {theirs.key}.",
            )

    def check_required(self) -> None:
        theirs = self.theirs
        if theirs is None:
            return
        ours = ConnectorMapping(self.me.configuration)
        partners = ConnectorMapping(self.partner.configuration)
        sent = {theirs.field(m.remote_field) for m in ours.outgoing_fields}
        taken = {theirs.field(m.local_field) for m in partners.incoming_mappings}
        created = sorted(self.created_types) or [""]
        for info in theirs.fields:
            if not info.required or info.id in ENGINE_FILLED or (info in sent and info in taken):
                continue
            defaults = [partners.defaults_for(t or None) for t in created]
            lacking = [
                t
                for t, given in zip(created, defaults, strict=True)
                if not any(theirs.field(name) == info for name in given)
            ]
            if not lacking:
                continue
            which = "" if len(lacking) == len(created) else f" (types {_choices(lacking)})"
            self.add(
                REQUIRED_FIELD_NOT_FILLED,
                info.id,
                f"Project {theirs.key} requires the field '{info.name}' ({info.id}) on the "
                f"issues connector {self.me.key} sends it{which}, but no field mapping fills "
                f"it and no fieldDefaults entry of connector {self.partner.key} gives it.",
                f"Map a field of {self.mine.key} to '{info.id}' in both connectors (connector "
                f"{self.me.key}: remoteField '{info.id}', direction BOTH or OUTGOING; connector "
                f"{self.partner.key}: localField '{info.id}', direction BOTH or INCOMING), or "
                f'add {{"field": "{info.id}", "value": ...}} to the fieldDefaults of connector '
                f"{self.partner.key}.",
            )


# --- data ------------------------------------------------------------------------------------


def settle_conflict(
    session: Session, integration: IntegrationRow, message_id: int, keep: Winner
) -> int:
    """Decide a data conflict of the integration for one side: the message's waiting fields
    take ``keep``'s value and the message is queued again. Returns the fields decided;
    404 when no connector of the integration holds the message, 400 when it has no
    conflict waiting."""
    ids = [row.id for row in connector_rows(session, integration.id)]
    connector_id = session.scalar(
        select(MessageRow.connector_id).where(
            MessageRow.id == message_id, MessageRow.connector_id.in_(ids)
        )
    )
    if connector_id is None:
        raise NotFoundError(f"{integration.key} has no message with id {message_id}.")
    return incoming.resolve(session, connector_id, message_id, keep)


def data_conflicts(session: Session, integration: IntegrationRow) -> list[Conflict]:
    """Fields both sides changed that wait for a person: one conflict per waiting message."""
    configs = {config.id: config for config in connector_configs(session, integration.id)}
    rows = session.execute(
        select(ConflictRow, MessageRow.issue_key)
        .join(MessageRow, MessageRow.id == ConflictRow.message_id)
        .where(ConflictRow.connector_id.in_(configs), ConflictRow.winner.is_(None))
        .order_by(ConflictRow.message_id, ConflictRow.id)
    ).all()
    grouped: dict[int, list[ConflictRow]] = defaultdict(list)
    remote_keys: dict[int, str] = {}
    for row, remote_key in rows:
        assert row.message_id is not None  # the join keeps only rows of a message
        grouped[row.message_id].append(row)
        remote_keys[row.message_id] = remote_key
    # The partner's conflict about the twin: (connector, local issue) -> message id.
    by_issue = {(g[0].connector_id, g[0].local_issue_key): mid for mid, g in grouped.items()}
    found: list[Conflict] = []
    for message_id, group in grouped.items():
        me = configs[group[0].connector_id]
        issue, remote = group[0].local_issue_key, remote_keys[message_id]
        names = ", ".join(f"'{row.field}'" for row in group)
        route = f"PUT /integrations/{integration.key}/conflicts/{message_id}"
        twin = by_issue.get((me.partner_id, remote))
        also = (
            f" The partner's conflict data-{twin} (connector {me.partner_key}) waits on the same "
            'fields: decide it for the same values ("keep": "remote" there when '
            '"local" here, and the other way round).'
            if twin is not None
            else ""
        )
        found.append(
            Conflict(
                id=f"data-{message_id}",
                category="data",
                type=CONCURRENT_CHANGE,
                connector_key=me.key,
                project_key=me.project_key,
                message=f"Both {issue} and its twin {remote} changed {names} since they last "
                f"agreed; message {message_id} from connector {me.partner_key} waits until a "
                "person picks a side.",
                resolution=f'{route} with body {{"keep": "local"}} keeps the values of '
                f'{issue} (project {me.project_key}), {{"keep": "remote"}} takes those of '
                f"{remote}.{also}",
                message_id=message_id,
                issue_key=issue,
                remote_issue_key=remote,
                fields=tuple(
                    ConflictField(row.field, _decoded(row.local_value), _decoded(row.remote_value))
                    for row in group
                ),
                created_ms=min(row.created_ms for row in group),
            )
        )
    return found


def _decoded(text: str | None) -> JsonValue:
    decoded: JsonValue = json.loads(text) if text is not None else None
    return decoded
