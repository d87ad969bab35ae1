"""Sync information (seed 000) at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from integration_helpers import SEED_SYNC_INFO, create, local_body, make_projects
from sqlalchemy import select

from issuesync.api.backbone.documents.syncinfo import (
    delete_sync_info,
    import_sync_info,
    list_sync_info,
)
from issuesync.application.integrations import connector_by_key
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.sync import TraceRow


@pytest.fixture
def linked(services: Services) -> Services:
    """INT-1 (PA-1 <> PB-2) with seed 000's two entries imported into PA-1."""
    make_projects(services, "PA", "PB")
    create(services, local_body("PA", "PB"))
    with services.uow_factory() as uow:
        assert import_sync_info(uow.session, "PA-1", SEED_SYNC_INFO) == 2
        uow.commit()
    return services


def sync_info(services: Services, connector: str, **filters: str) -> list[dict[str, Any]]:
    with services.uow_factory(readonly=True) as uow:
        return list_sync_info(uow.session, connector, **filters)


def test_sync_information_is_listed_in_the_seeds_shape(linked: Services) -> None:
    entries = sync_info(linked, "PA-1")
    assert len(entries) == 2
    for entry, imported in zip(entries, SEED_SYNC_INFO, strict=True):
        assert list(entry) == [
            "id",
            "connectorKey",
            "localIssueKey",
            "remoteIssueKey",
            "firstSyncDate",
            "lastOutgoingChange",
            "lastChangeSeen",
            "outgoingMessageSequenceId",
            "lastIncomingChange",
            "incomingMessageSequenceId",
            "incomingChangesIgnored",
        ]
        assert isinstance(entry["id"], int)
        assert entry["connectorKey"] == "PA-1"
        assert {k: v for k, v in entry.items() if k not in {"id", "connectorKey"}} == imported
    assert [e["localIssueKey"] for e in sync_info(linked, "PA-1", local_issue_key="PA-2")] == [
        "PA-2"
    ]
    assert [e["remoteIssueKey"] for e in sync_info(linked, "PA-1", remote_issue_key="PB-1")] == [
        "PB-1"
    ]
    assert sync_info(linked, "PB-2") == []
    with pytest.raises(NotFoundError, match="No connector with key PX-9"):
        sync_info(linked, "PX-9")


def test_import_updates_by_local_issue_key(linked: Services) -> None:
    before = sync_info(linked, "PA-1")
    with linked.uow_factory() as uow:
        count = import_sync_info(
            uow.session,
            "PA-1",
            [
                {"localIssueKey": "PA-1", "remoteIssueKey": "PB-7", "incomingChangesIgnored": True},
                {"localIssueKey": "PA-3", "remoteIssueKey": "PB-1"},
            ],
        )
        uow.commit()
    assert count == 2
    after = {e["localIssueKey"]: e for e in sync_info(linked, "PA-1")}
    assert after["PA-1"]["id"] == before[0]["id"]
    assert after["PA-1"]["remoteIssueKey"] == "PB-7"
    assert after["PA-1"]["incomingChangesIgnored"] is True
    assert after["PA-1"]["firstSyncDate"] == 1495002038742  # not given: kept
    assert after["PA-3"] == after["PA-3"] | {
        "remoteIssueKey": "PB-1",
        "firstSyncDate": 0,  # unset reads as the epoch (seed 000 types it long)
        "outgoingMessageSequenceId": 0,
        "incomingMessageSequenceId": 0,
        "incomingChangesIgnored": False,
    }
    # A list read from a connector can be imported as it is: a backup restores.
    backup = sync_info(linked, "PA-1")
    with linked.uow_factory() as uow:
        assert delete_sync_info(uow.session, "PA-1", None) == 3
        assert import_sync_info(uow.session, "PA-1", backup) == 3
        uow.commit()
    restored = sync_info(linked, "PA-1")

    def without_id(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "id"} for e in entries]

    assert without_id(restored) == without_id(backup)


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([SEED_SYNC_INFO[0], {"localIssueKey": "PA-5"}], "[1].remoteIssueKey"),
        ([{"localIssueKey": "PA-5", "remoteIssueKey": "PB-5", "colour": 1}], "[0].colour"),
        (
            [{"localIssueKey": "PA-5", "remoteIssueKey": "PB-5", "firstSyncDate": "x"}],
            "[0].firstSyncDate",
        ),
        (
            [{"localIssueKey": "PA-5", "remoteIssueKey": "PB-5", "incomingChangesIgnored": 1}],
            "[0].incomingChangesIgnored",
        ),
        ([{"localIssueKey": "", "remoteIssueKey": "PB-5"}], "[0].localIssueKey"),
        (["PA-5"], "[0]"),
        ([{"localIssueKey": "PA-5", "remoteIssueKey": "PB-5"}] * 2, "[1].localIssueKey"),
        ([{"localIssueKey": "PA-5", "remoteIssueKey": "PB-2"}], "[0].remoteIssueKey"),
    ],
)
def test_a_bad_import_names_the_entry_and_field(
    linked: Services, entries: list[Any], field: str
) -> None:
    with linked.uow_factory() as uow, pytest.raises(InvalidInputError) as raised:
        import_sync_info(uow.session, "PA-1", entries)
    assert field in raised.value.field_errors
    index = field[1 : field.index("]")]
    assert f"entry {index}" in raised.value.message
    assert len(sync_info(linked, "PA-1")) == 2


def test_import_needs_an_array(linked: Services) -> None:
    with linked.uow_factory() as uow, pytest.raises(InvalidInputError, match="JSON array"):
        import_sync_info(uow.session, "PA-1", {"localIssueKey": "PA-1"})


def test_delete_one_entry_then_all_with_their_traces(linked: Services) -> None:
    with linked.uow_factory() as uow:
        connector = connector_by_key(uow.session, "PA-1")
        for issue in ("PA-1", "PA-2", "PA-9"):
            uow.session.add(
                TraceRow(connector_id=connector.id, local_issue_key=issue, kind="comment")
            )
        uow.commit()
    first_id = sync_info(linked, "PA-1")[0]["id"]
    with linked.uow_factory() as uow:
        assert delete_sync_info(uow.session, "PA-1", first_id) == 1
        uow.commit()
    assert [e["localIssueKey"] for e in sync_info(linked, "PA-1")] == ["PA-2"]
    with linked.uow_factory() as uow, pytest.raises(NotFoundError):
        delete_sync_info(uow.session, "PA-1", first_id)

    def traces() -> list[str]:
        with linked.uow_factory(readonly=True) as uow:
            return sorted(uow.session.scalars(select(TraceRow.local_issue_key)))

    assert traces() == ["PA-2", "PA-9"]
    with linked.uow_factory() as uow:
        assert delete_sync_info(uow.session, "PA-1", None) == 1
        uow.commit()
    assert sync_info(linked, "PA-1") == []
    assert traces() == ["PA-9"]
    with linked.uow_factory() as uow:
        assert delete_sync_info(uow.session, "PA-1", None) == 0
