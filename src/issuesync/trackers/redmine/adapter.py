"""The sync engine's ``redmine`` adapter: one project of a Redmine, over its REST JSON API.

Issues are listed with the ``updated_on`` filter and read whole one by one
(``include=journals,attachments,relations``: the list cannot include journals), up to
``READERS`` of a page at once (Redmine serves requests in parallel: 4 readers take a
page in 0.4 of the time one does); replicas are made by ``shape``, in this thread.
Statuses change directly (``status_id``), as far as Redmine's workflow lets the sync
user: Redmine *ignores* a status its workflow does not allow, so every status write is
read back and a refusal raised as :class:`~issuesync.errors.TrackerRejectedError`.
Comments are journals with notes; a note is edited with ``PUT /journals/<id>.json``
(Redmine >= 5.0) and deleted by emptying it (Redmine then drops a journal that records
nothing else). Attachments go through ``uploads.json``.

Redmine keeps times in whole seconds: ``changed_since`` re-reads the second of
``since``, and leaves a ``known`` issue out only when this adapter has read it
*settled*: at that update time, in a later second than the update (so any later
change would have moved the update time on). Editing a note does not move the
issue's update time in Redmine, so a note edited in Redmine is seen with the
issue's next change.

Work logs are Redmine's time entries (see ``timelog``: the default activity, whole days);
logging time does not move an issue's update time in Redmine, so a time entry logged
or edited in Redmine is seen with the issue's next change.

Idempotency: Redmine has no idempotency keys; the adapter writes an invisible
marker of the key into what it creates (see ``markers``, ``receipts``) and finds
it again after a restart: issues among the sync user's newest 100 of the last
week, notes and attachments on their issue. Older creates are not covered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from issuesync.domain.issuelinks import LinkType
from issuesync.domain.markup import Markup
from issuesync.domain.outline import SchemaOutline
from issuesync.domain.replica import (
    FieldValue,
    HubAttachment,
    HubComment,
    HubWorklog,
    Replica,
    UserRef,
)
from issuesync.errors import NotFoundError, TrackerRejectedError
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import (
    Capabilities,
    CommentDraft,
    ConnectionReport,
    CreatedIssue,
    Deletion,
    IssueDraft,
    NewIssue,
    ProjectSchema,
    Tracker,
    WorklogDraft,
    create_each,
    outline_of,
)
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.http import ServerClock, http_date
from issuesync.trackers.redmine import connection, markers, relations, shape
from issuesync.trackers.redmine.client import RedmineClient
from issuesync.trackers.redmine.receipts import Receipts
from issuesync.trackers.redmine.schema import Catalog, read_catalog
from issuesync.trackers.redmine.search import IssueList, scan
from issuesync.trackers.redmine.timelog import TimeLog
from issuesync.trackers.redmine.users import UserDirectory

WHOLE: Final = "journals,attachments,relations"
# Issues of a page read at once: only the HTTP reads run in these threads (what the adapter
# remembers is written by the calling thread). 4 take a page of a local Redmine 5 in 0.41
# of the time one does (30 against 73 ms an issue), 2 in 0.51.
READERS: Final = 4


@dataclass(frozen=True)
class _Fetched:
    issue: Mapping[str, Any]
    settled: bool  # served in a later second than its update (see the module)


MAX_SETTLED: Final = 100_000  # issues whose settled reads are remembered


class RedmineAdapter(Tracker):
    """:class:`~issuesync.trackers.adapter.Tracker` for one project of a Redmine."""

    name = "redmine"
    # Redmine cannot write as another user, and cannot list deleted issues. It checks no
    # text's length (the database column does: on MySQL a description holds 16 MB, a
    # note 64 KB), and its attachment limit (attachment_max_size, 5 MB by default) is an
    # administrator's setting the API does not show: no limits are declared. Its API does
    # not say how the instance formats text: Textile is Redmine's default (and Debian's
    # Redmine 5's); a connector whose Redmine uses CommonMark says so (markup.dialect).
    capabilities = Capabilities(
        comment_author=False, deletions=False, worklogs=True, links=True, markup=Markup.TEXTILE
    )

    def __init__(self, client: RedmineClient, project_key: str) -> None:
        self.project_key = project_key
        self._client = client
        self._list = IssueList(client, project_key)
        self._receipts = Receipts(client, project_key)
        self._users = UserDirectory(client, project_key)
        self._timelog = TimeLog(client, project_key, self._users.ref)
        self._catalog: Catalog | None = None
        self._clock = ServerClock(lambda: self._client.request("GET", "users/current.json"))
        self._settled: Bounded[str, str] = Bounded(MAX_SETTLED)  # id -> updated_on read settled

    def __repr__(self) -> str:
        return f"RedmineAdapter({self._client!r}, project_key={self.project_key!r})"

    # -- reading ---------------------------------------------------------------------------

    def describe(self) -> ProjectSchema:
        """Trackers, statuses, priorities and fields (read again on every call)."""
        self._catalog = read_catalog(self._client, self.project_key)
        return self._catalog.schema(self.project_key)

    def outline(self) -> SchemaOutline:
        """The schema for a proposal, in :meth:`describe`'s requests: statuses by ``is_closed``
        and position, trackers as types, priorities highest first (Redmine lists them lowest
        first, by position)."""
        schema = self.describe()
        categories = self._catalog.categories() if self._catalog else None
        return outline_of(self, schema, categories, priorities=schema.priorities[::-1])

    def clock_ms(self) -> int:
        """Redmine's now: this host's clock plus the offset of Redmine's ``Date`` header
        (see ``ServerClock``); it never goes back."""
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

        An issue ``known`` at its update time is left out only when this adapter read
        it settled (see the module): Redmine keeps whole seconds.

        Raises:
            ConfigurationError: a query is not valid or Redmine refused it.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        known = known or {}
        for rows in scan(self._list, since_ms, page_size):
            ids = [int(r["id"]) for r in rows if not self._unchanged(r, known)]
            if queries:
                wanted = self._list.matching(ids, queries)
                ids = [i for i in ids if i in wanted]
            page = [self._replica(issue) for issue in self._read_all([str(i) for i in ids])]
            if page:
                yield page

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Those of ``keys`` whose issue is in the project and listed by a query."""
        if not queries:
            return set(keys)
        ids = sorted({int(k) for k in keys if k.isdigit()})
        found = self._list.matching(ids, queries)
        return {k for k in keys if k.isdigit() and int(k) in found}

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Nothing: Redmine's REST API cannot list deleted issues (capability ``deletions``)."""
        del since_ms
        return []

    def get(self, key: str) -> Replica | None:
        """The issue; None when it does not exist or is in another project."""
        issue = self._read(key)
        return self._replica(issue) if issue is not None else None

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The user with this e-mail (where Redmine shows it), else this login."""
        return self._users.find(ref)

    def read_attachment(self, attachment_id: str) -> bytes:
        """An attachment's content (``attachments/download/<id>/<name>`` on this Redmine)."""
        meta = self._client.get(f"attachments/{attachment_id}.json")["attachment"]
        filename = quote(str(meta.get("filename") or "file"))
        response = self._client.request(
            "GET", f"attachments/download/{attachment_id}/{filename}", headers={"Accept": "*/*"}
        )
        return response.content

    # -- writing issues --------------------------------------------------------------------

    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Create the issue (in ``fields["status"]`` if given, through the workflow), once."""
        values = dict(draft.fields)
        status = values.pop("status", None)
        earlier = self._receipts.issue(idempotency_key, self._users.me().key)
        if earlier is not None:
            made = self.get(earlier)
            if made is None:
                raise NotFoundError(f"The issue created for this key (#{earlier}) is gone.")
            return self._reach(made, status)
        created = self._post(draft, values, status, idempotency_key)
        return self._reach(self._replica(created), status)

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """Each issue: one create, one update per comment (the last carries the status), one read.

        The writes of the whole batch come first, the reads after them: by then most
        issues were last written a second or more before, so that their reads are
        settled and the next poll need not read them again (see the module). An
        issue its key made before (a retry) takes the one-call-at-a-time path.
        """
        made: dict[int, CreatedIssue] = {}
        written: list[tuple[int, NewIssue, str, FieldValue]] = []
        for index, new in enumerate(new_issues):
            if self._receipts.issue(new.idempotency_key, self._users.me().key) is not None:
                (made[index],) = create_each(self, [new])
                continue
            issue_id, status = self._write_new(new)
            written.append((index, new, issue_id, status))
        for index, new, issue_id, status in written:
            issue = self._whole(issue_id)
            replica = self._checked(self._replica(issue), status)
            by_marker = {
                found: journal
                for journal in issue.get("journals") or []
                for found in markers.markers_in(journal.get("notes"))
            }
            comments = tuple(
                shape.comment(by_marker[markers.marker(c.idempotency_key)], self._users.ref)
                for c in new.comments
            )
            made[index] = CreatedIssue(replica, comments)
        return [made[index] for index in range(len(new_issues))]

    def _write_new(self, new: NewIssue) -> tuple[str, FieldValue]:
        """Create the issue, add its notes, set its status: the writes of ``create_many``."""
        values = dict(new.draft.fields)
        status = new.status or values.get("status")
        values.pop("status", None)
        created = self._post(new.draft, values, status, new.idempotency_key)
        issue_id = str(created["id"])
        reached = not status or (created.get("status") or {}).get("name") == status
        status_id = self._catalog_now().id_of("status", str(status)) if status else None
        for n, comment in enumerate(new.comments):
            body: dict[str, object] = {
                "notes": markers.mark(_text(comment), comment.idempotency_key)
            }
            if n == len(new.comments) - 1 and not reached:
                body["status_id"] = status_id
                reached = True
            self._client.put(f"issues/{issue_id}.json", {"issue": body})
        if not reached:
            self._client.put(f"issues/{issue_id}.json", {"issue": {"status_id": status_id}})
        return issue_id, status

    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Set the fields (and the status) in one update; read the issue back."""
        values = dict(fields)
        status = values.get("status")
        body = shape.issue_body(values, self._catalog_now(), self._users.id_for)
        if body:
            self._client.put(f"issues/{_id(key)}.json", {"issue": body})
        replica = self._issue(key)
        return self._checked(replica, status) if isinstance(status, str) and status else replica

    def transition(self, key: str, status: str) -> Replica:
        """Set the status directly; Redmine's workflow decides (a refusal is raised)."""
        return self._reach(self._issue(key), status)

    # -- comments --------------------------------------------------------------------------

    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """A note as the sync user, naming ``author`` in the text; once per key."""
        return self._add_note(key, body, author, idempotency_key, private=False)

    def add_restricted_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """A private note (``private_notes``: seen by those allowed to view private notes;
        the sync user needs the "Set notes as private" permission), as :meth:`add_comment`."""
        return self._add_note(key, body, author, idempotency_key, private=True)

    def _add_note(
        self, key: str, body: str, author: UserRef | None, idempotency_key: str, *, private: bool
    ) -> HubComment:
        earlier = self._receipts.part("journal", _id(key), idempotency_key)
        if earlier is None:
            text = f"[{author.label}]\n{body}" if author is not None else body
            change: dict[str, Any] = {"notes": markers.mark(text, idempotency_key)}
            if private:
                change["private_notes"] = True
            self._client.put(f"issues/{_id(key)}.json", {"issue": change})
        issue = self._whole(key)
        self._receipts.learn(issue)
        made = self._receipts.part("journal", _id(key), idempotency_key)
        return self._comment(issue, made)

    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a note (``PUT /journals/<id>.json``)."""
        self._client.put(f"journals/{_id(comment_id)}.json", {"journal": {"notes": body}})
        return self._comment(self._whole(key), comment_id)

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Empty the note; one (or an issue) that is gone already is no error."""
        del key
        try:
            self._client.put(f"journals/{_id(comment_id)}.json", {"journal": {"notes": ""}})
        except NotFoundError:
            return

    # -- attachments -----------------------------------------------------------------------

    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Upload the file, then attach it to the issue (with its marker); once per key."""
        issue_id = _id(key)
        earlier = self._receipts.part("attachment", issue_id, idempotency_key)
        if earlier is None:
            response = self._client.request(
                "POST",
                "uploads.json",
                params={"filename": filename},
                content=content,
                headers={"Content-Type": "application/octet-stream"},
            )
            token = response.json()["upload"]["token"]
            upload = {
                "token": token,
                "filename": filename,
                "content_type": mimetype,
                "description": markers.marker(idempotency_key),
            }
            self._client.put(f"issues/{issue_id}.json", {"issue": {"uploads": [upload]}})
            issue = self._whole(issue_id)
            self._receipts.learn(issue)
            earlier = self._receipts.part("attachment", issue_id, idempotency_key)
        else:
            issue = self._whole(issue_id)
        for data in issue.get("attachments") or []:
            if str(data["id"]) == earlier:
                return shape.attachment(data, self._users.ref)
        raise NotFoundError(f"The attachment made on issue #{issue_id} for this key is gone.")

    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Delete an attachment; one that is gone already is no error."""
        del key  # Redmine's attachments are addressed by id alone
        self._client.delete(f"attachments/{_id(attachment_id)}.json", missing_ok=True)

    # -- work logs (time entries, see ``timelog``) ----------------------------------------

    def add_worklog(self, key: str, draft: WorklogDraft, *, idempotency_key: str) -> HubWorklog:
        """A time entry as the sync user, under the default activity; once per key."""
        return self._timelog.add(_id(key), draft, idempotency_key)

    def edit_worklog(self, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
        """Replace a time entry's hours, day and comments."""
        del key  # Redmine's time entries are addressed by id alone
        return self._timelog.edit(worklog_id, draft)

    def delete_worklog(self, key: str, worklog_id: str) -> None:
        """Delete a time entry; one that is gone already is no error."""
        del key
        self._timelog.delete(worklog_id)

    # -- the connection --------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        """Reachable, the key valid, the project tracks issues, the roles allow a sync."""
        return connection.ConnectionTest(self._client, self.project_key, self._catalog_now).run()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------

    def _catalog_now(self) -> Catalog:
        if self._catalog is None:
            self.describe()
        assert self._catalog is not None
        return self._catalog

    def _read(self, key: str) -> Mapping[str, Any] | None:
        return self._kept(self._fetch(key))

    def _read_all(self, keys: Sequence[str]) -> list[Mapping[str, Any]]:
        """The issues of ``keys`` in this project, in order: read ``READERS`` at a time."""
        if len(keys) <= 1:
            fetched = [self._fetch(key) for key in keys]
        else:
            self._catalog_now()  # read once, before the threads
            with ThreadPoolExecutor(min(READERS, len(keys)), "redmine-read") as pool:
                fetched = list(pool.map(self._fetch, keys))
        return [issue for issue in (self._kept(f) for f in fetched) if issue is not None]

    def _fetch(self, key: str) -> _Fetched | None:
        """The issue as Redmine serves it now (None when there is none). Only reads: safe
        in a reader thread."""
        if not key.isdigit():
            return None
        try:
            return self._get_whole(key)
        except NotFoundError:
            return None

    def _get_whole(self, key: str) -> _Fetched:
        response = self._client.get_response(f"issues/{_id(key)}.json", {"include": WHOLE})
        issue: Mapping[str, Any] = response.json()["issue"]
        served_s = http_date(response.headers.get("Date"))
        served = int(served_s * 1000) if served_s is not None else None
        changed = fieldcodec.parse_datetime(str(issue.get("updated_on") or ""))
        settled = served is not None and changed is not None and served // 1000 > changed // 1000
        return _Fetched(issue, settled)

    def _whole(self, key: str) -> Mapping[str, Any]:
        """The issue whole (NotFoundError when there is none), noted settled or not."""
        fetched = self._get_whole(key)
        self._note(fetched)
        return fetched.issue

    def _note(self, fetched: _Fetched) -> None:
        issue_id = str(fetched.issue["id"])
        if fetched.settled:
            self._settled[issue_id] = str(fetched.issue.get("updated_on") or "")
        else:
            self._settled.pop(issue_id, None)

    def _kept(self, fetched: _Fetched | None) -> Mapping[str, Any] | None:
        """The issue read, when it is in this project; notes whether it was read settled."""
        if fetched is None:
            return None
        self._note(fetched)
        issue = fetched.issue
        if (issue.get("project") or {}).get("id") != self._catalog_now().project_id:
            return None
        return issue

    def _unchanged(self, row: Mapping[str, Any], known: Mapping[str, int]) -> bool:
        """Whether the caller knows the issue as it is: read at this update time, settled."""
        issue_id = str(row["id"])
        updated = str(row.get("updated_on") or "")
        at = known.get(issue_id)
        return (
            at is not None
            and self._settled.get(issue_id) == updated
            and at == fieldcodec.parse_datetime(updated)
        )

    def _issue(self, key: str) -> Replica:
        replica = self.get(key)
        if replica is None:
            raise NotFoundError(f"Issue #{key} does not exist in project {self.project_key}.")
        return replica

    def _replica(self, issue: Mapping[str, Any]) -> Replica:
        replica = shape.issue_to_replica(
            issue, self._catalog_now(), self.project_key, self._users.ref
        )
        replica.hub_issue.work_logs = self._timelog.worklogs(issue)
        replica.hub_issue.issue_links = relations.links_of(issue)
        return replica

    # -- relations (``relations.py``) --------------------------------------------------------

    def link_types(self) -> tuple[LinkType, ...]:
        """Relates, Duplicate, Blocks, Precedes and Cloners (``copied_to``)."""
        return relations.LINK_TYPES

    def add_link(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """Relate two issues (``POST /issues/<id>/relations.json``)."""
        relations.add_relation(self._client, _id(key), _id(other_key), link_type, outward=outward)

    def delete_link(self, key: str, link_id: str) -> None:
        """Remove a relation (``DELETE /relations/<id>.json``)."""
        del key
        relations.delete_relation(self._client, link_id)

    def _comment(self, issue: Mapping[str, Any], journal_id: str | None) -> HubComment:
        for journal in issue.get("journals") or []:
            if str(journal["id"]) == journal_id:
                return shape.comment(journal, self._users.ref)
        raise NotFoundError(f"Note {journal_id} of issue #{issue['id']} is gone.")

    def _post(
        self,
        draft: IssueDraft,
        values: Mapping[str, FieldValue],
        status: FieldValue,
        idempotency_key: str,
    ) -> Mapping[str, Any]:
        catalog = self._catalog_now()
        body = shape.issue_body(
            {**values, "issuetype": draft.issue_type}, catalog, self._users.id_for
        )
        body["project_id"] = catalog.project_id
        body["description"] = markers.mark(str(body.get("description") or ""), idempotency_key)
        if isinstance(status, str) and status:
            # Redmine takes a status on create if its workflow allows it, else ignores it.
            body["status_id"] = shape.issue_body({"status": status}, catalog, self._users.id_for)[
                "status_id"
            ]
        if draft.parent_key:
            body["parent_issue_id"] = _id(draft.parent_key)
        created: Mapping[str, Any] = self._client.post("issues.json", {"issue": body})["issue"]
        self._receipts.made_issue(idempotency_key, str(created["id"]))
        return created

    def _reach(self, replica: Replica, status: FieldValue) -> Replica:
        """Move the issue to ``status`` unless it is there."""
        if not isinstance(status, str) or not status:
            return replica
        now = replica.hub_issue.status
        if now is not None and now.name.casefold() == status.casefold():
            return replica
        catalog = self._catalog_now()
        if catalog.id_of("status", status) is None:
            catalog = read_catalog(self._client, self.project_key)  # a new status?
            self._catalog = catalog
        body = shape.issue_body({"status": status}, catalog, self._users.id_for)
        self._client.put(f"issues/{replica.key}.json", {"issue": body})
        return self._checked(self._issue(replica.key), status)

    def _checked(self, replica: Replica, status: FieldValue) -> Replica:
        """The replica, unless Redmine's workflow kept it from ``status``."""
        now = replica.hub_issue.status
        if (
            not isinstance(status, str)
            or not status
            or (now is not None and now.name.casefold() == status.casefold())
        ):
            return replica
        text = f"the workflow does not let the sync user move it from '{now.name if now else '?'}'"
        raise TrackerRejectedError(
            f"Redmine kept issue #{replica.key} out of status '{status}': {text}.",
            field_errors={"status": text},
        )


def _text(comment: CommentDraft) -> str:
    author = comment.author
    return f"[{author.label}]\n{comment.body}" if author is not None else comment.body


def _id(key: str) -> str:
    """An issue, note or attachment id; anything else would leave the API's paths."""
    if not key.isdigit():
        raise NotFoundError(f"'{key}' is not a Redmine id.")
    return key
