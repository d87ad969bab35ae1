"""The file transport on real folders and a real database.

Connector PA-4 sends to PB-5 through an exchange folder: inside one home
(centralized, relative paths) or between two homes sharing a folder (absolute
paths). Each side has its own FileTransport, as each engine would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import select

from issuesync.application.integrations import ConnectorConfig
from issuesync.domain.configuration import AdvancedSettings, Configuration
from issuesync.domain.connection import Queue
from issuesync.domain.message import BlobMetadata, Message, MessageKind, ReceiveState
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.file import FileTransport
from issuesync.engine.transports.folders import folder_for, message_file_name, message_path
from issuesync.errors import ConfigurationError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow


@dataclass
class Side:
    """One connector: its configuration, home, blob area and transport."""

    config: ConnectorConfig
    home: Path
    blobs: BlobArea
    transport: FileTransport
    roots: tuple[Path, ...] = ()

    @property
    def folder(self) -> Path:
        return self.home / "data" / "default" / "INT-3" / self.config.key

    def restart(self, services: Services) -> FileTransport:
        self.transport = FileTransport(
            self.home, self.config, self.blobs, services.uow_factory, roots=self.roots
        )
        return self.transport


def _queue(path: str) -> Queue:
    return Queue(type="file", path=path)


def _connectors(
    services: Services,
    home_a: Path,
    home_b: Path,
    a_to_b: str,
    b_to_a: str,
    roots: tuple[Path, ...] = (),
) -> tuple[Side, Side]:
    """INT-3 with PA-4 and PB-5 in the store, and a FileTransport for each (queue roots:
    ``roots``, by default each home's data folder)."""
    now = now_ms()
    audit = {"created_user": "admin", "created_ms": now, "modified_user": "admin"}
    with services.uow_factory() as uow:
        session = uow.session
        integration = IntegrationRow(number=3, key="INT-3", modified_ms=now, **audit)
        session.add(integration)
        session.flush()
        rows = []
        for position, (key, send, receive) in enumerate(
            (("PA-4", a_to_b, b_to_a), ("PB-5", b_to_a, a_to_b)), start=1
        ):
            row = ConnectorRow(
                integration_id=integration.id,
                position=position,
                number=3 + position,
                key=key,
                project_key=key.split("-")[0],
                project_connector_key=f"local:{key}",
                system="local",
                # As the store keeps a queue: the neutral model's JSON.
                send_queue=json.dumps({"type": "file", "path": send}),
                receive_queue=json.dumps({"type": "file", "path": receive}),
                configuration="{}",
                modified_ms=now,
                **audit,
            )
            session.add(row)
            session.flush()
            session.add(ConnectorState(connector_id=row.id))
            rows.append(row)
        uow.commit()
    sides = []
    for index, home in enumerate((home_a, home_b)):
        row, partner = rows[index], rows[1 - index]
        config = ConnectorConfig(
            id=row.id,
            key=row.key,
            position=row.position,
            integration_id=integration.id,
            integration_key="INT-3",
            project_key=row.project_key,
            project_connector_key=row.project_connector_key,
            system="local",
            base_url=None,
            user=None,
            send_queue=_queue(a_to_b if index == 0 else b_to_a),
            receive_queue=_queue(b_to_a if index == 0 else a_to_b),
            configuration=Configuration(advanced=AdvancedSettings(archived_messages_per_issue=2)),
            partner_id=partner.id,
            partner_key=partner.key,
            initial_delay_ms=0,
            polling_interval_ms=1000,
        )
        blobs = BlobArea(home / "data" / "blobs")
        transport = FileTransport(home, config, blobs, services.uow_factory, roots=roots)
        sides.append(Side(config, home, blobs, transport, roots))
    return sides[0], sides[1]


@pytest.fixture
def centralized(services: Services, home: Path) -> tuple[Side, Side]:
    return _connectors(services, home, home, "INT-3/PA-4_to_PB-5", "INT-3/PB-5_to_PA-4")


@pytest.fixture
def two_homes(services: Services, tmp_path: Path) -> tuple[Side, Side]:
    shared = tmp_path / "shared"
    return _connectors(
        services,
        tmp_path / "a",
        tmp_path / "b",
        str(shared / "a_to_b"),
        str(shared / "b_to_a"),
        roots=(shared,),
    )


def _message(
    sequence_id: int = 1, issue: str = "PA-1", to: str = "PB-5", blobs: tuple[str, ...] = ()
) -> Message:
    return Message(
        integration_key="INT-3",
        from_connector="PA-4",
        to_connector=to,
        source_issue_key=issue,
        sequence_id=sequence_id,
        kind=MessageKind.UPDATE,
        changes={"summary": f"change {sequence_id}"},
        blob_metadata_list=[BlobMetadata(blob_id=b, checksum=b, size=1) for b in blobs],
    )


def _deliver(services: Services, side: Side, *messages: Message) -> None:
    with services.uow_factory() as uow:
        for message in messages:
            side.transport.deliver(
                uow.session, side.config.id, side.config.partner_id, message, now_ms()
            )
        uow.commit()


def _rows(services: Services, side: Side, queue: str) -> list[MessageRow]:
    with services.uow_factory(readonly=True) as uow:
        rows = list(
            uow.session.scalars(
                select(MessageRow)
                .where(MessageRow.connector_id == side.config.id, MessageRow.queue == queue)
                .order_by(MessageRow.id)
            )
        )
        uow.session.expunge_all()  # readable after the unit of work ends
        return rows


def _set_state(services: Services, side: Side, uuid: str, state: str, when: int = 0) -> None:
    with services.uow_factory() as uow:
        row = uow.session.scalars(
            select(MessageRow).where(
                MessageRow.connector_id == side.config.id,
                MessageRow.queue == queues.RECEIVE,
                MessageRow.uuid == uuid,
            )
        ).one()
        queues.set_state(row, state, when or now_ms(), f"now {state}")
        uow.commit()


def _names(folder: Path, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern) if p.is_file())


def test_pump_hands_the_message_and_its_blobs_to_the_exchange_folder(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    a, _ = centralized
    checksum = a.blobs.put(b"attachment content")
    message = _message(blobs=(checksum,))
    _deliver(services, a, message)
    assert list(a.home.rglob("*.bac")) == []  # the row is the truth until the pump

    assert a.transport.pump() == 1

    exchange = a.home / "data" / "default" / "INT-3" / "PA-4_to_PB-5"
    name = f"PA-1_1_{message.id}.bac"
    assert _names(exchange) == [name]
    assert Message.loads((exchange / name).read_bytes()) == message
    assert (exchange / "blobs" / checksum).read_bytes() == b"attachment content"
    assert not list((a.home / "data").rglob(".*"))  # no temporary files left
    assert _names(a.folder / "SEND") == []
    [row] = _rows(services, a, queues.SEND)
    assert (row.state, row.reason) == ("sent", None)
    assert message_path(a.home, a.config, row) == exchange / name
    assert a.transport.pump() == 0


def test_two_homes_share_a_folder_and_duplicates_are_dropped(
    services: Services, two_homes: tuple[Side, Side], tmp_path: Path
) -> None:
    a, b = two_homes
    checksum = a.blobs.put(b"shared attachment")
    message = _message(blobs=(checksum,))
    _deliver(services, a, message)
    a.transport.pump()
    exchange = tmp_path / "shared" / "a_to_b"
    sent = (exchange / message_file_name("PA-1", 1, message.id)).read_bytes()

    assert b.transport.pump() > 0

    name = f"PA-1_1_{message.id}.bac"
    assert _names(b.folder / "RECEIVE") == [name]
    assert _names(exchange) == []
    assert b.blobs.read(checksum) == b"shared attachment"
    assert not (exchange / "blobs" / checksum).exists()  # taken by its only reader
    [row] = _rows(services, b, queues.RECEIVE)
    assert (row.state, row.uuid, row.issue_key) == ("new", message.id, "PA-1")
    assert message_path(b.home, b.config, row) == b.folder / "RECEIVE" / name

    # The same file again, once under its own name and once under another message name.
    (exchange / name).write_bytes(sent)
    (exchange / "PA-1_1_copy.bac").write_bytes(sent)
    b.transport.pump()
    assert len(_rows(services, b, queues.RECEIVE)) == 1
    assert _names(b.folder / "RECEIVE") == [name]

    # A copy arriving after the message was applied joins it in the archive.
    _set_state(services, b, message.id, ReceiveState.ARCHIVE)
    b.transport.pump()
    (exchange / name).write_bytes(sent)
    b.transport.pump()
    assert _names(b.folder / "RECEIVE") == []
    assert _names(b.folder / "RECEIVE" / "archive") == [name]
    assert len(_rows(services, b, queues.RECEIVE)) == 1


def test_message_files_that_are_not_messages_for_this_connector_go_to_invalid(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    # Named as the engine names messages, so its own by format: set aside with a reason.
    # (Files with other names are not the engine's: see test_security_queues.py.)
    _, b = centralized
    exchange = b.home / "data" / "default" / "INT-3" / "PA-4_to_PB-5"
    exchange.mkdir(parents=True)
    garbage, elsewhere, wrong = "PA-1_1_garbage.bac", "PA-1_2_elsewhere.bac", "PA-1_3_wrong.bac"
    (exchange / garbage).write_text("this is not JSON")
    (exchange / elsewhere).write_text(_message(to="PX-9").dumps())
    (exchange / wrong).write_text(json.dumps({"format": "issuesync-message/1"}))

    assert b.transport.pump() > 0

    invalid = b.folder / "RECEIVE" / "invalid"
    reasons = {f.name: f.reason for f in b.transport.list_invalid()}
    assert sorted(reasons) == sorted([garbage, elsewhere, wrong])
    assert reasons[garbage].startswith("not a message: ")
    assert reasons[elsewhere] == "addressed to connector 'PX-9', not 'PB-5'"
    assert "is required" in reasons[wrong] or "Field required" in reasons[wrong]
    assert (invalid / f"{garbage}.reason.txt").exists()
    assert _rows(services, b, queues.RECEIVE) == []
    assert _names(b.folder / "RECEIVE") == []

    # A second file of the same name is kept beside the first, never over it.
    (exchange / garbage).write_text("still not JSON")
    b.transport.pump()
    assert (invalid / "PA-1_1_garbage-1.bac").read_text() == "still not JSON"
    assert (invalid / garbage).read_text() == "this is not JSON"


@pytest.mark.parametrize(
    ("state", "folder"),
    [
        (ReceiveState.ARCHIVE, "RECEIVE/archive"),
        (ReceiveState.ERROR, "RECEIVE/error/PA-1"),
        (ReceiveState.ISSUE_MISSING, "RECEIVE/issue-missing/PA-1"),
        (ReceiveState.SEQUENCE_ERROR, "RECEIVE/sequence-error"),
        (ReceiveState.OFFLINE, "RECEIVE/offline"),
        (ReceiveState.DISCARD, "RECEIVE/discard"),
    ],
)
def test_files_follow_their_message_state_and_come_back_on_retry(
    services: Services, centralized: tuple[Side, Side], state: ReceiveState, folder: str
) -> None:
    a, b = centralized
    message = _message()
    _deliver(services, a, message)
    a.transport.pump()
    b.transport.pump()
    name = f"PA-1_1_{message.id}.bac"

    _set_state(services, b, message.id, state)
    assert b.transport.pump() == 1

    assert folder_for(state, "PA-1") == PurePosixPath(folder)
    assert _names(b.folder / folder) == [name]
    assert _names(b.folder / "RECEIVE") == []
    [row] = _rows(services, b, queues.RECEIVE)
    assert message_path(b.home, b.config, row) == b.folder / folder / name
    assert b.transport.pump() == 0

    if state == ReceiveState.ARCHIVE:  # not retryable by a user; back to new all the same
        _set_state(services, b, message.id, ReceiveState.NEW)
    else:
        with services.uow_factory() as uow:
            queues.retry([uow.session.get_one(MessageRow, row.id)], now_ms())
            uow.commit()
    assert b.transport.pump() == 1
    assert _names(b.folder / "RECEIVE") == [name]
    assert _names(b.folder / folder) == []


def test_unwritable_exchange_folder_parks_the_message_in_send_error(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    a, _ = centralized
    exchange = a.home / "data" / "default" / "INT-3" / "PA-4_to_PB-5"
    exchange.parent.mkdir(parents=True)
    exchange.write_text("a file where the folder should be")
    message = _message()
    _deliver(services, a, message)

    with pytest.raises(ConfigurationError, match="could not be written"):
        a.transport.pump()

    name = f"PA-1_1_{message.id}.bac"
    assert _names(a.folder / "SEND") == []
    assert _names(a.folder / "SEND" / "error") == [name]
    [row] = _rows(services, a, queues.SEND)
    assert row.state == "error"
    assert row.reason is not None
    assert str(exchange) in row.reason
    assert message_path(a.home, a.config, row) == a.folder / "SEND" / "error" / name

    exchange.unlink()
    with services.uow_factory() as uow:
        queues.retry([uow.session.get_one(MessageRow, row.id)], now_ms())
        uow.commit()
    assert a.transport.pump() == 1
    assert _names(a.folder / "SEND" / "error") == []
    assert _names(exchange) == [name]
    assert _rows(services, a, queues.SEND)[0].state == "sent"


def test_archived_files_are_pruned_per_issue_like_their_rows(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    a, b = centralized
    messages = [_message(seq) for seq in range(1, 5)] + [_message(1, issue="PA-2")]
    _deliver(services, a, *messages)
    a.transport.pump()
    b.transport.pump()
    for message in messages:
        _set_state(services, b, message.id, ReceiveState.ARCHIVE)

    b.transport.pump()

    kept = _names(b.folder / "RECEIVE" / "archive")
    assert kept == sorted(
        message_file_name(m.source_issue_key, m.sequence_id, m.id)
        for m in (messages[2], messages[3], messages[4])
    )


def test_a_crash_between_steps_is_redone_harmlessly_and_a_restart_reconciles(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    a, b = centralized
    message = _message()
    _deliver(services, a, message)
    name = f"PA-1_1_{message.id}.bac"
    exchange = a.home / "data" / "default" / "INT-3" / "PA-4_to_PB-5"
    # The last run wrote the file and handed it over, then died before the commit.
    exchange.mkdir(parents=True)
    (exchange / name).write_text(message.dumps())
    (a.folder / "SEND").mkdir(parents=True)
    (a.folder / "SEND" / name).write_text(message.dumps())
    (a.folder / "SEND" / f".{name}.1234.tmp").write_text("half")

    assert a.transport.pump() == 1
    assert _names(exchange) == [name]
    assert _names(a.folder / "SEND") == []
    b.transport.pump()
    assert len(_rows(services, b, queues.RECEIVE)) == 1

    # A state changed long ago (outside the look-back window) is seen after a restart.
    _set_state(services, b, message.id, ReceiveState.ERROR, when=1)
    b.transport.pump()
    assert _names(b.folder / "RECEIVE") == [name]
    assert b.restart(services).pump() == 1
    assert _names(b.folder / "RECEIVE" / "error" / "PA-1") == [name]


def test_a_pending_file_deleted_by_hand_is_written_again_from_its_row(
    services: Services, centralized: tuple[Side, Side]
) -> None:
    a, b = centralized
    message = _message()
    _deliver(services, a, message)
    a.transport.pump()
    b.transport.pump()
    name = f"PA-1_1_{message.id}.bac"
    (b.folder / "RECEIVE" / name).unlink()

    assert b.restart(services).pump() == 1
    assert Message.loads((b.folder / "RECEIVE" / name).read_text()) == message


def test_folder_names_cannot_leave_the_connector_folder() -> None:
    assert folder_for("error", "../../etc") == PurePosixPath("RECEIVE/error/-.-..-etc")
    assert message_file_name("a/b", 2, "x_y") == "a-b_2_x-y.bac"
    with pytest.raises(ValueError, match="not a receive state"):
        folder_for("sent", "PA-1")
