"""Redmine's time entries as work logs: ``/time_entries.json`` of one issue, read and written.

A time entry logs ``hours`` (a decimal) on a day (``spent_on``) with ``comments`` (at most
1,024 characters) and an *activity*, which Redmine requires. The adapter logs synced work
under Redmine's **default activity** (``is_default`` in
``/enumerations/time_entry_activities.json``, the one Redmine preselects for a person) as
the project has it (``/projects/<id>.json?include=time_entry_activities``, Redmine 4.2
and later: a project may override the shared activities, or leave the default out: then
its first activity), else the first active one: work logs of other trackers have no
activity to map.

Work logs read: seconds are ``hours`` x 3600, rounded; the start is ``spent_on`` at 00:00
UTC (Redmine keeps no time of day), so a work log crossing from Redmine starts at midnight,
and one crossing into Redmine keeps its day. An issue's entries are read only when its
``spent_hours`` says it has some (no request for the others); without the permission
"View spent time" Redmine shows no ``spent_hours``, and no work log is read.

Idempotency: each entry the adapter logs carries the invisible marker of its key at the
end of its comments (see ``markers``); a retry after a crash reads the issue's entries
and finds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

from issuesync.domain.replica import HubWorklog, due_to_ms
from issuesync.errors import NotFoundError, TrackerRejectedError
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import WorklogDraft
from issuesync.trackers.redmine import markers
from issuesync.trackers.redmine.client import RedmineClient
from issuesync.trackers.redmine.shape import UserOf

MAX_COMMENTS: Final = 1024  # Redmine's limit on a time entry's comments (since 4.0)
PAGE: Final = 100  # Redmine's largest page
MAX_ENTRIES: Final = 10_000  # entries read per issue, at most
ACTIVITIES: Final = "enumerations/time_entry_activities.json"


class TimeLog:
    """One Redmine's time entries, as the sync user sees them."""

    def __init__(self, client: RedmineClient, project: str, user: UserOf) -> None:
        self._client = client
        self._project = project
        self._user = user
        self._activity: int | None = None

    def worklogs(self, issue: Mapping[str, Any]) -> list[HubWorklog]:
        """The issue's time entries, oldest first (none read when it has no spent hours)."""
        spent = issue.get("spent_hours")
        if not isinstance(spent, int | float) or spent <= 0:
            return []
        return [self.worklog(e) for e in self._entries(str(issue["id"]))]

    def worklog(self, entry: Mapping[str, Any]) -> HubWorklog:
        """One time entry as a work log (its marker stripped)."""
        hours = entry.get("hours")
        seconds = round(float(hours) * 3600) if isinstance(hours, int | float) else 0
        created = fieldcodec.parse_datetime(entry.get("created_on"))
        return HubWorklog(
            id=str(entry["id"]),
            author=self._user(entry.get("user")),
            start_date=due_to_ms(fieldcodec.parse_day(entry.get("spent_on"))),
            time_spent=seconds,
            comment=markers.strip(entry.get("comments")),
            created=created,
            updated=fieldcodec.parse_datetime(entry.get("updated_on")) or created,
        )

    def add(self, issue_id: str, draft: WorklogDraft, key: str) -> HubWorklog:
        """Log the draft on the issue, once per ``key`` (found again by its marker)."""
        earlier = self._find(issue_id, key)
        if earlier is not None:
            return earlier
        body = self._body(draft, markers.mark(_cut(draft.comment), key))
        body |= {"issue_id": int(issue_id), "activity_id": self._default_activity()}
        created = self._client.post("time_entries.json", {"time_entry": body})
        return self.worklog(created["time_entry"])

    def edit(self, entry_id: str, draft: WorklogDraft) -> HubWorklog:
        """Replace an entry's hours, day and comments (its marker kept); read it back."""
        path = f"time_entries/{_id(entry_id)}.json"
        found = self._client.get(path)["time_entry"]
        kept = markers.markers_in(found.get("comments"))
        comments = _cut(draft.comment) + (f"\n{kept[0]}" if kept else "")
        self._client.put(path, {"time_entry": self._body(draft, comments)})
        return self.worklog(self._client.get(path)["time_entry"])

    def delete(self, entry_id: str) -> None:
        """Delete an entry; one that is gone already is no error."""
        self._client.delete(f"time_entries/{_id(entry_id)}.json", missing_ok=True)

    def _entries(self, issue_id: str) -> list[Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        offset = 0
        while offset < MAX_ENTRIES:
            answer = self._client.get(
                "time_entries.json", {"issue_id": issue_id, "limit": PAGE, "offset": offset}
            )
            page = [e for e in answer.get("time_entries") or [] if isinstance(e, Mapping)]
            found.update((str(e["id"]), e) for e in page)
            offset += len(page)
            if not page or offset >= int(answer.get("total_count") or 0):
                break
        return sorted(found.values(), key=lambda e: int(e["id"]))

    def _find(self, issue_id: str, key: str) -> HubWorklog | None:
        wanted = markers.marker(key)
        for entry in self._entries(issue_id):
            if wanted in markers.markers_in(entry.get("comments")):
                return self.worklog(entry)
        return None

    def _body(self, draft: WorklogDraft, comments: str) -> dict[str, object]:
        started = draft.started if draft.started is not None else _now_ms()
        day = dt.datetime.fromtimestamp(started / 1000, tz=dt.UTC).date()
        return {"hours": draft.time_spent / 3600, "spent_on": day.isoformat(), "comments": comments}

    def _default_activity(self) -> int:
        """Redmine's default activity, as this project has it (a project may override the
        shared activities with its own: then the one of the default's name, else its first)."""
        if self._activity is None:
            listed = self._client.get(ACTIVITIES).get("time_entry_activities") or []
            active = [a for a in listed if isinstance(a, Mapping) and a.get("active", True)]
            default = next((a for a in active if a.get("is_default")), None)
            mine = self._client.get(
                f"projects/{quote(self._project, safe='')}.json",
                {"include": "time_entry_activities"},
            )["project"].get("time_entry_activities")
            if isinstance(mine, list) and mine:  # Redmine 4.2 and later say which
                name = default.get("name") if default else None
                active = [a for a in mine if isinstance(a, Mapping)]
                default = next((a for a in active if a.get("name") == name), None)
            chosen = default or next(iter(active), None)
            if chosen is None:
                raise TrackerRejectedError(
                    "Redmine has no active time entry activity for this project: add one "
                    "(Administration > Enumerations, or the project's settings) to sync "
                    "work logs.",
                    field_errors={"activity_id": "no activity"},
                )
            self._activity = int(chosen["id"])
        return self._activity


def _cut(comment: str) -> str:
    """The comment within Redmine's limit, leaving room for the marker."""
    room = MAX_COMMENTS - len(markers.marker("")) - 1
    return comment if len(comment) <= room else comment[: room - 1] + "…"


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _id(entry_id: str) -> str:
    if not entry_id.isdigit():
        raise NotFoundError(f"'{entry_id}' is not a Redmine time entry id.")
    return entry_id
