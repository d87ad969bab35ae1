"""Schemathesis fuzzes every route of the Backbone API: no 500, no answer outside its schema.

Requests are generated from the OpenAPI document (valid and invalid path, query
and body values) and sent over the app's ASGI interface, authenticated as the
administrator, against an integration between two built-in projects with an
issue, a sync information entry and a task. Every answer must be a documented
status with a body that matches its documented schema. The run is bounded (a
few examples per route) so that it fits in `make test`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fuzz_helpers import fuzz_operations
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from issuesync.app import Services, bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.domain.integration import IntegrationSpec
from issuesync.engine.integrations import create_integration, project_checker
from issuesync.engine.lifecycle import request_start
from issuesync.engine.syncinfo import import_sync_info
from issuesync.trackers.local import catalog, issues

ADMIN = "Basic " + base64.b64encode(b"admin:fuzz-password").decode()
PREFIX = "/api/1"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str]]:
    home: Path = tmp_path_factory.mktemp("backbone-fuzz")
    services = build_services(
        Settings(home=home, admin_password=SecretStr("fuzz-password"), base_url="http://fuzz")
    )
    bootstrap(services)
    admin = services.authenticator.authenticate(ADMIN)
    for key in ("PA", "PB"):
        with services.tracker.write(admin) as op:
            catalog.create_project(op, {"key": key, "name": f"Project {key}"})
    with services.tracker.write(admin) as op:
        issues.create_issue(
            op,
            {"project": {"key": "PA"}, "summary": "Fuzz target", "issuetype": {"name": "Task"}},
            {},
        )
    body = {"firstConnector": {"projectKey": "PA"}, "secondConnector": {"projectKey": "PB"}}
    with services.uow_factory() as uow:
        row = create_integration(
            uow.session,
            IntegrationSpec.model_validate(body),
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(uow.session),
            places=services.queue_places,
        )
        import_sync_info(uow.session, "PA-1", [{"localIssueKey": "PA-1", "remoteIssueKey": "PB-1"}])
        task_id = request_start(uow.session, row.key, "admin").id
        uow.commit()
    yield services, task_id
    services.close()


def test_no_route_answers_a_server_error_or_breaks_its_schema(
    fuzzed: tuple[Services, str],
) -> None:
    services, task_id = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(services))
    real_values = {
        "integrationKey": "INT-1",
        "connectorKey": "PA-1",
        "taskId": task_id,
        "messageId": "1",
    }
    # Both base paths run the same code: one is fuzzed (the other is checked in
    # test_backbone_api.py to answer identically).
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith(PREFIX + "/")
    ]
    assert len(operations) >= 20  # every route of the API is in the document
    failures = fuzz_operations(
        operations,
        authorization=ADMIN,
        real_values=real_values,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        max_examples=8,
    )
    assert not failures, "\n\n".join(failures)
