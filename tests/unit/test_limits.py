"""Limits and filters as pure rules, and the fakes refusing what the real trackers refuse."""

from __future__ import annotations

import httpx
import pytest

from issuesync.domain.configuration import AttachmentFilter
from issuesync.engine.pipeline.limits import _head, _units, _within
from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab


def test_a_cut_ends_at_a_word_and_counts_as_jira_does() -> None:
    text = "alpha beta gamma " * 100
    head = _head(text, 50)
    assert len(head) <= 50
    assert text.startswith(head)
    assert head.endswith(("alpha", "beta", "gamma"))
    # An emoji is two UTF-16 units in Jira's count: a cut never splits one or overflows.
    emoji = "😀" * 40
    assert _units(emoji) == 80
    assert _units(_head(emoji, 51)) <= 51
    assert _within("x" * 10, 10)
    assert not _within("😀" * 6, 10)


@pytest.mark.parametrize(
    ("name", "mimetype", "size", "refused"),
    [
        ("shot.png", "image/png", 10, None),
        ("big.png", "image/png", 2000, "more than the filter's maxSize"),
        ("Setup.EXE", "application/octet-stream", 10, "excluded name *.exe"),
        ("clip.mp4", "VIDEO/mp4", 10, "excluded type video/*"),
        ("no-size.png", "image/png", None, None),
    ],
)
def test_an_attachment_filter_says_why_it_leaves_one_out(
    name: str, mimetype: str, size: int | None, refused: str | None
) -> None:
    rules = AttachmentFilter(max_size=1000, excluded_types=["video/*"], excluded_names=["*.exe"])
    reason = rules.refusal(name, mimetype, size)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


def test_the_github_fake_refuses_a_body_over_65536_characters() -> None:
    fake = FakeGitHub()
    fake.add_user("owner", token="t")
    fake.add_repo("owner/r")
    with httpx.Client(
        transport=httpx.MockTransport(fake),
        base_url="https://api.github.com",
        headers={"Authorization": "Bearer t"},
    ) as api:
        refused = api.post("/repos/owner/r/issues", json={"title": "t", "body": "x" * 65_537})
        assert refused.status_code == 422
        assert "maximum is 65536 characters" in refused.text
        made = api.post("/repos/owner/r/issues", json={"title": "t", "body": "x" * 65_536})
        assert made.status_code == 201
        long = api.post("/repos/owner/r/issues/1/comments", json={"body": "y" * 65_537})
        assert long.status_code == 422


def test_the_gitlab_fake_refuses_a_text_over_a_million_characters_and_keeps_internal_notes() -> (
    None
):
    fake = FakeGitLab()
    user = fake.add_user("sync")
    project = fake.add_project("g/p", members={user: MAINTAINER})
    with httpx.Client(
        transport=httpx.MockTransport(fake),
        base_url=f"https://gitlab.example/api/v4/projects/{project.id}",
        headers={"PRIVATE-TOKEN": user.token},
    ) as api:
        too_long = api.post("/issues", json={"title": "t", "description": "x" * 1_000_001})
        assert too_long.status_code == 400
        iid = api.post("/issues", json={"title": "t"}).json()["iid"]
        assert api.post(f"/issues/{iid}/notes", json={"body": "n" * 1_000_001}).status_code == 400
        note = api.post(f"/issues/{iid}/notes", json={"body": "psst", "internal": True}).json()
        assert note["internal"] is True
