"""The sync engine's ``github`` adapter: the issues of one GitHub repository, over REST.

The project key is the repository's ``owner/repo``; an issue's key is its
number (``"12"``; ``"#12"`` and ``"owner/repo#12"`` are read too). Numbers
never change within a repository; an issue transferred elsewhere or deleted
reads as gone. Pull requests share the numbers and the issue list, and are
left out everywhere: a pull request's number reads as no issue, and a write to a
number not yet read as an issue reads it first.

What GitHub issues have, and how they map, is in ``shape``; how polls list
them, and what a query is, in ``listing``; how creates are made once, in
``receipts``. Capabilities: comments (edit and delete too, in the sync user's
name); no attachments (the engine sends links in a comment instead), no
sub-tasks, no deletions (GitHub's REST API cannot list deleted issues).

Requests per synced change: a create is one ``POST`` (and a ``PATCH`` when it
is created closed), an edit of any fields with its status one ``PATCH``, a
comment one ``POST``; each returns the issue or comment, so nothing is read
back, except an issue's comments when it has any. An idle poll is two answers
``304`` (the newest page of issues and of comments), free at GitHub (see ``listing``);
a poll that finds changed issues reads the page and takes their comments from
the newest comments it read, reading an issue's own comments only when that page
does not hold them all (and an issue whose comment alone changed, itself). A
first sync reads the issues' pages and the repository's comments, 100 a page:
300 issues with 2 comments each are 3 + 6 requests, not one more per issue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Final

from issuesync.domain.markup import Markup
from issuesync.domain.outline import SchemaOutline
from issuesync.domain.replica import FieldValue, HubAttachment, HubComment, Replica, UserRef
from issuesync.errors import (
    ConfigurationError,
    NotFoundError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.trackers.adapter import (
    Capabilities,
    ConnectionReport,
    CreatedIssue,
    Deletion,
    IssueDraft,
    Limits,
    NewIssue,
    ProjectSchema,
    Tracker,
    outline_of,
)
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.github import connection, shape
from issuesync.trackers.github.client import GitHubClient, each_page
from issuesync.trackers.github.listing import (
    MAX_PER_PAGE,
    IssueLister,
    ListedComments,
    Query,
    newest_updates,
    parse_query,
    update_order,
)
from issuesync.trackers.github.receipts import KnownComments, Receipts
from issuesync.trackers.http import ServerClock

Json = Mapping[str, Any]

MAX_USERS: Final = 1000  # users found, remembered
MAX_ISSUES_SEEN: Final = 100_000  # numbers known to be issues, not pull requests


class GitHubAdapter(Tracker):
    """:class:`~issuesync.trackers.adapter.Tracker` for the issues of one GitHub repository."""

    name = "github"
    capabilities = Capabilities(
        comment_author=False,
        attachments=False,
        attachment_delete=False,
        subtasks=False,
        deletions=False,
        worklogs=False,
        # An issue's or a comment's body: "body is too long (maximum is 65536 characters)".
        limits=Limits(text_chars=65_536, reserved_chars=512),  # 512: its marker
        markup=Markup.GFM,
    )

    def __init__(self, client: GitHubClient, project_key: str) -> None:
        owner, _, repo = project_key.strip().partition("/")
        if not owner or not repo or "/" in repo:
            raise ConfigurationError(
                f"The GitHub project key '{project_key}' is not a repository's 'owner/repo'."
            )
        self.project_key = f"{owner}/{repo}"
        self._client = client
        self._path = f"repos/{owner}/{repo}"
        self._lister = IssueLister(client, self._path)
        self._receipts = Receipts(client, self._path, self._sync_login)
        self._login: str | None = None
        self._milestones: dict[str, int] | None = None  # lower-case title -> number
        self._users: dict[str, UserRef] = {}
        self._clock = ServerClock(lambda: self._client.request("GET", "rate_limit"))
        self._known_comments = KnownComments()
        self._issues: Bounded[str, None] = Bounded(
            MAX_ISSUES_SEEN
        )  # numbers read as issues, not PRs
        self._pulls: set[str] = set()  # numbers read as pull requests (they stay ones)

    def __repr__(self) -> str:
        return f"GitHubAdapter({self._client!r}, project_key={self.project_key!r})"

    # -- reading ---------------------------------------------------------------------------

    def describe(self) -> ProjectSchema:
        """One issue type, three statuses, no priorities; labels, milestones, assignees."""
        repo = self._client.get(self._path)
        self._milestones = self._read_milestones()
        titles = tuple(sorted(self._milestones, key=str.lower))
        return ProjectSchema(
            key=self.project_key,
            name=str(repo.get("full_name") or self.project_key),
            issue_types=(shape.ISSUE_TYPE,),
            subtask_types=(),
            statuses=shape.STATUSES,
            priorities=(),
            fields=(
                *shape.SYSTEM_FIELDS,
                dataclasses.replace(shape.MILESTONE, allowed_values=titles),
                shape.ASSIGNEES,
            ),
            initial_status=shape.OPEN,
        )

    def outline(self) -> SchemaOutline:
        """The schema for a proposal, in :meth:`describe`'s requests: ``Open`` is new, both
        closed statuses (``state_reason`` completed, not planned) are done; one type, no
        priorities; labels are the ``labels`` field."""
        return outline_of(self, self.describe(), shape.CATEGORIES)

    def clock_ms(self) -> int:
        """GitHub's ``Date``, from an offset to this host's clock read every 10 minutes.

        ``GET /rate_limit`` tells it, and costs nothing against the rate limit.
        """
        return self._clock.now_ms()

    def changed_since(
        self,
        since_ms: int | None,
        queries: Sequence[str],
        page_size: int = 200,
        *,
        known: Mapping[str, int] | None = None,
    ) -> Iterator[list[Replica]]:
        """Pages of issues updated at or after ``since_ms`` (to the second), oldest first.

        GitHub keeps whole seconds, so ``known`` is not used: a change within the
        second an issue was read at cannot be told apart. A poll reads the newest
        page first (a ``304`` while nothing changed) and the newest comments; only
        when more issues changed than a page holds are they scanned from ``since``
        (see ``listing``).

        Raises:
            ConfigurationError: a query is not one (see ``listing``).
        """
        del known
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        parsed = [parse_query(text) for text in queries] or [Query()]
        bound = since_ms // 1000 if since_ms is not None else None
        per_page = min(page_size, MAX_PER_PAGE)
        items: Iterator[Json] | None = None
        changed: dict[str, int] | None = None
        listed: ListedComments | None = None
        if bound is not None:
            commented = self._lister.commented(bound, per_page)
            changed = newest_updates(commented)
            recent = self._recent(bound, parsed, per_page, changed)
            if recent is not None:
                # read at the bound, not later: what changed since is told apart from it
                items, listed = iter(recent), ListedComments(lambda: (bound, commented))
        if items is None:
            items = self._lister.merged_scan(bound, parsed, per_page)
            listed = ListedComments(lambda: (self.clock_ms() // 1000, self._lister.comments(bound)))
        while page := list(islice(items, page_size)):
            yield [self._replica(issue, changed, listed) for issue in page]

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Those of ``keys`` (as given) whose issue is in the repository and matches a query."""
        if not queries:
            return set(keys)
        if not keys:
            return set()
        found: set[str] = set()
        for query in (parse_query(text) for text in queries):
            found |= self._lister.numbers(query)
        return {key for key in keys if self._number(key) in found}

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Nothing: GitHub's REST API cannot list deleted issues (capability ``deletions``)."""
        del since_ms
        return []

    def get(self, key: str) -> Replica | None:
        """The issue with its comments; None when it does not exist or is a pull request."""
        number = self._number(key)
        issue = self._issue_json(number) if number is not None else None
        return self._replica(issue) if issue is not None else None

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The GitHub account with this login (GitHub cannot look users up by e-mail)."""
        login = (ref.username or "").strip()
        if not login or "/" in login:
            return None
        if (found := self._users.get(login.lower())) is not None:
            return found
        try:
            user = self._client.get(f"users/{login}")
        except NotFoundError:
            return None
        found = shape.user_ref(user)
        if found is not None:
            if len(self._users) >= MAX_USERS:
                self._users.clear()
            self._users[login.lower()] = found
        return found

    def read_attachment(self, attachment_id: str) -> bytes:
        """None to read: GitHub issues have no attachments (capability ``attachments``)."""
        raise NotFoundError(f"GitHub issues have no attachments (asked for '{attachment_id}').")

    # -- writing issues --------------------------------------------------------------------

    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Open the issue (and close it, when ``fields["status"]`` says so), once per key.

        GitHub cannot open an issue in another user's name (``draft.reporter``) or
        under a parent (``draft.parent_key``): both are left out.
        """
        return self._create(draft, idempotency_key)[0]

    def _create(self, draft: IssueDraft, idempotency_key: str) -> tuple[Replica, Json | None]:
        """The issue made (see :meth:`create`), and GitHub's answer when it was made now and
        left open (None when it was made before, or closed after)."""
        values = {**draft.fields, "issuetype": draft.issue_type}
        body = shape.edit_body(values, self._milestone_number)  # checks the status too
        if not body.get("title"):
            raise TrackerRejectedError(
                "A GitHub issue needs a title.", field_errors={"summary": "required"}
            )
        # GitHub opens every issue: a closed one is closed by a PATCH after.
        closed = body.pop("state", None) == "closed"
        body.pop("state_reason", None)
        status = values.get("status")
        earlier = self._receipts.issue(idempotency_key)
        if earlier is not None:
            made = self.get(earlier)
            if made is None:
                raise NotFoundError(f"The issue created for this key (#{earlier}) is gone.")
            now = made.hub_issue.status
            if status and (now is None or now.name.lower() != str(status).lower()):
                return self.transition(made.key, str(status)), None  # the first call stopped short
            return made, None
        body["body"] = shape.with_marker(str(body.get("body") or ""), idempotency_key)
        try:
            created: Json = self._client.post(f"{self._path}/issues", body)
        except TrackerOfflineError:
            self._receipts.doubt("issue")
            raise
        number = shape.number_of(created)
        self._receipts.note("issue", idempotency_key, number)
        self._receipts.comments_known(number)
        self._seen(number)
        if closed:
            return self.transition(number, str(status)), None
        return shape.issue_to_replica(created, self.project_key), created

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """One issue at a time (GitHub has no bulk create): the create and its comments,
        1 + comments requests an issue (a status to set after them is one PATCH more).

        The issue is not read back after its comments: GitHub's answers say what it is (a
        new comment makes its issue's ``updated_at`` the comment's ``created_at``). A
        comment someone else adds meanwhile is not in the replica; the next poll lists the
        issue (updated since) and sends that comment as any other new one.
        """
        made: list[CreatedIssue] = []
        for new in new_issues:
            replica, fresh = self._create(new.draft, new.idempotency_key)
            posted = [
                self._comment_json(replica.key, c.body, c.author, c.idempotency_key)
                for c in new.comments
            ]
            status = replica.hub_issue.status
            if new.status is not None and (status.name if status else None) != new.status:
                replica = self.transition(replica.key, new.status)
            elif posted and fresh is not None:
                replica = shape.issue_to_replica(
                    shape.after_comments(fresh, posted), self.project_key, posted
                )
            elif posted:  # made by an earlier call: read as it is now
                issue = self._issue_json(replica.key)
                if issue is None:
                    raise NotFoundError(self._missing(replica.key))
                replica = self._with_posted(issue, posted)
            comments = tuple(shape.comment_from_github(c) for c in posted)
            made.append(CreatedIssue(replica, comments))
        return made

    def _with_posted(self, issue: Json, posted: list[Json]) -> Replica:
        """The replica of an issue just made, with the comments just posted on it when it
        counts no other (read them otherwise: someone else commented meanwhile)."""
        if issue.get("comments") != len(posted):
            return self._replica(issue)
        ordered = sorted(posted, key=lambda comment: int(comment["id"]))
        return shape.issue_to_replica(issue, self.project_key, ordered)

    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Set the fields and the status in one ``PATCH``; the issue after it."""
        number = self._existing_number(key)
        body = shape.edit_body(fields, self._milestone_number)
        if not body:
            replica = self.get(number)
            if replica is None:
                raise NotFoundError(self._missing(key))
            return replica
        return self._replica(self._client.patch(f"{self._path}/issues/{number}", body))

    def transition(self, key: str, status: str) -> Replica:
        """Open or close the issue, with the status's reason: one ``PATCH``, no path to walk."""
        return self.update(key, {"status": status})

    # -- comments --------------------------------------------------------------------------

    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """Comment as the sync user, naming ``author`` in the text; once per key."""
        return shape.comment_from_github(self._comment_json(key, body, author, idempotency_key))

    def _comment_json(
        self, key: str, body: str, author: UserRef | None, idempotency_key: str
    ) -> Json:
        """The comment made with ``idempotency_key`` (made now, or found again): GitHub's JSON."""
        number = self._existing_number(key)
        earlier = self._receipts.comment(number, idempotency_key)
        if earlier is not None:
            found: Json = self._client.get(f"{self._path}/issues/comments/{earlier}")
            return found
        text = f"[{author.label}]\n{body}" if author is not None else body
        try:
            created: Json = self._client.post(
                f"{self._path}/issues/{number}/comments",
                {"body": shape.with_marker(text, idempotency_key)},
            )
        except TrackerOfflineError:
            self._receipts.doubt("comment", number)
            raise
        self._receipts.note("comment", idempotency_key, str(created["id"]))
        return created

    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a comment's body."""
        del key  # GitHub's comments are addressed by id alone
        edited = self._client.patch(f"{self._path}/issues/comments/{comment_id}", {"body": body})
        return shape.comment_from_github(edited)

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment; one that is gone already is no error."""
        del key
        self._client.delete(f"{self._path}/issues/comments/{comment_id}", missing_ok=True)

    # -- attachments (none) ----------------------------------------------------------------

    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Refused: GitHub's REST API cannot attach files to issues (capability ``attachments``)."""
        del mimetype, content, idempotency_key
        raise TrackerRejectedError(
            f"GitHub issues take no attachments ('{filename}' on #{key}): the engine sends "
            "attachments to a GitHub project as links in a comment."
        )

    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Nothing to delete: GitHub issues have no attachments."""
        del key, attachment_id

    # -- the connection --------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        """Reachable, the token valid, the repository there, issues on, triage access."""
        return connection.test_connection(
            self._client, self.project_key, self._path, self._sync_login
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------

    def _sync_login(self) -> str:
        if self._login is None:
            self._login = str(self._client.get("user")["login"])
        return self._login

    def _read_milestones(self) -> dict[str, int]:
        params = {"state": "all", "per_page": str(MAX_PER_PAGE)}
        return {
            str(m["title"]): int(m["number"])
            for page in each_page(self._client, f"{self._path}/milestones", params)
            for m in page
        }

    def _milestone_number(self, title: str) -> int | None:
        for fresh in (False, True):  # a milestone made since they were read: read again
            if fresh or self._milestones is None:
                self._milestones = self._read_milestones()
            for name, number in self._milestones.items():
                if name.lower() == title.lower():
                    return number
        return None

    def _number(self, key: str) -> str | None:
        """The issue number a key names in this repository, or None."""
        text = key.strip()
        repo, sep, rest = text.rpartition("#")
        if sep and repo and repo.lower() != self.project_key.lower():
            return None
        number = rest if sep else text
        return number if number.isdigit() and int(number) > 0 else None

    def _existing_number(self, key: str) -> str:
        """The number of an issue to write to: one read before the first write to a number
        this adapter has not seen as an issue (a pull request's would edit the pull request)."""
        number = self._number(key)
        if number is None:
            raise NotFoundError(self._missing(key))
        if number not in self._issues and self._issue_json(number) is None:
            raise NotFoundError(self._missing(key))
        return number

    def _seen(self, number: str) -> None:
        self._issues[number] = None

    def _missing(self, key: str) -> str:
        return f"Issue {key} does not exist in GitHub repository {self.project_key}."

    def _recent(
        self, bound: int, queries: Sequence[Query], per_page: int, changed: Mapping[str, int]
    ) -> list[Json] | None:
        found: dict[str, Json] = {}
        for query in queries:
            items = self._lister.recent(bound, query, per_page)
            if items is None:
                return None
            for item in items:
                number = shape.number_of(item)
                if number not in found or shape.updated_s(found[number]) < shape.updated_s(item):
                    found[number] = item
        listed: dict[int, set[str]] = {}  # GitHub's list of a query, read once if needed

        def matches(issue: Json, number: str) -> bool:
            for index, query in enumerate(queries):
                said = query.matches(issue)
                if said is None:
                    if index not in listed:
                        listed[index] = self._lister.numbers(query)
                    said = number in listed[index]
                if said:
                    return True
            return False

        for number in sorted(changed.keys() - found.keys() - self._pulls):
            issue = self._issue_json(number)
            if issue is not None and matches(issue, number):
                found[number] = issue
        return sorted(found.values(), key=update_order)

    def _issue_json(self, number: str) -> Json | None:
        """The issue's JSON; None when it is gone or a pull request."""
        try:
            issue: Json = self._client.get(f"{self._path}/issues/{number}")
        except NotFoundError:
            return None
        if shape.is_pull_request(issue):
            self._pulls.add(number)
            return None
        self._seen(number)
        return issue

    def _comments(self, number: str) -> list[Json]:
        path = f"{self._path}/issues/{number}/comments"
        params = {"per_page": str(MAX_PER_PAGE)}
        return [c for page in each_page(self._client, path, params) for c in page]

    def _replica(
        self,
        issue: Json,
        changed: Mapping[str, int] | None = None,
        listed: ListedComments | None = None,
    ) -> Replica:
        """The replica of an issue, with its comments when it has any.

        A poll passes ``changed`` (each issue's newest comment change since its
        bound, see ``listing``): an issue neither updated nor commented since its
        comments were last read keeps those, without a read. Comments otherwise come
        from ``listed`` (a repository-wide list) when it holds all of the issue's,
        and from the issue's own list when it does not.
        """
        comments: list[Json] = []
        number = shape.number_of(issue)
        self._seen(number)
        count = issue.get("comments")
        if count:
            newest = None if changed is None else changed.get(number, -1)
            known = self._known_comments.get(issue, newest)
            if known is None:
                found = listed.of(number, count) if listed is not None else None
                if found is not None:
                    read_at, comments = found
                else:
                    read_at = self.clock_ms() // 1000
                    comments = self._comments(number)
                self._known_comments.put(issue, read_at, comments)
            else:
                comments = known
        return shape.issue_to_replica(issue, self.project_key, comments)
