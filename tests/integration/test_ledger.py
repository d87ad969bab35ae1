"""The sync ledger: loaded once per page or batch, written with the unit of work that applies it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.domain.message import TraceType
from issuesync.engine.pipeline import incoming, outgoing
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.services import Services
from issuesync.store.sync import SyncInfo, TraceRow


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


@contextmanager
def statements(services: Services) -> Iterator[Counter[str]]:
    """The statements sent meanwhile, by verb and table (``SELECT sync_info``)."""
    seen: Counter[str] = Counter()

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        table = re.search(r"\b(sync_info|sync_traces|sync_conflicts)\b", statement)
        if table is not None:
            seen[f"{statement.split(None, 1)[0].upper()} {table.group(1)}"] += 1

    engines = {services.database.write_engine, services.database.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def test_the_incoming_route_reads_links_traces_and_conflicts_once_per_batch(pair: Pair) -> None:
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(6)]
    pair.settle()
    for number, key in enumerate(keys):
        # No issue key in the text: a synced issue's key would be rewritten to its twin's.
        pair.edit(key, summary=f"Issue {number} edited")
        pair.comment(key, f"A comment on {key}")
    pa, pb = pair.engine.route(pair.first_id), pair.engine.route(pair.second_id)
    assert pa is not None
    assert pb is not None
    assert outgoing.poll(pa).messages_sent == len(keys)

    with statements(pair.services) as seen:
        assert incoming.process(pb).applied == len(keys)

    # Read once for the batch, whatever its size; written once per message (its unit of work).
    assert seen["SELECT sync_info"] == 1
    assert seen["SELECT sync_traces"] == 1
    assert seen["SELECT sync_conflicts"] == 1
    assert seen["UPDATE sync_info"] == len(keys)
    assert seen["INSERT sync_traces"] == len(keys)
    assert pair.fields(pair.twin(keys[0]))["summary"] == "Issue 0 edited"


def _link(services: Services, connector_id: int, local: str, remote: str | None) -> int:
    with services.uow_factory() as uow:
        row = SyncInfo(
            connector_id=connector_id,
            local_issue_key=local,
            remote_issue_key=remote,
            outgoing_sequence_id=0,
            incoming_sequence_id=3,
            incoming_changes_ignored=False,
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def test_the_oldest_link_of_a_partner_issue_wins(pair: Pair) -> None:
    services, connector = pair.services, pair.first_id
    oldest = _link(services, connector, "PA-7", "PB-1")
    _link(services, connector, "PA-8", "PB-1")

    loaded = SyncLedger(connector, services.uow_factory)
    loaded.load(remote_keys=["PB-1"])
    fetched = SyncLedger(connector, services.uow_factory)  # one key at a time

    for ledger in (loaded, fetched):
        link = ledger.link_by_remote("PB-1")
        assert link is not None
        assert link.id == oldest
        assert ledger.link("PA-7") is link  # one object per row
    assert loaded.link_by_remote("PB-2") is None


def test_what_a_failed_unit_of_work_changed_is_read_again(pair: Pair) -> None:
    services, connector = pair.services, pair.first_id
    _link(services, connector, "PA-7", "PB-1")
    ledger = SyncLedger(connector, services.uow_factory)
    ledger.load(remote_keys=["PB-1"])

    def apply() -> None:
        with ledger.forgetting_on_failure("PB-1"):
            link = ledger.link_by_remote("PB-1")
            assert link is not None
            link.incoming_sequence_id = 4
            ledger.traces.add("PA-7", TraceType.COMMENT, "10", None)
            raise RuntimeError("the tracker refused")

    with pytest.raises(RuntimeError):
        apply()

    again = ledger.link_by_remote("PB-1")
    assert again is not None
    assert again.incoming_sequence_id == 3
    assert ledger.traces.of("PA-7") == {}
    with services.uow_factory() as uow:  # nothing left to write
        ledger.save(uow.session)
        uow.commit()
    assert ledger.traces.of("PA-7") == {}


def test_rows_written_as_plain_rows_are_fetched_when_asked_for(pair: Pair) -> None:
    services, connector = pair.services, pair.first_id
    ledger = SyncLedger(connector, services.uow_factory)
    ledger.load(local_keys=["PA-9"], remote_keys=["PB-9"])
    assert ledger.link("PA-9") is None

    ledger.insert_link({"local_issue_key": "PA-9", "remote_issue_key": "PB-9", "shadow": None})
    ledger.traces.insert(
        {
            "local_issue_key": "PA-9",
            "kind": "COMMENT",
            "local_id": "1",
            "remote_id": "2",
            "digest": None,
        }
    )
    with services.uow_factory() as uow:
        ledger.save(uow.session)
        uow.commit()

    link = ledger.link_by_remote("PB-9")
    assert link is not None
    assert link.local_issue_key == "PA-9"
    assert list(ledger.traces.of("PA-9")) == [(TraceType.COMMENT, "1")]
    assert ledger.traces.local_ids(["2"]) == {("COMMENT", "2"): "1"}


def test_partner_ids_are_found_whichever_issue_holds_them(pair: Pair) -> None:
    services, connector = pair.services, pair.first_id
    with services.uow_factory() as uow:
        uow.session.add(
            TraceRow(
                connector_id=connector,
                local_issue_key="PA-3",
                kind="ATTACHMENT",
                local_id="30",
                remote_id="40",
            )
        )
        uow.commit()
    ledger = SyncLedger(connector, services.uow_factory)
    ledger.load(local_keys=["PA-4"], partner_ids=["40"])

    assert ledger.traces.local_ids(["40"]) == {("ATTACHMENT", "40"): "30"}
    assert ledger.traces.partner_ids("PA-3") == {"30": "40"}
