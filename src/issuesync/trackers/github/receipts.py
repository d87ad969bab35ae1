"""What the ``github`` adapter made per idempotency key: remembered, and read back from GitHub.

GitHub has no idempotency keys and no entity properties. The adapter ends the
body of each issue and comment it creates with a marker, an HTML comment that
GitHub does not render: ``<!-- issuesync:<digest> -->``, the digest being a
fingerprint of the key (see ``shape``); reading strips it. The adapter
remembers the newest :data:`MAX_REMEMBERED` keys itself; it reads markers back
from GitHub when its memory cannot be trusted:

- before its first create of an issue (after a start or restart): the newest
  :data:`RECENT` issues the sync user opened in the repository;
- before its first comment on an issue: that issue's comments of the last
  :data:`RECENT_DAYS` days;
- after a create whose answer was lost (a timeout, a broken connection, a
  ``5xx``): GitHub may have made it, so the next create of that kind reads again.

Not covered: a retry of a create older than those windows, and a marker a
person removed from a body. There, a crash between GitHub's write and the
engine's commit can make the object twice: delivery is at-least-once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from issuesync.errors import NotFoundError
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.github.client import GitHubClient, each_page
from issuesync.trackers.github.shape import digest, is_pull_request, marker_of, number_of

MAX_REMEMBERED: Final = 10_000
RECENT: Final = 100  # the sync user's newest issues read back (one page)
RECENT_DAYS: Final = 7
MAX_COMMENT_PAGES: Final = 10
MAX_KNOWN_COMMENTS: Final = 1000  # issues whose comments a poll may reuse


class Receipts:
    """Idempotency keys to what was made with them: issue numbers and comment ids."""

    def __init__(self, client: GitHubClient, repo_path: str, login: Callable[[], str]) -> None:
        self._client = client
        self._path = repo_path
        self._login = login
        self._made: Bounded[str, str] = Bounded(MAX_REMEMBERED)  # "<kind>:<digest>" -> made
        self._issues_read = False
        self._comments_read: Bounded[str, None] = Bounded(MAX_REMEMBERED)  # issue numbers

    def issue(self, key: str) -> str | None:
        """The number of the issue made with ``key``, if known."""
        record = f"issue:{digest(key)}"
        if record not in self._made and not self._issues_read:
            self._read_issues()
        return self._made.get(record)

    def comment(self, number: str, key: str) -> str | None:
        """The id of the comment made on issue ``number`` with ``key``, if known."""
        record = f"comment:{digest(key)}"
        if record not in self._made and number not in self._comments_read:
            self._read_comments(number)
        return self._made.get(record)

    def note(self, kind: str, key: str, made: str) -> None:
        """Remember what ``key`` made."""
        self._remember(f"{kind}:{digest(key)}", made)

    def comments_known(self, number: str) -> None:
        """Every marker on issue ``number``'s comments is known (it is new, or they were read)."""
        self._comments_read[number] = None

    def doubt(self, kind: str, number: str | None = None) -> None:
        """A create of ``kind`` may have happened unseen: read GitHub before the next one."""
        if kind == "issue":
            self._issues_read = False
        elif number is not None:
            self._comments_read.pop(number, None)

    def _remember(self, record: str, made: str) -> None:
        self._made[record] = made

    def _found(self, kind: str, items: list[Mapping[str, Any]], made: Callable[[Any], str]) -> None:
        for item in items:
            found = marker_of(item.get("body"))
            if found is not None and f"{kind}:{found}" not in self._made:
                self._remember(f"{kind}:{found}", made(item))

    def _read_issues(self) -> None:
        # One stable URL: while nothing changed, GitHub answers 304, for free.
        issues = self._client.get(
            f"{self._path}/issues",
            {
                "creator": self._login(),
                "state": "all",
                "sort": "created",
                "direction": "desc",
                "per_page": str(RECENT),
            },
        )
        self._found("issue", [i for i in issues if not is_pull_request(i)], number_of)
        self._issues_read = True

    def _read_comments(self, number: str) -> None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=RECENT_DAYS)
        params = {"since": since.strftime("%Y-%m-%dT00:00:00Z"), "per_page": "100"}
        path = f"{self._path}/issues/{number}/comments"
        try:
            for page in each_page(self._client, path, params, MAX_COMMENT_PAGES):
                self._found("comment", page, lambda c: str(c["id"]))
        except NotFoundError:
            return  # the add that follows says so
        self.comments_known(number)


class KnownComments:
    """The comments last read per issue, so that a poll need not read unchanged ones again.

    An entry serves while the issue's ``updated_at`` is the one it was read with and
    no comment of it changed within a second of the read (GitHub keeps whole
    seconds). A comment deleted on GitHub without touching its issue stays until
    the issue changes.
    """

    def __init__(self, size: int = MAX_KNOWN_COMMENTS) -> None:
        self._entries: Bounded[str, tuple[object, int, list[Mapping[str, Any]]]] = Bounded(size)

    def get(
        self, issue: Mapping[str, Any], changed_s: int | None
    ) -> list[Mapping[str, Any]] | None:
        """The issue's comments as last read, or None to read them (``changed_s`` None: always;
        else the newest comment change a poll saw, -1 for none)."""
        entry = self._entries.get(number_of(issue))
        if changed_s is None or entry is None or entry[0] != issue.get("updated_at"):
            return None
        _, read_at_s, comments = entry
        return comments if changed_s < read_at_s - 1 else None

    def put(
        self, issue: Mapping[str, Any], read_at_s: int, comments: list[Mapping[str, Any]]
    ) -> None:
        """Remember the comments read at ``read_at_s`` (GitHub's clock, whole seconds)."""
        number = number_of(issue)
        self._entries[number] = (issue.get("updated_at"), read_at_s, comments)
