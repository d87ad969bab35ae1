"""Seed 000/001 examples and helpers shared by the integration and sync information tests."""

from __future__ import annotations

import base64
import re
from typing import Any

from issuesync.api.backbone.documents.bodies import parse_integration_spec
from issuesync.api.backbone.documents.integrations import (
    create_from_spec,
    integration_body,
    integration_json,
)
from issuesync.application.integrations import get_integration, project_checker
from issuesync.services import Services
from issuesync.trackers.local import catalog

# Seed 001, "POST /integrations", the example request, exactly.
SEED_REQUEST: dict[str, Any] = {
    "summary": "Project A <> Project B (REST)",
    "description": (
        "This integration synchronizes issues between project Project A (PA) and project "
        "Project B (PB)"
    ),
    "firstConnector": {
        "projectKey": "PA",
        "connection": {
            "application": {
                "baseUrl": "http://localhost:8510/jira",
                "user": "backbone",
                "password": "backbone",
            }
        },
    },
    "secondConnector": {
        "projectKey": "PB",
        "connection": {
            "application": {
                "baseUrl": "http://localhost:8510/jira",
                "user": "backbone",
                "password": "backbone",
            }
        },
    },
}

SEED_CONFIGURATION: dict[str, Any] = {
    "sync": {
        "outgoingJqls": [],
        "outgoingInterval": "5s",
        "incomingInterval": "5s",
        "automaticConflictResolution": False,
    },
    "advanced": {
        "archivedMessagesPerIssue": 2,
        "discardedMessagesPerIssue": 2,
        "sequenceErrorRetries": 5,
    },
    "fieldDefaults": [],
    "issueTypeMappings": {"incoming": [], "outgoing": []},
    "fieldMappings": [],
    "workflowMappings": [{"id": "##GLOBAL##"}],
}


def seed_connector(key: str, project: str, send: str, receive: str) -> dict[str, Any]:
    """A connector of seed 001's example result."""
    return {
        "createdUser": "admin",
        "lastModifiedUser": "admin",
        "createdDate": "2017-05-17T08:01:37+0200",
        "lastModifiedDate": "2017-05-17T08:01:37+0200",
        "connectorKey": key,
        "projectKey": project,
        "projectConnectorKey": "k15t.backbone.syncinfo.8ddf109d-44d5-41a0-b74e-905d1302c809",
        "connection": {
            "application": {"baseUrl": "http://localhost:8510/jira", "user": "backbone"},
            "connector": {
                "sendQueue": {"@type": "file", "path": send},
                "receiveQueue": {"@type": "file", "path": receive},
                "initialInternalPollingDelay": 1000,
                "internalPollingInterval": 1000,
            },
        },
        "configuration": SEED_CONFIGURATION,
    }


# Seed 001's example result, for its keys and shape.
SEED_RESPONSE: dict[str, Any] = {
    "createdUser": "admin",
    "lastModifiedUser": "admin",
    "createdDate": "2017-05-17T08:01:37+0200",
    "lastModifiedDate": "2017-05-17T08:01:37+0200",
    "integrationKey": "INT-3",
    "summary": "Project A <> Project B (REST)",
    "description": SEED_REQUEST["description"],
    "firstConnector": seed_connector("PA-4", "PA", "INT-3/PA-4_to_PB-5", "INT-3/PB-5_to_PA-4"),
    "secondConnector": seed_connector("PB-5", "PB", "INT-3/PB-5_to_PA-4", "INT-3/PA-4_to_PB-5"),
}

# Seed 000, the example import request, exactly.
SEED_SYNC_INFO: list[dict[str, Any]] = [
    {
        "localIssueKey": "PA-1",
        "remoteIssueKey": "PB-1",
        "firstSyncDate": 1495002038742,
        "lastOutgoingChange": 1495002035948,
        "lastChangeSeen": 1495002035948,
        "outgoingMessageSequenceId": 1,
        "lastIncomingChange": 1495002053729,
        "incomingMessageSequenceId": 1,
        "incomingChangesIgnored": False,
    },
    {
        "localIssueKey": "PA-2",
        "remoteIssueKey": "PB-2",
        "firstSyncDate": 1495002042722,
        "lastOutgoingChange": 1495002040675,
        "lastChangeSeen": 1495002040675,
        "outgoingMessageSequenceId": 1,
        "lastIncomingChange": 1495002058847,
        "incomingMessageSequenceId": 1,
        "incomingChangesIgnored": False,
    },
]


def stopped_connector_status(connector_key: str) -> dict[str, Any]:
    """Seed 002's status block of a connector that no engine runs."""
    return {
        "connectorKey": connector_key,
        "online": True,
        "reconnecting": False,
        "incomingRouteStatus": "STOPPED",
        "incomingProcessingStatus": "IDLE",
        "incomingDetails": "",
        "outgoingRouteStatus": "STOPPED",
        "outgoingProcessingStatus": "IDLE",
        "outgoingDetails": "",
        "externalRouteStatus": "STOPPED",
        "issuesInError": 0,
    }


BACKBONE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$")


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def make_projects(services: Services, *keys: str) -> None:
    admin = services.authenticator.authenticate(basic("admin", "admin-secret"))
    for key in keys:
        with services.tracker.write(admin) as op:
            catalog.create_project(op, {"key": key, "name": f"Project {key}"})


def local_body(first: str, second: str, **extra: Any) -> dict[str, Any]:
    """A body for two projects of the built-in tracker."""
    return {
        "firstConnector": {"projectKey": first},
        "secondConnector": {"projectKey": second},
        **extra,
    }


def create(services: Services, body: dict[str, Any]) -> dict[str, Any]:
    """Create through the service as the API does; returns the integration's JSON."""
    with services.uow_factory() as uow:
        view = create_from_spec(
            uow.session,
            parse_integration_spec(body),
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        document = integration_body(view)
        uow.commit()
    return document


def show(services: Services, key: str, *, with_status: bool = False) -> dict[str, Any]:
    with services.uow_factory(readonly=True) as uow:
        return integration_json(
            uow.session, get_integration(uow.session, key), with_status=with_status
        )


def assert_same_keys(actual: Any, expected: Any, path: str = "") -> None:
    """Every object in ``actual`` has exactly the keys of ``expected`` at the same place."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert set(actual) == set(expected), path
        for name, value in expected.items():
            assert_same_keys(actual[name], value, f"{path}.{name}")
    elif isinstance(expected, list) and expected:
        assert isinstance(actual, list), path
        for item in actual:
            assert_same_keys(item, expected[0], f"{path}[]")
