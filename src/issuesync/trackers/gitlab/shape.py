"""GitLab's issue, note, user and upload JSON as replicas, and back.

Mapping (GitLab ⇄ the replica's Jira-named fields)::

    title                   summary
    description             description (the adapter's marker stripped)
    issue_type              issuetype: "Issue", "Incident" (others read as their name)
    state opened / closed   status "Open" / "Closed" (written with state_event)
    labels                  labels
    milestone (one)         fixVersions (a list of at most one title)
    assignees (first)       assignee
    author                  reporter (read only)
    due_date                duedate
    non-system notes        comments (an attachment's note is not a comment)
    /uploads/<secret>/<f>   attachments: linked in the description or a note; id "<secret>/<f>"

Issue links are not carried: the replica has no field for them.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote

from issuesync.domain.outline import StatusCategory
from issuesync.domain.replica import (
    HubAttachment,
    HubComment,
    HubIssue,
    ItemRef,
    LabelRef,
    NamedRef,
    ProjectRef,
    Replica,
    UserRef,
    due_to_ms,
)
from issuesync.trackers.fieldcodec import parse_datetime, parse_day
from issuesync.trackers.gitlab.markers import Marker, mark, unmark

OPEN: Final = "Open"
CLOSED: Final = "Closed"
STATES: Final = {"opened": OPEN, "closed": CLOSED}
STATE_EVENTS: Final = {OPEN.lower(): "reopen", CLOSED.lower(): "close"}
ISSUE_TYPES: Final = {"issue": "Issue", "incident": "Incident"}
CATEGORIES: Final = {OPEN: StatusCategory.NEW, CLOSED: StatusCategory.DONE}
UPLOAD_LINK: Final = re.compile(r"/uploads/([0-9a-f]{32})/([^\s)\]\"'<>]+)")

Json = dict[str, Any]


def user_ref(data: object) -> UserRef | None:
    """A GitLab user (``id``, ``username``, ``name``, an e-mail where visible)."""
    if not isinstance(data, Mapping) or not data.get("username"):
        return None
    email = data.get("email") or data.get("public_email") or None
    return UserRef(
        key=str(data["id"]) if data.get("id") is not None else None,
        username=str(data["username"]),
        email=str(email) if email else None,
        displayName=str(data.get("name") or data["username"]),
        active=data.get("state", "active") == "active",
    )


def type_name(issue: Mapping[str, Any]) -> str:
    """The issue type's name ("Issue", "Incident", else GitLab's own, capitalised)."""
    raw = str(issue.get("issue_type") or "issue")
    return ISSUE_TYPES.get(raw, raw.replace("_", " ").capitalize())


def comment_of(note: Mapping[str, Any]) -> HubComment:
    """A note as a comment, its marker stripped."""
    body, _ = unmark(str(note.get("body") or ""))
    return HubComment(
        id=str(note["id"]),
        body=body,
        author=user_ref(note.get("author")),
        created=parse_datetime(note.get("created_at")),
        updated=parse_datetime(note.get("updated_at")),
        internal=bool(note.get("internal") or note.get("confidential")),
    )


def attachment_note(filename: str, link: str, key: str, content: bytes) -> str:
    """The body of the note that attaches an upload: its link, and a marker with size and sum."""
    digest = hashlib.sha256(content).hexdigest()
    return mark(f"[{filename}]({link})", key, "attachment", size=len(content), sha256=digest)


def attachments_in(
    text: str, marker: Marker | None, created: int | None, author: UserRef | None
) -> list[HubAttachment]:
    """The uploads a description or note links to, in order, each once."""
    found: list[HubAttachment] = []
    meta = marker.meta if marker is not None and marker.kind == "attachment" else {}
    for secret, name in dict.fromkeys(UPLOAD_LINK.findall(text)):
        filename = unquote(name)
        found.append(
            HubAttachment(
                id=f"{secret}/{name}",
                filename=filename,
                mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream",
                filesize=int(meta.get("size") or 0),
                checksum=str(meta["sha256"]) if meta.get("sha256") else None,
                created=created,
                author=author,
            )
        )
    return found


def is_attachment_note(note: Mapping[str, Any]) -> bool:
    """Whether the note is one the adapter wrote to attach a file (not a comment)."""
    _, marker = unmark(str(note.get("body") or ""))
    return marker is not None and marker.kind == "attachment"


def replica_of(
    issue: Mapping[str, Any], notes: Iterable[Mapping[str, Any]], project: ProjectRef
) -> Replica:
    """An issue and its notes as a replica (system notes left out)."""
    description, _ = unmark(issue.get("description"))
    created = parse_datetime(issue.get("created_at"))
    reporter = user_ref(issue.get("author"))
    attachments = attachments_in(description, None, created, reporter)
    comments: list[HubComment] = []
    for note in notes:
        if note.get("system"):
            continue
        body, marker = unmark(str(note.get("body") or ""))
        when = parse_datetime(note.get("created_at"))
        attachments.extend(attachments_in(body, marker, when, user_ref(note.get("author"))))
        if marker is None or marker.kind != "attachment":
            comments.append(comment_of(note))
    unique = list({a.id: a for a in reversed(attachments)}.values())[::-1]
    assignees = issue.get("assignees") or ([issue["assignee"]] if issue.get("assignee") else [])
    milestone = issue.get("milestone")
    hub = HubIssue(
        id=str(issue["id"]),
        key=str(issue["iid"]),
        summary=str(issue.get("title") or ""),
        description=description or None,
        project=project,
        issueType=NamedRef(name=type_name(issue)),
        status=NamedRef(name=STATES.get(str(issue.get("state")), str(issue.get("state")))),
        labels=[LabelRef(label=str(name)) for name in issue.get("labels") or []],
        fixVersions=(
            [ItemRef(id=milestone.get("id"), name=str(milestone["title"]))]
            if isinstance(milestone, Mapping) and milestone.get("title")
            else []
        ),
        assignee=user_ref(assignees[0]) if assignees else None,
        reporter=reporter,
        due=due_to_ms(parse_day(issue.get("due_date"))),
        created=created,
        updated=parse_datetime(issue.get("updated_at")),
        comments=comments,
        attachments=unique,
    )
    return Replica(hub_issue=hub)
