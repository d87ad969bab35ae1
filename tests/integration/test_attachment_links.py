"""A tracker that takes no attachments gets each of the partner's as a comment with a link.

PB's adapter here is the built-in one saying ``attachments=False`` (as GitHub's
does), opened through an entry point of this module; PA keeps real attachments.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import replace
from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest
from sync_helpers import Pair, integration_pair, make_project_admin
from tracker_helpers import API, create_issue

from issuesync.services import Services
from issuesync.trackers.access import AdapterContext
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local import open_local
from issuesync.trackers.registry import ENTRY_POINT_GROUP

CONTENT = b"%PDF-1.4 not really a pdf\n" * 10
LINK = re.compile(r"https?://[^ ]+/attachments/shared/[0-9a-f]{64}/[^ ?]+\?sig=[\w-]+=*")


class WithoutAttachments:
    """The built-in adapter, claiming to take no attachments (every call passes through)."""

    def __init__(self, inner: Tracker) -> None:
        self._inner = inner
        self.capabilities = replace(inner.capabilities, attachments=False, attachment_delete=False)

    def __getattr__(self, name: str) -> Any:  # whatever the tracker has: a Tracker too
        return getattr(self._inner, name)


def open_pb_without_attachments(context: AdapterContext) -> Tracker:
    """The ``local`` factory, with PB's adapter taking no attachments."""
    tracker = open_local(context)
    if context.access.project_key == "PB":
        return WithoutAttachments(tracker)
    return tracker


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    local = EntryPoint(
        name="local", value=f"{__name__}:open_pb_without_attachments", group=ENTRY_POINT_GROUP
    )
    with integration_pair(services, admin, adapters={"local": local}) as made:
        yield made


def attach(pair: Pair, key: str, name: str, content: bytes) -> str:
    response = pair.client.post(
        f"{API}/issue/{key}/attachments",
        files={"file": (name, content, "application/pdf")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert response.status_code == 200, response.text
    attachment_id: str = response.json()[0]["id"]
    return attachment_id


def comment_ids(pair: Pair, key: str) -> list[str]:
    response = pair.client.get(f"{API}/issue/{key}/comment")
    return [c["id"] for c in response.json()["comments"]]


def test_an_attachment_becomes_a_comment_with_a_link_that_serves_the_content(
    pair: Pair,
) -> None:
    key = create_issue(pair.client, "PA", "With a spec")
    attach(pair, key, "spec v2.pdf", CONTENT)
    pair.settle()
    twin = pair.twin(key)

    assert pair.fields(twin)["attachment"] == []
    [comment] = pair.comments(twin)
    checksum = hashlib.sha256(CONTENT).hexdigest()
    assert f"Attachment spec v2.pdf ({len(CONTENT):,} bytes, sha256 {checksum[:12]})" in comment
    found = LINK.search(comment)
    assert found is not None, comment
    link = httpx.URL(found.group(0))
    assert link.path.endswith(f"/{checksum}/spec v2.pdf")
    assert "spec%20v2.pdf?sig=" in found.group(0)

    served = pair.client.get(link.raw_path.decode())
    assert served.status_code == 200
    assert served.content == CONTENT
    assert hashlib.sha256(served.content).hexdigest() == checksum
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"

    # The link cannot be made up: another signature, or none, finds nothing.
    forged = link.copy_set_param("sig", "A" * 32)
    assert pair.client.get(forged.raw_path.decode()).status_code == 404
    assert pair.client.get(link.copy_with(query=None).raw_path.decode()).status_code == 404
    other = link.path.replace(checksum, "0" * 64)
    assert pair.client.get(f"{other}?{link.query.decode()}").status_code == 404

    # The link comment is not sent back as a comment, and nothing more moves.
    assert pair.comments(key) == []
    assert pair.engine.step() == 0


def test_deleting_either_side_deletes_the_other(pair: Pair) -> None:
    # Deleting the admin's attachment on PA takes a sync user who administers PA.
    make_project_admin(pair.services, "backbone", "PA")
    key = create_issue(pair.client, "PA", "Two files")
    first = attach(pair, key, "a.pdf", CONTENT)
    attach(pair, key, "b.pdf", CONTENT + b"b")
    pair.settle()
    twin = pair.twin(key)
    assert len(pair.comments(twin)) == 2

    # The attachment deleted on PA: its link comment goes from PB.
    assert pair.client.delete(f"{API}/attachment/{first}").status_code == 204
    pair.settle()
    [left] = pair.comments(twin)
    assert "b.pdf" in left

    # The link comment deleted on PB: the attachment goes from PA.
    [comment_id] = comment_ids(pair, twin)
    assert pair.client.delete(f"{API}/issue/{twin}/comment/{comment_id}").status_code == 204
    pair.settle()
    assert pair.fields(key)["attachment"] == []
    assert pair.comments(key) == []
    assert pair.engine.step() == 0
