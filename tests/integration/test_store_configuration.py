"""Migration 0006: configurations, queues and resync tasks stored in Backbone's names are read
in the core's neutral names after it, and written back in the old names by a downgrade."""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from issuesync.domain.configuration import Direction
from issuesync.engine.connectors import load_configuration, load_queue
from issuesync.engine.pipeline.resync import ResyncRequest
from issuesync.store.db import connect
from issuesync.store.migrate import alembic_config, upgrade
from issuesync.store.sync import ConnectorRow, IntegrationRow

# A configuration as 0005 stored it: the API's body, by alias, with values whose keys must
# not be renamed (a field default's value and a value mapping's sides are any JSON).
OLD_CONFIGURATION: dict[str, Any] = {
    "sync": {
        "outgoingJqls": ["project = PA"],
        "outgoingInterval": "10s",
        "incomingInterval": "1m",
        "automaticConflictResolution": True,
    },
    "advanced": {
        "archivedMessagesPerIssue": 3,
        "discardedMessagesPerIssue": 20_000,  # out of range, stored before ranges were checked
        "sequenceErrorRetries": 7,
    },
    "fieldDefaults": [
        {"field": "customfield_1", "value": {"someKey": [1, "x"]}, "issueType": "Bug"},
        {"field": "labels", "value": ["a"], "issueType": None},
    ],
    "issueTypeMappings": {
        "incoming": [{"local": "Bug", "remote": "Defect"}],
        "outgoing": [{"local": "Defect", "remote": "Bug"}],
    },
    "fieldMappings": [
        {
            "id": "m-1",
            "localField": "priority",
            "remoteField": "priority",
            "direction": "OUTGOING",
            "valueMappings": [{"local": {"localField": 1}, "remote": "High"}],
        }
    ],
    "workflowMappings": [
        {"id": "##GLOBAL##", "statusMappings": [{"local": "Open", "remote": "New"}]},
        {"id": "Bug", "statusMappings": []},
    ],
}
OLD_SEND = {"@type": "file", "path": "INT-1/PA-1_to_PB-2"}
OLD_RECEIVE = {"@type": "vm", "name": "PB-2_PA-1"}
OLD_RESYNC = {
    "jql": "key = PA-1",
    "fieldMappings": ["m-1"],
    "responsibility": False,
    "sendStatusField": True,
}


def _stored(url: str) -> tuple[str, str, str, str]:
    db = connect(url)
    try:
        with db.read_engine.connect() as connection:
            configuration, send, receive = connection.execute(
                text("SELECT configuration, send_queue, receive_queue FROM connectors")
            ).one()
            parameters = connection.execute(text("SELECT parameters FROM tasks")).scalar_one()
        return configuration, send, receive, parameters
    finally:
        db.dispose()


def test_stored_backbone_names_are_read_in_neutral_names_and_back(database_url: str) -> None:
    db = connect(database_url)
    try:
        upgrade(db, "0005")
        with Session(db.write_engine) as session:  # these two tables are as at 0005
            made = {"created_user": "t", "created_ms": 0, "modified_user": "t", "modified_ms": 0}
            # The columns as they were then (a Core insert names only these; the ORM would
            # name every column the model has now).
            session.execute(insert(IntegrationRow).values(id=1, number=1, key="INT-1", **made))
            session.flush()
            session.add(
                ConnectorRow(
                    id=1,
                    integration_id=1,
                    position=1,
                    number=1,
                    key="PA-1",
                    project_key="PA",
                    project_connector_key="PA-1",
                    system="local",
                    send_queue=json.dumps(OLD_SEND),
                    receive_queue=json.dumps(OLD_RECEIVE),
                    configuration=json.dumps(OLD_CONFIGURATION),
                    **made,
                )
            )
            session.commit()
        with db.write_engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tasks (id, kind, connector_id, integration_id, parameters,"
                    " start_ms, finished, cancelled, failed, progress, message, updated_ms)"
                    " VALUES ('T1', 'resync', 1, 1, :parameters, 0, false, false, false, 0,"
                    " 'waiting', 0)"
                ),
                {"parameters": json.dumps(OLD_RESYNC)},
            )
        upgrade(db)
        configuration, send, receive, parameters = _stored(database_url)

        loaded = load_configuration(configuration)
        assert loaded.sync.outgoing_jqls == ["project = PA"]
        assert (loaded.sync.outgoing_interval_ms, loaded.sync.incoming_interval_ms) == (
            10_000,
            60_000,
        )
        assert loaded.sync.automatic_conflict_resolution is True
        assert loaded.advanced.archived_messages_per_issue == 3
        assert loaded.advanced.discarded_messages_per_issue == 10_000  # brought into range
        assert loaded.advanced.sequence_error_retries == 7
        assert [(d.field, d.value, d.issue_type) for d in loaded.field_defaults] == [
            ("customfield_1", {"someKey": [1, "x"]}, "Bug"),
            ("labels", ["a"], None),
        ]
        assert [(m.local, m.remote) for m in loaded.issue_type_mappings.incoming] == [
            ("Bug", "Defect")
        ]
        assert [(m.local, m.remote) for m in loaded.issue_type_mappings.outgoing] == [
            ("Defect", "Bug")
        ]
        (mapping,) = loaded.field_mappings
        assert (mapping.id, mapping.local_field, mapping.remote_field, mapping.direction) == (
            "m-1",
            "priority",
            "priority",
            Direction.OUTGOING,
        )
        assert [(v.local, v.remote) for v in mapping.value_mappings] == [
            ({"localField": 1}, "High")
        ]
        assert [
            (w.id, [(s.local, s.remote) for s in w.status_mappings])
            for w in loaded.workflow_mappings
        ] == [("##GLOBAL##", [("Open", "New")]), ("Bug", [])]
        assert (load_queue(send).type, load_queue(send).path) == ("file", "INT-1/PA-1_to_PB-2")
        assert (load_queue(receive).type, load_queue(receive).name) == ("vm", "PB-2_PA-1")
        assert ResyncRequest.from_parameters(json.loads(parameters)) == ResyncRequest(
            query="key = PA-1", field_mapping_ids=("m-1",), responsibility=False, send_status=True
        )

        config = alembic_config(db.url)
        with db.write_engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            connection.commit()
        configuration, send, receive, parameters = _stored(database_url)
        assert json.loads(configuration) == OLD_CONFIGURATION
        assert (json.loads(send), json.loads(receive)) == (OLD_SEND, OLD_RECEIVE)
        assert json.loads(parameters) == OLD_RESYNC
    finally:
        db.dispose()
