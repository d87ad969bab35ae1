"""References to synchronized issues in text, rewritten both ways: built-in project <> GitHub.

"see PA-1" in the built-in project reads "see #<twin>" on GitHub, and "#<n>" on GitHub
reads the twin's key in PA; references to issues without a twin, and everything in code,
cross as written. GitHub is the stateful fake over real HTTP, as in ``test_github_sync``;
GitHub has no typed links, which the proposal says (links are not synchronized with it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from github_pair import REPO, GitHub, owner_client, pa_and_github, served_github
from sync_helpers import synced_twin as twin
from sync_helpers import wait_for
from test_github_sync import BASE, configuration
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def github() -> Iterator[GitHub]:
    with served_github() as served:
        yield served


@pytest.fixture
def owner(github: GitHub) -> Iterator[httpx.Client]:
    with owner_client(github) as client:
        yield client


def body(url: str, *, rewrite: bool = True) -> dict[str, Any]:
    first = configuration()
    first["fieldMappings"].append({"localField": "issuelinks", "remoteField": "issuelinks"})
    if not rewrite:
        first["rewriteReferences"] = False
    return pa_and_github(url, first)


def start(client: httpx.Client, url: str, *, rewrite: bool = True) -> str:
    """PA and INT-1 with GitHub, started; returns the GitHub connector's key."""
    create_project(client, "PA")
    created = client.post(f"{BASE}/integrations", json=body(url, rewrite=rewrite))
    assert created.status_code == 200, created.text
    assert created.json()["firstConnector"]["configuration"]["rewriteReferences"] is rewrite
    assert client.put(f"{BASE}/integrations/INT-1/start").status_code in (200, 202, 204)
    return str(created.json()["secondConnector"]["connectorKey"])


def gh_issue(owner: httpx.Client, title: str, text: str = "") -> str:
    made = owner.post(f"/repos/{REPO}/issues", json={"title": title, "body": text})
    assert made.status_code == 201, made.text
    return str(made.json()["number"])


def comments_of(client: httpx.Client, key: str) -> list[str]:
    return [c["body"] for c in client.get(f"{API}/issue/{key}/comment").json()["comments"]]


def test_references_name_the_twins_on_each_side_and_code_is_left_alone(
    engine_client: httpx.Client, github: GitHub, owner: httpx.Client
) -> None:
    fake, server = github
    second = start(engine_client, server.url)
    target = create_issue(engine_client, "PA", "A target in PA")
    on_github = wait_for("PA's target on GitHub", lambda: twin(engine_client, "PA-1", target))
    number = gh_issue(owner, "A target on GitHub")
    in_pa = wait_for("GitHub's target in PA", lambda: twin(engine_client, second, number))

    # From PA: its synced issue's key becomes the twin's number; code and PA-99 stay.
    text = f"Blocked by {target}; log in {{{{{target}}}}}; not PA-99."
    source = create_issue(engine_client, "PA", "Refers in PA", description=text)
    made = wait_for("PA's referring issue on GitHub", lambda: twin(engine_client, "PA-1", source))
    written = fake.repos[REPO].issues[int(made)].body or ""
    # {{...}} is Jira's monospace: GitHub's inline code, where no reference is rewritten.
    assert f"Blocked by #{on_github}; log in `{target}`; not PA-99." in written

    # From GitHub: a number with a twin becomes its key in PA, in a comment too.
    owner.post(
        f"/repos/{REPO}/issues/{made}/comments",
        json={"body": f"Same as #{number}, not `#{number}` nor #999."},
    )
    wait_for("the GitHub comment in PA", lambda: comments_of(engine_client, source))
    # GitHub's inline code is Jira's monospace in PA, where no reference is rewritten.
    said = f"Same as {in_pa}, not {{{{#{number}}}}} nor #999."
    [comment] = comments_of(engine_client, source)
    assert comment.endswith(said)  # under the header naming its author
    other = gh_issue(owner, "Refers on GitHub", f"Follows #{number} and #{made}.")
    new_in_pa = wait_for(
        "the referring GitHub issue in PA", lambda: twin(engine_client, second, other)
    )
    assert fields(engine_client, new_in_pa)["description"] == f"Follows {in_pa} and {source}."

    # Nothing echoes: the rewritten texts are what both sides agreed on.
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
    assert [len(i.comments) for i in fake.repos[REPO].issues.values()] == [0, 0, 1, 0]
    assert comments_of(engine_client, source) == [comment]


def test_a_connector_may_keep_references_as_written(
    engine_client: httpx.Client, github: GitHub, owner: httpx.Client
) -> None:
    _, server = github
    second = start(engine_client, server.url, rewrite=False)
    number = gh_issue(owner, "A target on GitHub")
    wait_for("GitHub's target in PA", lambda: twin(engine_client, second, number))
    other = gh_issue(owner, "Refers on GitHub", f"Follows #{number}.")
    in_pa = wait_for("the referring issue in PA", lambda: twin(engine_client, second, other))
    assert fields(engine_client, in_pa)["description"] == f"Follows #{number}."
