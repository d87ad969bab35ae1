"""A complete configuration proposed from both projects' schemas (pure: no I/O).

:func:`propose` takes the two projects' :class:`~issuesync.domain.outline.SchemaOutline`
and returns each connector's :class:`~issuesync.domain.configuration.Configuration`, every
proposed pair with its reason, and what will not cross as warnings. The rules, each
applied from either side to the other (docs/trackers.md, "Proposed mappings"):

- **statuses**: the same name (case-insensitive) first; then the same category (new,
  indeterminate, done) by position among the statuses left on both sides; a status with
  no partner at its position maps to the first status of its category; a category the
  other side lacks borrows the nearest one (under way -> new, new -> under way, done ->
  under way), with a warning.
- **issue types**: the same name; then the same kind by :data:`SYNONYMS`; a sub-task type
  without a sub-task partner takes the partner's task kind; else the partner's default
  type (with a warning). A sub-task type towards a tracker without sub-tasks is a warning
  too: its issues cross without their parent.
- **priorities** by rank, both sides highest first: equal names are anchors (kept in
  order), and the ranks between anchors (and the ends) map by relative position, so the
  middle maps to the middle and a higher priority never maps below a lower one.
- **fields** only where both sides have them: summary, description, labels, due date,
  priority (both sides ranked), custom fields by name and compatible type; comments,
  attachments, work logs and issue links (``issuelinks``) where both trackers have them.

Each connector's configuration speaks from its own side: the first's workflow pairs map
each of its statuses to the second's, its outgoing type pairs each of its types, its
incoming type pairs each of the second's types to one of its own (the second's outgoing
pairs, mirrored). The engine maps on the sending side, so each direction is its own
choice: ``In Progress -> Open`` one way does not make ``Open -> In Progress`` the other.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from math import floor
from typing import Final

from issuesync.domain.configuration import (
    GLOBAL_WORKFLOW,
    Configuration,
    FieldMapping,
    IssueTypeMapping,
    IssueTypeMappings,
    StatusMapping,
    ValueMapping,
    WorkflowMapping,
)
from issuesync.domain.outline import (
    GENERIC_TYPES,
    OutlineIssueType,
    SchemaOutline,
    StatusCategory,
)

# Issue-type kinds and the names that say each (case-insensitive; ``-`` and ``_`` read as
# spaces, so ``Sub-task`` is ``sub task``).
SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "bug": ("bug", "defect"),
    "story": ("story", "user story", "feature", "new feature", "enhancement", "improvement"),
    "task": GENERIC_TYPES,
    "epic": ("epic",),
    "sub-task": ("sub task", "subtask"),
}
SUBTASK: Final = "sub-task"
TASK: Final = "task"

# The fields both sides must have to be mapped, by the replica's field ids.
COMMON_FIELDS: Final = ("summary", "description", "labels", "duedate")
COMMENT: Final = "comment"
ATTACHMENT: Final = "attachment"
WORKLOG: Final = "worklog"
LINKS: Final = "issuelinks"  # issue links between synchronized issues (``domain/issuelinks.py``)
PRIORITY: Final = "priority"

# A category the other side lacks borrows the nearest one it has, in this order.
_NEAREST: Final = {
    StatusCategory.NEW: (StatusCategory.INDETERMINATE, StatusCategory.DONE),
    StatusCategory.INDETERMINATE: (StatusCategory.NEW, StatusCategory.DONE),
    StatusCategory.DONE: (StatusCategory.INDETERMINATE, StatusCategory.NEW),
}
_TEXTS: Final = frozenset({"string", "text"})
_ID_SPACE: Final = uuid.UUID("6f1d3c52-0b59-4d8e-9a51-1c0e57a9b2d4")  # proposals' mapping ids


class Kind(StrEnum):
    """What a proposed pair or a warning is about."""

    STATUS = "status"
    ISSUE_TYPE = "issue type"
    PRIORITY = "priority"
    FIELD = "field"


class Side(StrEnum):
    """Which project a value belongs to."""

    FIRST = "first"
    SECOND = "second"

    @property
    def other(self) -> Side:
        """The partner's side."""
        return Side.SECOND if self is Side.FIRST else Side.FIRST


@dataclass(frozen=True)
class ProposedPair:
    """A value of ``side``'s project and the partner's value it maps to, with the reason."""

    kind: Kind
    side: Side
    source: str
    target: str
    reason: str


@dataclass(frozen=True)
class Unmapped:
    """A value that will not cross (or crosses only approximately), and why."""

    kind: Kind
    side: Side
    name: str
    reason: str


@dataclass(frozen=True)
class Proposal:
    """Both connectors' configurations, the pairs they hold with reasons, and the warnings."""

    first: Configuration
    second: Configuration
    pairs: tuple[ProposedPair, ...]
    warnings: tuple[Unmapped, ...]

    def mapping(self, kind: Kind, side: Side) -> dict[str, str]:
        """``side``'s values of this kind to the partner's (fields by the partner's id)."""
        return {p.source: p.target for p in self.pairs if p.kind is kind and p.side is side}


@dataclass
class _Found:
    """What one direction proposes: pairs and warnings, in order."""

    pairs: list[ProposedPair]
    warnings: list[Unmapped]


def propose(first: SchemaOutline, second: SchemaOutline) -> Proposal:
    """Each connector's configuration drawn from both projects' schemas (see the module)."""
    found = _Found([], [])
    for side, mine, theirs in ((Side.FIRST, first, second), (Side.SECOND, second, first)):
        _propose_statuses(found, side, mine, theirs)
        _propose_types(found, side, mine, theirs)
        _propose_priorities(found, side, mine, theirs)
    fields = _propose_fields(found, first, second)
    return Proposal(
        _configuration(found, Side.FIRST, fields),
        _configuration(found, Side.SECOND, fields),
        tuple(found.pairs),
        tuple(found.warnings),
    )


def _configuration(found: _Found, side: Side, fields: list[tuple[str, str]]) -> Configuration:
    """``side``'s connector's configuration: its own pairs, and the partner's types mirrored
    as its incoming type pairs (what the receiving side of a create looks up)."""
    mine = [p for p in found.pairs if p.side is side]
    theirs = [p for p in found.pairs if p.side is side.other]
    return Configuration(
        issue_type_mappings=IssueTypeMappings(
            outgoing=[
                IssueTypeMapping(local=p.source, remote=p.target)
                for p in mine
                if p.kind is Kind.ISSUE_TYPE
            ],
            incoming=[
                IssueTypeMapping(local=p.target, remote=p.source)
                for p in theirs
                if p.kind is Kind.ISSUE_TYPE
            ],
        ),
        field_mappings=[_field_mapping(found, side, a, b) for a, b in fields],
        workflow_mappings=[
            WorkflowMapping(
                id=GLOBAL_WORKFLOW,
                status_mappings=[
                    StatusMapping(local=p.source, remote=p.target)
                    for p in mine
                    if p.kind is Kind.STATUS
                ],
            )
        ],
    )


# -- statuses ---------------------------------------------------------------------------------


def _propose_statuses(
    found: _Found, side: Side, mine: SchemaOutline, theirs: SchemaOutline
) -> None:
    if not theirs.statuses:
        found.warnings += [
            Unmapped(Kind.STATUS, side, s.name, "the partner's project lists no statuses")
            for s in mine.statuses
        ]
        return
    by_name = {s.name.casefold(): s.name for s in theirs.statuses}
    chosen: dict[str, tuple[str, str]] = {}
    for status in mine.statuses:
        if (same := by_name.get(status.name.casefold())) is not None:
            chosen[status.name] = (same, "same name")
    taken = {target.casefold() for target, _ in chosen.values()}
    for category in StatusCategory:
        left = [s for s in mine.of_category(category) if s.name not in chosen]
        partners = theirs.of_category(category)
        free = [s for s in partners if s.name.casefold() not in taken]
        for index, status in enumerate(left):
            if index < len(free):
                chosen[status.name] = (free[index].name, f"same category ({category}), by position")
            elif partners:
                chosen[status.name] = (
                    partners[0].name,
                    f"first status of its category ({category}): no partner at its position",
                )
            else:
                nearest = next(c for c in _NEAREST[category] if theirs.of_category(c))
                target = theirs.of_category(nearest)[0].name
                reason = f"the partner has no {category} status: first {nearest} status"
                chosen[status.name] = (target, reason)
                found.warnings.append(Unmapped(Kind.STATUS, side, status.name, reason))
    found.pairs += [ProposedPair(Kind.STATUS, side, s.name, *chosen[s.name]) for s in mine.statuses]


# -- issue types ------------------------------------------------------------------------------


def type_kind(issue_type: OutlineIssueType) -> str | None:
    """The kind of an issue type (:data:`SYNONYMS`): a sub-task type is a sub-task."""
    if issue_type.subtask:
        return SUBTASK
    name = " ".join(re.sub(r"[-_]", " ", issue_type.name).casefold().split())
    return next((kind for kind, names in SYNONYMS.items() if name in names), None)


def _propose_types(found: _Found, side: Side, mine: SchemaOutline, theirs: SchemaOutline) -> None:
    default = theirs.default_issue_type
    for issue_type in mine.issue_types:
        target, reason = _partner_type(issue_type, theirs)
        if target is None and default is not None:
            target, reason = default, "the partner's default type: no type of the same kind"
            found.warnings.append(
                Unmapped(Kind.ISSUE_TYPE, side, issue_type.name, f"crosses as {target}: {reason}")
            )
        if target is None:
            found.warnings.append(
                Unmapped(Kind.ISSUE_TYPE, side, issue_type.name, "the partner lists no types")
            )
            continue
        found.pairs.append(ProposedPair(Kind.ISSUE_TYPE, side, issue_type.name, target, reason))
        if issue_type.subtask and not theirs.subtasks:
            reason = (
                f"the partner's tracker ({theirs.system}) has no sub-tasks: "
                f"a {target} there, without its parent"
            )
            found.warnings.append(Unmapped(Kind.ISSUE_TYPE, side, issue_type.name, reason))


def _partner_type(issue_type: OutlineIssueType, theirs: SchemaOutline) -> tuple[str | None, str]:
    lowered = issue_type.name.casefold()
    same = next((t.name for t in theirs.issue_types if t.name.casefold() == lowered), None)
    if same is not None:
        return same, "same name"
    kind = type_kind(issue_type)
    if kind is None:
        return None, ""
    # Only a sub-task type may be created under a parent: the others pair with standard types.
    candidates = [t for t in theirs.issue_types if t.subtask == (kind == SUBTASK)]
    same_kind = next((t.name for t in candidates if type_kind(t) == kind), None)
    if same_kind is not None:
        return same_kind, f"same kind ({kind})"
    if kind == SUBTASK:
        standard = [t for t in theirs.issue_types if not t.subtask]
        task = next((t.name for t in standard if type_kind(t) == TASK), None)
        if task is not None:
            return task, "the partner has no sub-task type: its task type"
    return None, ""


# -- priorities -------------------------------------------------------------------------------


def rank_map(mine: Sequence[str], theirs: Sequence[str]) -> list[tuple[str, str, str]]:
    """Each of ``mine`` (highest first) with its partner in ``theirs`` and the reason.

    Equal names (case-insensitive) that keep their order on both sides are anchors; the
    ranks between two anchors, or between an anchor and an end, map by relative position
    (rounded half up), the ends to the ends. Monotone: a higher rank never maps lower.
    """
    if not mine or not theirs:
        return []
    anchors: list[tuple[int, int]] = []
    positions = {name.casefold(): j for j, name in reversed(list(enumerate(theirs)))}
    for i, name in enumerate(mine):
        j = positions.get(name.casefold())
        if j is not None and (not anchors or j > anchors[-1][1]):
            anchors.append((i, j))
    if len(mine) == 1 and not anchors:  # one rank is the middle one
        j = floor(Fraction(len(theirs) - 1, 2) + Fraction(1, 2))
        return [(mine[0], theirs[j], f"by rank: the only one to {j + 1} of {len(theirs)}")]
    bounds = [(0, 0), *anchors, (len(mine) - 1, len(theirs) - 1)]
    result: list[tuple[str, str, str]] = []
    for i, name in enumerate(mine):
        anchor = next((j for a, j in anchors if a == i), None)
        if anchor is not None:
            result.append((name, theirs[anchor], "same name"))
            continue
        low = max((b for b in bounds if b[0] <= i), key=lambda b: (b[0], b[1]))
        high = min((b for b in bounds if b[0] >= i), key=lambda b: (b[0], b[1]))
        if high[0] == low[0]:
            j = low[1]
        else:
            exact = low[1] + Fraction((i - low[0]) * (high[1] - low[1]), high[0] - low[0])
            j = floor(exact + Fraction(1, 2))
        reason = f"by rank: {i + 1} of {len(mine)} to {j + 1} of {len(theirs)}"
        result.append((name, theirs[j], reason))
    return result


def _propose_priorities(
    found: _Found, side: Side, mine: SchemaOutline, theirs: SchemaOutline
) -> None:
    if mine.priorities and not theirs.priorities:
        found.warnings += [
            Unmapped(Kind.PRIORITY, side, p, "the partner's project has no priorities")
            for p in mine.priorities
        ]
    found.pairs += [
        ProposedPair(Kind.PRIORITY, side, name, target, reason)
        for name, target, reason in rank_map(mine.priorities, theirs.priorities)
    ]


# -- fields -----------------------------------------------------------------------------------


def compatible(first: str, second: str) -> bool:
    """Whether a custom field of one type can take the other's values (texts go together)."""
    return first == second or {first, second} <= _TEXTS


def _propose_fields(
    found: _Found, first: SchemaOutline, second: SchemaOutline
) -> list[tuple[str, str]]:
    """The fields mapped (the first's id or custom name, the second's), with pairs both ways."""
    kept = [
        (name, name, "both projects have it")
        for name in COMMON_FIELDS
        if first.field(name) and second.field(name)
    ]
    if first.priorities and second.priorities:
        kept.append((PRIORITY, PRIORITY, "both projects rank priorities"))
    for name in COMMON_FIELDS:
        for side, mine, theirs in ((Side.FIRST, first, second), (Side.SECOND, second, first)):
            if mine.field(name) and not theirs.field(name):
                reason = f"the partner's project ({theirs.system}) has no such field"
                found.warnings.append(Unmapped(Kind.FIELD, side, name, reason))
    kept += _custom_pairs(found, first, second)
    for sub_object, first_has, second_has in (
        (COMMENT, first.comments, second.comments),
        (ATTACHMENT, first.attachments, second.attachments),
        (WORKLOG, first.worklogs, second.worklogs),
        (LINKS, first.links, second.links),
    ):
        if first_has and second_has:
            kept.append((sub_object, sub_object, "both trackers have them"))
        elif first_has or second_has:
            side = Side.FIRST if first_has else Side.SECOND
            lacking = second if first_has else first
            reason = f"the partner's tracker ({lacking.system}) has none"
            found.warnings.append(Unmapped(Kind.FIELD, side, sub_object, reason))
    for a, b, reason in kept:
        found.pairs.append(ProposedPair(Kind.FIELD, Side.FIRST, a, b, reason))
        found.pairs.append(ProposedPair(Kind.FIELD, Side.SECOND, b, a, reason))
    return [(a, b) for a, b, _ in kept]


def _custom_pairs(
    found: _Found, first: SchemaOutline, second: SchemaOutline
) -> list[tuple[str, str, str]]:
    pairs: list[tuple[str, str, str]] = []
    for side, mine, theirs in ((Side.FIRST, first, second), (Side.SECOND, second, first)):
        for field in (f for f in mine.fields if f.custom):
            partner = next(
                (
                    f
                    for f in theirs.fields
                    if f.custom and f.name.casefold() == field.name.casefold()
                ),
                None,
            )
            if partner is None:
                reason = f"the partner's project ({theirs.system}) has no custom field of that name"
            elif not compatible(field.type, partner.type) or field.multi != partner.multi:
                reason = f"the partner's field is a {partner.type}, this one a {field.type}"
            else:
                if side is Side.FIRST:
                    pairs.append((field.name, partner.name, f"same name, {field.type}"))
                continue
            found.warnings.append(Unmapped(Kind.FIELD, side, field.name, reason))
    return pairs


def _field_mapping(found: _Found, side: Side, first: str, second: str) -> FieldMapping:
    """One field's mapping as ``side``'s connector holds it (priority with its values)."""
    local, remote = (first, second) if side is Side.FIRST else (second, first)
    values: list[ValueMapping] = []
    if local == PRIORITY and remote == PRIORITY:
        values = [
            ValueMapping(local=p.source, remote=p.target)
            for p in found.pairs
            if p.kind is Kind.PRIORITY and p.side is side
        ]
    return FieldMapping(
        id=str(uuid.uuid5(_ID_SPACE, f"{first}\n{second}")),
        local_field=local,
        remote_field=remote,
        value_mappings=values,
    )
