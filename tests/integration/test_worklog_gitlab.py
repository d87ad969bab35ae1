"""Work logs between a built-in project and GitLab's time tracking (the fake, over HTTP).

GitLab keeps a total of time spent per issue: a work log made in PA is added to it (its
author and comment in the summary), and time added in GitLab crosses to PA as one work
log per change seen. Edits and deletions of work logs do not reach GitLab, and say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import Pair, integration_pair, local_body, make_project_admin
from tracker_helpers import API, create_issue

from issuesync.services import Services
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab, GitLabProject
from issuesync.testing.handler_server import HandlerServer

FIELDS = ("summary", "comment", "worklog")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, HandlerServer]]:
    fake = FakeGitLab()
    server = HandlerServer(fake)
    server.start()
    try:
        yield fake, server
    finally:
        server.stop()


@pytest.fixture
def scene(
    services: Services, admin: httpx.Client, gitlab: tuple[FakeGitLab, HandlerServer]
) -> Iterator[tuple[Pair, GitLabProject, httpx.Client]]:
    fake, server = gitlab
    sync = fake.add_user("sync", email="sync@example.test")
    person = fake.add_user("dana", name="Dana Lee", email="dana@example.test")
    project = fake.add_project("group/app", members={sync: MAINTAINER, person: MAINTAINER})
    body = local_body()
    first = body["firstConnector"].setdefault("configuration", {})
    first["fieldMappings"] = [{"localField": n, "remoteField": n} for n in FIELDS]
    first["issueTypeMappings"] = {
        "outgoing": [{"local": "Task", "remote": "Issue"}],
        "incoming": [{"local": "Task", "remote": "Issue"}],
    }
    first["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": "To Do", "remote": "Open"}]}
    ]
    second = body["secondConnector"]
    second["projectKey"] = "group/app"
    second["connection"]["application"] = {
        "system": "gitlab",
        "baseUrl": server.url,
        "token": sync.token,
    }
    second.setdefault("configuration", {})["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": "Open", "remote": "To Do"}]}
    ]
    api = httpx.Client(
        base_url=f"{server.url}/api/v4/projects/{project.id}",
        headers={"PRIVATE-TOKEN": person.token},
        timeout=10,
    )
    with integration_pair(services, admin, body) as pair, api:
        make_project_admin(services, "backbone", "PA")
        yield pair, project, api


def _local(client: httpx.Client, key: str) -> list[tuple[int, str]]:
    listed = client.get(f"{API}/issue/{key}/worklog").json()["worklogs"]
    return [(w["timeSpentSeconds"], w["comment"]) for w in listed]


def _log(client: httpx.Client, key: str, seconds: int, comment: str) -> str:
    made = client.post(
        f"{API}/issue/{key}/worklog", json={"timeSpentSeconds": seconds, "comment": comment}
    )
    assert made.status_code == 201, made.text
    worklog_id: str = made.json()["id"]
    return worklog_id


def _total(project: GitLabProject, iid: str) -> int:
    stats: dict[str, Any] = project.issues[int(iid)]["time_stats"]
    return int(stats["total_time_spent"])


def test_work_logs_add_to_gitlab_time_spent_and_its_gains_come_back(
    scene: tuple[Pair, GitLabProject, httpx.Client],
) -> None:
    pair, project, api = scene
    key = create_issue(pair.client, "PA", "Time me")
    first = _log(pair.client, key, 5400, "in PA")
    pair.settle()
    iid = pair.twin(key)
    assert _total(project, iid) == 5400
    assert project.timelogs == [
        {
            "iid": int(iid),
            "user": project.timelogs[0]["user"],
            "summary": "Administrator logged: in PA",
        }
    ]
    assert pair.engine.step() == 0  # the total holds only what the sync added: nothing new

    # Time added in GitLab by a person crosses once, as what the total gained.
    spent = api.post(f"/issues/{iid}/add_spent_time", json={"duration": "1h30m"})
    assert spent.status_code == 201, spent.text
    assert spent.json()["total_time_spent"] == 5400 + 5400
    pair.settle()
    assert sorted(_local(pair.client, key)) == [
        (5400, "GitLab time tracking logged."),
        (5400, "in PA"),
    ]
    assert pair.engine.step() == 0

    # A second work log in PA adds again; the first one's edit and deletion stay in PA.
    _log(pair.client, key, 600, "more")
    edited = pair.client.put(
        f"{API}/issue/{key}/worklog/{first}", json={"timeSpentSeconds": 60, "comment": "less"}
    )
    assert edited.status_code == 200, edited.text
    pair.settle()
    assert _total(project, iid) == 5400 + 5400 + 600
    notes = [m.reason or "" for m in pair.messages(pair.second_id, "archive")]
    assert any("keeps only a total of time spent, so its edit" in n for n in notes), notes
    assert pair.engine.step() == 0

    # Time taken off in GitLab does not cross; what it gains later is measured afresh.
    api.post(f"/issues/{iid}/add_spent_time", json={"duration": "-10m"})
    pair.settle()
    assert len(_local(pair.client, key)) == 3
    api.post(f"/issues/{iid}/add_spent_time", json={"duration": "40m"})
    pair.settle()
    # 40m in, 10m out since the traces' sum: 30m cross.
    assert sorted(_local(pair.client, key)) == [
        (60, "less"),
        (600, "more"),
        (1800, "GitLab time tracking logged."),
        (5400, "GitLab time tracking logged."),
    ]
    assert pair.engine.step() == 0


def test_the_fake_keeps_gitlab_durations_and_refuses_a_negative_total(
    gitlab: tuple[FakeGitLab, HandlerServer],
) -> None:
    fake, server = gitlab
    user = fake.add_user("dana")
    project = fake.add_project("group/app", members={user: MAINTAINER})
    with httpx.Client(
        base_url=f"{server.url}/api/v4/projects/{project.id}",
        headers={"PRIVATE-TOKEN": user.token},
        timeout=10,
    ) as api:
        iid = api.post("/issues", json={"title": "t"}).json()["iid"]
        assert api.post(f"/issues/{iid}/add_spent_time?duration=1d2h").json() == {
            "time_estimate": 0,
            "total_time_spent": 10 * 3600,
            "human_time_estimate": None,
            "human_total_time_spent": "1d 2h",
        }
        refused = api.post(f"/issues/{iid}/add_spent_time", json={"duration": "-2d"})
        assert refused.status_code == 400
        assert (
            api.post(f"/issues/{iid}/add_spent_time", json={"duration": "soon"}).status_code == 400
        )
        reset = api.post(f"/issues/{iid}/reset_spent_time").json()
        assert reset["total_time_spent"] == 0
        assert api.get(f"/issues/{iid}/time_stats").json()["total_time_spent"] == 0
        notes = api.get(f"/issues/{iid}/notes").json()
        assert [n["body"] for n in notes if n["system"]] == [
            "removed time spent",
            "added 1d 2h of time spent",
        ]
