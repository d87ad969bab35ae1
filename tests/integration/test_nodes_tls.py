"""Two issuesync nodes over https on loopback, trusting a test CA (``support/certs.py``).

A node verifies its partner's certificate against the relation's CA bundle: with it
the two nodes pair and sync; without it (or with another CA's) the pairing is refused
before anything is stored, and the invitation can still be used.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx
import pytest
from node_pair import Node, paired_nodes, running_node, settle

from issuesync.application import relations
from issuesync.errors import InvalidInputError
from issuesync.trackers.adapter import IssueDraft
from support.certs import TlsFiles, make_certificates


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """One CA and server certificate for the module's nodes (both serve with it)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


def test_the_certificate_files_are_for_loopback_and_the_key_is_private(
    tls_files: TlsFiles,
) -> None:
    assert stat.S_IMODE(tls_files.key.stat().st_mode) == 0o600
    for path in (tls_files.ca, tls_files.cert):
        assert path.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_two_nodes_pair_and_sync_over_https_with_the_ca_bundle(
    tmp_path: Path, tls_files: TlsFiles
) -> None:
    ca = str(tls_files.ca)
    with paired_nodes(tmp_path, tls=tls_files.server, ca_bundle=ca) as (one, two):
        _sync_one_issue_over_https(one, two)


def _sync_one_issue_over_https(one: Node, two: Node) -> None:
    """An issue of node one reaches node two, and an edit there comes back."""
    assert one.url.startswith("https://127.0.0.1:")
    assert two.url.startswith("https://127.0.0.1:")
    made = one.project.create(
        IssueDraft(issue_type="Task", fields={"summary": "Over https"}),
        idempotency_key="tls-1",
    )
    one.project.add_comment(made.key, "sealed in transit", None, idempotency_key="tls-c1")
    settle(one, two)
    [twin] = [r for page in two.project.changed_since(None, []) for r in page]
    assert twin.hub_issue.summary == "Over https"
    assert twin.hub_issue.comments[0].body.endswith("sealed in transit")

    two.project.update(twin.key, {"summary": "Edited over https"})
    settle(one, two)
    back = one.project.get(made.key)
    assert back is not None
    assert back.hub_issue.summary == "Edited over https"
    for node, partner in ((one, two), (two, one)):
        [view] = relations.list_relations(node.services)
        assert (view.state, view.partner_url) == ("active", partner.url)
        assert view.counts.to_json()["inError"] == 0


@pytest.mark.parametrize("bundle", ["none", "another-ca"])
def test_pairing_without_the_partners_ca_is_refused_and_stores_nothing(
    tmp_path: Path, tls_files: TlsFiles, bundle: str
) -> None:
    ca_bundle = None
    if bundle == "another-ca":
        ca_bundle = str(make_certificates(tmp_path / "other").ca)
    with (
        running_node(tmp_path / "one", "PA", tls=tls_files.server) as one,
        running_node(tmp_path / "two", "PB", tls=tls_files.server) as two,
    ):
        # A plain client that does not know the CA is refused by TLS itself.
        with httpx.Client(trust_env=False) as http, pytest.raises(httpx.ConnectError):
            http.get(f"{one.url}/rest/issuehub/2.4/admin/relations")

        invited = relations.invite(one.services, name="AllContent", project_key="PA", actor="admin")
        with pytest.raises(InvalidInputError) as refused:
            relations.accept(
                two.services,
                code=invited.code,
                project_key="PB",
                actor="admin",
                ca_bundle=ca_bundle,
            )
        message = refused.value.message
        assert f"The inviting node at {one.url} cannot be reached" in message
        assert re.search(r"certificate", message, re.IGNORECASE), message
        assert set(refused.value.field_errors) == {"code"}
        assert relations.list_relations(two.services) == []
        assert relations.get_relation(one.services, "AllContent").state == "invited"

        # Trusting the right CA, the same invitation still pairs: the refusal was trust only.
        view = relations.accept(
            two.services,
            code=invited.code,
            project_key="PB",
            actor="admin",
            ca_bundle=str(tls_files.ca),
        )
        assert view.state == "active"
        assert relations.get_relation(one.services, "AllContent").state == "active"
