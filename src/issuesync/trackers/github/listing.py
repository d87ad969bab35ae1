"""Listing a repository's issues: queries, the cheap poll, the full scan (``changed_since``).

A **query** of a GitHub connector is a set of the issue list's own filters, in
URL query form: ``labels=bug,ui&assignee=octocat`` (``labels``, ``assignee``,
``creator``, ``mentioned``, ``milestone`` as GitHub takes them: a number, ``*``
or ``none``; ``state``: ``open``, ``closed`` or ``all``, the default), plus
``title=word``, which the adapter itself applies (GitHub's list cannot filter by
words): the issue's title contains the word, ignoring case. An issue matches a
query when it passes every filter; a connector's queries are alternatives.

Two ways to list what changed since a time:

- **the recent page** (:meth:`IssueLister.recent`): the first page of the list
  ordered by update time, newest first. Its URL is the same at every poll, so
  its ``ETag`` is too while nothing changes: an idle poll is one ``304``, which
  GitHub does not count against the rate limit. It answers whenever the page
  reaches back past ``since``;
- **the scan** (:meth:`IssueLister.scan`), oldest first from ``since``, for a
  first poll and for when more changed than one page holds. Its steps are keyed
  on the update time (the next step asks ``since`` = the last time read), so
  an issue that changes meanwhile moves to the end and cannot shift an unread
  one past the page boundary; only issues updated within one second are stepped
  through by ``Link: rel="next"``. ``since`` goes to GitHub a second early: its
  documentation says "after", and the adapter drops what is older itself.

A comment edited on GitHub may leave its issue's ``updated_at`` as it was, so a
poll also reads the newest page of the repository's comments (``sort=updated``,
again one stable URL: a ``304`` while nothing changed) and adds the issues whose
comments changed since.

An issue's comments come from those repository-wide lists too, when a list
holds as many of them as the issue counts: the poll's newest page, or, for a
scan (a first sync), the list read once with ``since``, 100 comments a page.
Only an issue whose count the list does not reach is read on its own.

Pull requests, which the issue list includes, are left out everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import merge
from typing import Any, Final
from urllib.parse import parse_qsl

from issuesync.errors import ConfigurationError
from issuesync.trackers.github.client import MAX_PAGES, GitHubClient, each_page, next_page
from issuesync.trackers.github.shape import is_pull_request, number_of, updated_s

Json = Mapping[str, Any]

MAX_PER_PAGE: Final = 100
SERVER_FILTERS: Final = frozenset({"labels", "assignee", "creator", "mentioned", "milestone"})
STATES: Final = frozenset({"open", "closed", "all"})


@dataclass(frozen=True)
class Query:
    """One query: the list's filters (``params``) and the adapter's own ``title`` word."""

    params: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None

    def admits(self, issue: Json) -> bool:
        """Whether a listed item passes what GitHub did not filter: not a PR, the title word."""
        if is_pull_request(issue):
            return False
        return self.title is None or self.title.lower() in str(issue.get("title") or "").lower()

    def matches(self, issue: Json) -> bool | None:
        """Whether an issue read on its own passes every filter; None when that cannot be
        told from the issue (``mentioned``): then only GitHub's list can say."""
        if "mentioned" in self.params:
            return None
        return self.admits(issue) and all(
            _passes(name, value, issue) for name, value in self.params.items()
        )


def _login(user: object) -> str:
    return str(user.get("login") or "").lower() if isinstance(user, Mapping) else ""


def _some_none_or(wanted: str, present: set[str]) -> bool:
    """GitHub's ``*`` (any), ``none``, or one value among those ``present``."""
    if wanted == "*":
        return bool(present)
    if wanted == "none":
        return not present
    return wanted in present


def _passes(name: str, value: str, issue: Json) -> bool:
    """One list filter, as GitHub applies it, on one issue."""
    wanted = value.lower()
    if name == "state":
        return wanted in {"all", str(issue.get("state"))}
    if name == "labels":
        names = {str(label.get("name") or "").lower() for label in issue.get("labels") or []}
        return {n.strip() for n in wanted.split(",") if n.strip()} <= names
    if name == "creator":
        return _login(issue.get("user")) == wanted
    if name == "assignee":
        return _some_none_or(wanted, {_login(user) for user in issue.get("assignees") or []})
    milestone = issue.get("milestone")
    numbers = {str(milestone.get("number"))} if isinstance(milestone, Mapping) else set()
    return _some_none_or(wanted, numbers)


def parse_query(text: str) -> Query:
    """A connector's query text as a :class:`Query`.

    Raises:
        ConfigurationError: an unknown filter, an empty value or a bad state.
    """
    params: dict[str, str] = {}
    title: str | None = None
    for name, value in parse_qsl(text.strip().lstrip("?"), keep_blank_values=True):
        name, value = name.strip(), value.strip()  # noqa: PLW2901 - the same pair, trimmed
        if not value:
            raise ConfigurationError(f"The GitHub query '{text}' gives '{name}' no value.")
        if name == "title":
            title = value
        elif (name == "state" and value in STATES) or name in SERVER_FILTERS:
            params[name] = value
        else:
            allowed = ", ".join(sorted({*SERVER_FILTERS, "state", "title"}))
            raise ConfigurationError(
                f"The GitHub query '{text}' has '{name}={value}': a query takes {allowed} "
                "(state: open, closed or all), as in 'labels=bug&assignee=octocat'."
            )
    if not params and title is None:
        raise ConfigurationError(f"The GitHub query '{text}' has no filter.")
    return Query(params, title)


def issue_number_of(comment: Json) -> str:
    """The number of the issue (or pull request) a comment from a repository-wide list is on."""
    return str(comment.get("issue_url") or "").rsplit("/", 1)[-1]


def newest_updates(commented: Mapping[str, list[Json]]) -> dict[str, int]:
    """Each issue's newest comment update (whole seconds), from :meth:`IssueLister.commented`."""
    return {number: max(map(updated_s, found)) for number, found in commented.items() if found}


def update_order(issue: Json) -> tuple[int, int]:
    """An issue's place in update order: its update time, then its number."""
    return updated_s(issue), int(issue["number"])


def _since_param(bound_s: int) -> str:
    moment = dt.datetime.fromtimestamp(bound_s - 1, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class IssueLister:
    """The issue list of one repository (``repos/{owner}/{repo}/issues``)."""

    def __init__(self, client: GitHubClient, repo_path: str) -> None:
        self._client = client
        self._path = f"{repo_path}/issues"

    def _params(self, query: Query, direction: str, per_page: int) -> dict[str, str]:
        return {
            "state": "all",
            **query.params,
            "sort": "updated",
            "direction": direction,
            "per_page": str(min(max(per_page, 1), MAX_PER_PAGE)),
        }

    def recent(self, bound_s: int, query: Query, per_page: int) -> list[Json] | None:
        """The issues updated at or after ``bound_s``, from the newest page; None: not all there."""
        response = self._client.get_response(self._path, self._params(query, "desc", per_page))
        items = response.json()
        if items and updated_s(items[-1]) >= bound_s and next_page(response) is not None:
            return None
        return [i for i in items if updated_s(i) >= bound_s and query.admits(i)]

    def scan(self, bound_s: int | None, query: Query, per_page: int) -> Iterator[list[Json]]:
        """Pages of the issues updated at or after ``bound_s`` (None: all), oldest first."""
        seen: dict[str, int] = {}
        page: str | None = None
        for _ in range(MAX_PAGES):
            params = self._params(query, "asc", per_page)
            if bound_s is not None:
                params["since"] = _since_param(bound_s)
            if page is not None:
                params["page"] = page
            response = self._client.get_response(self._path, params)
            items = response.json()
            fresh = [
                i
                for i in items
                if (bound_s is None or updated_s(i) >= bound_s)
                and seen.get(number_of(i)) != updated_s(i)
            ]
            seen.update((number_of(i), updated_s(i)) for i in fresh)
            if wanted := [i for i in fresh if query.admits(i)]:
                yield wanted
            following = next_page(response)
            if following is None or not items:
                return
            last = updated_s(items[-1])
            if bound_s is None or last > bound_s:
                bound_s, page = last, None  # the next step starts at the last second read
            else:  # a whole page within one second: on by GitHub's page links
                page = following.get("page")
                if page is None:
                    return

    def commented(self, bound_s: int, per_page: int) -> dict[str, list[Json]]:
        """The comments updated at or after ``bound_s``, by the number of their issue (or pull
        request). Newest first, from a stable URL (a ``304`` while nothing changed)."""
        params = {"sort": "updated", "direction": "desc", "per_page": str(per_page)}
        found: dict[str, list[Json]] = {}
        for page in each_page(self._client, f"{self._path}/comments", params):
            for comment in page:
                if updated_s(comment) < bound_s:
                    return found
                found.setdefault(issue_number_of(comment), []).append(comment)
        return found

    def comments(self, bound_s: int | None) -> dict[str, list[Json]]:
        """The comments updated at or after ``bound_s`` (None: every comment), by the number
        of their issue: the repository-wide list, 100 a page, instead of a request per issue."""
        params = {"per_page": str(MAX_PER_PAGE)}
        if bound_s is not None:
            params["since"] = _since_param(bound_s)
        found: dict[str, list[Json]] = {}
        for page in each_page(self._client, f"{self._path}/comments", params):
            for comment in page:
                found.setdefault(issue_number_of(comment), []).append(comment)
        return found

    def merged_scan(
        self, bound_s: int | None, queries: Sequence[Query], per_page: int
    ) -> Iterator[Json]:
        """Every query's scan, merged by update time; an issue once per update."""
        scans = [
            (item for page in self.scan(bound_s, query, per_page) for item in page)
            for query in queries
        ]
        seen: dict[str, int] = {}
        for item in merge(*scans, key=update_order):
            number = number_of(item)
            if seen.get(number) != updated_s(item):
                seen[number] = updated_s(item)
                yield item

    def numbers(self, query: Query) -> set[str]:
        """The numbers of every issue matching ``query`` (for ``matching``)."""
        params = {"state": "all", **query.params, "per_page": str(MAX_PER_PAGE)}
        return {
            number_of(i)
            for page in each_page(self._client, self._path, params)
            for i in page
            if query.admits(i)
        }


class ListedComments:
    """Comments from a repository-wide list, by issue number, read when first asked for."""

    def __init__(self, read: Callable[[], tuple[int, Mapping[str, list[Json]]]]) -> None:
        self._read = read
        self._read_at = 0
        self._comments: Mapping[str, list[Json]] | None = None

    def of(self, number: str, count: object) -> tuple[int, list[Json]] | None:
        """The issue's comments, oldest first, with when they were read (GitHub's clock, whole
        seconds); None when the list holds fewer or more than the issue's ``count``: one
        added or deleted since the list was read, or older than the list's ``since``."""
        if self._comments is None:
            self._read_at, self._comments = self._read()
        found = self._comments.get(number, [])
        if len(found) != count:
            return None
        return self._read_at, sorted(found, key=lambda comment: int(comment["id"]))
