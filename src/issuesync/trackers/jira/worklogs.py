"""Work logs of a Jira issue: read in pages of ``/issue/{key}/worklog``, written there.

A search or a GET of the issue carries a first page of its work logs (``fields.worklog``,
20 on Jira Server); an issue with more is read whole from ``/worklog``. Writes are
``POST``, ``PUT`` and ``DELETE /issue/{key}/worklog[/{id}]`` with ``timeSpentSeconds``,
``started`` and ``comment`` (ADF on Cloud); Jira moves the remaining estimate as it does
for a person (``adjustEstimate=auto``, its default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import WorklogDraft
from issuesync.trackers.jira.adf import texts_of
from issuesync.trackers.jira.client import JiraClient

WORKLOG_PAGE: Final = 1000  # work logs per /worklog page (Jira Server answers all at once)
MAX_WORKLOGS: Final = 10_000  # work logs read per issue, at most


def with_worklogs(client: JiraClient, issue: Mapping[str, Any]) -> Mapping[str, Any]:
    """The issue with all its work logs: ``fields.worklog`` holds a first page at most.

    A server that leaves the field out (it keeps no work logs) is asked nothing more.
    """
    fields = issue.get("fields") or {}
    field = fields.get("worklog")
    if not isinstance(field, Mapping):
        return issue
    listed = field.get("worklogs")
    if isinstance(listed, list) and int(field.get("total") or 0) <= len(listed):
        return issue
    found: dict[str, Mapping[str, Any]] = {}
    start = 0
    while start < MAX_WORKLOGS:  # a server may answer fewer than asked for: on from there
        answer = client.get(
            f"issue/{issue['key']}/worklog", {"startAt": start, "maxResults": WORKLOG_PAGE}
        )
        page = [w for w in answer.get("worklogs") or [] if isinstance(w, Mapping)]
        found.update((str(w["id"]), w) for w in page)
        start += len(page)
        if not page or start >= int(answer.get("total") or 0):
            break
    return {**issue, "fields": {**fields, "worklog": {"worklogs": list(found.values())}}}


def body(draft: WorklogDraft, comment: object) -> dict[str, object]:
    """The body of a ``/worklog`` write (``comment`` as the server takes text)."""
    values: dict[str, object] = {"timeSpentSeconds": draft.time_spent, "comment": comment}
    if draft.started is not None:
        values["started"] = fieldcodec.format_datetime(draft.started)
    return values


def as_v2(issue: dict[str, Any]) -> dict[str, Any]:
    """A Cloud issue (already named, see ``cloud.issue_as_v2``) with its work logs'
    comments as text instead of ADF."""
    fields = issue.get("fields") or {}
    field = fields.get("worklog")
    if not isinstance(field, Mapping):
        return issue
    listed = [w for w in field.get("worklogs") or [] if isinstance(w, Mapping)]
    texts = texts_of([w.get("comment") for w in listed])
    converted = [{**w, "comment": text or ""} for w, text in zip(listed, texts, strict=True)]
    return {**issue, "fields": {**fields, "worklog": {**field, "worklogs": converted}}}
