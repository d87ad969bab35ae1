"""Comments, attachments, work logs, watchers and issue links over real HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
from tracker_helpers import (
    API,
    TIMESTAMP,
    assert_error,
    create_issue,
    create_project,
    fields_of,
    issue,
    send_raw,
)

from issuesync.services import Services

NO_CHECK = {"X-Atlassian-Token": "no-check"}


def _blobs(services: Services) -> list[str]:
    """Every content file stored under the attachments directory."""
    root = services.settings.attachments_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- comments ---------------------------------------------------------------------------


def test_comments_crud_and_paging(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    updated_before = fields_of(admin, key)["updated"]
    url = f"{API}/issue/{key}/comment"

    added = [admin.post(url, json={"body": f"Comment {n}"}) for n in range(5)]
    assert [r.status_code for r in added] == [201] * 5, added[0].text
    first = added[0].json()
    assert first["body"] == "Comment 0"
    assert first["author"]["name"] == "admin"
    assert first["updateAuthor"]["name"] == "admin"
    assert TIMESTAMP.match(first["created"]), first["created"]
    assert first["self"].endswith(f"/comment/{first['id']}")
    assert fields_of(admin, key)["updated"] > updated_before

    listed = admin.get(url).json()
    assert listed["total"] == 5
    assert [c["body"] for c in listed["comments"]] == [f"Comment {n}" for n in range(5)]
    page = admin.get(url, params={"startAt": 3, "maxResults": 10}).json()
    assert (page["startAt"], page["total"]) == (3, 5)
    assert [c["body"] for c in page["comments"]] == ["Comment 3", "Comment 4"]
    small = admin.get(url, params={"startAt": 1, "maxResults": 2}).json()
    assert [c["body"] for c in small["comments"]] == ["Comment 1", "Comment 2"]
    assert admin.get(url, params={"startAt": 9}).json()["comments"] == []

    one = admin.get(f"{url}/{first['id']}")
    assert one.status_code == 200, one.text
    assert one.json() == first

    edited = admin.put(f"{url}/{first['id']}", json={"body": "Edited"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] == "Edited"
    assert edited.json()["created"] == first["created"]
    assert edited.json()["updated"] >= first["updated"]
    assert admin.get(f"{url}/{first['id']}").json()["body"] == "Edited"

    deleted = admin.delete(f"{url}/{first['id']}")
    assert deleted.status_code == 204, deleted.text
    assert_error(admin.get(f"{url}/{first['id']}"), 404)
    assert admin.get(url).json()["total"] == 4
    assert fields_of(admin, key)["comment"]["total"] == 4


def test_comment_rejections_change_nothing(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    other = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/comment"
    comment = admin.post(url, json={"body": "Original"}).json()
    before = admin.get(url).json()
    one = f"{url}/{comment['id']}"

    assert_error(admin.post(url, json={"body": ""}), 400, field="comment")
    assert_error(admin.post(url, json={"body": "   "}), 400, field="comment")
    assert_error(admin.post(url, json={"body": "x" * 32_768}), 400, field="comment")
    assert_error(admin.post(url, json={}), 400, field="body")
    assert_error(admin.post(url, json={"body": 5}), 400, field="body")
    assert_error(admin.post(url, json={"body": "x", "colour": "red"}), 400, field="colour")
    assert_error(admin.post(url, json={"body": "a\u0000b"}), 400)
    assert_error(send_raw(admin, "POST", url, b'{"body": "x"'), 400, message="JSON")
    assert_error(admin.put(one, json={"body": ""}), 400, field="comment")
    assert_error(admin.put(one, json={"text": "x"}), 400)
    assert_error(send_raw(admin, "PUT", one, b"{"), 400, message="JSON")
    assert_error(admin.post(f"{API}/issue/PA-99/comment", json={"body": "x"}), 404)
    assert_error(admin.get(f"{API}/issue/PA-99/comment"), 404)
    assert_error(admin.get(f"{url}/999"), 404)
    assert_error(admin.get(f"{url}/abc"), 404)
    assert_error(admin.get(f"{url}/{'9' * 30}"), 404)
    # A comment is addressed through its own issue only.
    assert_error(admin.get(f"{API}/issue/{other}/comment/{comment['id']}"), 404)
    assert_error(admin.put(f"{API}/issue/{other}/comment/{comment['id']}", json={"body": "x"}), 404)
    assert_error(admin.delete(f"{API}/issue/{other}/comment/{comment['id']}"), 404)
    assert_error(admin.get(url, params={"startAt": -1}), 400)
    assert_error(admin.get(url, params={"maxResults": -5}), 400)
    assert_error(admin.get(url, params={"startAt": "9" * 30}), 400)

    assert admin.get(url).json() == before


def test_only_author_or_project_admin_changes_a_comment(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    alice = make_client("alice")
    bob = make_client("bob")
    lead = make_client("lead", project_admin=("PA",))
    key = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/comment"
    comment = alice.post(url, json={"body": "Alice's"}).json()
    one = f"{url}/{comment['id']}"

    assert_error(bob.put(one, json={"body": "Bob was here"}), 403)
    assert_error(bob.delete(one), 403)
    assert admin.get(one).json()["body"] == "Alice's"

    own = alice.put(one, json={"body": "Alice's, edited"})
    assert own.status_code == 200, own.text
    by_lead = lead.put(one, json={"body": "Moderated"})
    assert by_lead.status_code == 200, by_lead.text
    assert by_lead.json()["author"]["name"] == "alice"
    assert by_lead.json()["updateAuthor"]["name"] == "lead"
    assert lead.delete(one).status_code == 204
    assert_error(admin.get(one), 404)

    mine = bob.post(url, json={"body": "Bob's"}).json()
    assert bob.delete(f"{url}/{mine['id']}").status_code == 204
    theirs = bob.post(url, json={"body": "Bob's again"}).json()
    assert admin.delete(f"{url}/{theirs['id']}").status_code == 204
    assert admin.get(url).json()["total"] == 0


# -- attachments ------------------------------------------------------------------------


def test_attachments(admin: httpx.Client, services: Services) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    data = bytes(range(256)) * 40
    url = f"{API}/issue/{key}/attachments"

    response = admin.post(
        url,
        headers=NO_CHECK,
        files=[
            ("file", ("data.bin", data, "application/octet-stream")),
            ("file", ("note.txt", b"hello", "text/plain")),
        ],
    )
    assert response.status_code == 200, response.text
    meta, note = response.json()
    assert meta["filename"] == "data.bin"
    assert meta["size"] == len(data)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["mimeType"] == "application/octet-stream"
    assert meta["author"]["name"] == "admin"
    assert TIMESTAMP.match(meta["created"]), meta["created"]
    assert note["size"] == 5

    got = admin.get(f"{API}/attachment/{meta['id']}")
    assert got.status_code == 200, got.text
    assert got.json() == meta
    secure = admin.get(meta["content"])
    assert secure.status_code == 200, secure.text
    assert meta["content"].endswith(f"/secure/attachment/{meta['id']}/data.bin")
    assert secure.content == data
    plain = admin.get(f"{API}/attachment/content/{meta['id']}")
    assert plain.status_code == 200
    assert plain.content == data
    assert admin.get(f"/secure/attachment/{note['id']}/note.txt").content == b"hello"
    assert [a["filename"] for a in fields_of(admin, key)["attachment"]] == ["data.bin", "note.txt"]

    # The same content twice is stored once; deleting one keeps the other readable.
    again = admin.post(url, headers=NO_CHECK, files={"file": ("copy.txt", b"hello", "text/plain")})
    copy = again.json()[0]
    assert copy["sha256"] == note["sha256"]
    assert len(_blobs(services)) == 2
    assert admin.delete(f"{API}/attachment/{note['id']}").status_code == 204
    assert admin.get(f"{API}/attachment/content/{copy['id']}").content == b"hello"
    assert_error(admin.get(f"{API}/attachment/{note['id']}"), 404)
    assert admin.delete(f"{API}/attachment/{copy['id']}").status_code == 204
    assert_error(admin.get(f"{API}/attachment/content/{copy['id']}"), 404)
    assert _blobs(services) == [meta["sha256"]]

    history = issue(admin, key, expand="changelog")["changelog"]["histories"]
    items = [i for h in history for i in h["items"] if i["field"] == "Attachment"]
    assert [(i["toString"], i["fromString"]) for i in items] == [
        ("data.bin", None),
        ("note.txt", None),
        ("copy.txt", None),
        (None, "note.txt"),
        (None, "copy.txt"),
    ]


def test_attachment_rejections_store_nothing(
    admin: httpx.Client, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/attachments"
    kept = admin.post(url, headers=NO_CHECK, files={"file": ("kept.txt", b"kept", "text/plain")})
    assert kept.status_code == 200, kept.text
    kept_meta = kept.json()[0]
    before_blobs = _blobs(services)
    before = fields_of(admin, key)["attachment"]
    limit = services.settings.max_attachment_size

    assert_error(admin.post(url, files={"file": ("a.txt", b"abc", "text/plain")}), 403)
    assert_error(
        admin.post(
            url, headers={"X-Atlassian-Token": "nocheck"}, files={"file": ("a.txt", b"abc")}
        ),
        403,
    )
    just_over = b"x" * (limit + 1)
    assert_error(
        admin.post(url, headers=NO_CHECK, files={"file": ("big.bin", just_over)}),
        413,
        message="limit",
    )
    # A small file accepted before an oversize one in the same request is not kept either.
    assert_error(
        admin.post(
            url,
            headers=NO_CHECK,
            files=[("file", ("small.txt", b"small")), ("file", ("big.bin", just_over))],
        ),
        413,
    )
    far_over = b"y" * (limit * 2)
    assert_error(admin.post(url, headers=NO_CHECK, files={"file": ("huge.bin", far_over)}), 413)
    assert_error(admin.post(url, headers=NO_CHECK, files={"other": ("a.txt", b"abc")}), 400)
    assert_error(admin.post(url, headers=NO_CHECK, content=b"abc"), 400)
    assert_error(
        admin.post(url, headers=NO_CHECK, files={"file": ("n" * 300 + ".txt", b"abc")}),
        400,
        field="file",
    )
    assert_error(
        admin.post(f"{API}/issue/PA-99/attachments", headers=NO_CHECK, files={"file": ("a", b"z")}),
        404,
    )
    bob = make_client("bob")
    assert_error(bob.delete(f"{API}/attachment/{kept_meta['id']}"), 403)
    for bad in ("999", "abc", "9" * 30):
        assert_error(admin.get(f"{API}/attachment/{bad}"), 404)
        assert_error(admin.get(f"{API}/attachment/content/{bad}"), 404)
        assert_error(admin.delete(f"{API}/attachment/{bad}"), 404)
    assert_error(admin.get("/secure/attachment/999/x.txt"), 404)

    assert fields_of(admin, key)["attachment"] == before
    assert _blobs(services) == before_blobs
    assert admin.get(kept_meta["content"]).content == b"kept"
    # Exactly the limit is allowed.
    exact = admin.post(url, headers=NO_CHECK, files={"file": ("exact.bin", b"z" * limit)})
    assert exact.status_code == 200, exact.text
    assert exact.json()[0]["size"] == limit


# -- work logs --------------------------------------------------------------------------


def test_worklogs(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/worklog"
    assert admin.get(url).json()["worklogs"] == []

    text = admin.post(url, json={"timeSpent": "1h 30m", "comment": "pairing"})
    assert text.status_code == 201, text.text
    assert text.json()["timeSpentSeconds"] == 5400
    assert text.json()["timeSpent"] == "1h 30m"
    assert text.json()["comment"] == "pairing"
    assert text.json()["author"]["name"] == "admin"
    assert TIMESTAMP.match(text.json()["started"])
    seconds = admin.post(
        url, json={"timeSpentSeconds": 8 * 3600 + 60, "started": "2026-01-05T09:00:00.000+0000"}
    )
    assert seconds.status_code == 201, seconds.text
    assert seconds.json()["timeSpent"] == "1d 1m"
    assert seconds.json()["started"] == "2026-01-05T09:00:00.000+0000"
    week = admin.post(url, json={"timeSpent": "1w 2d"})
    assert week.json()["timeSpentSeconds"] == 7 * 8 * 3600

    listed = admin.get(url).json()
    assert listed["total"] == 3
    assert [w["timeSpentSeconds"] for w in listed["worklogs"]] == [5400, 28860, 201600]
    assert fields_of(admin, key)["worklog"]["total"] == 3

    for body in (
        {},
        {"timeSpent": ""},
        {"timeSpent": "90"},
        {"timeSpent": "1x"},
        {"timeSpent": "99999999999999999999w"},
        {"timeSpentSeconds": 0},
        {"timeSpentSeconds": -60},
        {"timeSpentSeconds": 10**30},
        {"timeSpentSeconds": "sixty"},
        {"timeSpent": "1h", "started": "yesterday"},
        {"timeSpent": "1h", "minutes": 5},
    ):
        response = admin.post(url, json=body)
        assert_error(response, 400)
    assert_error(send_raw(admin, "POST", url, b'{"timeSpent": '), 400, message="JSON")
    assert_error(admin.post(f"{API}/issue/PA-99/worklog", json={"timeSpent": "1h"}), 404)
    assert_error(admin.get(f"{API}/issue/PA-99/worklog"), 404)
    assert admin.get(url).json() == listed


# -- watchers ---------------------------------------------------------------------------


def test_watchers(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> None:
    create_project(admin, "PA")
    alice = make_client("alice")
    bob = make_client("bob")
    key = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/watchers"

    empty = admin.get(url).json()
    assert (empty["watchCount"], empty["isWatching"], empty["watchers"]) == (0, False, [])

    me = alice.post(url)
    assert me.status_code == 204, me.text
    named = admin.post(url, json="bob")
    assert named.status_code == 204, named.text
    assert admin.post(url, json="bob").status_code == 204  # twice is once
    watching = alice.get(url).json()
    assert watching["isWatching"] is True
    assert watching["watchCount"] == 2
    assert sorted(w["name"] for w in watching["watchers"]) == ["alice", "bob"]
    assert admin.get(url).json()["isWatching"] is False
    assert fields_of(admin, key)["watches"]["watchCount"] == 2
    assert fields_of(admin, key)["watches"]["isWatching"] is False
    assert fields_of(alice, key)["watches"]["isWatching"] is True

    assert_error(alice.delete(url, params={"username": "bob"}), 403)
    assert_error(admin.post(url, json="nobody"), 404)
    assert_error(admin.post(url, json=["bob"]), 400)
    assert_error(admin.post(url, json=""), 400)
    assert_error(send_raw(admin, "POST", url, b'"bob'), 400)
    assert_error(admin.delete(url), 400)
    assert_error(admin.delete(url, params={"username": "nobody"}), 404)
    assert_error(admin.post(f"{API}/issue/PA-99/watchers", json="bob"), 404)
    assert_error(admin.get(f"{API}/issue/PA-99/watchers"), 404)
    assert alice.get(url).json() == watching

    assert bob.delete(url, params={"username": "bob"}).status_code == 204
    assert admin.delete(url, params={"username": "alice"}).status_code == 204
    assert admin.get(url).json()["watchCount"] == 0


# -- links ------------------------------------------------------------------------------


def test_issue_links(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    blocker = create_issue(admin, "PA", "Blocker")
    blocked = create_issue(admin, "PB", "Blocked")

    created = admin.post(
        f"{API}/issueLink",
        json={
            "type": {"name": "Blocks"},
            "inwardIssue": {"key": blocker},
            "outwardIssue": {"key": blocked},
        },
    )
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]

    got = admin.get(f"{API}/issueLink/{link_id}")
    assert got.status_code == 200, got.text
    assert got.json()["type"]["name"] == "Blocks"
    assert got.json()["inwardIssue"]["key"] == blocker
    assert got.json()["outwardIssue"]["key"] == blocked

    # The inward issue "blocks" the outward one: each side shows the other.
    on_blocker = fields_of(admin, blocker)["issuelinks"]
    assert len(on_blocker) == 1
    assert on_blocker[0]["id"] == link_id
    assert on_blocker[0]["outwardIssue"]["key"] == blocked
    assert "inwardIssue" not in on_blocker[0]
    on_blocked = fields_of(admin, blocked)["issuelinks"]
    assert on_blocked[0]["inwardIssue"]["key"] == blocker
    assert on_blocked[0]["inwardIssue"]["fields"]["summary"] == "Blocker"
    assert "outwardIssue" not in on_blocked[0]

    # A link through an edit's update appears too.
    via_edit = admin.put(
        f"{API}/issue/{blocked}",
        json={
            "update": {
                "issuelinks": [
                    {"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": blocker}}}
                ]
            }
        },
    )
    assert via_edit.status_code == 204, via_edit.text
    assert len(fields_of(admin, blocker)["issuelinks"]) == 2

    assert admin.delete(f"{API}/issueLink/{link_id}").status_code == 204
    assert_error(admin.get(f"{API}/issueLink/{link_id}"), 404)
    assert_error(admin.delete(f"{API}/issueLink/{link_id}"), 404)
    assert [link["type"]["name"] for link in fields_of(admin, blocker)["issuelinks"]] == ["Relates"]


def test_issue_link_rejections_change_nothing(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    one = create_issue(admin, "PA")
    two = create_issue(admin, "PA")
    url = f"{API}/issueLink"

    def link(**body: object) -> dict[str, object]:
        base: dict[str, object] = {
            "type": {"name": "Blocks"},
            "inwardIssue": {"key": one},
            "outwardIssue": {"key": two},
        }
        base.update(body)
        return {k: v for k, v in base.items() if v is not None}

    assert_error(admin.post(url, json=link(type={"name": "Befriends"})), 404)
    assert_error(admin.post(url, json=link(outwardIssue={"key": "PA-99"})), 404)
    assert_error(admin.post(url, json=link(inwardIssue={"key": "PA-99"})), 404)
    assert_error(admin.post(url, json=link(outwardIssue={"id": "9" * 30})), 404)
    assert_error(admin.post(url, json=link(outwardIssue={"key": one})), 400, field="issuelinks")
    assert_error(admin.post(url, json=link(outwardIssue=None)), 400, field="outwardIssue")
    assert_error(admin.post(url, json=link(type=None)), 400, field="type")
    assert_error(admin.post(url, json=link(inwardIssue={})), 400)
    assert_error(admin.post(url, json=link(colour="red")), 400, field="colour")
    assert_error(send_raw(admin, "POST", url, b'{"type": {"name": "Blocks"},'), 400, message="JSON")
    for bad in ("999", "abc", "9" * 30):
        assert_error(admin.get(f"{url}/{bad}"), 404)
        assert_error(admin.delete(f"{url}/{bad}"), 404)

    assert fields_of(admin, one)["issuelinks"] == []
    assert fields_of(admin, two)["issuelinks"] == []
