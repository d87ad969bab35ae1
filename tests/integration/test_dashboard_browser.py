"""The dashboard in a real browser: Debian's Chromium, driven by Playwright.

What a person does on the pages: log in, watch an integration go from processing to
idle while issues sync, retry a message in error once its cause is fixed, settle a data
conflict by picking a side, and be refused an integration of another project. The
server is real (uvicorn on 127.0.0.1), and so are the engine and the built-in tracker.

Chromium comes from Debian (``scripts/chromium/install``, which ``make test`` runs). Where
none can be installed these tests skip and say why; with ``ISSUESYNC_TEST_BROWSER=1``
(CI) they fail instead. ``ISSUESYNC_SCREENSHOTS=DIR`` saves the main pages there as PNG
files (docs/screenshots/ holds the ones the README shows).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_helpers import integration_pair, local_body
from tracker_helpers import API, create_issue, create_project

from conftest import ADMIN_PASSWORD
from issuesync.accounts import NewUser, create_user
from issuesync.services import Services

playwright = pytest.importorskip("playwright.sync_api")

PAGE = "/ui/integrations/INT-1"
_FIELDS = {"project": {"key": "PA"}, "issuetype": {"name": "Task"}}
TIMEOUT_MS = 30_000


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, headless, for the module's tests."""
    executable = _chromium()
    if executable is None:
        reason = "no Chromium here: run scripts/chromium/install as root (Debian's chromium)"
        if os.environ.get("ISSUESYNC_TEST_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and its page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Any, server: str, user: str, password: str, target: str = "/ui/") -> None:
    page.goto(f"{server}{target}")  # a page sends the visitor to the login, and back after
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}{target}")


def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("ISSUESYNC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _integration(client: httpx.Client) -> None:
    create_project(client, "PA")
    create_project(client, "PB")
    sync = {"outgoingInterval": "1s", "incomingInterval": "1s"}
    application = {"user": "admin", "password": ADMIN_PASSWORD}
    body = {
        "summary": "Project A <> Project B",
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": application},
            "configuration": {"sync": sync},
        },
        "secondConnector": {
            "projectKey": "PB",
            "connection": {"application": application},
            "configuration": {"sync": sync},
        },
    }
    created = client.post("/api/1/integrations", json=body)
    assert created.status_code in (200, 201), created.text
    assert client.put("/api/1/integrations/INT-1/start").status_code == 200


def test_log_in_and_watch_an_integration_go_from_processing_to_idle(
    engine_client: httpx.Client, page: Any, live_server: Any
) -> None:
    server = live_server.url
    _integration(engine_client)
    log_in(page, server, "admin", ADMIN_PASSWORD)
    row = page.locator('tr[data-key="INT-1"]')
    row.locator('[data-state="idle"]').wait_for()  # both engines' routes run
    screenshot(page, "board")

    # Issues keep arriving, 50 per request, until the board (refreshing itself) shows the
    # work under way; then the engine catches up and the board shows it idle again.
    seen = threading.Event()
    batches: list[int] = []

    def create_issues() -> None:
        with httpx.Client(base_url=server, auth=("admin", ADMIN_PASSWORD), timeout=60) as client:
            for batch in range(40):  # bounded: the board sees work long before 2,000 issues
                if seen.is_set():
                    return
                updates = [
                    {"fields": {**_FIELDS, "summary": f"Issue {batch}-{n}"}} for n in range(50)
                ]
                made = client.post(f"{API}/issue/bulk", json={"issueUpdates": updates})
                assert made.status_code == 201, made.text
                batches.append(batch)

    writer = threading.Thread(target=create_issues, name="issue-writer")
    writer.start()
    try:
        row.locator('[data-state="processing"]').wait_for(timeout=60_000)
    finally:
        seen.set()
        writer.join(timeout=60)
    assert not writer.is_alive()
    assert batches
    row.locator('[data-state="idle"]').wait_for(timeout=120_000)
    total = 50 * len(batches)
    synced = engine_client.get(f"{API}/search", params={"jql": "project = PB", "maxResults": 0})
    assert synced.json()["total"] == total  # idle: every issue has its twin
    page.click('a[href="/ui/integrations/INT-1"]')
    page.wait_for_url(f"{server}{PAGE}")
    assert page.locator('[data-queue="receive-archive"]').first.inner_text() != "0"
    screenshot(page, "integration")


def test_retry_a_message_in_error_after_fixing_its_cause(
    services: Services, admin: httpx.Client, server: str, page: Any
) -> None:
    body = local_body()
    # PB's connector takes only the description: PB requires a summary, so its twin fails.
    body["secondConnector"]["configuration"] = {
        "fieldMappings": [{"localField": "description", "remoteField": "description"}]
    }
    with integration_pair(services, admin, body) as pair:
        bad = create_issue(admin, "PA", "Urgent", description="Checkout fails on Safari.")
        pair.settle()
        log_in(page, server, "admin", ADMIN_PASSWORD, PAGE)
        stuck = page.locator("#stuck tr[data-message]")
        assert stuck.count() == 1
        assert bad in stuck.inner_text()
        assert "You must specify a summary" in stuck.locator(".reason").inner_text()
        screenshot(page, "messages-in-error")

        # The cause is fixed through the Backbone API, as an administrator would: PB's
        # connector gives its new issues a summary.
        stored = admin.get("/api/1/integrations/INT-1").json()
        stored["secondConnector"]["configuration"]["fieldDefaults"] = [
            {"field": "summary", "value": "From project A"}
        ]
        changed = admin.put("/api/1/integrations/INT-1", json=stored)
        assert changed.status_code == 200, changed.text

        page.click("#stuck button[value=retry]")
        page.wait_for_url(f"{server}{PAGE}")
        assert page.locator(".flash.done").inner_text() == "1 message(s) queued again."
        pair.settle()
        page.reload()
        assert page.locator("#stuck tr[data-message]").count() == 0
        assert pair.fields(pair.twin(bad))["summary"] == "From project A"


def test_settle_a_data_conflict_by_picking_a_side(
    services: Services, admin: httpx.Client, server: str, page: Any
) -> None:
    with integration_pair(services, admin) as pair:
        key = create_issue(admin, "PA", "Checkout fails")
        pair.settle()
        twin = pair.twin(key)
        pair.edit(key, summary="Checkout fails on Safari")
        pair.edit(twin, summary="Checkout fails on iOS")
        pair.settle()
        log_in(page, server, "admin", ADMIN_PASSWORD, PAGE)
        conflicts = page.locator("article.conflict")
        assert conflicts.count() == 2
        text = conflicts.first.inner_text()
        assert "Checkout fails on Safari" in text
        assert "Checkout fails on iOS" in text
        screenshot(page, "conflicts")
        # On PA's side keep PA's value; on PB's side take the other side's (PA's) value.
        for _ in range(2):
            article = page.locator("article.conflict").first
            into_pa = "into PA-1" in article.inner_text()
            article.locator(f"button[value={'local' if into_pa else 'remote'}]").click()
            page.wait_for_url(f"{server}{PAGE}")
            assert "settled with" in page.locator(".flash.done").inner_text()
        pair.settle()
        page.reload()
        assert page.locator("article.conflict").count() == 0
        assert pair.fields(twin)["summary"] == pair.fields(key)["summary"]
        assert pair.fields(key)["summary"] == "Checkout fails on Safari"


def test_a_project_admin_of_another_project_is_refused_the_page(
    services: Services,
    admin: httpx.Client,
    server: str,
    page: Any,
    make_client: Callable[..., httpx.Client],
) -> None:
    make_client("pz-admin", project_admin=("PZ",))
    with integration_pair(services, admin):
        log_in(page, server, "pz-admin", "pz-admin-password")
        assert page.locator('tr[data-key="INT-1"]').count() == 0
        response = page.goto(f"{server}{PAGE}")
        assert response.status == 404
        assert "No integration with key INT-1." in page.locator(".flash.error").inner_text()
        # And a wrong password is said on the login page, without the password.
        page.click("button.link")  # log out
        page.fill("input[name=username]", "pz-admin")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        assert "The user name or password is wrong." in page.content()
        assert "not-the-password" not in page.content()
        screenshot(page, "login")


def test_a_user_without_projects_and_a_sync_user_see_no_board(
    services: Services, server: str, page: Any
) -> None:
    create_user(
        services.uow_factory,
        NewUser(name="joe", email="joe@example.test", password="joe-password"),
    )
    log_in(page, server, "joe", "joe-password", "/ui/")
    assert "administer a project" in page.locator(".flash.error").inner_text()
