"""Who may call the built-in tracker: 401 without valid credentials, 403 without the role."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
from sqlalchemy import delete, update
from tracker_helpers import API, assert_error, create_issue, create_project, search_keys

from issuesync.accounts import create_token
from issuesync.services import Services
from issuesync.store.users import ApiToken, User

READS = (
    "/serverInfo",
    "/myself",
    "/project",
    "/project/PA",
    "/issuetype",
    "/field",
    "/issue/PA-1",
    "/issue/PA-1/comment",
    "/search?jql=project%3DPA",
    "/user/search?username=a",
)


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _assert_401(response: httpx.Response) -> None:
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_missing_or_wrong_credentials_are_401_and_change_nothing(
    admin: httpx.Client, anonymous: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    create_issue(admin, "PA", "Existing")
    make_client("bob")

    for path in READS:
        _assert_401(anonymous.get(API + path))
    for headers in (
        _basic("bob", "wrong-password"),
        _basic("bob", ""),
        _basic("nobody", "bob-password"),
        _basic("admin", "bob-password"),
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Basic"},
        {"Authorization": "Digest username=bob"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
    ):
        _assert_401(anonymous.get(f"{API}/myself", headers=headers))

    issue = {"fields": {"project": {"key": "PA"}, "summary": "x", "issuetype": {"name": "Task"}}}
    wrong = _basic("admin", "not-the-password")
    _assert_401(anonymous.post(f"{API}/issue", json=issue))
    _assert_401(anonymous.post(f"{API}/issue", json=issue, headers=wrong))
    _assert_401(anonymous.put(f"{API}/issue/PA-1", json={"fields": {"summary": "x"}}))
    _assert_401(anonymous.delete(f"{API}/issue/PA-1", headers=wrong))
    _assert_401(anonymous.post(f"{API}/issue/PA-1/comment", json={"body": "x"}))
    _assert_401(anonymous.post(f"{API}/project", json={"key": "PB", "name": "B"}, headers=wrong))
    _assert_401(
        anonymous.post(
            f"{API}/issue/PA-1/attachments",
            headers={"X-Atlassian-Token": "no-check"},
            files={"file": ("a.txt", b"abc")},
        )
    )
    _assert_401(anonymous.get("/secure/attachment/1/a.txt"))

    assert search_keys(admin, "") == ["PA-1"]
    fields = admin.get(f"{API}/issue/PA-1").json()["fields"]
    assert fields["summary"] == "Existing"
    assert fields["comment"]["total"] == 0
    assert fields["attachment"] == []
    assert [p["key"] for p in admin.get(f"{API}/project").json()] == ["PA"]
    # The right password still works after wrong ones.
    assert make_client_get(anonymous, _basic("bob", "bob-password")) == "bob"


def make_client_get(client: httpx.Client, headers: dict[str, str]) -> str:
    response = client.get(f"{API}/myself", headers=headers)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def test_api_tokens(
    anonymous: httpx.Client, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    make_client("bob")
    make_client("carol")
    token = create_token(services.uow_factory, "bob", "ci")

    assert make_client_get(anonymous, {"Authorization": f"Bearer {token}"}) == "bob"
    assert make_client_get(anonymous, _basic("bob", token)) == "bob"
    # A token is bob's: it does not work under another name.
    _assert_401(anonymous.get(f"{API}/myself", headers=_basic("carol", token)))
    _assert_401(anonymous.get(f"{API}/myself", headers={"Authorization": f"Bearer {token}x"}))
    _assert_401(anonymous.get(f"{API}/myself", headers={"Authorization": f"Bearer {token[:-1]}"}))

    # Revoked: the token's row is gone.
    with services.uow_factory() as uow:
        uow.session.execute(delete(ApiToken).where(ApiToken.name == "ci"))
        uow.commit()
    services.authenticator.forget()
    _assert_401(anonymous.get(f"{API}/myself", headers={"Authorization": f"Bearer {token}"}))
    _assert_401(anonymous.get(f"{API}/myself", headers=_basic("bob", token)))

    # A deactivated user can use neither a password nor a token.
    second = create_token(services.uow_factory, "carol", "ci2")
    assert make_client_get(anonymous, {"Authorization": f"Bearer {second}"}) == "carol"
    assert make_client_get(anonymous, _basic("carol", "carol-password")) == "carol"
    with services.uow_factory() as uow:
        uow.session.execute(update(User).where(User.name == "carol").values(active=False))
        uow.commit()
    services.authenticator.forget()
    _assert_401(anonymous.get(f"{API}/myself", headers={"Authorization": f"Bearer {second}"}))
    _assert_401(anonymous.get(f"{API}/myself", headers=_basic("carol", "carol-password")))


def test_roles_are_enforced_and_refusals_change_nothing(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    bob = make_client("bob")
    lead = make_client("lead", project_admin=("PA",))
    key = create_issue(bob, "PA", "Bob's")
    fields_before = admin.get(f"{API}/field").json()

    assert_error(bob.post(f"{API}/project", json={"key": "PB", "name": "B"}), 403)
    assert_error(lead.post(f"{API}/project", json={"key": "PB", "name": "B"}), 403)
    assert_error(bob.post(f"{API}/field", json={"name": "Size", "type": "number"}), 403)
    assert_error(lead.post(f"{API}/field", json={"name": "Size", "type": "number"}), 403)
    assert_error(bob.post(f"{API}/component", json={"project": "PA", "name": "C"}), 403)
    assert_error(bob.post(f"{API}/version", json={"project": "PA", "name": "1"}), 403)
    assert_error(bob.delete(f"{API}/issue/{key}"), 403)

    assert [p["key"] for p in admin.get(f"{API}/project").json()] == ["PA"]
    assert admin.get(f"{API}/field").json() == fields_before
    assert admin.get(f"{API}/project/PA/components").json() == []
    assert admin.get(f"{API}/project/PA/versions").json() == []
    assert admin.get(f"{API}/issue/{key}").status_code == 200

    # What any user may do: read, create and edit issues, comment.
    assert bob.get(f"{API}/project/PA").status_code == 200
    assert bob.put(f"{API}/issue/{key}", json={"fields": {"summary": "Edited"}}).status_code == 204
    assert lead.delete(f"{API}/issue/{key}").status_code == 204
    assert_error(admin.get(f"{API}/issue/{key}"), 404)
