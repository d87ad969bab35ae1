"""JQL searches of one Jira project: the changed-issues scan, issues by key, recent creations.

Searches are GETs (``/search?jql=``), as every Jira client sends them, and only a
JQL too long for a URL (a hundred keys, long configured queries) is POSTed: some
Jira-compatible servers (jira820) have no POST ``/search``. JQL compares dates
to the minute, in the time zone of the user who searches, so dates are written
in the sync user's zone (``/myself``'s ``timeZone``), as ``yyyy-MM-dd HH:mm``
(Jira reads ``yyyy/MM/dd`` too; a server that reads only ISO days still
understands the date part).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any, Final

from issuesync.errors import ConfigurationError, TrackerRejectedError
from issuesync.trackers import fieldcodec
from issuesync.trackers.jira.client import JiraClient

# Longer JQL is POSTed: a URL should stay under ~8 KB through every proxy on the way.
MAX_GET_JQL: Final = 3000
SCAN_SIZE: Final = 1000
CLOUD_PAGE: Final = 100  # Cloud's cap of maxResults when fields are asked for
MAX_TOKENS: Final = 100  # keys read per scan step (Jira's usual cap of maxResults)
# Jira's refusal of a ``key in`` naming an issue it does not have.
MISSING_KEY: Final = re.compile(r"An issue with key '([^']+)' does not exist")
MINUTE_MS: Final = 60_000


def quoted(text: str) -> str:
    """A JQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def minute(ms: int) -> int:
    """Epoch ms rounded down to the minute (time zones differ by whole minutes)."""
    return ms - ms % MINUTE_MS


class IssueSearch:
    """The searches the adapter sends, for one project."""

    def __init__(self, client: JiraClient, project_key: str) -> None:
        self._client = client
        self.project_key = project_key
        self._zone: dt.tzinfo | None = None
        self._tokens: dict[tuple[str, int], str] = {}  # Cloud: (JQL, position) -> next page

    def search(
        self,
        jql: str,
        start_at: int,
        max_results: int,
        fields: Sequence[str],
        *,
        validate: bool = True,
        properties: Sequence[str] = (),
    ) -> Mapping[str, Any]:
        """One page of ``/search``'s answer (``issues`` and ``total``, on Cloud too)."""
        if self._client.is_cloud():
            return self._cloud_search(jql, start_at, max_results, fields, properties)
        body: dict[str, object] = {
            "jql": jql,
            "startAt": start_at,
            "maxResults": max_results,
            "fields": list(fields),
        }
        if not validate:
            body["validateQuery"] = False
        if properties:
            body["properties"] = list(properties)
        if len(jql) > MAX_GET_JQL:
            answer: Mapping[str, Any] = self._client.post("search", body)
            return answer
        params = {
            name: ",".join(value) if isinstance(value, list) else value
            for name, value in body.items()
        }
        if "validateQuery" in params:
            params["validateQuery"] = "false"
        found: Mapping[str, Any] = self._client.get("search", params)
        return found

    def _cloud_search(
        self,
        jql: str,
        start_at: int,
        max_results: int,
        fields: Sequence[str],
        properties: Sequence[str],
    ) -> Mapping[str, Any]:
        """Cloud's ``POST /search/jql``: pages by ``nextPageToken``, no offsets, no total.

        The token that ends a page is remembered by (JQL, position), so the next
        step from there continues it; a position without a token (after a restart)
        is reached by reading from the first page. ``total`` is the position after
        the page, plus one while more pages follow.
        """
        token = self._tokens.pop((jql, start_at), None) if start_at else None
        skip = start_at if start_at and token is None else 0
        issues: list[Mapping[str, Any]] = []
        last = False
        while len(issues) < max_results and not last:
            body: dict[str, object] = {
                "jql": jql,
                "maxResults": min(CLOUD_PAGE, max_results - len(issues) + skip),
                "fields": list(fields),
            }
            if token:
                body["nextPageToken"] = token
            if properties:
                body["properties"] = list(properties)
            answer = self._client.post("search/jql", body)
            page = [i for i in answer.get("issues") or [] if isinstance(i, Mapping)]
            dropped = min(skip, len(page))
            skip -= dropped
            issues.extend(page[dropped:])
            token = answer.get("nextPageToken")
            # Cloud leaves nextPageToken out of the last page (JRACLOUD-92184).
            last = not token or bool(answer.get("isLast")) or not page
        end = start_at + len(issues)
        if not last and token:
            self._tokens[(jql, end)] = str(token)
            while len(self._tokens) > MAX_TOKENS:
                del self._tokens[next(iter(self._tokens))]
        return {"startAt": start_at, "issues": issues, "total": end if last else end + 1}

    def where(self, bound: int | None, queries: Sequence[str]) -> str:
        """The project's issues updated at or after the minute ``bound``, matching any query."""
        clauses = [f"project = {quoted(self.project_key)}"]
        if bound is not None:
            clauses.append(f"updated >= {quoted(self.jql_minute(bound))}")
        if queries:
            clauses.append("(" + " OR ".join(f"({q})" for q in queries) + ")")
        return " AND ".join(clauses)

    def scan(
        self, bound: int | None, queries: Sequence[str], offset: int
    ) -> tuple[list[tuple[str, int]], int]:
        """``(key, updated ms)`` of a step of the changed issues, oldest first, and the total.

        Raises:
            ConfigurationError: Jira refused a query.
        """
        jql = f"{self.where(bound, queries)} ORDER BY updated ASC, key ASC"
        try:
            answer = self.search(jql, offset, SCAN_SIZE, ["updated"])
        except TrackerRejectedError as exc:
            raise ConfigurationError(
                f"Jira refused the queries of project {self.project_key}: {exc.message}"
            ) from exc
        rows = [
            (str(i["key"]), fieldcodec.parse_datetime((i.get("fields") or {}).get("updated")) or 0)
            for i in answer.get("issues") or []
        ]
        return rows, int(answer.get("total") or 0)

    def by_keys(
        self, prefix: str, keys: Sequence[str], fields: Sequence[str], suffix: str = ""
    ) -> list[Mapping[str, Any]]:
        """The issues ``<prefix>key in (keys)<suffix>`` finds; keys of deleted issues drop out.

        Jira refuses a ``key in`` that names an issue it does not have (unless told
        not to validate, which not every version honours): the keys its messages
        name are left out and the search is sent again.
        """
        wanted = list(keys)
        while wanted:
            jql = f"{prefix}key in ({', '.join(map(quoted, wanted))}){suffix}"
            try:
                answer = self.search(jql, 0, len(wanted), fields, validate=False)
            except TrackerRejectedError as exc:
                missing = set(MISSING_KEY.findall(exc.message))
                if not missing & set(wanted):
                    raise
                wanted = [k for k in wanted if k not in missing]
                continue
            return list(answer.get("issues") or [])
        return []

    def jql_minute(self, ms: int) -> str:
        """Epoch ms as a JQL date (``yyyy-MM-dd HH:mm``) in the sync user's time zone."""
        if self._zone is None:
            name = self._client.get("myself").get("timeZone")
            try:
                self._zone = zoneinfo.ZoneInfo(name) if isinstance(name, str) and name else dt.UTC
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self._zone = dt.UTC
        moment = dt.datetime.fromtimestamp(ms / 1000, tz=self._zone)
        return moment.strftime("%Y-%m-%d %H:%M")

    def created_lately(self, days: int, limit: int, prop: str) -> list[Mapping[str, Any]]:
        """The issues the sync user created in the last ``days`` days, with property ``prop``.

        Empty when Jira refuses the search: recovery is best effort (see ``adapter``).
        """
        jql = (
            f"project = {quoted(self.project_key)} AND creator = currentUser() "
            f"AND created >= -{days}d ORDER BY created DESC"
        )
        try:
            answer = self.search(jql, 0, limit, ["created"], properties=[prop])
        except TrackerRejectedError:
            return []
        return list(answer.get("issues") or [])
