"""Restricted comments: those only some people see (Jira's comment visibility, GitLab's
internal notes, Redmine's private notes; ``HubComment.internal``).

They stay on their side unless the connector's ``sync.sync_restricted_comments`` says
otherwise: the outgoing route leaves them out of the issue before it diffs it, so no
message (neither its comments nor the replica it carries) holds their text. A comment
restricted after it was synced is gone as far as the partner is concerned: its twin
there is deleted.

With the setting on, they are sent marked ``internal``, and the receiving side writes
them restricted where its tracker can (:class:`~issuesync.trackers.adapter.RestrictedComments`:
GitLab's internal notes, Redmine's private notes); a tracker that cannot (GitHub) shows
them to everyone, as the setting asked, and the message's note says so.
"""

from __future__ import annotations

from issuesync.domain.message import CommentChange
from issuesync.domain.replica import HubComment, Replica, UserRef
from issuesync.engine.pipeline.route import Route
from issuesync.trackers.adapter import RestrictedComments


def shareable(route: Route, replica: Replica) -> Replica:
    """The issue as the partner may see it: without restricted comments, unless the
    connector sends them."""
    issue = replica.hub_issue
    if route.connector.configuration.sync.sync_restricted_comments or not any(
        comment.internal for comment in issue.comments
    ):
        return replica
    public = [comment for comment in issue.comments if not comment.internal]
    return replica.model_copy(update={"hub_issue": issue.model_copy(update={"comments": public})})


def add_comment(
    route: Route,
    local_key: str,
    change: CommentChange,
    body: str,
    author: UserRef | None,
    *,
    idempotency_key: str,
    notes: list[str],
) -> HubComment:
    """Add the partner's comment to ``local_key``; restricted here too when it is restricted
    there (``notes``, the message's, say when it cannot be)."""
    tracker = route.tracker
    if not change.internal:
        return tracker.add_comment(local_key, body, author, idempotency_key=idempotency_key)
    if isinstance(tracker, RestrictedComments):
        return tracker.add_restricted_comment(
            local_key, body, author, idempotency_key=idempotency_key
        )
    notes.append(
        f"comment {change.source_id} is restricted on the partner's side; {tracker.name} "
        "cannot restrict a comment, and the partner's syncRestrictedComments sends it: "
        "everyone sees it here"
    )
    return tracker.add_comment(local_key, body, author, idempotency_key=idempotency_key)
