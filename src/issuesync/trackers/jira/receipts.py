"""What the ``jira`` adapter made per idempotency key: remembered, and read back from Jira.

Jira has no idempotency keys. The adapter writes each key as an entity
property (:data:`IDEMPOTENCY_PROPERTY`) on the issues and comments it creates,
and remembers the newest :data:`MAX_REMEMBERED` keys itself. After a restart the
memory is empty, so the first question about an issue key reads the properties
of the newest issues the sync user created lately, and the first about a
comment key reads the properties of that issue's newest comments. See the
``adapter`` module for what this cannot cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from issuesync.errors import NotFoundError
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.jira.client import JiraClient
from issuesync.trackers.jira.search import IssueSearch

IDEMPOTENCY_PROPERTY: Final = "issuesync.idempotency"
MAX_REMEMBERED: Final = 10_000  # keys of what this adapter made, kept for retries
RECOVERY_DAYS: Final = 7
RECOVERY_LIMIT: Final = 200
RECOVERY_PROBES: Final = 50  # issues whose properties are read one by one
RECENT_COMMENTS: Final = 50


def properties(key: str) -> list[dict[str, object]]:
    """The ``properties`` of a create body that carry ``key``."""
    return [{"key": IDEMPOTENCY_PROPERTY, "value": {"key": key}}]


def property_key(entity: Mapping[str, Any]) -> str | None:
    """The idempotency key an issue's or comment's ``properties`` carry, if any.

    Jira answers in three shapes: a list of ``{key, value}`` (comments), a map of
    key to value (search, where it returns them) and that map wrapped in
    ``{"properties": ...}`` (Jira Server's GET issue).
    """
    props = entity.get("properties")
    if isinstance(props, Mapping) and isinstance(props.get("properties"), Mapping):
        props = props["properties"]
    value: object = None
    if isinstance(props, Mapping):
        value = props.get(IDEMPOTENCY_PROPERTY)
    elif isinstance(props, list):
        for item in props:
            if isinstance(item, Mapping) and item.get("key") == IDEMPOTENCY_PROPERTY:
                value = item.get("value")
    return str(value["key"]) if isinstance(value, Mapping) and "key" in value else None


class Receipts:
    """Idempotency keys to what was made with them (issue keys, comment, attachment and
    work log ids)."""

    def __init__(self, client: JiraClient, search: IssueSearch) -> None:
        self._client = client
        self._search = search
        self._made: Bounded[str, str] = Bounded(MAX_REMEMBERED)  # "<kind>:<key>" -> made
        self._issues_read = False
        self._comments_read: Bounded[str, None] = Bounded(MAX_REMEMBERED)  # issue keys

    def issue(self, key: str) -> str | None:
        """The issue key made with ``key``, if known."""
        if not self._issues_read:
            self._issues_read = True
            self._read_issues()
        return self._made.get(f"issue:{key}")

    def comment(self, issue_key: str, key: str) -> str | None:
        """The id of the comment made on ``issue_key`` with ``key``, if known."""
        record = f"comment:{key}"
        if record not in self._made and issue_key not in self._comments_read:
            self._read_comments(issue_key)
        return self._made.get(record)

    def attachment(self, key: str) -> str | None:
        """The id of the attachment made with ``key``, if this adapter made it."""
        return self._made.get(f"attachment:{key}")

    def worklog(self, key: str) -> str | None:
        """The id of the work log made with ``key``, if this adapter made it."""
        return self._made.get(f"worklog:{key}")

    def note(self, kind: str, key: str, made: str, *, keep: bool = False) -> None:
        """Remember what ``key`` made (``keep``: unless something is noted already)."""
        record = f"{kind}:{key}"
        if keep and record in self._made:
            return
        self._made[record] = made

    def comments_known(self, issue_key: str) -> None:
        """Every key on ``issue_key``'s comments is known: this adapter has just made the
        issue, so its first comment need not read the (no) comments' properties first."""
        self._comments_read[issue_key] = None

    def doubt(self, kind: str, issue_key: str | None = None) -> None:
        """A create of ``kind`` may have happened unseen (no answer came): read Jira's
        properties again before the next one, rather than make it twice."""
        if kind == "issue":
            self._issues_read = False
        elif issue_key is not None:
            self._comments_read.pop(issue_key, None)

    def _read_issues(self) -> None:
        issues = self._search.created_lately(RECOVERY_DAYS, RECOVERY_LIMIT, IDEMPOTENCY_PROPERTY)
        probes = 0
        for issue in issues:  # newest first: a crash's uncommitted creates are the last ones
            found = property_key(issue)
            if found is None and "properties" not in issue and probes < RECOVERY_PROBES:
                # Jira Server's search does not return properties (JRASERVER-62898);
                # its GET issue does, one issue at a time.
                probes += 1
                try:
                    found = property_key(
                        self._client.get(
                            f"issue/{issue['key']}",
                            {"fields": "created", "properties": IDEMPOTENCY_PROPERTY},
                        )
                    )
                except NotFoundError:
                    continue
            if found is not None:
                self.note("issue", found, str(issue["key"]), keep=True)

    def _read_comments(self, issue_key: str) -> None:
        self._comments_read[issue_key] = None
        try:
            answer = self._client.get(
                f"issue/{issue_key}/comment",
                {"orderBy": "-created", "maxResults": RECENT_COMMENTS, "expand": "properties"},
            )
        except NotFoundError:
            return  # the add that follows says so
        for comment in answer.get("comments") or []:
            found = property_key(comment)
            if found is not None:
                self.note("comment", found, str(comment["id"]), keep=True)
