"""File queues reach the server's disk: who may name a folder, where it may be, what is touched.

Issue 16, Access: a project administrator could make the server create folders
at any absolute path and move every regular file it found there into its data
folder. Now only a system administrator names a queue's folder; every folder
must resolve, symlinks followed, inside ``ISSUESYNC_QUEUE_ROOTS`` (checked when
saved and again before the engine touches it); and the engine touches only its
own files (message names, blobs, its temporary files), leaving anything else
where it is and reporting it. Everything runs for real: HTTP on loopback, the
built-in tracker, the engine stepped in the test's thread, real folders.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_helpers import Pair, integration_pair, local_body, wait_for
from tracker_helpers import create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.application.integrations import connector_by_key
from issuesync.engine.transports.folders import list_invalid
from issuesync.services import Services
from support.forked_cli import run_issuesync

B = "/api/1"
BACKBONE = "/plugins/servlet/backbone-issue-sync/api/1"
FOLDER_ERROR = "folder of a file queue"


@pytest.fixture(autouse=True)
def queue_roots(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """ISSUESYNC_QUEUE_ROOTS as an operator sets it: the home's data folder and ``root``.

    Set before ``services`` builds its settings (autouse fixtures come first).
    """
    root = tmp_path / "root"
    root.mkdir()
    data = tmp_path / "home" / "data" / "default"
    monkeypatch.setenv("ISSUESYNC_QUEUE_ROOTS", os.pathsep.join([str(data), str(root)]))
    return root


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A folder outside the roots with files the server must never touch."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    (folder / "PA-1_1_0123-abcd.bac").write_text("named like a message, not one")
    return folder


def snapshot(folder: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``folder`` (symlinks not followed): its kind and content or target."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[str(path.relative_to(folder))] = ("link", str(path.readlink()))
        elif stat.S_ISREG(mode):
            found[str(path.relative_to(folder))] = ("file", path.read_text())
        elif stat.S_ISFIFO(mode):
            found[str(path.relative_to(folder))] = ("fifo", "")
        else:
            found[str(path.relative_to(folder))] = ("folder", "")
    return found


def file_queues(send: str | None, receive: str | None) -> dict[str, Any]:
    """``connection.connector`` with file queues, ``path`` only where given."""
    queues: dict[str, Any] = {}
    for label, path in (("sendQueue", send), ("receiveQueue", receive)):
        queues[label] = {"@type": "file"} | ({"path": path} if path is not None else {})
    return queues


def integration_body(
    first: dict[str, Any] | None = None, second: dict[str, Any] | None = None
) -> dict[str, Any]:
    """PA <> PB of the built-in tracker, synced as ``backbone`` (named with its password)."""
    body = local_body()
    for side, connector in (("firstConnector", first), ("secondConnector", second)):
        if connector is not None:
            body[side]["connection"]["connector"] = connector
    return body


def assert_backbone_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status-code"] == status, body
    text = body["message"] + json.dumps(body.get("errors", {}))
    for word in words:
        assert word in text, body
    return body


@pytest.fixture
def projects(services: Services, admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone"),
    )


@pytest.fixture
def project_admin(projects: None, make_client: Callable[..., httpx.Client]) -> httpx.Client:
    """The administrator of both built-in projects (not a system administrator)."""
    del projects  # made first: the projects this user administers
    return make_client("lead", project_admin=("PA", "PB"))


def stored_integrations(admin: httpx.Client) -> list[dict[str, Any]]:
    response = admin.get(f"{B}/integrations")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


# --- who may name a folder -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [B, BACKBONE])
@pytest.mark.parametrize(
    "where",
    ["both queues of the first side", "the second side's queues", "a relative folder"],
)
def test_a_project_admin_cannot_name_a_queue_folder(
    project_admin: httpx.Client,
    admin: httpx.Client,
    victim: Path,
    prefix: str,
    where: str,
) -> None:
    before = snapshot(victim)
    target = str(victim / "made-by-the-server")
    body = {
        "both queues of the first side": integration_body(file_queues(target, str(victim))),
        "the second side's queues": integration_body(None, file_queues(str(victim), target)),
        # Inside the roots, but still a folder of the server's disk: who, not where.
        "a relative folder": integration_body(file_queues("shared/out", "shared/in")),
    }[where]

    refused = project_admin.post(f"{prefix}/integrations", json=body)

    assert_backbone_error(refused, 403, FOLDER_ERROR)
    assert stored_integrations(admin) == []
    assert snapshot(victim) == before


def test_a_project_admin_may_use_file_queues_in_the_integrations_own_folders(
    project_admin: httpx.Client, victim: Path
) -> None:
    made = project_admin.post(f"{B}/integrations", json=integration_body(file_queues(None, None)))
    assert made.status_code == 200, made.text
    connector = made.json()["firstConnector"]["connection"]["connector"]
    assert connector["sendQueue"] == {"@type": "file", "path": "INT-1/PA-1_to_PB-2"}
    assert connector["receiveQueue"] == {"@type": "file", "path": "INT-1/PB-2_to_PA-1"}

    # Sending back the folders the integration already has changes nothing: allowed.
    again = integration_body(file_queues("INT-1/PA-1_to_PB-2", "INT-1/PB-2_to_PA-1"))
    kept = project_admin.put(f"{B}/integrations/INT-1", json=again)
    assert kept.status_code == 200, kept.text

    # Another folder is not: 403 and nothing stored.
    moved = integration_body(file_queues(str(victim), "INT-1/PB-2_to_PA-1"))
    assert_backbone_error(project_admin.put(f"{B}/integrations/INT-1", json=moved), 403, "path")
    shown = project_admin.get(f"{B}/integrations/INT-1").json()
    assert shown["firstConnector"]["connection"]["connector"]["sendQueue"] == {
        "@type": "file",
        "path": "INT-1/PA-1_to_PB-2",
    }


def test_a_project_admin_cannot_point_an_existing_integration_at_a_folder(
    project_admin: httpx.Client, admin: httpx.Client, victim: Path
) -> None:
    made = admin.post(f"{B}/integrations", json=integration_body())  # vm queues
    assert made.status_code == 200, made.text
    before = snapshot(victim)

    for body in (
        integration_body(file_queues(str(victim), str(victim))),
        integration_body(None, {"sendQueue": {"@type": "file", "path": "INT-1/x"}}),
    ):
        refused = project_admin.put(f"{B}/integrations/INT-1", json=body)
        assert_backbone_error(refused, 403, FOLDER_ERROR)

    shown = admin.get(f"{B}/integrations/INT-1").json()
    assert shown["firstConnector"]["connection"]["connector"]["sendQueue"]["@type"] == "vm"
    assert snapshot(victim) == before


# --- where a folder may be -------------------------------------------------------------------


@pytest.mark.usefixtures("projects")
def test_a_queue_folder_must_resolve_inside_the_roots(
    admin: httpx.Client, queue_roots: Path, victim: Path, tmp_path: Path
) -> None:
    link = queue_roots / "link"
    link.symlink_to(victim, target_is_directory=True)
    before = snapshot(victim)

    for path in (str(victim), str(link), str(link / "deeper"), "escape"):
        if path == "escape":  # a relative path whose folder is a symlink out of the data folder
            data = tmp_path / "home" / "data" / "default"
            data.mkdir(parents=True, exist_ok=True)
            (data / "escape").symlink_to(victim, target_is_directory=True)
        body = integration_body(file_queues(path, str(queue_roots / "back")))
        for refused in (
            admin.post(f"{B}/integrations", json=body),
            admin.post(f"{BACKBONE}/integrations", json=body),
        ):
            answer = assert_backbone_error(
                refused, 400, "firstConnector.connection.connector.sendQueue", str(queue_roots)
            )
            assert str(victim) in answer["errors"]["firstConnector.connection.connector.sendQueue"]
    assert stored_integrations(admin) == []
    assert snapshot(victim) == before

    # Inside a root it is accepted; an update cannot leave the roots either.
    inside = integration_body(file_queues(str(queue_roots / "ab"), str(queue_roots / "ba")))
    assert admin.post(f"{B}/integrations", json=inside).status_code == 200
    outside = integration_body(file_queues(str(link), str(queue_roots / "ba")))
    assert_backbone_error(admin.put(f"{B}/integrations/INT-1", json=outside), 400, "sendQueue")
    shown = admin.get(f"{B}/integrations/INT-1").json()
    assert shown["firstConnector"]["connection"]["connector"]["sendQueue"]["path"] == str(
        queue_roots / "ab"
    )


@pytest.mark.usefixtures("projects")
def test_the_cli_refuses_a_folder_outside_the_roots(
    services: Services, queue_roots: Path, victim: Path, tmp_path: Path
) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps(integration_body(file_queues(str(victim), str(victim)))))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
        "ISSUESYNC_HOME": str(services.settings.home),
        "ISSUESYNC_DATABASE_URL": services.settings.resolved_database_url,
        "ISSUESYNC_QUEUE_ROOTS": str(queue_roots),
    }
    done = run_issuesync(("integration", "create", "-f", str(body_file)), environment)
    assert done.returncode != 0, done.stdout
    assert "queue roots" in done.stderr + done.stdout
    assert str(queue_roots) in done.stderr + done.stdout
    assert not (victim / "made-by-the-server").exists()


# --- what the engine touches -----------------------------------------------------------------


@contextmanager
def running(services: Services, admin: httpx.Client, body: dict[str, Any]) -> Iterator[Pair]:
    with integration_pair(services, admin, body) as pair:
        yield pair


def connector_status(admin: httpx.Client, side: str) -> dict[str, Any]:
    block: dict[str, Any] = admin.get(f"{B}/integrations/INT-1/status").json()[side]
    return block


def incoming_details(admin: httpx.Client, side: str) -> str:
    details: str = connector_status(admin, side)["incomingDetails"]
    return details


def test_a_folder_swapped_for_a_symlink_out_of_the_roots_stops_the_queue(
    services: Services, admin: httpx.Client, queue_roots: Path, victim: Path
) -> None:
    a_to_b, b_to_a = queue_roots / "a_to_b", queue_roots / "b_to_a"
    body = integration_body(file_queues(str(a_to_b), str(b_to_a)))
    with running(services, admin, body) as pair:
        key = create_issue(pair.client, "PA", "Before the swap")
        pair.settle()
        pair.twin(key)  # the queues work
        before = snapshot(victim)

        # Saved inside the root; later the folder becomes a symlink to the victim.
        a_to_b.rmdir()
        a_to_b.symlink_to(victim, target_is_directory=True)
        create_issue(pair.client, "PA", "After the swap")
        pair.settle()

        assert snapshot(victim) == before  # nothing created, moved or deleted there
        for side in ("firstConnector", "secondConnector"):
            details = wait_for(
                "the status to say why",
                partial(incoming_details, admin, side),
            )
            assert "stopped" in details, details
            assert "queue roots" in details, details
            assert str(victim) in details, details


def test_the_engine_leaves_what_is_not_its_own_where_it_is_and_reports_it(
    services: Services,
    admin: httpx.Client,
    queue_roots: Path,
    victim: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a_to_b, b_to_a = queue_roots / "a_to_b", queue_roots / "b_to_a"
    a_to_b.mkdir()
    (a_to_b / "notes.txt").write_text("someone's notes")
    (a_to_b / "link.bac").symlink_to(victim / "precious.txt")
    (a_to_b / "PA-1_1_0123-abcd.bac").symlink_to(victim / "PA-1_1_0123-abcd.bac")
    (a_to_b / "folder").mkdir()
    (a_to_b / "folder" / "PA-1_2_0123-abcd.bac").write_text("inside a sub-folder")
    os.mkfifo(a_to_b / "pipe")
    receive = services.settings.home / "data" / "default" / "INT-1" / "PB-2" / "RECEIVE"
    receive.mkdir(parents=True)
    (receive / "dropped.txt").write_text("dropped into the connector's own folder")
    left = {"queue": snapshot(a_to_b), "receive": snapshot(receive), "victim": snapshot(victim)}
    assert len(left["queue"]) == 6

    body = integration_body(file_queues(str(a_to_b), str(b_to_a)))
    with (
        caplog.at_level(logging.WARNING, logger="issuesync.engine.transports.file"),
        running(services, admin, body) as pair,
    ):
        key = create_issue(pair.client, "PA", "Through a folder with strangers")
        pair.settle()
        pair.edit(key, summary="Edited")
        pair.settle()

        assert pair.fields(pair.twin(key))["summary"] == "Edited"  # real messages flow
        assert snapshot(a_to_b) == left["queue"]  # each stranger where it was, as it was
        assert {k: v for k, v in snapshot(receive).items() if k == "dropped.txt"} == (
            left["receive"]
        )
        assert snapshot(victim) == left["victim"]

        details = wait_for(
            "the status to list them",
            lambda: connector_status(admin, "secondConnector")["incomingDetails"],
        )
        for name in ("notes.txt", "link.bac", "PA-1_1_0123-abcd.bac", "folder", "pipe"):
            assert str(a_to_b / name) in details, details
        assert str(receive / "dropped.txt") in details
        for what in ("a symbolic link", "a folder", "a FIFO", "not named as a message"):
            assert what in details, details

        with services.uow_factory(readonly=True) as uow:
            config = connector_by_key(uow.session, "PB-2")
        listed = {str(f.path): f.reason for f in list_invalid(services.queue_places, config)}
        assert "not the engine's (a FIFO)" in listed[str(a_to_b / "pipe")]
        assert str(receive / "dropped.txt") in listed

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    about_notes = [text for text in warnings if str(a_to_b / "notes.txt") in text]
    assert len(about_notes) == 1, warnings  # once, not on every poll


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """A known umask, so that what the engine asks for is what the test sees."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def test_what_the_engine_makes_in_its_own_folders_is_private(
    services: Services, admin: httpx.Client
) -> None:
    body = integration_body(file_queues(None, None))  # the integration's own folders
    with umask(0o022), running(services, admin, body) as pair:
        key = create_issue(pair.client, "PA", "Private")
        pair.settle()
        pair.twin(key)

    made = list((services.settings.home / "data" / "default" / "INT-1").rglob("*"))
    assert any(p.name.endswith(".bac") for p in made)
    for path in made:  # the service user's alone: 0700 folders, 0600 files
        assert path.lstat().st_mode & 0o077 == 0, f"{path} is {oct(path.lstat().st_mode)}"


def test_what_the_engine_makes_in_a_shared_folder_has_its_group_and_never_others(
    services: Services, admin: httpx.Client, queue_roots: Path
) -> None:
    shared = queue_roots / "shared"
    shared.mkdir()
    shared.chmod(0o2770)  # an operator shares the exchange folders with a group
    body = integration_body(file_queues(str(shared / "a_to_b"), str(shared / "b_to_a")))
    with umask(0o022), running(services, admin, body) as pair:
        key = create_issue(pair.client, "PA", "Shared")
        attached = pair.client.post(
            f"/rest/api/2/issue/{key}/attachments",
            headers={"X-Atlassian-Token": "no-check"},
            files={"file": ("a.txt", b"attached", "text/plain")},
        )
        assert attached.status_code == 200, attached.text
        pair.settle()
        pair.twin(key)

    folders = [shared / "a_to_b", shared / "b_to_a", shared / "a_to_b" / "blobs"]
    for folder in folders:  # made by the engine in the shared folder: its group's, despite umask
        assert folder.lstat().st_mode & 0o077 == 0o070, oct(folder.lstat().st_mode)
    data = services.settings.home / "data" / "default" / "INT-1"
    exchanged = [p for p in data.rglob("*.bac") if "RECEIVE" in p.parts]
    assert exchanged
    for path in exchanged:  # written for the shared folder: the group may read and take it
        assert path.lstat().st_mode & 0o077 == 0o060, f"{path} is {oct(path.lstat().st_mode)}"
