"""The dashboard (/ui) over real HTTP: login, the same rights as the APIs, CSRF, every button.

The browser tests (tests/browser/) drive the same pages in Chromium; these check
each rule and refusal one request at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from markupsafe import escape
from sqlalchemy import select
from sync_helpers import integration_pair, local_body, refused_priority_body, wait_for
from tracker_helpers import create_issue
from web_helpers import csrf_of, login, post_form

from conftest import ADMIN_PASSWORD
from issuesync.accounts import set_password
from issuesync.services import Services
from issuesync.store.throughput import minutes_since
from issuesync.store.users import DashboardSession

PAGE = "/ui/integrations/INT-1"


def test_a_page_needs_a_login_and_the_login_says_what_is_wrong(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as anonymous:
        answer = anonymous.get("/ui/integrations/INT-1?issue=PA-1")
        assert answer.status_code == 303
        assert (
            answer.headers["location"]
            == "/ui/login?next=%2Fui%2Fintegrations%2FINT-1%3Fissue%3DPA-1"
        )
        assert anonymous.get("/ui/fragments/board").status_code == 401
        form = anonymous.get("/ui/login")
        assert form.status_code == 200
        assert "default-src 'none'" in form.headers["content-security-policy"]
        assert form.headers["x-frame-options"] == "DENY"
        token = csrf_of(form.text)
        wrong = anonymous.post(
            "/ui/login",
            data={"csrf": token, "next": "/ui/", "username": "admin", "password": "nope"},
        )
        assert wrong.status_code == 401
        assert "The user name or password is wrong." in wrong.text
        assert "nope" not in wrong.text
        # A login form from elsewhere (no cookie of this dashboard's form) is refused.
        with httpx.Client(base_url=server, timeout=30) as other:
            forged = other.post(
                "/ui/login",
                data={"csrf": token, "username": "admin", "password": ADMIN_PASSWORD},
            )
        assert forged.status_code == 403
        assert "did not come from this dashboard" in forged.text
        assert "issuesync_session" not in forged.headers.get("set-cookie", "")


def test_wrong_passwords_are_throttled_as_the_api_throttles_them(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        answers = []
        for attempt in range(6):
            token = csrf_of(client.get("/ui/login").text)
            answers.append(
                client.post(
                    "/ui/login",
                    data={"csrf": token, "username": "admin", "password": f"wrong-{attempt}"},
                )
            )
        assert [a.status_code for a in answers] == [401] * 5 + [429]
        assert "Too many" in answers[-1].text
        assert 'name="password"' in answers[-1].text  # the form, to try again later
        # Locked means locked: the right password waits too.
        token = csrf_of(client.get("/ui/login").text)
        right = client.post(
            "/ui/login", data={"csrf": token, "username": "admin", "password": ADMIN_PASSWORD}
        )
        assert right.status_code == 429


def test_after_the_login_only_a_dashboard_page_is_a_target(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        for target, where in (
            ("/ui/integrations/INT-9", "/ui/integrations/INT-9"),
            ("https://evil.example/", "/ui/"),
            ("//evil.example/ui/", "/ui/"),
            ("/ui//evil.example", "/ui/"),
            ("/rest/api/2/myself", "/ui/"),
        ):
            token = csrf_of(client.get("/ui/login").text)
            answer = client.post(
                "/ui/login",
                data={
                    "csrf": token,
                    "next": target,
                    "username": "admin",
                    "password": ADMIN_PASSWORD,
                },
            )
            assert answer.headers["location"] == where, target
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/ui" in cookie


def test_the_board_shows_what_each_role_may_see(
    services: Services, admin: httpx.Client, server: str, make_client: Callable[..., httpx.Client]
) -> None:
    make_client("pa-admin", project_admin=("PA",))
    make_client("pz-admin", project_admin=("PZ",))
    make_client("joe")
    with integration_pair(services, admin):
        with login(server, "admin", ADMIN_PASSWORD) as boss:
            board = boss.get("/ui/")
            assert board.status_code == 200
            assert 'data-key="INT-1"' in board.text
            assert 'data-state="starting"' in board.text  # started, no engine has it yet
            assert 'data-key="INT-1"' in boss.get("/ui/fragments/board").text
        with login(server, "pa-admin", "pa-admin-password") as own:
            assert 'data-key="INT-1"' in own.get("/ui/").text
            assert own.get(PAGE).status_code == 200
        with login(server, "pz-admin", "pz-admin-password") as other:
            assert 'data-key="INT-1"' not in other.get("/ui/").text
            refused = other.get(PAGE)
            assert refused.status_code == 404  # as in the Backbone API: it does not exist
            assert "No integration with key INT-1." in refused.text
            assert "Traceback" not in refused.text
            moved = post_form(other, f"{PAGE}/stop", "/ui/")
            assert moved.status_code == 404
        with login(server, "joe", "joe-password") as joe:
            page = joe.get("/ui/")
            assert page.status_code == 403
            assert "administer a project" in page.text


def test_a_changed_password_ends_the_sessions_and_a_forged_cookie_is_none(
    services: Services, server: str
) -> None:
    with login(server, "admin", ADMIN_PASSWORD) as client:
        assert client.get("/ui/").status_code == 200
        cookie = client.cookies["issuesync_session"]
        payload, signature = cookie.split(".")
        forged = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
        client.cookies.clear()
        client.cookies.set("issuesync_session", forged, path="/ui")
        assert client.get("/ui/").status_code == 303
        client.cookies.clear()
        client.cookies.set("issuesync_session", cookie, path="/ui")
        assert client.get("/ui/").status_code == 200
        set_password(services.uow_factory, "admin", "a-new-password-1")
        assert client.get("/ui/").status_code == 303


def test_a_form_without_the_session_s_csrf_token_changes_nothing(
    services: Services, admin: httpx.Client, server: str
) -> None:
    with integration_pair(services, admin), login(server, "admin", ADMIN_PASSWORD) as client:
        for token in (None, "", "x" * 32):
            data = {} if token is None else {"csrf": token}
            refused = client.post(f"{PAGE}/stop", data=data)
            assert refused.status_code == 403
            assert "did not come from this dashboard" in refused.text
        assert admin.get("/api/1/integrations/INT-1/status").json()["status"] == "RUNNING"
        stopped = post_form(client, f"{PAGE}/stop", PAGE)
        assert stopped.status_code == 303
        assert '<p class="flash done" role="status">INT-1 stopped. (task ' in client.get(PAGE).text
        # The Backbone API's status board is up to a second old (api/backbone/board.py).
        wait_for(
            "the API to show INT-1 stopped",
            lambda: (
                admin.get("/api/1/integrations/INT-1/status").json()["status"] == "STOPPED" or None
            ),
        )
        unknown = post_form(client, f"{PAGE}/explode", PAGE)
        assert unknown.status_code == 404
        assert "no action &#39;explode&#39;" in unknown.text


def test_retry_and_discard_of_messages_in_error(
    services: Services, admin: httpx.Client, server: str
) -> None:
    with integration_pair(services, admin, refused_priority_body()) as pair:
        bad = create_issue(admin, "PA", "Bad", priority={"name": "Highest"})
        pair.settle()
        (error,) = pair.messages(pair.second_id, "error")
        with login(server, "admin", ADMIN_PASSWORD) as client:
            page = client.get(PAGE).text
            assert f'data-message="{error.id}"' in page
            assert bad in page
            assert error.reason is not None
            assert "priority" in error.reason
            assert str(escape(error.reason)) in page  # the reason, as the tracker gave it
            assert 'data-queue="receive-error">1<' in page
            # Ids of no message of this integration, or not numbers: a message, no change.
            for ids in (["999999"], ["abc"], []):
                refused = post_form(client, f"{PAGE}/retry", PAGE, id=ids)
                assert refused.status_code == 303
                assert '<p class="flash error"' in client.get(PAGE).text
            retried = post_form(client, f"{PAGE}/retry", PAGE, id=[str(error.id)])
            assert retried.status_code == 303
            assert "1 message(s) queued again." in client.get(PAGE).text
            assert [m.state for m in pair.messages(pair.second_id) if m.id == error.id] == ["new"]
            pair.settle()  # the cause is still there: in error again
            discarded = post_form(client, f"{PAGE}/discard", PAGE, id=[str(error.id)])
            assert discarded.status_code == 303
            assert "1 message(s) discarded." in client.get(PAGE).text
            assert [m.state for m in pair.messages(pair.second_id) if m.id == error.id] == [
                "discard"
            ]


def test_a_data_conflict_is_settled_by_picking_a_side(
    services: Services, admin: httpx.Client, server: str
) -> None:
    with integration_pair(services, admin) as pair:
        key = create_issue(admin, "PA", "Base")
        pair.settle()
        twin = pair.twin(key)
        pair.edit(key, summary="A's idea")
        pair.edit(twin, summary="B's idea")
        pair.settle()
        with login(server, "admin", ADMIN_PASSWORD) as client:
            page = client.get(PAGE).text
            assert page.count('<article class="conflict"') == 2
            assert "A&#39;s idea" in page
            assert "B&#39;s idea" in page
            conflicts = admin.get("/api/1/integrations/INT-1/conflicts").json()
            for conflict in conflicts:
                keep = "remote" if conflict["connectorKey"] == "PB-2" else "local"
                settled = post_form(
                    client, f"{PAGE}/settle", PAGE, message=str(conflict["messageId"]), keep=keep
                )
                assert settled.status_code == 303
            assert "settled with" in client.get(PAGE).text
            again = post_form(
                client, f"{PAGE}/settle", PAGE, message=str(conflicts[0]["messageId"]), keep="x"
            )
            assert again.status_code == 303
            pair.settle()
            assert pair.fields(twin)["summary"] == pair.fields(key)["summary"] == "A's idea"
            assert '<article class="conflict"' not in client.get(PAGE).text


def test_sync_information_tasks_the_chart_and_the_connection_test(
    services: Services, admin: httpx.Client, server: str
) -> None:
    with integration_pair(services, admin) as pair:
        keys = [create_issue(admin, "PA", f"Issue {n}") for n in range(3)]
        pair.settle()
        twin = pair.twin(keys[0])
        with services.uow_factory(readonly=True) as uow:
            minutes = minutes_since(uow.session, [pair.first_id, pair.second_id], 0)
        assert sum(m.applied for m in minutes) >= 3
        assert all(0 < m.latency_count <= m.applied for m in minutes)
        with login(server, "admin", ADMIN_PASSWORD) as client:
            page = client.get(PAGE, params={"issue": keys[0].lower()}).text
            assert f"<td>{keys[0]}</td><td>{twin}</td>" in page
            assert f"<td>{twin}</td><td>{keys[0]}</td>" in page
            assert "No issue PZ-1 is linked" in client.get(PAGE, params={"issue": "PZ-1"}).text
            assert client.get(PAGE, params={"issue": "X" * 300}).status_code == 400
            assert "<svg" in page
            assert f"{sum(m.applied for m in minutes)} in the last hour</text>" in page
            tested = post_form(client, f"{PAGE}/test", PAGE)
            assert tested.status_code == 200
            assert "Both trackers answer" in tested.text
            checks = client.get(f"{PAGE}/fragments/checks")
            assert checks.status_code == 200
            assert "None: the configuration fits both projects, and both trackers answer" in (
                checks.text
            )
            assert post_form(client, f"{PAGE}/stop", PAGE).status_code == 303
            tasks = client.get(PAGE).text
            assert "Stopping INT-1." in tasks
            assert "<progress" in tasks
            fragment = client.get(f"{PAGE}/fragments/status")
            assert fragment.status_code == 200
            assert 'data-queue="receive-archive"' in fragment.text


def test_an_unknown_page_is_a_page_that_says_so(server: str) -> None:
    with login(server, "admin", ADMIN_PASSWORD) as client:
        for method, path in (("GET", "/ui/nowhere"), ("GET", "/ui/logout"), ("DELETE", "/ui/")):
            answer = client.request(method, path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith("text/html")
            assert "The dashboard has no page" in answer.text
        style = client.get("/ui/static/dashboard.css")
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")


def test_the_checks_show_what_cannot_work_and_what_to_do(
    services: Services, admin: httpx.Client, server: str
) -> None:
    body = local_body()
    body["secondConnector"]["configuration"] = {
        "fieldMappings": [{"localField": "description", "remoteField": "description"}]
    }
    with integration_pair(services, admin, body), login(server, "admin", ADMIN_PASSWORD) as c:
        checks = c.get(f"{PAGE}/fragments/checks").text
        assert "data-validation" in checks
        assert "Summary" in checks
        assert "What to do: " in checks
        assert "fieldDefaults of connector PB-2" in checks
        tested = post_form(c, f"{PAGE}/test", PAGE).text
        assert "Both trackers answer" in tested  # they connect; the mapping is what fails
        assert "fieldDefaults of connector PB-2" in tested
    with httpx.Client(base_url=server, timeout=30) as anonymous:
        assert anonymous.get(f"{PAGE}/fragments/checks").status_code == 401


def test_logout_ends_the_session_on_the_server_too(server: str, services: Services) -> None:
    with (
        login(server, "admin", ADMIN_PASSWORD) as client,
        login(server, "admin", ADMIN_PASSWORD) as elsewhere,
    ):
        copied = client.cookies["issuesync_session"]
        out = post_form(client, "/ui/logout", "/ui/")
        assert out.status_code == 303
        assert client.get("/ui/").status_code == 303
        # The cookie, copied before the logout, no longer opens a page.
        with httpx.Client(base_url=server, timeout=30) as thief:
            thief.cookies.set("issuesync_session", copied, path="/ui")
            assert thief.get("/ui/").status_code == 303
            assert thief.get("/ui/fragments/board").status_code == 401
        # Another session of the same user goes on.
        assert elsewhere.get("/ui/").status_code == 200
        with services.uow_factory(readonly=True) as uow:
            stored = list(uow.session.scalars(select(DashboardSession.sid_hash)))
        assert len(stored) == 1  # the other session's; only a hash of its id
        assert stored[0] not in elsewhere.cookies["issuesync_session"]
