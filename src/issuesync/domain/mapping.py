"""How one connector's configuration turns its issue into changes for the partner, and back.

The sending connector translates: its field mappings (direction ``BOTH`` or
``OUTGOING``) pick the local fields that are sent, name them by the partner's
field id and map their values; its workflow mappings map the status; its
outgoing issue-type mappings map the issue type. The receiving connector only
filters: it writes the fields its own mappings accept (``BOTH`` or
``INCOMING``). Each side's configuration is complete (see
``complete_configurations``), so a one-sided configuration still works.

Comments, attachments, work logs and issue links are not fields; the pseudo-fields
``comment``, ``attachment``, ``worklog`` and ``issuelinks`` in a mapping switch their
synchronization on (the value mappings of ``issuelinks`` pair link types by name).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

from pydantic import JsonValue

from issuesync.domain.configuration import (
    GLOBAL_WORKFLOW,
    Configuration,
    ConflictWinner,
    FieldMapping,
    ValueMapping,
    WorkflowMapping,
    fill_template,
)
from issuesync.domain.replica import FieldValue, HubIssue

COMMENT = "comment"
ATTACHMENT = "attachment"
WORKLOG = "worklog"
STATUS = "status"
LINKS = "issuelinks"  # issue links: ``domain/issuelinks.py``, not a field either
SUB_OBJECTS = (COMMENT, ATTACHMENT, WORKLOG, LINKS)


def _same(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return bool(a == b)


def _map_value(value: FieldValue, pairs: list[ValueMapping], *, outgoing: bool) -> FieldValue:
    if not pairs or value is None:
        return value
    if isinstance(value, list):
        mapped = [_map_value(item, pairs, outgoing=outgoing) for item in value]
        return sorted(str(item) for item in mapped)
    for pair in pairs:
        source, target = (pair.local, pair.remote) if outgoing else (pair.remote, pair.local)
        if _same(source, value):
            return _field_value(target)
    return value


def _field_value(value: JsonValue) -> FieldValue:
    """A configured value (a default, a value mapping's side) as the field value it stands for."""
    return cast("FieldValue", value)


@dataclass(frozen=True)
class ConnectorMapping:
    """A connector's configuration, compiled for the routes."""

    configuration: Configuration

    # Asked for every issue of every poll: worked out once (a configuration is not edited
    # in place; a changed one makes the engine build a new route and a new mapping).
    @cached_property
    def outgoing_fields(self) -> tuple[FieldMapping, ...]:
        """Field mappings whose local field is sent (comments and attachments excluded)."""
        return tuple(
            m
            for m in self.configuration.field_mappings
            if m.direction.outgoing and m.local_field not in SUB_OBJECTS
        )

    @cached_property
    def incoming_fields(self) -> frozenset[str]:
        """Local fields the partner's changes may be written into."""
        return frozenset(m.local_field for m in self.incoming_mappings)

    def syncs(self, sub_object: str, *, outgoing: bool) -> bool:
        """Whether comments (``comment``), attachments (``attachment``) or work logs
        (``worklog``) go this way."""
        return (sub_object, outgoing) in self._synced_sub_objects

    @cached_property
    def _synced_sub_objects(self) -> frozenset[tuple[str, bool]]:
        return frozenset(
            (m.local_field, outgoing)
            for m in self.configuration.field_mappings
            for outgoing in (True, False)
            if (m.direction.outgoing if outgoing else m.direction.incoming)
        )

    def to_remote(
        self, mapping: FieldMapping, value: FieldValue, issue: HubIssue | None = None
    ) -> FieldValue:
        """A local value as the partner's field should hold it: its value mapped, and a text
        put into the mapping's template (of ``issue``: its key and project)."""
        mapped = _map_value(value, mapping.value_mappings, outgoing=True)
        if mapping.template is None or issue is None or not isinstance(mapped, str):
            return mapped
        project = issue.project.key if issue.project is not None else ""
        return fill_template(mapping.template, key=issue.key, value=mapped, project=project)

    def local_always_wins(self, *, first: bool) -> bool | None:
        """Whether this side's value always wins a conflict (True), the partner's always
        does (False), or the newer change does (None); ``first``: this is the integration's
        first connector."""
        winner = self.configuration.sync.conflict_winner
        if winner is ConflictWinner.NEWER:
            return None
        return (winner is ConflictWinner.FIRST) == first

    def to_local(self, mapping: FieldMapping, value: FieldValue) -> FieldValue:
        """A partner's value as the local field should hold it."""
        return _map_value(value, mapping.value_mappings, outgoing=False)

    @cached_property
    def incoming_mappings(self) -> tuple[FieldMapping, ...]:
        """Field mappings whose local field takes the partner's changes."""
        return tuple(
            m
            for m in self.configuration.field_mappings
            if m.direction.incoming and m.local_field not in SUB_OBJECTS
        )

    def local_status(self, status: str | None, issue_type: str | None) -> str | None:
        """The local status for a partner's one: the reverse of :meth:`remote_status`."""
        if status is None:
            return None
        for workflow in self._workflows(issue_type):
            for pair in workflow.status_mappings:
                if _same(pair.remote, status):
                    return pair.local
        return status

    def remote_status(self, status: str | None, issue_type: str | None) -> str | None:
        """The partner status: the issue type's pairs, then the global ones, else the same name."""
        if status is None:
            return None
        for workflow in self._workflows(issue_type):
            for pair in workflow.status_mappings:
                if _same(pair.local, status):
                    return pair.remote
        return status

    def _workflows(self, issue_type: str | None) -> list[WorkflowMapping]:
        chosen = [
            w
            for w in self.configuration.workflow_mappings
            if issue_type is not None and _same(w.id, issue_type)
        ]
        chosen += [w for w in self.configuration.workflow_mappings if w.id == GLOBAL_WORKFLOW]
        return chosen

    def remote_issue_type(self, issue_type: str | None) -> str | None:
        """The partner's issue type for a local one (outgoing mappings, else the same name)."""
        if issue_type is None:
            return None
        for pair in self.configuration.issue_type_mappings.outgoing:
            if _same(pair.local, issue_type):
                return pair.remote
        return issue_type

    @property
    def maps_incoming_types(self) -> bool:
        """Whether the partner's raw issue type is looked up (incoming type mappings)."""
        return bool(self.configuration.issue_type_mappings.incoming)

    def local_issue_type(self, remote_type: str | None, proposed: str | None) -> str | None:
        """The local type for the partner's raw type (incoming mappings), else the proposed one."""
        if remote_type is not None:
            for pair in self.configuration.issue_type_mappings.incoming:
                if _same(pair.remote, remote_type):
                    return pair.local
        return proposed

    def defaults_for(self, issue_type: str | None) -> dict[str, FieldValue]:
        """Field defaults that apply to a new issue of this type (a default is a field value)."""
        values: dict[str, FieldValue] = {}
        for default in self.configuration.field_defaults:
            if default.issue_type is None:
                values.setdefault(default.field, _field_value(default.value))
        for default in self.configuration.field_defaults:
            if (
                default.issue_type is not None
                and issue_type
                and _same(default.issue_type, issue_type)
            ):
                values[default.field] = _field_value(default.value)
        return values
