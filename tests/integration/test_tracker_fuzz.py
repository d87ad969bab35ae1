"""Schemathesis fuzzes every route of the built-in tracker's API: no input may cause a 500.

It generates requests from the OpenAPI document (valid and invalid path and query
values, bodies of the documented shapes) and sends them to the app over its ASGI
interface, authenticated as the administrator, against a project with an issue.
The run is bounded (a few examples per route) so that it fits in `make test`; `make soak`
runs five times as many.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fuzz_helpers import all_operations, fuzz_operations
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error

from issuesync.app import bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.services import Services
from issuesync.trackers.local import catalog, issues

ADMIN = "Basic " + base64.b64encode(b"admin:fuzz-password").decode()
# Examples per route: about 50 s in `make test` on the 2-core reference machine.
EXAMPLES = 30 if os.environ.get("ISSUESYNC_SOAK") == "1" else 4


@pytest.fixture(scope="module")
def fuzzed_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    services = build_services(
        Settings(home=home, admin_password=SecretStr("fuzz-password"), base_url="http://fuzz")
    )
    bootstrap(services)
    admin = services.authenticator.authenticate(ADMIN)
    with services.tracker.write(admin) as op:
        catalog.create_project(op, {"key": "PA", "name": "Project A"})
    with services.tracker.write(admin) as op:
        issues.create_issue(
            op,
            {"project": {"key": "PA"}, "summary": "Fuzz target", "issuetype": {"name": "Task"}},
            {},
        )
    yield services
    services.close()


@pytest.fixture(scope="module")
def tracker_schema(fuzzed_services: Services) -> schemathesis.BaseSchema:
    app = create_app(fuzzed_services)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Path values that name the fixture's real objects, so fuzzed bodies reach the services.
REAL_PATH_VALUES = {
    "key": "PA-1",
    "comment_id": "1",
    "attachment_id": "1",
    "link_id": "1",
    "filename": "file.txt",
}


# Bounded examples (EXAMPLES): the default 120 s hang guard is too close for a loaded host.
@pytest.mark.timeout(1800)
def test_no_route_answers_a_server_error(tracker_schema: schemathesis.BaseSchema) -> None:
    operations = all_operations(tracker_schema)
    assert len(operations) > 40  # every route of the API is in the document
    failures = fuzz_operations(
        operations,
        authorization=ADMIN,
        real_values=REAL_PATH_VALUES,
        checks=[not_a_server_error],
        max_examples=EXAMPLES,
    )
    assert not failures, "\n\n".join(failures)
