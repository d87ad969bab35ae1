"""The sync engine's ``jira`` adapter: one project of a Jira Server / Data Center (REST v2)
or of a Jira Cloud site (REST v3: ADF text and account ids, converted by ``cloud``).

Issues are read with JQL searches and turned into replicas by
:mod:`issuesync.trackers.fieldcodec`, the code the built-in tracker's replicas are
held equal to; writes go through the same module's :func:`to_jira_fields`. HTTP
and Jira's errors are translated by :class:`~issuesync.trackers.jira.client.JiraClient`.

Idempotency, and its gap. Jira has no idempotency keys. The adapter writes
each key as an entity property (``issuesync.idempotency``) on the issues and
comments it creates and remembers the newest keys itself (so the engine's retry
of a failed ``create_many`` finds what was made); after a restart it reads the
properties back: of the newest issues the sync user created in the last week,
and of an issue's newest comments (see ``receipts``). Not covered: older
creates, attachments (Jira keeps no properties on them: remembered for the
adapter's life only), work logs (their property is written, but only the adapter's
memory is read: for its life only), and trackers that do not keep entity properties (the
built-in tracker ignores them). There, a crash between Jira's write and the
engine's commit can make the object twice: delivery is at-least-once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from issuesync.domain.issuelinks import LinkType
from issuesync.domain.markup import Markup
from issuesync.domain.outline import SchemaOutline, StatusCategory
from issuesync.domain.replica import (
    FieldValue,
    HubAttachment,
    HubComment,
    HubWorklog,
    Replica,
    UserRef,
)
from issuesync.errors import (
    IssueSyncError,
    NotFoundError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import (
    Capabilities,
    ConnectionReport,
    CreatedIssue,
    Deletion,
    FieldInfo,
    IssueDraft,
    Limits,
    NewIssue,
    ProjectSchema,
    Tracker,
    WorklogDraft,
    outline_of,
)
from issuesync.trackers.jira import adf, cloud, connection, transitions, worklogs
from issuesync.trackers.jira.client import JiraClient
from issuesync.trackers.jira.comments import all_comments
from issuesync.trackers.jira.links import JiraLinks
from issuesync.trackers.jira.receipts import Receipts, properties
from issuesync.trackers.jira.schema import read_schema
from issuesync.trackers.jira.search import IssueSearch, minute

ISSUE_FIELDS: Final = ("*navigable", "comment", "attachment", "worklog")
FIRST_PAGE_SHARE: Final = 4  # the first page: a quarter of a page; then doubling
KEYS_PER_QUERY: Final = 100  # keys per ``key in (...)``: JQL texts stay short
CLOCK_TTL_S: Final = 600.0  # the server's clock offset is read again after this


class JiraAdapter(Tracker):
    """:class:`~issuesync.trackers.adapter.Tracker` for one project of a Jira Server."""

    name = "jira"
    # Jira cannot write as another user (a sync user's comment names its author in
    # the text), and cannot list deleted issues. Its text is wiki markup on Cloud too:
    # the adapter turns Cloud's ADF into wiki markup and back (adf.py), at its edge.
    # Text fields hold jira.text.field.character.limit characters, 32,767 by default (Jira
    # Server/DC, Cloud, and the built-in tracker's Jira API); attachments' limit is the
    # instance's own (GET /rest/api/2/attachment/meta), left to the tracker.
    capabilities = Capabilities(
        comment_author=False,
        deletions=False,
        worklogs=True,
        links=True,
        limits=Limits(text_chars=32_767),
        markup=Markup.JIRA,
    )

    def __init__(self, client: JiraClient, project_key: str) -> None:
        self.project_key = project_key.upper()
        self._client = client
        self._search = IssueSearch(client, self.project_key)
        self._schema: ProjectSchema | None = None
        self._customs: dict[str, FieldInfo] = {}
        self._categories: dict[str, StatusCategory] = {}
        self._clock: tuple[float, int] | None = None  # (monotonic when read, server - local ms)
        # Whether this Jira keeps update times to the millisecond (seen once: a time that is
        # not a whole second); until then a known time proves nothing when it is one.
        self._ms_times = False
        self._receipts = Receipts(client, self._search)
        self._links = JiraLinks(client)

    def __repr__(self) -> str:
        return f"JiraAdapter({self._client!r}, project_key={self.project_key!r})"

    # -- reading ---------------------------------------------------------------------------

    def describe(self) -> ProjectSchema:
        """Issue types, statuses, priorities and fields (read again on every call)."""
        self._schema, self._customs, self._categories = read_schema(self._client, self.project_key)
        return self._schema

    def outline(self) -> SchemaOutline:
        """The schema for a proposal: statuses by ``statusCategory``, priorities as Jira
        orders them (highest first), in :meth:`describe`'s requests."""
        return outline_of(self, self.describe(), self._categories)

    def clock_ms(self) -> int:
        """Jira's ``serverTime``, from an offset to this host's clock read every 10 minutes."""
        now = time.monotonic()
        if self._clock is None or now - self._clock[0] > CLOCK_TTL_S:
            before = time.time()
            info = self._client.get("serverInfo")
            after = time.time()
            server = fieldcodec.parse_datetime(info.get("serverTime"))
            # Without serverTime (an old Jira) this host's clock is the best there is.
            local_ms = int((before + after) / 2 * 1000)
            self._clock = (now, (server - local_ms) if server is not None else 0)
        return int(time.time() * 1000) + self._clock[1]

    def changed_since(
        self,
        since_ms: int | None,
        queries: Sequence[str],
        page_size: int = 200,
        *,
        known: Mapping[str, int] | None = None,
    ) -> Iterator[list[Replica]]:
        """Pages of issues updated at or after ``since_ms`` (to the minute), oldest first.

        JQL compares dates to the minute, in the sync user's time zone: the bound is
        rounded down, so a poll re-reads up to a minute (``known`` leaves those out;
        Jira keeps update times in ms). Keys and update times are scanned first, in
        keyset steps over ``updated`` (an issue that changes meanwhile moves on and
        comes again, never skipped); only the issues ``known`` lacks are then read
        whole, in pages of a quarter, a half, then whole ``page_size``.

        One gap: JQL cannot order below the minute, so more than ``SCAN_SIZE``
        issues updated within one minute are stepped through by offset; an issue
        of that minute that changes meanwhile can shift one not yet read behind
        the offset. The engine's look-back window reads it at the next poll.

        Raises:
            ConfigurationError: Jira refused a query.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        # ``known`` proves an issue unchanged only when the server keeps update times in
        # ms (Jira does, so two changes share one by chance alone): a server that keeps
        # whole seconds, minutes or (jira820) a fixed time of day may have changed the
        # issue since, and it is read again (the engine's shadow diff makes that
        # harmless). A Jira that showed one time with ms keeps them: then a time that
        # happens to be a whole second proves as much as any. What this call yields
        # counts always: its own re-scans end the paging.
        unchanged = _Unchanged(known or {})
        bound = minute(since_ms) if since_ms is not None else None
        offset = 0
        wanted = max(page_size // FIRST_PAGE_SHARE, 1)
        while True:
            rows, total = self._search.scan(bound, queries, offset)
            if not rows:
                return
            self._ms_times = self._ms_times or any(updated % 1000 for _, updated in rows)
            unchanged.ms_times = self._ms_times
            fresh = [key for key, updated in rows if not unchanged(key, updated)]
            start = 0
            while start < len(fresh):
                chunk = fresh[start : start + wanted]
                start += len(chunk)
                page = [r for r in self._issues(chunk) if not unchanged(r.key, r.hub_issue.updated)]
                for replica in page:
                    unchanged.yielded[replica.key] = replica.hub_issue.updated or 0
                if page:
                    yield page
                    wanted = min(wanted * 2, page_size)
            last = minute(rows[-1][1])
            if offset + len(rows) >= total:
                if not fresh:
                    return
                # One more look from the last minute: what changed while pages were read.
                bound, offset = max(last, bound or last), 0
            elif bound is None or last > bound:
                bound, offset = last, 0
            else:  # a whole scan step within one minute: step through it by offset
                offset += len(rows)

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Those of ``keys`` (as given) whose issue is in the project and matches a query."""
        if not queries:
            return set(keys)
        wanted = sorted({k.upper() for k in keys})
        found: set[str] = set()
        for start in range(0, len(wanted), KEYS_PER_QUERY):
            chunk = wanted[start : start + KEYS_PER_QUERY]
            issues = self._search.by_keys(
                f"{self._search.where(None, queries)} AND ", chunk, ["updated"]
            )
            found.update(str(i["key"]).upper() for i in issues)
        return {k for k in keys if k.upper() in found}

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Nothing: Jira's REST API cannot list deleted issues (capability ``deletions``)."""
        del since_ms
        return []

    def get(self, key: str) -> Replica | None:
        """The issue; None when it does not exist or is in another project."""
        customs = self._custom_fields()
        try:
            issue = self._client.get(f"issue/{key}", {"fields": ",".join(ISSUE_FIELDS)})
        except NotFoundError:
            return None
        replica = fieldcodec.issue_to_replica(self._readable(issue), customs)
        project = replica.hub_issue.project
        return replica if project is not None and project.key.upper() == self.project_key else None

    # -- issue links (``links.py``) -----------------------------------------------------------

    def link_types(self) -> tuple[LinkType, ...]:
        """The Jira's link types (``GET issueLinkType``, once)."""
        return self._links.types()

    def add_link(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """``POST issueLink`` (a link that exists already is answered as made)."""
        self._links.add(key, other_key, link_type, outward=outward)

    def delete_link(self, key: str, link_id: str) -> None:
        """``DELETE issueLink/{id}``."""
        del key
        self._links.delete(link_id)

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The active user with this e-mail (case-insensitive), else this login name.

        On Cloud the login name is the account id (``/user/search?query=``)."""
        if self._client.is_cloud():
            return self._find_cloud_user(ref)
        for text, field in ((ref.email, "emailAddress"), (ref.username, "name")):
            if not text:
                continue
            users = self._client.get("user/search", {"username": text, "maxResults": 50})
            for user in users if isinstance(users, list) else []:
                value = user.get(field)
                if isinstance(value, str) and value.lower() == text.lower():
                    return fieldcodec.user_ref(user)
        return None

    def _find_cloud_user(self, ref: UserRef) -> UserRef | None:
        for text in (ref.email, ref.username):
            if not text:
                continue
            users = self._client.get("user/search", {"query": text, "maxResults": 50})
            for user in users if isinstance(users, list) else []:
                if not isinstance(user, Mapping):
                    continue
                mail = str(user.get("emailAddress") or "").lower()
                if text.lower() in {mail, str(user.get("accountId") or "").lower()}:
                    return fieldcodec.user_ref(cloud.with_names(user))
        return None

    def read_attachment(self, attachment_id: str) -> bytes:
        """An attachment's content, from its ``content`` link (on this Jira only)."""
        meta = self._client.get(f"attachment/{attachment_id}")
        link = str(meta.get("content") or "")
        base = str(self._client.base_url)
        if not link.startswith(base):
            # Jira's base URL setting may name another host: never send credentials there.
            filename = quote(str(meta.get("filename") or "file"))
            link = f"secure/attachment/{attachment_id}/{filename}"
        response = self._client.request(
            "GET", link, absolute=True, headers={"Accept": "*/*"}, follow_redirects=True
        )
        return response.content

    # -- writing issues --------------------------------------------------------------------

    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Create the issue (and move it to ``fields["status"]`` if given), once per key.

        The create's answer has the key only: the issue is read once after it (the
        engine needs its fields and update time), and again only if a transition moved it.
        """
        key, earlier = self._made(draft, idempotency_key)
        return self._settled(key, earlier, draft.fields.get("status"))

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """One issue at a time (Jira's bulk create reports partial failures poorly): the
        create and its comments; then the issues as they left them, read together (see
        :meth:`_read_back`), and a transition for each whose status is not the one asked
        for: 1 + comments requests an issue, and one search per hundred issues."""
        written: list[tuple[NewIssue, str, Replica | None, tuple[HubComment, ...]]] = []
        for new in new_issues:
            key, earlier = self._made(new.draft, new.idempotency_key)
            comments = tuple(
                self.add_comment(key, c.body, c.author, idempotency_key=c.idempotency_key)
                for c in new.comments
            )
            written.append((new, key, None if comments else earlier, comments))
        read = self._read_back(
            {key: comments for _, key, earlier, comments in written if not earlier}
        )
        made: list[CreatedIssue] = []
        for new, key, earlier, comments in written:
            status = new.status or new.draft.fields.get("status")
            replica = self._settled(key, earlier or read.get(key), status)
            made.append(CreatedIssue(replica, comments))
        return made

    def _read_back(self, written: Mapping[str, Sequence[HubComment]]) -> dict[str, Replica]:
        """The issues just written (with the comments each was given), read by ``key in``
        searches of a hundred keys instead of one ``GET`` each: a read costs Jira about
        what a write does, and an initial sync would read every issue it made.

        A search answers from Jira's index, which a Data Center node may update after the
        write returned: an issue the search misses, or finds without every comment written
        to it, is left out, and :meth:`_settled` reads it alone. Cloud's search is
        eventually consistent by design: there each issue is read alone (an empty dict).
        One issue is read alone too (a ``GET`` costs no more than a search).
        """
        if len(written) <= 1 or self._client.is_cloud():
            return {}
        read: dict[str, Replica] = {}
        keys = list(written)
        for start in range(0, len(keys), KEYS_PER_QUERY):
            for replica in self._issues(keys[start : start + KEYS_PER_QUERY]):
                comments = {c.id for c in replica.hub_issue.comments}
                if replica.key in written and all(c.id in comments for c in written[replica.key]):
                    read[replica.key] = replica
        return read

    def _made(self, draft: IssueDraft, idempotency_key: str) -> tuple[str, Replica | None]:
        """The key of the issue made with ``idempotency_key``: made now (one ``POST``), or by
        an earlier call, then with the issue as read to find it."""
        earlier = self._receipts.issue(idempotency_key)
        if earlier is not None:
            found = self.get(earlier)
            if found is None:
                raise NotFoundError(f"The issue created for this key ({earlier}) is gone.")
            return found.key, found
        values = dict(draft.fields)
        values.pop("status", None)
        fields = self._fields(values)
        fields["project"] = {"key": self.project_key}
        fields["issuetype"] = {"name": draft.issue_type}
        if draft.parent_key:
            fields["parent"] = {"key": draft.parent_key}
        if draft.reporter is not None and "reporter" not in fields:
            user = self.find_user(draft.reporter)
            if user is not None and user.username:
                name = "accountId" if self._client.is_cloud() else "name"
                fields["reporter"] = {name: user.username}
        body = {"fields": fields, "properties": properties(idempotency_key)}
        try:
            try:
                answer = self._client.post("issue", body)
            except TrackerRejectedError as exc:
                if "reporter" not in exc.field_errors or "reporter" not in fields:
                    raise
                # Setting the reporter needs "Modify Reporter": without it, the sync user reports.
                del fields["reporter"]
                answer = self._client.post("issue", body)
        except TrackerOfflineError:
            self._receipts.doubt("issue")
            raise
        key = str(answer["key"])
        self._receipts.note("issue", idempotency_key, key)
        self._receipts.comments_known(key)  # a new issue: no comment of an earlier try
        return key, None

    def _settled(self, key: str, replica: Replica | None, status: object) -> Replica:
        """The issue (``replica``, if read already), moved to ``status`` when one is given:
        the first call may have failed between the create and the transition."""
        if replica is None:
            replica = self._issue(key)
        if not isinstance(status, str) or not status:
            return replica
        current = replica.hub_issue.status
        if current is None or current.name.lower() != status.lower():
            self._check_status(status)
        return self._moved(replica, status)

    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Edit the fields (a ``status`` moves through the workflow) and read the issue back."""
        values = dict(fields)
        status = values.pop("status", None)
        if values:
            self._client.put(f"issue/{key}", {"fields": self._fields(values)})
        if isinstance(status, str) and status:
            self._check_status(status)
            return self._moved(self._issue(key), status)
        return self._issue(key)

    def transition(self, key: str, status: str) -> Replica:
        """Move the issue along the shortest path of transitions; nothing when it is there.

        Jira shows only the transitions from the current status, so the path is
        found by walking it (see ``transitions``): a status the project does not
        have is refused before any step is taken.
        """
        self._check_status(status)
        return self._moved(self._issue(key), status)

    def _check_status(self, status: str) -> None:
        """Refuse a status the project does not have (its statuses read again once, if new)."""

        def known(schema: ProjectSchema) -> bool:
            return not schema.statuses or status.lower() in {s.lower() for s in schema.statuses}

        schema = self._schema or self.describe()
        if not known(schema) and not known(schema := self.describe()):  # a new status?
            raise TrackerRejectedError(
                f"Project {self.project_key} has no status '{status}' "
                f"(it has {', '.join(schema.statuses)}).",
                field_errors={"status": f"unknown status '{status}'"},
            )

    def _moved(self, replica: Replica, status: str) -> Replica:
        """The issue (as just read: ``replica``) moved to ``status``. An issue already there
        is that read, not read again: a create or an edit reads its issue once, and twice
        only when it moves."""
        current = replica.hub_issue.status
        if current is not None and current.name.lower() == status.lower():
            return replica
        transitions.move_to(self._client, replica.key, current.name if current else "", status)
        return self._issue(replica.key)

    # -- comments --------------------------------------------------------------------------

    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """Comment as the sync user, naming ``author`` in the text; once per key."""
        earlier = self._receipts.comment(key, idempotency_key)
        if earlier is not None:
            return self._comment(key, earlier)
        text = f"[{author.label}]\n{body}" if author is not None else body
        try:
            created = self._client.post(
                f"issue/{key}/comment",
                {"body": self._body(text), "properties": properties(idempotency_key)},
            )
        except TrackerOfflineError:
            self._receipts.doubt("comment", key)
            raise
        self._receipts.note("comment", idempotency_key, str(created["id"]))
        return self._from_jira(created)

    def _comment(self, key: str, comment_id: str) -> HubComment:
        """One comment; from the issue's list where the server has no ``/comment/{id}``."""
        try:
            return self._from_jira(self._client.get(f"issue/{key}/comment/{comment_id}"))
        except TrackerRejectedError:  # 405 from a server without the route (jira820)
            for comment in all_comments(self._client, key):
                if str(comment["id"]) == comment_id:
                    return self._from_jira(comment)
            raise NotFoundError(f"Comment {comment_id} of issue {key} does not exist.") from None

    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a comment's body."""
        edited = self._client.put(f"issue/{key}/comment/{comment_id}", {"body": self._body(body)})
        return self._from_jira(edited)

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment; one (or an issue) that is gone already is no error."""
        self._client.delete(f"issue/{key}/comment/{comment_id}", missing_ok=True)

    # -- attachments -----------------------------------------------------------------------

    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Upload the file (multipart); once per key for this adapter's life (see the module)."""
        earlier = self._receipts.attachment(idempotency_key)
        if earlier is not None:
            return fieldcodec.attachment_from_jira(self._client.get(f"attachment/{earlier}"))
        response = self._client.request(
            "POST",
            f"issue/{key}/attachments",
            files={"file": (filename, content, mimetype)},
            headers={"X-Atlassian-Token": "no-check"},  # Jira's XSRF check wants it
        )
        (created, *_) = response.json()
        self._receipts.note("attachment", idempotency_key, str(created["id"]))
        return fieldcodec.attachment_from_jira(created)

    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Delete an attachment; one that is gone already is no error."""
        del key  # Jira's attachments are addressed by id alone
        self._client.delete(f"attachment/{attachment_id}", missing_ok=True)

    # -- work logs -------------------------------------------------------------------------

    def add_worklog(self, key: str, draft: WorklogDraft, *, idempotency_key: str) -> HubWorklog:
        """Log work as the sync user; once per key for this adapter's life (see the module)."""
        earlier = self._receipts.worklog(idempotency_key)
        if earlier is not None:
            return self._worklog(self._client.get(f"issue/{key}/worklog/{earlier}"))
        created = self._client.post(
            f"issue/{key}/worklog",
            {
                **worklogs.body(draft, self._body(draft.comment)),
                "properties": properties(idempotency_key),
            },
        )
        self._receipts.note("worklog", idempotency_key, str(created["id"]))
        return self._worklog(created)

    def edit_worklog(self, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
        """Replace a work log's time, start and comment."""
        edited = self._client.put(
            f"issue/{key}/worklog/{worklog_id}", worklogs.body(draft, self._body(draft.comment))
        )
        return self._worklog(edited)

    def delete_worklog(self, key: str, worklog_id: str) -> None:
        """Delete a work log; one (or an issue) that is gone already is no error."""
        self._client.delete(f"issue/{key}/worklog/{worklog_id}", missing_ok=True)

    def _worklog(self, data: Mapping[str, Any]) -> HubWorklog:
        if self._client.is_cloud():
            data = {**cloud.with_names(data), "comment": adf.adf_to_text(data.get("comment"))}
        return fieldcodec.worklog_from_jira(data)

    # -- the connection --------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        """Reachable, authenticated (``/myself``), the project exists, the permissions."""
        return connection.test_connection(self._client, self.project_key)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------

    def _custom_fields(self) -> dict[str, FieldInfo]:
        if self._schema is None:
            self.describe()
        return self._customs

    def _fields(self, values: Mapping[str, FieldValue]) -> dict[str, object]:
        if self._schema is None:
            self.describe()
        assert self._schema is not None
        try:
            fields = fieldcodec.to_jira_fields(values, self._schema, self._login)
        except IssueSyncError as exc:
            raise TrackerRejectedError(exc.describe(), field_errors=exc.field_errors) from exc
        if not self._client.is_cloud():
            return fields
        users = {f.id for f in self._schema.fields if f.type in {"user", "users"}}
        return cloud.fields_as_v3(fields, self._rich_fields(), users)

    def _login(self, value: object) -> str | None:
        """A canonical user's login name; on Cloud its account id (an e-mail is looked up)."""
        name = fieldcodec.default_login(value)
        if name is None or not self._client.is_cloud() or "@" not in name:
            return name
        found = self.find_user(UserRef(email=name))
        return found.username if found is not None else None

    def _issue(self, key: str) -> Replica:
        replica = self.get(key)
        if replica is None:
            raise NotFoundError(f"Issue {key} does not exist in project {self.project_key}.")
        return replica

    def _issues(self, keys: Sequence[str]) -> list[Replica]:
        """The issues with these keys, whole, oldest update first: read ``KEYS_PER_QUERY``
        at a time (a ``key in`` of a thousand keys is a JQL text of 11,000 characters,
        more than a server may take, and a page more than Jira may give)."""
        if not keys:
            return []
        customs = self._custom_fields()
        issues: list[Mapping[str, Any]] = []
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            issues += self._search.by_keys(
                "", chunk, ISSUE_FIELDS, " ORDER BY updated ASC, key ASC"
            )
        replicas = [fieldcodec.issue_to_replica(self._readable(i), customs) for i in issues]
        if len(keys) > KEYS_PER_QUERY:  # each step is in order; together they are sorted
            replicas.sort(key=lambda r: (r.hub_issue.updated or 0, _key_order(r.key)))
        return replicas

    def _readable(self, issue: Mapping[str, Any]) -> Mapping[str, Any]:
        """The issue with all its comments and work logs, in v2's shape (Cloud's v3
        converted)."""
        whole = worklogs.with_worklogs(self._client, self._with_comments(issue))
        if not self._client.is_cloud():
            return whole
        return worklogs.as_v2(cloud.issue_as_v2(whole, self._rich_fields()))

    def _rich_fields(self) -> set[str]:
        """Ids of the custom fields that hold rich text (ADF on Cloud)."""
        return {i.id for i in self._custom_fields().values() if i.type == "text"}

    def _from_jira(self, comment: Mapping[str, Any]) -> HubComment:
        if self._client.is_cloud():
            comment = cloud.comment_as_v2(comment)
        return fieldcodec.comment_from_jira(comment)

    def _body(self, text: str) -> object:
        return adf.text_to_adf(text) if self._client.is_cloud() else text

    def _with_comments(self, issue: Mapping[str, Any]) -> Mapping[str, Any]:
        """The issue with all its comments: ``fields.comment`` holds a first page at most
        (and some Jira-compatible servers leave it out): the rest is read from ``/comment``."""
        fields = issue.get("fields") or {}
        field = fields.get("comment")
        if isinstance(field, Mapping):
            listed = field.get("comments")
            if isinstance(listed, list) and int(field.get("total") or 0) <= len(listed):
                return issue
        comments = all_comments(self._client, str(issue["key"]))
        return {**issue, "fields": {**fields, "comment": {"comments": comments}}}


@dataclass
class _Unchanged:
    """Whether an issue a scan found is one already read: by this call (``yielded``), or
    before (``given``, the caller's ``known``) when its time proves it (``changed_since``)."""

    given: Mapping[str, int]
    ms_times: bool = False
    yielded: dict[str, int] = dataclasses.field(default_factory=dict)

    def __call__(self, key: str, updated: int | None) -> bool:
        if updated is None:
            return False
        if self.yielded.get(key) == updated:
            return True
        return self.given.get(key) == updated and bool(updated % 1000 or self.ms_times)


def _key_order(key: str) -> tuple[str, int]:
    """An issue key as Jira orders keys: by project, then by number (``PB-9`` < ``PB-10``)."""
    project, _, number = key.rpartition("-")
    return (project, int(number)) if number.isdigit() else (key, 0)
