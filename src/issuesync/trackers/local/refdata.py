"""Reference data of the built-in tracker, loaded once per operation and looked up by id or name."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuesync.errors import InvalidInputError
from issuesync.trackers.local.models import (
    CustomField,
    IssueType,
    LinkType,
    NamedRow,
    Priority,
    Project,
    Resolution,
    Status,
    TrackerRevision,
)

N = TypeVar("N", bound=NamedRow)


@dataclass
class Catalog(Generic[N]):
    """Rows of one small table, by id and by lower-cased name."""

    label: str
    by_id: dict[int, N] = field(default_factory=dict)
    by_name: dict[str, N] = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, rows: list[N]) -> Catalog[N]:
        """A catalog of these rows."""
        return cls(label, {r.id: r for r in rows}, {r.name.lower(): r for r in rows})

    def get(self, row_id: int) -> N:
        """The row with this id (it must exist: ids come from foreign keys)."""
        return self.by_id[row_id]

    def resolve(self, ref: object, field_id: str) -> N:
        """The row a Jira reference names: ``{"id": ..}``, ``{"name": ..}`` or a bare name/id."""
        value: object = ref
        if isinstance(ref, Mapping):
            if "id" in ref and ref["id"] is not None:
                value = ref["id"]
                row = self.by_id.get(_as_int(value) or -1)
                if row is None:
                    raise InvalidInputError(
                        f"{self.label} with id '{value}' does not exist",
                        field_errors={field_id: f"valid {self.label} id is required"},
                    )
                return row
            value = ref.get("name")
        if isinstance(value, str):
            row = self.by_name.get(value.lower())
            if row is None and value.isascii() and value.isdigit():
                row = self.by_id.get(int(value))
            if row is not None:
                return row
        raise InvalidInputError(
            f"{self.label} '{value}' does not exist",
            field_errors={field_id: f"Specify a valid '{self.label}' id or name"},
        )


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


@dataclass
class ReferenceData:
    """Statuses, issue types, priorities, resolutions, link types and custom fields."""

    statuses: Catalog[Status]
    issue_types: Catalog[IssueType]
    priorities: Catalog[Priority]
    resolutions: Catalog[Resolution]
    link_types: Catalog[LinkType]
    custom_fields: Catalog[CustomField]

    @classmethod
    def load(cls, session: Session) -> ReferenceData:
        """Read every reference table (each is small)."""
        return cls(
            statuses=Catalog.of("status", list(session.scalars(select(Status)))),
            issue_types=Catalog.of("issue type", list(session.scalars(select(IssueType)))),
            priorities=Catalog.of(
                "priority", list(session.scalars(select(Priority).order_by(Priority.position)))
            ),
            resolutions=Catalog.of("resolution", list(session.scalars(select(Resolution)))),
            link_types=Catalog.of("issue link type", list(session.scalars(select(LinkType)))),
            custom_fields=Catalog.of("custom field", list(session.scalars(select(CustomField)))),
        )

    def rows(self) -> list[NamedRow]:
        """Every row held."""
        catalogs: list[Catalog[Any]] = [
            self.statuses,
            self.issue_types,
            self.priorities,
            self.resolutions,
            self.link_types,
            self.custom_fields,
        ]
        return [row for catalog in catalogs for row in catalog.by_id.values()]

    def custom_field(self, field_id: str) -> CustomField | None:
        """The custom field ``customfield_<id>``, or None."""
        if not field_id.startswith("customfield_"):
            return None
        number = _as_int(field_id.removeprefix("customfield_"))
        return self.custom_fields.by_id.get(number) if number is not None else None


REFERENCE = "reference"


_REVISION = select(TrackerRevision.revision).where(TrackerRevision.name == REFERENCE)


class ReferenceCache:
    """Reference data shared by the operations of a process, checked against a revision.

    Each operation reads one integer (the ``reference`` revision); only when it
    moved is the data read again. The rows are detached from the session that
    read them and are never written through, so threads may share them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[int, ReferenceData] | None = None

    def get(self, session: Session) -> ReferenceData:
        """Current reference data for this session's view of the store."""
        revision = session.scalar(_REVISION)
        current = revision or 0
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == current:
            return cached[1]
        data = ReferenceData.load(session)
        for row in data.rows():
            session.expunge(row)
        with self._lock:
            self._cached = (current, data)
        return data


def bump_reference_revision(session: Session) -> None:
    """Record that reference data changed, so every process reads it again."""
    updated = session.execute(
        update(TrackerRevision)
        .where(TrackerRevision.name == REFERENCE)
        .values(revision=TrackerRevision.revision + 1)
    )
    if not getattr(updated, "rowcount", 0):
        session.add(TrackerRevision(name=REFERENCE, revision=1))
        session.flush()


@dataclass(frozen=True)
class ProjectRef:
    """What never changes about a project: its id, key and initial status."""

    id: int
    key: str
    initial_status_id: int

    @classmethod
    def of(cls, project: Project) -> ProjectRef:
        """The reference of a loaded project."""
        return cls(project.id, project.key, project.initial_status_id)


class ProjectRefs:
    """Project references by key, shared by the operations of a process.

    Keys, ids and initial statuses never change and projects are not deleted, so
    an entry never goes stale; a project another worker created is simply a miss.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, ProjectRef] = {}

    def get(self, key: str) -> ProjectRef | None:
        """The reference for an upper-case key, if known."""
        return self._by_key.get(key)

    def remember(self, ref: ProjectRef) -> None:
        """Keep a reference (dict assignment is atomic, so threads may share this)."""
        self._by_key[ref.key] = ref
