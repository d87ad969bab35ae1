"""What a proposal of mappings needs to know of one project's schema, in neutral terms.

Each adapter reads its tracker's schema into a :class:`SchemaOutline` (``Tracker.outline``,
see ``trackers/adapter.py``): statuses with a category and a position, issue types with
whether they are sub-tasks, priorities in rank order (highest first), the fields with
their type and whether they hold several values, and whether comments and attachments
exist. ``domain/proposal.py`` proposes a configuration from two outlines; it never sees
a tracker's JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class StatusCategory(StrEnum):
    """Jira's three status categories, which every tracker's statuses fall into."""

    NEW = "new"
    INDETERMINATE = "indeterminate"
    DONE = "done"


# The generic issue types: a tracker's default type when it names none (the task kind of
# ``domain/proposal.py``'s synonym table).
GENERIC_TYPES: Final = ("task", "support", "chore")

# Field types whose value is a list (fieldcodec's short types).
MULTI_TYPES: Final = frozenset({"array", "options", "users"})

# Names that say a status is finished, or under way, for a tracker that does not say.
_DONE_WORDS: Final = re.compile(
    r"\b(done|closed?|resolved|fixed|complete[d]?|rejected|won'?t|cancel+ed|declined|"
    r"finished|released|deployed|duplicate|invalid|not planned)\b",
    re.IGNORECASE,
)
_NEW_WORDS: Final = re.compile(
    r"\b(new|open|to ?do|backlog|created|triage|reopened|selected)\b", re.IGNORECASE
)


def guess_category(name: str) -> StatusCategory:
    """A status's category from its name alone, for a tracker whose schema does not say."""
    if _DONE_WORDS.search(name):
        return StatusCategory.DONE
    if _NEW_WORDS.search(name):
        return StatusCategory.NEW
    return StatusCategory.INDETERMINATE


@dataclass(frozen=True)
class OutlineStatus:
    """A status of the project's workflow: its category, and its place in the workflow."""

    name: str
    category: StatusCategory
    position: int


@dataclass(frozen=True)
class OutlineIssueType:
    """An issue type; a sub-task type is created under a parent."""

    name: str
    subtask: bool = False


@dataclass(frozen=True)
class OutlineField:
    """A field an issue of the project has: its id, name and type (fieldcodec's short type)."""

    id: str
    name: str
    type: str
    multi: bool = False
    custom: bool = False


@dataclass(frozen=True)
class SchemaOutline:
    """One project's schema as a proposal of mappings reads it.

    ``statuses`` are in workflow order (by ``position``), ``priorities`` highest first,
    and ``default_issue_type`` is the type an issue gets when nothing says otherwise
    (see :attr:`default_issue_type`).
    """

    system: str
    project_key: str
    statuses: tuple[OutlineStatus, ...]
    issue_types: tuple[OutlineIssueType, ...]
    priorities: tuple[str, ...] = ()
    fields: tuple[OutlineField, ...] = ()
    comments: bool = True
    attachments: bool = True
    worklogs: bool = False  # time logged per issue, in entries (``Capabilities.worklogs``)
    subtasks: bool = True  # whether an issue may have a parent at all
    links: bool = False  # typed links between issues (GitHub has none)
    default_type: str | None = None

    def __post_init__(self) -> None:
        """Statuses in workflow order, whatever order they were given in."""
        ordered = tuple(sorted(self.statuses, key=lambda s: s.position))
        object.__setattr__(self, "statuses", ordered)

    @property
    def default_issue_type(self) -> str | None:
        """The type the tracker names as its default, else its first standard type named
        task, support or chore (the generic kind), else its first standard type."""
        if self.default_type is not None:
            return self.default_type
        standard = [t.name for t in self.issue_types if not t.subtask]
        generic = [n for n in standard if " ".join(n.casefold().split()) in GENERIC_TYPES]
        names = generic or standard or [t.name for t in self.issue_types]
        return names[0] if names else None

    def field(self, id_or_name: str) -> OutlineField | None:
        """The field with this id, else with this (case-insensitive) name."""
        lowered = id_or_name.casefold()
        by_id = next((f for f in self.fields if f.id == id_or_name), None)
        return by_id or next((f for f in self.fields if f.name.casefold() == lowered), None)

    def of_category(self, category: StatusCategory) -> tuple[OutlineStatus, ...]:
        """The statuses of this category, in workflow order."""
        return tuple(s for s in self.statuses if s.category is category)
