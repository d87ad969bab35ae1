"""The sync engine's ``gitlab`` adapter: one project's issues on a GitLab, over REST v4.

Keys are issue ``iid``\\ s as text (``"12"``): stable while the issue stays in
its project, whatever the project's path becomes. Functions taking a key also
accept ``#12`` and ``group/project#12``.

Queries are GitLab's issue-list filters as a URL query string, for example
``labels=bug,backend&assignee_username=alice`` or ``search=crash&in=title``
(:data:`QUERY_PARAMETERS` lists the names taken). An issue matches a query when
GitLab's list with those filters holds it.

Idempotency. GitLab has no idempotency keys: the adapter ends what it creates
(an issue's description, a note's body) with a hidden marker holding the key
(see ``markers``) and remembers the keys itself. After a restart, or a write
whose answer was lost, it reads them back from the issues the sync user made
in the last week and from an issue's newest notes (see ``receipts``). An upload
alone carries no key: a crash between the upload and its note leaves an
unlinked upload, and the retry uploads again. A retry outside those windows,
or after someone removed the marker, creates twice: delivery is at-least-once
there. Editing a description or note through the adapter drops its marker
(needed only until the engine has recorded the create).

Work logs: GitLab keeps a total of time spent per issue, no entries (see ``timespent``).

Calls. A create is one write (two with a status other than Open), a field
edit one write, a status one write, a comment one write, an attachment two
(upload, then the note linking it). Reads: a page of a poll is one request,
plus one per issue that has notes (GitLab lists notes separately) and one per issue
for its links (listed apart too; ``links.py``). GitLab
moves ``updated_at`` to the millisecond on every change, notes included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, quote

from issuesync.domain.issuelinks import LinkType
from issuesync.domain.markup import Markup
from issuesync.domain.outline import SchemaOutline
from issuesync.domain.replica import (
    FieldValue,
    HubAttachment,
    HubComment,
    HubIssueLink,
    HubWorklog,
    ProjectRef,
    Replica,
    UserRef,
)
from issuesync.errors import (
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
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
    WorklogDraft,
    create_each,
    outline_of,
)
from issuesync.trackers.fieldcodec import parse_datetime
from issuesync.trackers.gitlab import links, shape
from issuesync.trackers.gitlab.client import PER_PAGE_MAX, GitLabClient
from issuesync.trackers.gitlab.connection import test_connection
from issuesync.trackers.gitlab.edits import Directory, issue_body, issue_type
from issuesync.trackers.gitlab.markers import mark, unmark
from issuesync.trackers.gitlab.receipts import Receipts
from issuesync.trackers.gitlab.schema import read_schema
from issuesync.trackers.gitlab.timespent import TimeSpent, refuse, total_of
from issuesync.trackers.http import ServerClock

QUERY_PARAMETERS: Final = frozenset(
    {
        "labels",
        "not[labels]",
        "milestone",
        "assignee_username",
        "author_username",
        "search",
        "in",
        "state",
        "issue_type",
        "confidential",
        "weight",
        "my_reaction_emoji",
        "iteration_title",
    }
)
FIRST_PAGE_SHARE: Final = 4  # the first page: a quarter of a page; then doubling
MAX_STEPS: Final = 10_000  # a bound on the requests of one poll
LINKS_REMEMBERED: Final = 10_000  # issues whose links an edit may take as they were read


def _iso(ms: int) -> str:
    """GitLab's time format: ``2026-11-23T22:30:00.123Z``."""
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iid_of(key: str) -> str:
    """The iid in ``12``, ``#12`` or ``group/project#12``."""
    iid = key.rsplit("#", 1)[-1].strip()
    if not iid.isdigit():
        raise NotFoundError(f"'{key}' is not a GitLab issue key (an iid such as 12).")
    return iid


def parse_query(query: str) -> dict[str, str]:
    """A query's filters; raises ConfigurationError for a name GitLab's list does not take."""
    pairs = parse_qsl(query.strip().lstrip("?"), keep_blank_values=True, strict_parsing=False)
    unknown = sorted({name for name, _ in pairs} - QUERY_PARAMETERS)
    if unknown or not pairs:
        raise ConfigurationError(
            f"The GitLab query '{query}' is not a list filter such as 'labels=bug&state=opened'"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            + "."
        )
    return dict(pairs)


class GitLabAdapter(Tracker):
    """:class:`~issuesync.trackers.adapter.Tracker` for one GitLab project's issues."""

    name = "gitlab"
    # Notes are written as the sync user; deletions cannot be listed; a task
    # (a child work item) is not reachable through the issues API.
    # A description and a note hold 1,000,000 characters: "The content of a note. Limited
    # to 1,000,000 characters." (https://docs.gitlab.com/api/notes/, and the issues API's
    # description; Gitlab::Database::MAX_TEXT_SIZE_LIMIT). Uploads' limit is the instance's
    # setting (100 MB by default), left to the tracker.
    capabilities = Capabilities(
        comment_author=False,
        subtasks=False,
        deletions=False,
        worklogs=True,
        worklog_totals=True,
        links=True,
        limits=Limits(text_chars=1_000_000, reserved_chars=512),  # 512: its marker
        markup=Markup.GITLAB,
    )

    def __init__(self, client: GitLabClient, project_key: str) -> None:
        self.project_key = project_key
        self._client = client
        self._path = f"projects/{quote(project_key, safe='')}"
        self._ref = ProjectRef(key=project_key)
        self._directory = Directory(client, project_key)
        self._receipts = Receipts(client, self._path)
        self._time = TimeSpent(client, self._path)
        self._clock = ServerClock(lambda: self._client.get_response("version"))
        self._links_read: dict[str, list[HubIssueLink]] = {}  # by iid, as last read

    def __repr__(self) -> str:
        return f"GitLabAdapter({self._client!r}, project_key={self.project_key!r})"

    # -- reading ---------------------------------------------------------------------------

    def describe(self) -> ProjectSchema:
        """Types Issue and Incident, statuses Open and Closed, labels and milestones as values."""
        return read_schema(self._client, self._path, self.project_key)

    def outline(self) -> SchemaOutline:
        """The schema for a proposal, in :meth:`describe`'s requests: ``Open`` is new,
        ``Closed`` done; types Issue (the default) and Incident, no priorities."""
        return outline_of(self, self.describe(), shape.CATEGORIES)

    def clock_ms(self) -> int:
        """GitLab's clock, from the ``Date`` of an answer, read again every 10 minutes.

        ``Date`` has whole seconds: the offset errs early (see ``ServerClock``).
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
        """Pages of issues updated at or after ``since_ms`` (to the ms), oldest first.

        Keyset steps over ``updated_after`` (inclusive) with ``order_by=updated_at``:
        an issue that changes during the paging moves on and comes again, never
        skipped; a full page of one millisecond is stepped through by page number
        (there, one that changes meanwhile can shift an unread one of that
        millisecond back a page: the engine's look-back window reads it next poll).
        Pages hold at most 100 issues (GitLab's ``per_page``); the first a quarter.
        With several queries, each is paged in turn.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        seen: dict[str, int] = dict(known or {})
        filters = [parse_query(q) for q in queries] or [{}]
        for where in filters:
            yield from self._poll(since_ms, where, min(page_size, PER_PAGE_MAX), seen)

    def _poll(
        self, since_ms: int | None, where: Mapping[str, str], size: int, seen: dict[str, int]
    ) -> Iterator[list[Replica]]:
        bound, page = since_ms, 1
        wanted = max(size // FIRST_PAGE_SHARE, 1)
        for _ in range(MAX_STEPS):
            params: dict[str, Any] = {
                **where,
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": wanted,
                "page": page,
            }
            if bound is not None:
                params["updated_after"] = _iso(bound)
            issues = self._client.get(f"{self._path}/issues", params) or []
            fresh = [
                i for i in issues if seen.get(str(i["iid"])) != parse_datetime(i["updated_at"])
            ]
            replicas = [self._replica(issue) for issue in fresh]
            for replica in replicas:
                seen[replica.key] = replica.updated
            if replicas:
                yield replicas
            if len(issues) < wanted:
                return
            last = max(parse_datetime(i["updated_at"]) or 0 for i in issues)
            if bound is None or last > bound:
                bound, page = last, 1
                wanted = min(wanted * 2, size)
            else:  # a whole page within one millisecond: the next one, of the same size
                page += 1

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Those of ``keys`` (as given) whose issue is in the project and matches a query."""
        if not queries:
            return set(keys)
        by_iid: dict[str, list[str]] = {}
        for key in keys:
            try:
                by_iid.setdefault(iid_of(key), []).append(key)
            except NotFoundError:
                continue
        wanted = sorted(by_iid, key=int)
        found: set[str] = set()
        for where in map(parse_query, queries):
            for start in range(0, len(wanted), PER_PAGE_MAX):
                chunk = wanted[start : start + PER_PAGE_MAX]
                params = {**where, "iids[]": chunk, "per_page": PER_PAGE_MAX}
                issues = self._client.get(f"{self._path}/issues", params) or []
                found.update(str(i["iid"]) for i in issues)
        return {key for iid in found for key in by_iid.get(iid, [])}

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Nothing: GitLab's API cannot list deleted issues (capability ``deletions``)."""
        del since_ms
        return []

    def get(self, key: str) -> Replica | None:
        """The issue with its notes; None when it does not exist."""
        try:
            issue = self._client.get(f"{self._path}/issues/{iid_of(key)}")
        except NotFoundError:
            return None
        return self._replica(issue)

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The user with this e-mail (where GitLab shows it), else this username."""
        return self._directory.find_user(ref)

    def read_attachment(self, attachment_id: str) -> bytes:
        """An upload's content (``GET /projects/:id/uploads/:secret/:filename``, GitLab 17.4)."""
        response = self._client.request(
            "GET", f"{self._path}/uploads/{attachment_id}", headers={"Accept": "*/*"}
        )
        return response.content

    # -- writing issues --------------------------------------------------------------------

    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Create the issue (closing it if ``fields["status"]`` says Closed), once per key."""
        values = dict(draft.fields)
        status = values.pop("status", None)
        earlier = self._receipts.issue(idempotency_key)
        if earlier is not None:
            made = self._issue(earlier)
        else:
            body = issue_body(values, self._directory)
            body["issue_type"] = issue_type(draft.issue_type)
            body["description"] = mark(body.get("description"), idempotency_key, "issue")
            try:
                created = self._client.post(f"{self._path}/issues", body)
            except TrackerOfflineError:
                self._receipts.doubt_issues()  # GitLab may have made it: look before a retry
                raise
            self._receipts.note("issue", idempotency_key, str(created["iid"]))
            self._receipts.learn(str(created["iid"]), [])
            made = self._replica(created, known_links=[])  # a new issue has no links
        now = made.hub_issue.status
        if isinstance(status, str) and status and (now is None or now.name != status):
            return self.transition(made.key, status)
        return made

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """One issue at a time: GitLab has no bulk create."""
        return create_each(self, new_issues)

    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Set the fields (and status) in one edit request, and return the issue after."""
        body = issue_body(fields, self._directory)
        if not body:
            return self._issue(key)
        edited = self._client.put(f"{self._path}/issues/{iid_of(key)}", body)
        return self._replica(edited, known_links=self._links_read.get(iid_of(key)))

    def transition(self, key: str, status: str) -> Replica:
        """Close or reopen the issue (``state_event``); a move to where it is changes nothing."""
        return self.update(key, {"status": status})

    # -- comments --------------------------------------------------------------------------

    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """A note as the sync user, naming ``author`` in the text; once per key."""
        return self._add_note(key, body, author, idempotency_key, internal=False)

    def add_restricted_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """An internal note (``internal: true``: project members with the Reporter role and
        up see it), as :meth:`add_comment` writes a note."""
        return self._add_note(key, body, author, idempotency_key, internal=True)

    def _add_note(
        self, key: str, body: str, author: UserRef | None, idempotency_key: str, *, internal: bool
    ) -> HubComment:
        iid = iid_of(key)
        earlier = self._receipts.made_note(iid, "comment", idempotency_key)
        if earlier is not None:
            return shape.comment_of(self._client.get(f"{self._path}/issues/{iid}/notes/{earlier}"))
        text = f"[{author.label}]\n{body}" if author is not None else body
        created = self._post_note(iid, mark(text, idempotency_key, "comment"), internal=internal)
        self._receipts.note("comment", idempotency_key, str(created["id"]))
        return shape.comment_of(created)

    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a note's body."""
        path = f"{self._path}/issues/{iid_of(key)}/notes/{comment_id}"
        return shape.comment_of(self._client.put(path, {"body": body}))

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a note; one (or an issue) that is gone already is no error."""
        self._client.delete(
            f"{self._path}/issues/{iid_of(key)}/notes/{comment_id}", missing_ok=True
        )

    # -- attachments -----------------------------------------------------------------------

    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Upload the file to the project and link it in a note; once per key."""
        iid = iid_of(key)
        notes = f"{self._path}/issues/{iid}/notes"
        earlier = self._receipts.made_note(iid, "attachment", idempotency_key)
        if earlier is not None:
            note = self._client.get(f"{notes}/{earlier}")
        else:
            response = self._client.request(
                "POST", f"{self._path}/uploads", files={"file": (filename, content, mimetype)}
            )
            link = str(response.json()["url"])
            body = shape.attachment_note(filename, link, idempotency_key, content)
            note = self._post_note(iid, body)
            self._receipts.note("attachment", idempotency_key, str(note["id"]))
        body, marker = unmark(str(note.get("body") or ""))
        found = shape.attachments_in(
            body, marker, parse_datetime(note.get("created_at")), shape.user_ref(note.get("author"))
        )
        if not found:
            raise NotFoundError(
                f"The note of attachment '{filename}' on issue {key} lost its link."
            )
        # What was sent is what the note links to, even if someone edited the note's marker.
        return found[0].model_copy(
            update={
                "checksum": hashlib.sha256(content).hexdigest(),
                "filesize": len(content),
                "mimetype": mimetype or mimetypes.guess_type(filename)[0] or found[0].mimetype,
            }
        )

    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Unlink the upload from the issue and delete it; gone is no error.

        The adapter's notes linking it are deleted, then the upload itself, which
        GitLab allows Maintainers only (17.2 and later): below that, the file stays
        reachable by its secret address but the issue no longer lists it.
        """
        iid = iid_of(key)
        notes = self._client.everything(f"{self._path}/issues/{iid}/notes", {"sort": "asc"})
        for note in notes:
            if shape.is_attachment_note(note) and f"/uploads/{attachment_id}" in note["body"]:
                self._client.delete(
                    f"{self._path}/issues/{iid}/notes/{note['id']}", missing_ok=True
                )
        try:
            self._client.delete(f"{self._path}/uploads/{attachment_id}", missing_ok=True)
        except PermissionDeniedError:
            return  # not a Maintainer: unlinked is what this sync user can do

    # -- the connection --------------------------------------------------------------------

    # -- issue links (``links.py``) ---------------------------------------------------------

    def link_types(self) -> tuple[LinkType, ...]:
        """Relates and Blocks (GitLab's ``relates_to``, ``blocks``, ``is_blocked_by``)."""
        return links.LINK_TYPES

    def add_link(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """Link two issues of the project (one request; a second if GitLab says it exists)."""
        other = iid_of(other_key)
        self._links_read.pop(iid_of(key), None)
        self._links_read.pop(other, None)
        path, project = self._path, self.project_key
        links.add_link(self._client, path, project, iid_of(key), other, link_type, outward=outward)

    def delete_link(self, key: str, link_id: str) -> None:
        """Remove one of the issue's links (``DELETE .../links/:issue_link_id``)."""
        self._links_read.clear()  # the other end is not named here
        links.delete_link(self._client, self._path, iid_of(key), link_id)

    def test_connection(self) -> ConnectionReport:
        """Reachable, the token valid (``/user``), the project and its issues, the access level."""
        return test_connection(self._client, self._path)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------

    # -- work logs: time spent (``timespent``) ----------------------------------------------

    def add_worklog(self, key: str, draft: WorklogDraft, *, idempotency_key: str) -> HubWorklog:
        """Add the work log's time to the issue's total (``add_spent_time``)."""
        return self._time.add(iid_of(key), draft, idempotency_key)

    def edit_worklog(self, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
        """Refused: GitLab keeps a total only (the engine does not ask, see ``timespent``)."""
        del key, worklog_id, draft
        raise refuse("edited")

    def delete_worklog(self, key: str, worklog_id: str) -> None:
        """Refused: GitLab keeps a total only (the engine does not ask, see ``timespent``)."""
        del key, worklog_id
        raise refuse("deleted")

    def _post_note(self, iid: str, body: str, *, internal: bool = False) -> dict[str, Any]:
        request: dict[str, Any] = {"body": body}
        if internal:
            request["internal"] = True
        try:
            note: dict[str, Any] = self._client.post(f"{self._path}/issues/{iid}/notes", request)
        except TrackerOfflineError:
            self._receipts.doubt_notes(iid)  # GitLab may have made it: look before a retry
            raise
        return note

    def _issue(self, key: str) -> Replica:
        replica = self.get(key)
        if replica is None:
            raise NotFoundError(f"Issue {key} does not exist in GitLab project {self.project_key}.")
        return replica

    def _replica(
        self, issue: Mapping[str, Any], known_links: list[HubIssueLink] | None = None
    ) -> Replica:
        """An issue's replica; its notes read only when it has some (``user_notes_count``),
        its links unless they are ``known_links`` (an edit's answer: a field edit does not
        change them, and the engine reads an issue before it edits it)."""
        iid = str(issue["iid"])
        notes: list[dict[str, Any]] = []
        if issue.get("user_notes_count", 1):
            notes = self._client.everything(
                f"{self._path}/issues/{iid}/notes", {"sort": "asc", "order_by": "created_at"}
            )
        self._receipts.learn(iid, notes)
        replica = shape.replica_of(issue, notes, self._ref)
        replica.hub_issue.work_logs = [total_of(issue)]
        if known_links is None:
            known_links = links.read_links(self._client, self._path, issue.get("project_id"), iid)
        if len(self._links_read) >= LINKS_REMEMBERED:
            self._links_read.clear()
        self._links_read[iid] = known_links
        replica.hub_issue.issue_links = list(known_links)
        return replica
