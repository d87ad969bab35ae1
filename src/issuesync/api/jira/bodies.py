"""Request bodies of the built-in tracker's Jira-compatible API (unknown properties are refused)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_INT = 2**31 - 1  # Jira's paging parameters are Java ints
# Jira's limit on POST issue/bulk (Atlassian documents 50 issues per request).
MAX_BULK_ISSUES = 50

# Field values are free-form JSON whose shape depends on the field; the services
# check each one, so pydantic only checks that an object arrived.
Json = dict[str, Any]


class _Body(BaseModel):
    """A body whose text the request guard (``api/guard.py``) has checked: no NUL, UTF-8."""

    model_config = ConfigDict(extra="forbid")


class IssueBody(_Body):
    """Create or edit an issue: ``fields`` to set, ``update`` operations per field.

    Jira reads this body as its ``IssueUpdateBean`` (``fields``, ``update``,
    ``historyMetadata``, ``properties``, and ``transition`` for a transition), which Jira
    Server declares ``@JsonIgnoreProperties(ignoreUnknown = true)`` since 5.0
    (``com.atlassian.jira.rest.v2.issue.IssueUpdateBean``): any other property is
    dropped unread. Clients lean on that for the call's documented *query* parameters,
    which some send in the body instead: atlassian-python-api's ``issue_update`` sends
    ``"notifyUsers": "true"``. So the query parameters of create (``updateHistory``) and
    edit (``notifyUsers``, ``overrideScreenSecurity``, ``overrideEditableFlag``; Jira
    Server 8.20's REST reference and Jira's ``editIssue``) are tolerated here, and, as
    in Jira, have no effect in the body (only ``?notifyUsers=false`` asks for silence,
    see ``issues.edit_issue``). Every other unknown property is still refused: Jira
    would drop a misspelt ``"feilds"`` and answer 204 having changed nothing, which a
    caller is better told. Unknown fields inside ``fields`` and ``update`` are refused
    by the writer, as Jira refuses them.
    """

    fields: Json = Field(default_factory=dict)
    update: dict[str, list[Json]] = Field(default_factory=dict)
    properties: list[Json] | None = None
    historyMetadata: Json | None = None  # noqa: N815 - Jira's name
    # Query parameters sent in the body (see above): accepted, and ignored as Jira does.
    notifyUsers: object = None  # noqa: N815 - Jira's name
    overrideScreenSecurity: object = None  # noqa: N815 - Jira's name
    overrideEditableFlag: object = None  # noqa: N815 - Jira's name
    updateHistory: object = None  # noqa: N815 - Jira's name


class TransitionBody(IssueBody):
    """Run a transition: ``{"transition": {"id": "11"}}`` plus optional fields and update."""

    transition: Json


class CommentBody(_Body):
    """A comment's text."""

    body: str
    visibility: Json | None = None
    properties: list[Json] | None = None


class ProjectBody(_Body):
    """Create a project: Jira's ``ProjectInputBean`` (``trackers/local/projects.py`` checks
    each detail against what the built-in tracker has)."""

    key: str
    name: str
    description: str = ""
    lead: str | None = None
    leadAccountId: str | None = None  # noqa: N815 - Jira's name (Cloud's; some scripts send it)
    projectTypeKey: str | None = None  # noqa: N815 - Jira's name
    projectTemplateKey: str | None = None  # noqa: N815 - Jira's name
    url: str | None = None
    assigneeType: str | None = None  # noqa: N815 - Jira's name
    avatarId: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815 - Jira's name
    permissionScheme: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815
    notificationScheme: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815
    issueSecurityScheme: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815
    categoryId: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815 - Jira's name


class ComponentBody(_Body):
    """Create or edit a component: Jira's ``ComponentBean``, read-only parts included (a
    client sends back what it read; those are ignored)."""

    name: str | None = None
    project: str | None = None
    projectId: int | None = Field(default=None, ge=0, le=2**63 - 1)  # noqa: N815 - Jira's name
    description: str | None = None
    leadUserName: str | None = None  # noqa: N815 - Jira's name
    lead: Json | str | None = None
    assigneeType: str | None = None  # noqa: N815 - Jira's name
    # Jira's answers, not settings: accepted as Jira accepts them, and ignored.
    isAssigneeTypeValid: bool | None = None  # noqa: N815 - Jira's name
    id: str | int | None = None
    self_: str | None = Field(default=None, alias="self")
    assignee: Json | None = None
    realAssigneeType: str | None = None  # noqa: N815 - Jira's name
    realAssignee: Json | None = None  # noqa: N815 - Jira's name
    archived: bool | None = None


class CategoryBody(_Body):
    """Create a project category."""

    name: str
    description: str | None = None


class BulkIssueBody(_Body):
    """Create issues in bulk: ``{"issueUpdates": [<an issue create body>, ...]}``.

    Each item is checked on its own (a bad one is reported, the others are created);
    at most :data:`MAX_BULK_ISSUES` per request, as Jira allows.
    """

    issueUpdates: list[Json] = Field(max_length=MAX_BULK_ISSUES)  # noqa: N815 - Jira's name


class VersionBody(_Body):
    """Create a version."""

    name: str
    project: str | None = None
    projectId: int | None = None  # noqa: N815 - Jira's name
    description: str | None = None
    released: bool = False
    archived: bool = False
    releaseDate: str | None = None  # noqa: N815 - Jira's name
    startDate: str | None = None  # noqa: N815 - Jira's name


class CustomFieldBody(_Body):
    """Create a custom field: a type of ours (string, option, ...) or Jira's type key."""

    name: str
    type: str
    description: str | None = None
    searcherKey: str | None = None  # noqa: N815 - Jira's name
    options: list[str] = Field(default_factory=list)


class WorklogBody(_Body):
    """Log work on an issue, or edit a log.

    Jira's ``WorklogJsonBean`` refuses unknown properties (``Unrecognized field
    "notifyUsers" ... not marked as ignorable``) but has the read-only parts of a work
    log too, which it ignores on a write: the ``jira`` library sends ``author`` and
    ``updateAuthor`` when asked to log work for a user. They are accepted and ignored
    here as well; a log's author is always its caller.
    """

    timeSpent: str | None = None  # noqa: N815 - Jira's name
    timeSpentSeconds: int | None = None  # noqa: N815 - Jira's name
    started: str | None = None
    comment: str | None = None
    visibility: Json | None = None
    # Read-only parts of Jira's work log, ignored on a write as Jira ignores them.
    self_: object = Field(default=None, alias="self")
    id: object = None
    issueId: object = None  # noqa: N815 - Jira's name
    author: object = None
    updateAuthor: object = None  # noqa: N815 - Jira's name
    created: object = None
    updated: object = None
    properties: object = None


class AssigneeBody(_Body):
    """Assign an issue: Jira's user representation, of which only ``name`` (or ``key``)
    counts; ``null`` unassigns, ``"-1"`` assigns automatically.

    As Jira reads a user's name as a string, a number is its digits (the ``jira``
    library sends ``-1`` as a number). The other parts of Jira's user are accepted and
    ignored, as a client may send a user it read back.
    """

    name: str | int | None = None
    key: str | None = None
    emailAddress: object = None  # noqa: N815 - Jira's name
    displayName: object = None  # noqa: N815 - Jira's name
    active: object = None
    self_: object = Field(default=None, alias="self")
    avatarUrls: object = None  # noqa: N815 - Jira's name
    timeZone: object = None  # noqa: N815 - Jira's name
    locale: object = None

    def username(self) -> str | None:
        """The name to assign, ``"-1"`` for automatic, or None to unassign."""
        if self.name is not None:
            return str(self.name)
        return self.key


class LinkBody(_Body):
    """Link two issues: the inward issue <type's outward verb> the outward issue."""

    type: Json
    inwardIssue: Json  # noqa: N815 - Jira's name
    outwardIssue: Json  # noqa: N815 - Jira's name
    comment: Json | None = None


class SearchBody(_Body):
    """JQL search, as a POST body."""

    jql: str = ""
    startAt: int = Field(default=0, ge=0, le=MAX_INT)  # noqa: N815 - Jira's name
    maxResults: int = Field(default=50, ge=0, le=MAX_INT)  # noqa: N815 - Jira's name
    fields: list[str] | None = None
    expand: list[str] | str | None = None
    validateQuery: bool | str | None = None  # noqa: N815 - Jira's name
    properties: list[str] | None = None
