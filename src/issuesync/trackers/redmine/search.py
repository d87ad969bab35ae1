"""Listing a Redmine project's issues: the ``updated_on`` filter, paging, and queries.

A *query* of the ``redmine`` adapter is a set of issue-list filter parameters,
written as a URL query string, as Redmine's own issue list takes them::

    tracker_id=1&status_id=open
    subject=~needle
    cf_4=Yes&assigned_to_id=me
    query_id=7                      (a saved query, with its own filters)

An issue matches a query when Redmine lists it with those parameters in the
connector's project; several queries match what any of them matches. Without
``status_id``, a query means every status (Redmine's default is open ones only).
Parameters that would leave the project or steer the paging (``project_id``,
``offset``, ``limit``, ``sort``, ``key``, ``format``) are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

from issuesync.errors import ConfigurationError, TrackerRejectedError
from issuesync.trackers.redmine.client import RedmineClient

MAX_LIMIT: Final = 100  # Redmine lists at most 100 issues per request
IDS_PER_REQUEST: Final = 50  # issue ids per ``issue_id=1,2,...``: short URLs
MAX_SAVED_QUERY_PAGES: Final = 100  # a saved query's issues are paged through, up to this
RESERVED: Final = frozenset({"project_id", "offset", "limit", "sort", "key", "format", "page"})


def parse_query(query: str) -> dict[str, str]:
    """A query's parameters.

    Raises:
        ConfigurationError: not a query string, or a reserved parameter.
    """
    try:
        pairs = parse_qsl(query.strip().lstrip("?"), keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise ConfigurationError(
            f"The Redmine query '{query}' is not a query string like 'tracker_id=1&status_id=open'."
        ) from exc
    params = dict(pairs)
    if reserved := sorted(RESERVED & set(params)):
        raise ConfigurationError(
            f"The Redmine query '{query}' sets {', '.join(reserved)}, "
            "which the adapter sets itself."
        )
    params.setdefault("status_id", "*")
    return params


def timestamp(ms: int) -> str:
    """Epoch ms as the ``updated_on`` filter's bound, rounded down to the second."""
    moment = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class IssueList:
    """Lists of one project's issues (``issues.json``), as rows: the list's issue JSON."""

    def __init__(self, client: RedmineClient, project: str) -> None:
        self._client = client
        self._project = project

    def page(
        self, since_ms: int | None, offset: int, limit: int
    ) -> tuple[list[Mapping[str, Any]], int]:
        """One page of the issues updated at or after ``since_ms``, oldest update first."""
        params: dict[str, Any] = {
            "project_id": self._project,
            "subproject_id": "!*",
            "status_id": "*",
            "sort": "updated_on,id",
            "offset": offset,
            "limit": min(limit, MAX_LIMIT),
        }
        if since_ms is not None:
            params["updated_on"] = f">={timestamp(since_ms)}"
        answer = self._client.get("issues.json", params)
        return list(answer.get("issues") or []), int(answer.get("total_count") or 0)

    def matching(self, ids: Sequence[int], queries: Sequence[str]) -> set[int]:
        """Which of ``ids`` any query lists."""
        found: set[int] = set()
        for query in queries:
            params = parse_query(query)
            if "query_id" in params:  # Redmine ignores filters next to a saved query
                found |= set(ids) & self._saved(params)
                continue
            for start in range(0, len(ids), IDS_PER_REQUEST):
                chunk = ids[start : start + IDS_PER_REQUEST]
                listed = self._list(
                    {**params, "issue_id": ",".join(map(str, chunk)), "limit": MAX_LIMIT}, query
                )
                found |= {int(i["id"]) for i in listed}
        return found

    def _saved(self, params: Mapping[str, str]) -> set[int]:
        ids: set[int] = set()
        for page in range(MAX_SAVED_QUERY_PAGES):
            listed = self._list(
                {**params, "offset": page * MAX_LIMIT, "limit": MAX_LIMIT}, str(params)
            )
            ids |= {int(i["id"]) for i in listed}
            if len(listed) < MAX_LIMIT:
                break
        return ids

    def _list(self, params: Mapping[str, Any], query: str) -> list[Mapping[str, Any]]:
        try:
            answer = self._client.get(
                "issues.json", {"project_id": self._project, "subproject_id": "!*", **params}
            )
        except TrackerRejectedError as exc:
            raise ConfigurationError(
                f"Redmine refused the query '{query}': {exc.describe()}"
            ) from exc
        return list(answer.get("issues") or [])


def scan(
    issues: IssueList, since_ms: int | None, page_size: int
) -> Iterator[list[Mapping[str, Any]]]:
    """Pages of list rows updated at or after ``since_ms``, each issue at each update once.

    Keyset steps over ``updated_on``: after a page, the next starts at the last
    row's second (rows read at that update are left out), so an issue that
    changes meanwhile moves on and comes again, never skipped; a page wholly
    within one second is stepped through by offset.
    """
    seen: dict[int, str] = {}
    bound = since_ms
    offset = 0
    for _ in range(1_000_000):  # bounded: each round moves the bound or the offset on
        rows, total = issues.page(bound, offset, page_size)
        if not rows:
            return
        fresh = [r for r in rows if seen.get(int(r["id"])) != r.get("updated_on")]
        for row in fresh:
            seen[int(row["id"])] = str(row.get("updated_on"))
        if fresh:
            yield fresh
        if offset + len(rows) >= total:
            return
        last = _ms(rows[-1].get("updated_on"))
        if bound is None or last // 1000 > bound // 1000:
            bound, offset = last, 0
        else:
            offset += len(rows)


def _ms(value: object) -> int:
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)
