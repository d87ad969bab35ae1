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
from fuzz_helpers import all_operations, fuzz_operations, make_fuzz_world
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from issuesync.app import bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.services import Services

ADMIN = "Basic " + base64.b64encode(b"admin:fuzz-password").decode()
PREFIX = "/api/1"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str]]:
    home: Path = tmp_path_factory.mktemp("backbone-fuzz")
    services = build_services(
        Settings(home=home, admin_password=SecretStr("fuzz-password"), base_url="http://fuzz")
    )
    bootstrap(services)
    task_id = make_fuzz_world(services, ADMIN)
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
        operation for operation in all_operations(schema) if operation.path.startswith(PREFIX + "/")
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
