"""Work logs between trackers: what changed since the traces, and the author's header (pure).

No tracker's API lets the sync user log time in another user's name, so a mirrored
work log is the sync user's, with its author named at the start of its comment:
``Alice Smith logged: fixed the login``. The header is the sync's, not the text's.
Of two twins exactly one is a mirror, and its trace says so (its digest ends in
:data:`MIRROR`): a mirror's edit is sent without the header (:func:`split_header`)
and without an author, an original's with its text as it is and its author, and the
receiver puts a header on what it writes only when the change names an author
(:func:`comment_for`). So a comment edited on either side never grows a second
header, and a person's text that merely looks like one ("Build logged: see CI") is
never cut.

A work log is compared through its trace's digest (:func:`worklog_digest`): the time
in seconds, then a fingerprint of the start and the comment, as this side's tracker
stores them. The seconds stay readable, for a tracker that keeps a total only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from issuesync.domain.message import ChangeAction, WorklogChange
from issuesync.domain.replica import HubWorklog, UserRef, body_digest

HEADER_WORD: Final = "logged"
# The one work log of a tracker that keeps only a total of time spent per issue (GitLab):
# its time is the total, and what grew since the traces crosses as a new work log.
TOTAL_ID: Final = "total"
TOTAL_AUTHOR: Final = "Time tracking"  # who a total's growth is logged as, unless it says
MIRROR: Final = "~"  # ends the digest of a work log the sync wrote here (a mirror)
MAX_NAME: Final = 120  # longer than any display name: a longer "prefix" is the text's own
_HEADER = re.compile(
    rf"\A(?P<name>[^\n]{{1,{MAX_NAME}}}?) {HEADER_WORD}(?:: (?P<rest>.*)|\.)\Z", re.DOTALL
)


def with_header(name: str, comment: str) -> str:
    """``comment`` under the header that names its author: ``Alice Smith logged: ...``."""
    return f"{name} {HEADER_WORD}: {comment}" if comment else f"{name} {HEADER_WORD}."


def split_header(comment: str) -> tuple[str | None, str]:
    """The author a header names (None without one) and the comment without it."""
    found = _HEADER.match(comment)
    if found is None:
        return None, comment
    return found["name"], found["rest"] or ""


def comment_for(change: WorklogChange, current: HubWorklog | None) -> str:
    """The comment to write for ``change``: under a header when the change names an author
    (the partner's is the original, so the work log here is a mirror), keeping the name a
    mirror's header has; as it is otherwise (the partner's is the mirror: its header is off)."""
    text = change.comment or ""
    if change.author is None:
        return text
    name = split_header(current.comment)[0] if current is not None else None
    return with_header(name or change.author.label, text)


def worklog_digest(worklog: HubWorklog) -> str:
    """``<seconds>:<fingerprint of start and comment>``: what a trace remembers of it."""
    fingerprint = body_digest(f"{worklog.start_date or 0}\n{worklog.comment}")
    return f"{worklog.time_spent}:{fingerprint}"


def mirror_digest(worklog: HubWorklog) -> str:
    """The digest of a work log the sync wrote here: :func:`worklog_digest` + :data:`MIRROR`."""
    return worklog_digest(worklog) + MIRROR


def digest_seconds(digest: str | None) -> int:
    """The seconds a :func:`worklog_digest` keeps (0 when it keeps none)."""
    head, _, _ = (digest or "").partition(":")
    return int(head) if head.isdigit() else 0


@dataclass
class WorklogDiff:
    """The work logs of one issue that changed since their traces, and the new digests."""

    changes: list[WorklogChange] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)  # (this side's id, digest)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (this side's id, digest)
    removed: list[str] = field(default_factory=list)  # this side's ids


def worklog_changes(
    worklogs: Sequence[HubWorklog], traced: Mapping[str, str | None]
) -> WorklogDiff:
    """What to send of an issue's ``worklogs``, given the digests of the traced ones by id.

    A new work log, or an edit of an original, goes with its author and its text as it
    is; an edit of a mirror without its header and without an author (module docstring);
    a traced one that is gone as a deletion.
    A tracker that keeps a total only (one work log, :data:`TOTAL_ID`) goes by
    :func:`total_changes`.
    """
    total = next((w for w in worklogs if w.id == TOTAL_ID), None)
    if total is not None:
        return total_changes(total, traced)
    found = WorklogDiff()
    for worklog in worklogs:
        digest = worklog_digest(worklog)
        known = worklog.id in traced
        before = traced.get(worklog.id) or ""
        mirror = before.endswith(MIRROR)
        if known and before.removesuffix(MIRROR) == digest:
            continue
        # An original names its author always (an unknown one as "unknown user"): that is
        # what tells the partner that its twin is a mirror.
        comment: str = worklog.comment
        author: UserRef | None = worklog.author or UserRef()
        if mirror:  # the sync's header is not the text, and the partner has the author
            comment, author = split_header(worklog.comment)[1], None
        found.changes.append(
            WorklogChange(
                action=ChangeAction.UPDATE if known else ChangeAction.ADD,
                source_id=worklog.id,
                time_spent=worklog.time_spent,
                started=worklog.start_date,
                comment=comment,
                author=author,
            )
        )
        digest += MIRROR if mirror else ""
        (found.changed if known else found.added).append((worklog.id, digest))
    present = {worklog.id for worklog in worklogs}
    for local_id in traced:
        if local_id not in present:
            found.changes.append(WorklogChange(action=ChangeAction.DELETE, source_id=local_id))
            found.removed.append(local_id)
    return found


def total_changes(total: HubWorklog, traced: Mapping[str, str | None]) -> WorklogDiff:
    """The time a total-only tracker gained beyond its traced work logs, as one new one.

    The traces hold the work logs written there by the sync and those sent from there,
    each with its seconds: what the total holds beyond their sum was logged there since.
    It crosses as a work log named after the time of the issue's change that showed it.
    Time taken off the total there is not sent (a partner's work log cannot be partly
    deleted): the next gain counts from the traces' sum again.
    """
    found = WorklogDiff()
    gained = total.time_spent - sum(digest_seconds(d) for d in traced.values())
    if gained <= 0:
        return found
    source_id = f"{TOTAL_ID}@{total.updated or 0}:{total.time_spent}"
    worklog = HubWorklog(id=source_id, time_spent=gained, start_date=total.updated)
    found.changes.append(
        WorklogChange(
            action=ChangeAction.ADD,
            source_id=source_id,
            time_spent=gained,
            started=total.updated,
            comment=total.comment,
            author=total.author or UserRef(display_name=TOTAL_AUTHOR),
        )
    )
    found.added.append((source_id, worklog_digest(worklog)))
    return found
