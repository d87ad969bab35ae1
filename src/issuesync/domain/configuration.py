"""A connector's configuration: what it sends, how often, and how fields, values, types and
statuses map to the partner's. Dialect-neutral: every API dialect translates its own body to
and from these models (Backbone's ``configuration`` block: ``api/backbone/documents``).

Each connector's configuration is written from its own point of view: ``local_field`` is a
field of its project, ``remote_field`` one of the partner's, ``OUTGOING`` means "from this
project to the partner". :func:`complete_configurations` fills in what a side left out, so
that the stored configuration says what runs; ``domain/mapping.py`` compiles it for the
routes.

Every number has a range (the README lists them): intervals and delays up to a day
(:data:`MAX_DELAY_MS`), retention up to :data:`MAX_KEPT_PER_ISSUE` messages per issue. A
configuration read back from the store (validated with the context
:data:`~issuesync.domain.ranges.STORED`) is brought into the ranges instead of refused, so
that a value saved before they were checked cannot stop the engine. Partial input follows
pydantic's rule: a field the caller did not set (``model_fields_set``) was not said.
"""

from __future__ import annotations

import fnmatch
import re
import string
import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from issuesync.domain.markup import Markup
from issuesync.domain.ranges import stored, whole_number, within_ranges

GLOBAL_WORKFLOW: Final = "##GLOBAL##"

MAX_DELAY_MS: Final = 86_400_000  # a day: intervals, delays
MIN_INTERVAL_MS: Final = 100
MAX_KEPT_PER_ISSUE: Final = 10_000  # archived or discarded messages kept per issue
MAX_SEQUENCE_RETRIES: Final = 1_000
MAX_ATTACHMENT_BYTES: Final = 2 * 1024**3  # 2 GiB: Jira's own ceiling for one attachment
MAX_PATTERNS: Final = 100  # patterns of one attachment filter list
DEFAULT_INTERVAL: Final = "5s"
MAX_USER_MAPPINGS: Final = 1_000  # user pairs per connector
MAX_USER_NAME: Final = 254  # a login name or an e-mail address (RFC 5321's longest path)
MAX_COMMENT_HEADER: Final = 200
MAX_SCOPE_VALUES: Final = 100  # statuses or priorities a new issue's scope names
MAX_TEMPLATE: Final = 255
# A field mapping's template: $task_id is the issue's key, $title the field's value,
# $project the project's key (``FieldMapping.template``).
TEMPLATE_PLACEHOLDERS: Final = frozenset({"task_id", "title", "project"})
# What a synced comment starts with when the sync user posts it ({author} in bold).
DEFAULT_COMMENT_HEADER: Final = "{author} wrote on {key}:"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

_DURATION = re.compile(r"^\s*(\d{1,15})\s*(ms|s|m|h)?\s*$")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def duration_ms(text: str) -> int:
    """``"5s"`` → 5000. Accepts ms, s, m and h; a bare number is seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"'{text[:40]}' is not a duration: write it like 500ms, 5s, 1m or 1h")
    return int(found.group(1)) * _UNITS_MS[found.group(2) or "s"]


def checked_interval(text: str) -> str:
    """``text`` when it is a duration from 100ms to a day; else ValueError saying so."""
    if MIN_INTERVAL_MS <= duration_ms(text) <= MAX_DELAY_MS:
        return text
    raise ValueError("an interval must be between 100ms and 24h (a day)")


def interval_within_range(text: str) -> str:
    """A stored interval as the engine runs it: the nearest end of the range, or the default."""
    try:
        ms = duration_ms(text)
    except ValueError:
        return DEFAULT_INTERVAL
    if ms < MIN_INTERVAL_MS:
        return "100ms"
    return text if ms <= MAX_DELAY_MS else "24h"


DelayMs = Annotated[int, whole_number(0, MAX_DELAY_MS, " (milliseconds: up to a day)")]
IntervalMs = Annotated[int, whole_number(10, MAX_DELAY_MS, " (milliseconds: up to a day)")]
KeptPerIssue = Annotated[int, whole_number(0, MAX_KEPT_PER_ISSUE, " (messages per issue)")]
AttachmentBytes = Annotated[int, whole_number(1, MAX_ATTACHMENT_BYTES, " (bytes: up to 2 GiB)")]
Pattern = Annotated[str, Field(min_length=1, max_length=255)]
Retries = Annotated[int, whole_number(0, MAX_SEQUENCE_RETRIES, " (runs)")]


class Model(BaseModel):
    """The neutral models: snake_case, unknown keys refused, numbers within their ranges."""

    # hide_input_in_errors: an error's text must not repeat a refused URL or a secret.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _stored_numbers_within_range(cls, data: Any, info: ValidationInfo) -> Any:  # noqa: ANN401 - any input
        """A stored number outside its range is brought to the nearest end of it."""
        return within_ranges(cls.model_fields, data) if stored(info) else data


class Direction(StrEnum):
    """Which way a field mapping carries changes, seen from the connector that holds it."""

    BOTH = "BOTH"
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"

    @property
    def outgoing(self) -> bool:
        """Whether changes of the local field are sent to the partner."""
        return self in (Direction.BOTH, Direction.OUTGOING)

    @property
    def incoming(self) -> bool:
        """Whether the partner's changes are written into the local field."""
        return self in (Direction.BOTH, Direction.INCOMING)

    def mirrored(self) -> Direction:
        """The same mapping seen from the partner's side."""
        return {
            Direction.BOTH: Direction.BOTH,
            Direction.OUTGOING: Direction.INCOMING,
            Direction.INCOMING: Direction.OUTGOING,
        }[self]


class ConflictWinner(StrEnum):
    """Who wins a conflict that is settled automatically: the newer change (the default),
    or always the first or always the second connector's value."""

    NEWER = "newer"
    FIRST = "first"
    SECOND = "second"


class NewIssues(Model):
    """Which issues not yet linked the outgoing route sends (their twins are created).

    ``send`` false: none, only linked issues' changes cross (a tracker whose issues
    are created from the partner's and only report back). ``statuses`` and
    ``priorities``, when not empty, are the values a new issue must have (names,
    compared without regard to case); an issue linked once keeps syncing whatever its
    status and priority become.
    """

    send: bool = True
    statuses: list[str] = Field(default_factory=list, max_length=MAX_SCOPE_VALUES)
    priorities: list[str] = Field(default_factory=list, max_length=MAX_SCOPE_VALUES)

    def admits(self, status: str | None, priority: str | None) -> bool:
        """Whether an issue with this status and priority is sent as a new issue."""
        if not self.send:
            return False
        if self.statuses and (status or "").casefold() not in {s.casefold() for s in self.statuses}:
            return False
        return not self.priorities or (priority or "").casefold() in {
            p.casefold() for p in self.priorities
        }


class SyncSettings(Model):
    """What is sent (the outgoing queries, in the tracker's query language) and how often.

    ``new_issues`` says which issues not linked yet are sent; ``parent_issue`` is the
    issue of this tracker (its key) under which twins are created when the partner's
    issue has no linked parent; ``conflict_winner`` says who wins a conflict when
    ``automatic_conflict_resolution`` settles it.
    """

    outgoing_jqls: list[str] = Field(default_factory=list)
    outgoing_interval: str = DEFAULT_INTERVAL
    incoming_interval: str = DEFAULT_INTERVAL
    automatic_conflict_resolution: bool = False
    conflict_winner: ConflictWinner = ConflictWinner.NEWER
    new_issues: NewIssues = Field(default_factory=NewIssues)
    parent_issue: str | None = Field(default=None, min_length=1, max_length=255)
    # Whether comments only some people see here (Jira's comment visibility, GitLab's
    # internal notes, Redmine's private notes) are sent to the partner; they stay
    # restricted where its tracker can keep them so (``docs/trackers.md``).
    sync_restricted_comments: bool = False

    @field_validator("outgoing_interval", "incoming_interval")
    @classmethod
    def _valid_interval(cls, value: str, info: ValidationInfo) -> str:
        return interval_within_range(value) if stored(info) else checked_interval(value)

    @property
    def outgoing_interval_ms(self) -> int:
        """The outgoing interval in milliseconds."""
        return duration_ms(self.outgoing_interval)

    @property
    def incoming_interval_ms(self) -> int:
        """The incoming interval in milliseconds."""
        return duration_ms(self.incoming_interval)


class AdvancedSettings(Model):
    """Retention of archived and discarded messages, and retries of a sequence gap."""

    archived_messages_per_issue: KeptPerIssue = Field(default=2, ge=0, le=MAX_KEPT_PER_ISSUE)
    discarded_messages_per_issue: KeptPerIssue = Field(default=2, ge=0, le=MAX_KEPT_PER_ISSUE)
    sequence_error_retries: Retries = Field(default=5, ge=0, le=MAX_SEQUENCE_RETRIES)


class AttachmentFilter(Model):
    """Which of the partner's attachments this side takes; one left out is skipped with a
    note in its message, never an error.

    ``max_size`` in bytes (None: any size the tracker takes); ``excluded_types`` are MIME
    types (``video/*``) and ``excluded_names`` file names (``*.exe``), shell patterns
    compared without regard to case.
    """

    max_size: AttachmentBytes | None = Field(default=None, ge=1, le=MAX_ATTACHMENT_BYTES)
    excluded_types: list[Pattern] = Field(default_factory=list, max_length=MAX_PATTERNS)
    excluded_names: list[Pattern] = Field(default_factory=list, max_length=MAX_PATTERNS)

    def refusal(self, filename: str, mimetype: str, size: int | None) -> str | None:
        """Why an attachment is left out, or None when it passes."""
        if self.max_size is not None and size is not None and size > self.max_size:
            return f"it has {size:,} bytes, more than the filter's maxSize of {self.max_size:,}"
        for pattern in self.excluded_types:
            if fnmatch.fnmatchcase(mimetype.lower(), pattern.lower()):
                return f"its type {mimetype} matches the excluded type {pattern}"
        for pattern in self.excluded_names:
            if fnmatch.fnmatchcase(filename.lower(), pattern.lower()):
                return f"its name matches the excluded name {pattern}"
        return None


class FieldDefault(Model):
    """A value for a field the partner does not send, used when an issue is created here."""

    field: str = Field(min_length=1)
    value: JsonValue
    issue_type: str | None = None


class IssueTypeMapping(Model):
    """A local issue type and the partner's type that corresponds to it."""

    local: str = Field(min_length=1)
    remote: str = Field(min_length=1)


class IssueTypeMappings(Model):
    """``incoming``: the partner's types to ours; ``outgoing``: ours to the partner's."""

    incoming: list[IssueTypeMapping] = Field(default_factory=list)
    outgoing: list[IssueTypeMapping] = Field(default_factory=list)


class ValueMapping(Model):
    """A local value and the partner's value that means the same."""

    local: JsonValue
    remote: JsonValue


class FieldMapping(Model):
    """A local field, the partner's field, the direction, and optional value mappings."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    local_field: str = Field(min_length=1)
    remote_field: str = Field(min_length=1)
    direction: Direction = Direction.BOTH
    value_mappings: list[ValueMapping] = Field(default_factory=list)
    # What a text value is sent as (OUTGOING only): ``$task_id $title`` sends "PA-3 Fix it"
    # for the issue PA-3 titled "Fix it" (:data:`TEMPLATE_PLACEHOLDERS`).
    template: str | None = Field(default=None, min_length=1, max_length=MAX_TEMPLATE)

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None and (problem := template_problem(value)):
            raise ValueError(problem)
        return value

    def mirrored(self) -> FieldMapping:
        """The same mapping as the partner's connector holds it (a template stays with the
        side that sends: the partner receives the values it made)."""
        return FieldMapping(
            id=self.id,
            local_field=self.remote_field,
            remote_field=self.local_field,
            direction=self.direction.mirrored(),
            value_mappings=[
                ValueMapping(local=v.remote, remote=v.local) for v in self.value_mappings
            ],
        )


def template_problem(template: str) -> str | None:
    """Why a field mapping's template cannot be used (None when it can): a ``$`` that starts
    no placeholder, or a placeholder other than :data:`TEMPLATE_PLACEHOLDERS`."""
    parsed = string.Template(template)
    if not parsed.is_valid():
        return "A '$' must start a placeholder ($task_id, $title, $project) or be written '$$'."
    unknown = sorted(set(parsed.get_identifiers()) - TEMPLATE_PLACEHOLDERS)
    if unknown:
        known = ", ".join(f"${name}" for name in sorted(TEMPLATE_PLACEHOLDERS))
        return f"Unknown placeholder ${unknown[0]}: use {known}."
    return None


def fill_template(template: str, *, key: str, value: str, project: str) -> str:
    """A template with its placeholders filled in (see :func:`template_problem`)."""
    return string.Template(template).safe_substitute(task_id=key, title=value, project=project)


class StatusMapping(Model):
    """A local status and the partner's status that corresponds to it."""

    local: str = Field(min_length=1)
    remote: str = Field(min_length=1)


class WorkflowMapping(Model):
    """Status pairs for one issue type, or for all (``id`` :data:`GLOBAL_WORKFLOW`).

    Statuses without a pair map to the equally named status.
    """

    id: str = Field(default=GLOBAL_WORKFLOW, min_length=1)
    status_mappings: list[StatusMapping] = Field(default_factory=list)


class UserMapping(Model):
    """A local user and the partner's user who is the same person (each a login or an e-mail).

    Read when e-mail addresses do not say it: a tracker that hides them (GitHub), or one
    person with two addresses.
    """

    local: str = Field(min_length=1, max_length=MAX_USER_NAME)
    remote: str = Field(min_length=1, max_length=MAX_USER_NAME)

    def mirrored(self) -> UserMapping:
        """The same pair as the partner's connector holds it."""
        return UserMapping(local=self.remote, remote=self.local)


def check_one_partner_each(remotes: Iterable[str]) -> None:
    """ValueError when a partner's user is mapped twice: the choice would be arbitrary."""
    seen: set[str] = set()
    for name in remotes:
        if name.casefold() in seen:
            raise ValueError(f"the partner's user '{name[:60]}' is mapped twice")
        seen.add(name.casefold())


def checked_comment_header(text: str) -> str:
    """``text`` when it is one line naming ``{author}`` (and maybe ``{key}``), or empty (no
    header); else ValueError saying what is wrong."""
    if not text:
        return text
    if "\n" in text or "\r" in text:
        raise ValueError("a comment header is one line")
    names = _PLACEHOLDER.findall(text)
    unknown = sorted({name for name in names if name not in ("author", "key")})
    if unknown:
        raise ValueError(
            f"a comment header may name only {{author}} and {{key}}, not {{{unknown[0][:40]}}}"
        )
    if "author" not in names:
        raise ValueError("a comment header must name {author}: it says who wrote the comment")
    return text


class MarkupSettings(Model):
    """How descriptions and comments cross to this connector (docs/trackers.md, *Markup*).

    ``dialect`` is the markup this connector's tracker writes, where the adapter cannot
    tell (Redmine's API does not say whether the instance formats text as Textile or
    CommonMark); None means the adapter's own (``Capabilities.markup``). With ``convert``
    false, the partner's text is written here as it is, in the partner's dialect.
    """

    dialect: Markup | None = None
    convert: bool = True


class Configuration(Model):
    """One connector's configuration.

    ``user_mappings`` pair users that e-mail addresses do not (``docs/trackers.md``,
    "People"); ``comment_header`` starts a comment the sync user posts for someone else
    (empty: none).
    """

    sync: SyncSettings = Field(default_factory=SyncSettings)
    advanced: AdvancedSettings = Field(default_factory=AdvancedSettings)
    # References to synchronized issues in the partner's texts name their twins here
    # ("see PA-12" reads "see #5"): ``domain/references.py``.
    rewrite_references: bool = True
    field_defaults: list[FieldDefault] = Field(default_factory=list)
    issue_type_mappings: IssueTypeMappings = Field(default_factory=IssueTypeMappings)
    field_mappings: list[FieldMapping] = Field(default_factory=list)
    workflow_mappings: list[WorkflowMapping] = Field(default_factory=lambda: [WorkflowMapping()])
    attachment_filter: AttachmentFilter = Field(default_factory=AttachmentFilter)
    user_mappings: list[UserMapping] = Field(default_factory=list, max_length=MAX_USER_MAPPINGS)
    comment_header: str = Field(default=DEFAULT_COMMENT_HEADER, max_length=MAX_COMMENT_HEADER)
    markup: MarkupSettings = Field(default_factory=MarkupSettings)

    @field_validator("comment_header")
    @classmethod
    def _valid_header(cls, value: str, info: ValidationInfo) -> str:
        try:
            return checked_comment_header(value)
        except ValueError:
            if stored(info):  # saved before it was checked: the engine runs the default
                return DEFAULT_COMMENT_HEADER
            raise

    @field_validator("user_mappings")
    @classmethod
    def _one_partner_each(cls, value: list[UserMapping]) -> list[UserMapping]:
        check_one_partner_each(pair.remote for pair in value)
        return value


# Fields synchronized both ways when an integration is created without field mappings.
DEFAULT_MAPPED_FIELDS = (
    "summary",
    "description",
    "priority",
    "labels",
    "duedate",
    "comment",
    "attachment",
    "issuelinks",
)


def default_field_mappings() -> list[FieldMapping]:
    """The default set: summary, description, priority, labels, due date, comments,
    attachments and issue links (between issues that are both synchronized)."""
    return [FieldMapping(local_field=name, remote_field=name) for name in DEFAULT_MAPPED_FIELDS]


def complete_configurations(
    first: Configuration | None, second: Configuration | None
) -> tuple[Configuration, Configuration]:
    """Fill in what the user left out, so that the stored configuration says what runs.

    A side without field mappings gets the partner's, mirrored; when neither
    side has any, both get the default set. The same for issue-type mappings
    (incoming of one side is outgoing of the other), workflow mappings and user
    mappings.
    """
    one = first.model_copy(deep=True) if first else Configuration()
    two = second.model_copy(deep=True) if second else Configuration()
    policy = "automatic_conflict_resolution"
    for a, b in ((one, two), (two, one)):
        # Both sides must settle a conflict the same way: one side's choice is both's.
        if policy not in a.sync.model_fields_set and policy in b.sync.model_fields_set:
            a.sync.automatic_conflict_resolution = b.sync.automatic_conflict_resolution
    if not one.field_mappings and not two.field_mappings:
        one.field_mappings = default_field_mappings()
    if not one.field_mappings:
        one.field_mappings = [m.mirrored() for m in two.field_mappings]
    if not two.field_mappings:
        two.field_mappings = [m.mirrored() for m in one.field_mappings]
    for a, b in ((one, two), (two, one)):
        if not a.user_mappings and b.user_mappings:
            a.user_mappings = _mirrored_users(b.user_mappings)
    for a, b in ((one, two), (two, one)):
        _complete_issue_types(a.issue_type_mappings, b.issue_type_mappings)
        if not any(w.status_mappings for w in a.workflow_mappings):
            mirrored = [
                WorkflowMapping(
                    id=w.id,
                    status_mappings=[
                        StatusMapping(local=s.remote, remote=s.local) for s in w.status_mappings
                    ],
                )
                for w in b.workflow_mappings
                if w.status_mappings
            ]
            if mirrored:
                a.workflow_mappings = mirrored
        if not any(w.id == GLOBAL_WORKFLOW for w in a.workflow_mappings):
            a.workflow_mappings.insert(0, WorkflowMapping())
    return one, two


def _mirrored_users(pairs: list[UserMapping]) -> list[UserMapping]:
    """The partner's user pairs from this side; a user here named twice keeps the first."""
    seen: set[str] = set()
    mirrored: list[UserMapping] = []
    for pair in pairs:
        if pair.local.casefold() not in seen:
            seen.add(pair.local.casefold())
            mirrored.append(pair.mirrored())
    return mirrored


def _complete_issue_types(mine: IssueTypeMappings, theirs: IssueTypeMappings) -> None:
    """My incoming pairs are the partner's outgoing ones, mirrored (and the other way round)."""
    if not mine.incoming and theirs.outgoing:
        mine.incoming = [IssueTypeMapping(local=m.remote, remote=m.local) for m in theirs.outgoing]
    if not mine.outgoing and theirs.incoming:
        mine.outgoing = [IssueTypeMapping(local=m.remote, remote=m.local) for m in theirs.incoming]
