"""Two issuesync nodes over the node API (seed 003): pairing, exchange, tokens, revocation."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from node_pair import ADMIN_PASSWORD, Node, paired_nodes, settle

from issuesync.application import relations
from issuesync.domain.relation import Invitation
from issuesync.errors import InvalidInputError
from issuesync.trackers.adapter import IssueDraft

PREFIX = "/rest/issuehub/2.4/relations/AllContent"
SEED_400 = "Connection `AllContent` not found. Seems like it was removed on the Destination side."


def _twins(node: Node) -> dict[str, object]:
    return {r.hub_issue.summary: r for page in node.project.changed_since(None, []) for r in page}


def test_two_nodes_pair_by_invitation_and_sync_both_ways(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, two):
        made = one.project.create(
            IssueDraft(issue_type="Task", fields={"summary": "From node one"}),
            idempotency_key="n-1",
        )
        one.project.add_comment(made.key, "hello from one", None, idempotency_key="n-c1")
        one.project.add_attachment(
            made.key, "a.txt", "text/plain", b"shared", idempotency_key="n-a1"
        )
        settle(one, two)
        [twin] = [r for page in two.project.changed_since(None, []) for r in page]
        assert twin.hub_issue.summary == "From node one"
        assert twin.hub_issue.comments[0].body.endswith("hello from one")
        [attachment] = twin.hub_issue.attachments
        assert two.project.read_attachment(attachment.id) == b"shared"

        two.project.update(twin.key, {"summary": "Edited on node two"})
        two.project.add_comment(twin.key, "hello from two", None, idempotency_key="n-c2")
        settle(one, two)
        back = one.project.get(made.key)
        assert back is not None
        assert back.hub_issue.summary == "Edited on node two"
        assert [c.body for c in back.hub_issue.comments][-1].endswith("hello from two")
        # Nothing twice, nothing left waiting on either side.
        assert len(back.hub_issue.comments) == 2
        for node in (one, two):
            [view] = relations.list_relations(node.services)
            assert view.state == "active"
            assert view.counts.to_json() == {
                "pendingOut": 0,
                "pendingIn": 0,
                "blobsPending": 0,
                "inError": 0,
            }


def _token(secret: str, **claims: object) -> str:
    now = int(time.time())
    base = {
        "iss": "x",
        "aud": "AllContent",
        "iat": now,
        "exp": now + 60,
        "jti": f"j{time.time_ns()}",
    }
    return jwt.encode(base | claims, secret.encode(), algorithm="HS256")


def test_node_routes_answer_the_seed_statuses(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, two):
        secret, partner = _secret_and_partner(one)
        url = f"{one.url}{PREFIX}/syncevents/syncrequests"
        with httpx.Client() as http:
            assert http.get(url).status_code == 403  # no token
            assert http.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 403
            good = _token(secret, iss=partner)
            first = http.get(url, headers={"Authorization": f"Bearer {good}"})
            assert first.status_code == 200
            assert first.json() == []
            replay = http.get(url, headers={"Authorization": f"Bearer {good}"})
            assert replay.status_code == 401
            assert "used already" in replay.json()["message"]
            for bad in (
                _token("wrong-secret" * 4, iss=partner),
                _token(secret, iss=partner, aud="Other"),
                _token(secret, iss="someone-else"),
                _token(secret, iss=partner, iat=int(time.time()) - 900, exp=int(time.time()) - 600),
                _token(secret, iss=partner, exp=int(time.time()) + 3600),  # lives too long
            ):
                answer = http.get(url, headers={"Authorization": f"Bearer {bad}"})
                assert answer.status_code == 401, answer.text
            gone = http.get(
                f"{one.url}/rest/issuehub/2.4/relations/Nope/syncevents/syncrequests",
                headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
            )
            assert gone.status_code == 400
            assert gone.headers["content-type"].startswith("text/plain")
            assert gone.text == SEED_400.replace("AllContent", "Nope")
        del two


def _secret_and_partner(node: Node) -> tuple[str, str]:
    from sqlalchemy import select  # noqa: PLC0415

    from issuesync.store.relations import RelationRow  # noqa: PLC0415

    with node.services.uow_factory(readonly=True) as uow:
        row = uow.session.scalars(select(RelationRow)).one()
        assert row.secret is not None
        assert row.partner_node is not None
        assert "secret" not in str(relations.get_relation(node.services, row.name).to_json())
        return node.services.secrets.decrypt(row.secret), row.partner_node


def test_revoking_breaks_the_relation_on_the_other_node(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, two):
        relations.revoke(one.services, "AllContent", actor="admin")
        broken = relations.get_relation(two.services, "AllContent")
        assert (broken.state, broken.reason) == ("broken", SEED_400)
        assert relations.get_relation(one.services, "AllContent").state == "revoked"


def test_a_partner_that_lost_the_relation_answers_400_and_ours_shows_broken(
    tmp_path: Path,
) -> None:
    with paired_nodes(tmp_path) as (one, two):
        # Node one forgets the relation without telling (a restore from an old backup, say).
        from sqlalchemy import update  # noqa: PLC0415

        from issuesync.store.relations import RelationRow  # noqa: PLC0415

        with one.services.uow_factory() as uow:
            uow.session.execute(update(RelationRow).values(state="revoked"))
            uow.commit()
        two.engine.step()
        broken = relations.get_relation(two.services, "AllContent")
        assert (broken.state, broken.reason) == ("broken", SEED_400)


def test_an_invitation_is_used_once_and_carries_no_secret(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, two):
        again = relations.invite(one.services, name="Second", project_key="PA", actor="admin")
        decoded = Invitation.decode(again.code)
        assert decoded.relation == "Second"
        with httpx.Client() as http:
            wrong = http.post(
                f"{one.url}/rest/issuehub/2.4/pairings",
                json={
                    "relation": "Second",
                    "token": "guess",
                    "node": "n",
                    "url": two.url,
                    "projectKey": "PB",
                    "publicKey": "AAAA",
                },
            )
            assert wrong.status_code == 403
            admin = http.get(
                f"{one.url}/rest/issuehub/2.4/admin/relations", auth=("admin", ADMIN_PASSWORD)
            )
            assert admin.status_code == 200
            assert {r["name"] for r in admin.json()} == {"AllContent", "Second"}
            assert "token" not in admin.text
            assert decoded.token not in admin.text
            queue = http.get(
                f"{one.url}/rest/issuehub/2.4/admin/syncqueue", auth=("admin", ADMIN_PASSWORD)
            ).json()
            assert queue["relations"]["AllContent"]["pendingOut"] == 0
            assert http.get(f"{one.url}/rest/issuehub/2.4/admin/syncqueue").status_code == 401


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_a_limit_out_of_range_is_a_400_in_the_dialect(tmp_path: Path, limit: int) -> None:
    with paired_nodes(tmp_path) as (one, _two):
        secret, partner = _secret_and_partner(one)
        with httpx.Client() as http:
            answer = http.get(
                f"{one.url}{PREFIX}/syncevents/syncrequests",
                params={"limit": limit},
                headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
            )
        assert answer.status_code in (400, 422)
        assert "message" in answer.json()


def test_backbone_status_shows_the_partner_half_from_the_relation(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, two):
        settle(one, two)
        key = relations.get_relation(one.services, "AllContent").integration_key
        url = f"{one.url}/api/1/integrations/{key}/status"
        with httpx.Client(auth=("admin", ADMIN_PASSWORD)) as http:
            second = http.get(url).json()["secondConnector"]
            assert second["incomingRouteStatus"] == "STARTED"
            assert second["externalRouteStatus"] == "STARTED"
            assert second["online"] is True
            relations.revoke(two.services, "AllContent", actor="admin")
            one.engine.step()
            deadline = time.monotonic() + 5  # the status board is up to a second old
            while second["incomingRouteStatus"] == "STARTED" and time.monotonic() < deadline:
                time.sleep(0.1)
                second = http.get(url).json()["secondConnector"]
        assert second["incomingRouteStatus"] == "STOPPED"
        assert second["incomingDetails"] == SEED_400


def test_a_blob_that_does_not_match_waits_is_reported_then_parked_and_retried(
    tmp_path: Path,
) -> None:
    from sqlalchemy import update  # noqa: PLC0415

    from issuesync.engine.transports.base import BlobArea  # noqa: PLC0415
    from issuesync.store.relations import BlobFailureRow  # noqa: PLC0415

    with paired_nodes(tmp_path) as (one, two):
        made = one.project.create(
            IssueDraft(issue_type="Task", fields={"summary": "With a file"}),
            idempotency_key="b-1",
        )
        one.project.add_attachment(
            made.key, "f.txt", "text/plain", b"the bytes", idempotency_key="b-a"
        )
        one.engine.step()  # the event and its blob wait on node one
        area = BlobArea(one.services.settings.transit_dir)
        [checksum] = [c for c in _checksums(area) if area.read(c) == b"the bytes"]
        path = area.store.path(checksum)
        path.write_bytes(b"other bytes")  # damaged on the disk of node one
        two.engine.step()
        assert two.project.changed_since(None, []) is not None
        assert [r for page in two.project.changed_since(None, []) for r in page] == []
        secret, partner = _secret_and_partner(two)
        with httpx.Client() as http:
            errors = http.get(
                f"{two.url}{PREFIX}/syncrequests/bloberrorresponses",
                headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
            ).json()
        [error] = errors
        assert error["blobErrorReason"] == "CHECKSUM_MISMATCH"
        assert error["errorMessage"].startswith(f"Checksums for blob id '{error['blobId']}' do not")
        assert f"Expected: {checksum} Was: " in error["errorMessage"]
        assert relations.get_relation(two.services, "AllContent").counts.blobs_pending == 1
        for _ in range(6):  # the back-off passed, each time
            with two.services.uow_factory() as uow:
                uow.session.execute(update(BlobFailureRow).values(next_attempt_ms=0))
                uow.commit()
            two.engine.step()
        counts = relations.get_relation(two.services, "AllContent").counts
        assert (counts.blobs_pending, counts.in_error) == (0, 2)  # the message and the blob
        listed = relations.sync_errors(two.services)
        assert {e["state"] for e in listed} == {"error", "parked"}
        path.write_bytes(b"the bytes")  # repaired
        blob_error = next(e for e in listed if e["state"] == "parked")
        with httpx.Client(auth=("admin", ADMIN_PASSWORD)) as http:
            retried = http.post(
                f"{two.url}/rest/issuehub/2.4/admin/syncerrors/{blob_error['id']}/retry"
            )
        assert retried.status_code == 200, retried.text
        settle(one, two)
        [twin] = [r for page in two.project.changed_since(None, []) for r in page]
        [attachment] = twin.hub_issue.attachments
        assert two.project.read_attachment(attachment.id) == b"the bytes"
        assert relations.sync_errors(two.services) == []


def _checksums(area: object) -> list[str]:
    root = area.store.root  # type: ignore[attr-defined]
    return [p.name for p in root.rglob("*") if p.is_file() and len(p.name) == 64]


def test_project_admins_and_strangers_get_no_admin_route(tmp_path: Path) -> None:
    from issuesync.accounts import NewUser, create_user  # noqa: PLC0415

    with paired_nodes(tmp_path) as (one, _two):
        create_user(
            one.services.uow_factory,
            NewUser(name="pa-admin", password="pa-pw", project_admin_keys=("PA",)),
        )
        with httpx.Client(auth=("pa-admin", "pa-pw")) as http:
            base = f"{one.url}/rest/issuehub/2.4/admin"
            for method, path in (
                ("GET", "/relations"),
                ("GET", "/relations/AllContent"),
                ("GET", "/syncqueue"),
                ("GET", "/syncerrors"),
                ("POST", "/relations/AllContent/revoke"),
            ):
                assert http.request(method, base + path).status_code == 403, path
        assert relations.get_relation(one.services, "AllContent").state == "active"


def test_a_relations_secret_is_nowhere_but_encrypted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging  # noqa: PLC0415

    caplog.set_level(logging.DEBUG)
    with paired_nodes(tmp_path) as (one, two):
        one.project.create(
            IssueDraft(issue_type="Task", fields={"summary": "S"}), idempotency_key="s-1"
        )
        settle(one, two)
        secret, _ = _secret_and_partner(one)
        assert secret == _secret_and_partner(two)[0]  # derived alike on both nodes
        with httpx.Client(auth=("admin", ADMIN_PASSWORD)) as http:
            for node in (one, two):
                for path in ("/admin/relations", "/admin/relations/AllContent", "/admin/syncqueue"):
                    assert secret not in http.get(f"{node.url}/rest/issuehub/2.4{path}").text
        assert secret not in caplog.text
        for node in (one, two):
            url = node.services.settings.resolved_database_url
            database = Path(url.removeprefix("sqlite:///"))
            files = list(database.parent.glob(database.name + "*"))
            assert database in files
            for file in files:
                assert secret.encode() not in file.read_bytes(), file


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


def test_hostile_bodies_to_the_node_routes_get_4xx_never_5xx(tmp_path: Path) -> None:
    """With a valid token (the partner is trusted to sign, not to be right) and without."""
    with paired_nodes(tmp_path) as (one, _two):
        secret, partner = _secret_and_partner(one)
        routes = [
            ("POST", f"{PREFIX}/syncevents/acknowledgements"),
            ("POST", "/rest/issuehub/2.4/pairings"),
            ("POST", f"{PREFIX}/nudges"),
        ]
        with httpx.Client(base_url=one.url) as http:

            @settings(max_examples=40, deadline=None, database=None)
            @given(body=_JSON, route=st.sampled_from(routes), signed=st.booleans())
            def send(body: object, route: tuple[str, str], signed: bool) -> None:
                headers = (
                    {"Authorization": f"Bearer {_token(secret, iss=partner)}"} if signed else {}
                )
                answer = http.request(route[0], route[1], json=body, headers=headers)
                assert answer.status_code < 500, (route, body, answer.text)

            send()
            for ids in ([2**70], [-1], ["x"], [True], [1.5], list(range(1001)), None):
                answer = http.post(
                    f"{PREFIX}/syncevents/acknowledgements",
                    json={"syncEventIds": ids},
                    headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
                )
                assert 400 <= answer.status_code < 500, (ids, answer.text)
            for checksum in ("x" * 64, "0" * 64, "../" * 20, "A" * 64):
                answer = http.get(
                    f"{PREFIX}/blobs/{checksum}",
                    headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
                )
                assert 400 <= answer.status_code < 500, (checksum, answer.text)
        assert relations.get_relation(one.services, "AllContent").state == "active"


def test_sync_error_ids_that_are_not_there_are_404(tmp_path: Path) -> None:
    with (
        paired_nodes(tmp_path) as (one, _two),
        httpx.Client(auth=("admin", ADMIN_PASSWORD)) as http,
    ):
        for error_id in ("9" * 30, "blob-" + "9" * 25, "blob-x", "abc", "12", "blob-12"):
            for action in ("retry", "discard"):
                answer = http.post(
                    f"{one.url}/rest/issuehub/2.4/admin/syncerrors/{error_id}/{action}"
                )
                assert answer.status_code == 404, (error_id, answer.text)


def test_sync_events_travel_compressed(tmp_path: Path) -> None:
    with paired_nodes(tmp_path) as (one, _two):
        for n in range(5):
            one.project.create(
                IssueDraft(issue_type="Task", fields={"summary": f"Compressed {n}" * 20}),
                idempotency_key=f"z-{n}",
            )
        one.engine.step()
        secret, partner = _secret_and_partner(one)
        with httpx.Client() as http:
            answer = http.get(
                f"{one.url}{PREFIX}/syncevents/syncrequests",
                headers={
                    "Authorization": f"Bearer {_token(secret, iss=partner)}",
                    "Accept-Encoding": "gzip",
                },
            )
        assert answer.headers["content-encoding"] == "gzip"
        assert len(answer.json()) == 5
        assert int(answer.headers["content-length"]) < len(answer.content) / 3


def test_an_acceptor_that_lost_its_side_accepts_the_same_code_again(tmp_path: Path) -> None:
    """Node two paired, then crashed before it stored its side: the same code works."""
    from node_pair import running_node  # noqa: PLC0415
    from sqlalchemy import delete  # noqa: PLC0415

    from issuesync.store.relations import RelationRow  # noqa: PLC0415
    from issuesync.store.sync import IntegrationRow  # noqa: PLC0415

    with (
        running_node(tmp_path / "one", "PA") as one,
        running_node(tmp_path / "two", "PB") as two,
    ):
        invited = relations.invite(one.services, name="AllContent", project_key="PA", actor="admin")
        relations.accept(two.services, code=invited.code, project_key="PB", actor="admin")
        with two.services.uow_factory() as uow:  # as if it never committed
            uow.session.execute(delete(RelationRow))
            uow.session.execute(delete(IntegrationRow))
            uow.commit()
        again = relations.accept(two.services, code=invited.code, project_key="PB", actor="admin")
        assert again.state == "active"
        one.project.create(
            IssueDraft(issue_type="Task", fields={"summary": "A"}), idempotency_key="r"
        )
        settle(one, two)
        assert [r.hub_issue.summary for p in two.project.changed_since(None, []) for r in p] == [
            "A"
        ]
        # Once node two has spoken with its new secret, the code is spent for good.
        with two.services.uow_factory() as uow:
            uow.session.execute(delete(RelationRow))
            uow.commit()
        with pytest.raises(InvalidInputError, match="refused the invitation"):
            relations.accept(two.services, code=invited.code, project_key="PB", actor="admin")


def test_a_relations_integration_round_trips_through_backbone_and_keeps_its_queues(
    tmp_path: Path,
) -> None:
    with paired_nodes(tmp_path) as (one, _two):
        key = relations.get_relation(one.services, "AllContent").integration_key
        with httpx.Client(auth=("admin", ADMIN_PASSWORD), base_url=one.url) as http:
            body = http.get(f"/api/1/integrations/{key}").json()
            assert body["firstConnector"]["connection"]["connector"]["sendQueue"] == {
                "@type": "http",
                "name": "AllContent",
            }
            assert http.put(f"/api/1/integrations/{key}", json=body).status_code == 200
            vm = {"@type": "vm", "name": "elsewhere"}
            body["firstConnector"]["connection"]["connector"]["sendQueue"] = vm
            changed = http.put(f"/api/1/integrations/{key}", json=body)
            assert changed.status_code == 400
            assert "stay as pairing made them" in changed.text
            new = {
                "firstConnector": {
                    "projectKey": "PA",
                    "connection": {"connector": {"sendQueue": {"@type": "http", "name": "Mine"}}},
                },
                "secondConnector": {"projectKey": "PX"},
                "distributed": True,
            }
            made = http.post("/api/1/integrations", json=new)
            assert made.status_code == 400
            assert "relation invite" in made.text


def test_a_node_url_with_credentials_or_a_query_is_refused(tmp_path: Path) -> None:
    from node_pair import running_node  # noqa: PLC0415

    with running_node(tmp_path / "one", "PA") as one:
        for url in ("https://u:p@one.example", "https://one.example/?token=x", "ftp://one", "x"):
            with pytest.raises(InvalidInputError) as refused:
                relations.invite(one.services, name="R", project_key="PA", actor="a", url=url)
            assert "p@" not in str(refused.value.field_errors)
            assert "token=x" not in str(refused.value.field_errors)


def test_a_sync_response_shows_the_twin_made_for_the_request(tmp_path: Path) -> None:
    from issuesync.domain.replica import Replica  # noqa: PLC0415

    with paired_nodes(tmp_path) as (one, two):
        made = one.project.create(
            IssueDraft(issue_type="Task", fields={"summary": "Answer me"}), idempotency_key="q"
        )
        one.engine.step()  # sent
        two.engine.step()  # pulled, applied, answered; node one has not pulled the answer
        secret, partner = _secret_and_partner(two)
        with httpx.Client() as http:
            [answer] = http.get(
                f"{two.url}{PREFIX}/syncrequests/syncresponses",
                headers={"Authorization": f"Bearer {_token(secret, iss=partner)}"},
            ).json()
        assert answer["sourceIssueKey"] == {"urn": made.key}
        twin = Replica.decode(answer["replica"]["encodedPayload"]).hub_issue
        assert (twin.key, twin.summary) == (answer["replica"]["issueKey"]["urn"], "Answer me")
        assert twin.project is not None
        assert twin.project.key == "PB"
        settle(one, two)
        assert relations.get_relation(one.services, "AllContent").counts.pending_in == 0
