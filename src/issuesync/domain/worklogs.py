"""Work logs between trackers: what changed since the traces, and the author's header (pure).

No tracker's API lets the sync user log time in another user's name, so a mirrored
work log is the sync user's, with its author named at the start of its comment:
``Alice Smith logged: fixed the login``. The header is the sync's, not the text's:
it is taken off before a work log's comment is sent (:func:`split_header`), and put
back only on a work log that carries one (:func:`comment_for`), so a comment that
crosses back and forth never grows a second prefix.

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
    """The comment to write for ``change``: with a header naming its author when the work
    log is a mirror, i.e. a new one with an author, or an edit of one that has a header."""
    text = change.comment or ""
    if current is not None:
        name, _ = split_header(current.comment)
        return with_header(name, text) if name else text
    if change.author is not None:
        return with_header(change.author.label, text)
    return text


def worklog_digest(worklog: HubWorklog) -> str:
    """``<seconds>:<fingerprint of start and comment>``: what a trace remembers of it."""
    fingerprint = body_digest(f"{worklog.start_date or 0}\n{worklog.comment}")
    return f"{worklog.time_spent}:{fingerprint}"


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

    A new work log goes with its author (the one its header names, if it is a mirror);
    an edit with its time, start and comment; a traced one that is gone as a deletion.
    """
    found = WorklogDiff()
    for worklog in worklogs:
        digest = worklog_digest(worklog)
        known = worklog.id in traced
        if known and traced[worklog.id] == digest:
            continue
        name, comment = split_header(worklog.comment)
        author = UserRef(display_name=name) if name else worklog.author
        found.changes.append(
            WorklogChange(
                action=ChangeAction.UPDATE if known else ChangeAction.ADD,
                source_id=worklog.id,
                time_spent=worklog.time_spent,
                started=worklog.start_date,
                comment=comment,
                author=None if known else author,
            )
        )
        (found.changed if known else found.added).append((worklog.id, digest))
    present = {worklog.id for worklog in worklogs}
    for local_id in traced:
        if local_id not in present:
            found.changes.append(WorklogChange(action=ChangeAction.DELETE, source_id=local_id))
            found.removed.append(local_id)
    return found
