"""Backbone's documents: its field names, and no web framework under the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from issuesync.api.backbone.documents.fields import (
    CONNECTION_FIELDS,
    INTEGRATION_FIELDS,
    RESYNC_FIELDS,
    SYNC_INFO_FIELDS,
    backbone_fields,
    backbone_path,
)
from issuesync.errors import InvalidInputError


@pytest.mark.parametrize(
    ("path", "renames", "named"),
    [
        ("first.project_key", INTEGRATION_FIELDS, "firstConnector.projectKey"),
        (
            "second.connection.proxy.password",
            INTEGRATION_FIELDS,
            "secondConnector.connection.application.proxy.password",
        ),
        ("first.queues", INTEGRATION_FIELDS, "firstConnector.connection.connector"),
        (
            "second.queues.receive_queue",
            INTEGRATION_FIELDS,
            "secondConnector.connection.connector.receiveQueue",
        ),
        (
            "first.configuration.sync.outgoing_jqls",
            INTEGRATION_FIELDS,
            "firstConnector.configuration.sync.outgoingJqls",
        ),
        ("second.token", CONNECTION_FIELDS, "secondConnector.token"),
        ("first", CONNECTION_FIELDS, "firstConnector"),
        ("field_mapping_ids[2]", RESYNC_FIELDS, "fieldMappings[2]"),
        ("query", RESYNC_FIELDS, "jql"),
        ("[3].remote_issue_key", SYNC_INFO_FIELDS, "[3].remoteIssueKey"),
        ("[0].first_sync_ms", SYNC_INFO_FIELDS, "[0].firstSyncDate"),
    ],
)
def test_neutral_fields_take_backbones_names(
    path: str, renames: dict[str, str], named: str
) -> None:
    assert backbone_path(path, renames) == named


def test_errors_raised_inside_are_renamed() -> None:
    with pytest.raises(InvalidInputError) as raised, backbone_fields(INTEGRATION_FIELDS):
        raise InvalidInputError("no", field_errors={"first.connection.user": "who?"})
    assert raised.value.field_errors == {"firstConnector.connection.application.user": "who?"}


def test_the_cli_and_the_documents_load_no_web_framework() -> None:
    code = (
        "import sys, issuesync.cli, issuesync.api.backbone.documents.listing, "
        "issuesync.api.backbone.documents.resync; "
        "web = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')); "
        "sys.exit(str(web) if web else 0)"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, this code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
