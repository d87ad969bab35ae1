"""Every number of an integration has a range (issue 16, "No input makes a 500": settings).

Over HTTP: ``initialInternalPollingDelay: 1e30`` and ``archivedMessagesPerIssue:
2**63`` are 400s that name the field and its range, and change nothing; a
hypothesis run puts any JSON value (huge, negative, fractional, ``1e308``, NaN,
strings, booleans) into each numeric field of the body, on create and on update:
the answer is a 400 naming the field, or a 200 whose value reads back within its
range, never a 500, and the connection stays usable. A configuration stored
before the ranges were checked is brought into them when it is read, so the
engine still runs it. The ``ISSUESYNC_*`` numbers (and the public URL) are
checked when a command starts: one line naming the variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sync_helpers import integration_pair, local_body
from test_cli import run
from tracker_helpers import create_issue, create_project

from issuesync.domain.configuration import duration_ms
from issuesync.services import Services
from issuesync.store.sync import ConnectorRow

BASE = "/api/1"
CONNECTOR = "firstConnector.connection.connector"
CONFIGURATION = "firstConnector.configuration"
# Each numeric field of the body: where it goes, its range as the README states it.
RANGES: dict[tuple[str, ...], tuple[int, int]] = {
    ("connection", "connector", "initialInternalPollingDelay"): (0, 86_400_000),
    ("connection", "connector", "internalPollingInterval"): (10, 86_400_000),
    ("configuration", "advanced", "archivedMessagesPerIssue"): (0, 10_000),
    ("configuration", "advanced", "discardedMessagesPerIssue"): (0, 10_000),
    ("configuration", "advanced", "sequenceErrorRetries"): (0, 1_000),
}
DURATIONS = (
    ("configuration", "sync", "outgoingInterval"),
    ("configuration", "sync", "incomingInterval"),
)


def body_with(path: tuple[str, ...], value: object) -> str:
    """The body of PA <> PB with ``value`` at ``path`` of the first connector, as JSON text
    (``NaN`` and ``Infinity`` as Python's JSON writes them)."""
    body = local_body()
    body["firstConnector"]["connection"]["application"] = {"user": "admin"}
    body["secondConnector"]["connection"]["application"] = {"user": "admin"}
    node = body["firstConnector"]
    for name in path[:-1]:
        node = node.setdefault(name, {})
    node[path[-1]] = value
    return json.dumps(body)


def send(client: httpx.Client, method: str, url: str, text: str) -> httpx.Response:
    return client.request(method, url, content=text, headers={"Content-Type": "application/json"})


def shown_at(client: httpx.Client, path: tuple[str, ...]) -> Any:
    node = client.get(f"{BASE}/integrations/INT-1").json()["firstConnector"]
    for name in path:
        node = node[name]
    return node


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("connection", "connector", "initialInternalPollingDelay"), "1e30", "86400000"),
        (("configuration", "advanced", "archivedMessagesPerIssue"), str(2**63), "10000"),
        (("configuration", "advanced", "sequenceErrorRetries"), "-1", "from 0 to 1000"),
        (DURATIONS[0], '"99999999999999h"', "between 100ms and 24h"),
        (DURATIONS[1], '"' + "9" * 5000 + 's"', "is not a duration"),
    ],
)
def test_the_issues_numbers_are_400s_naming_the_field_and_its_range(
    admin: httpx.Client, path: tuple[str, ...], value: str, says: str
) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    text = body_with(path, "@").replace('"@"', value)
    response = send(admin, "POST", f"{BASE}/integrations", text)
    assert response.status_code == 400, response.text
    field = "firstConnector." + ".".join(path)
    assert says in response.json()["errors"][field]
    assert admin.get(f"{BASE}/integrations").json() == []


NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e30, 1e308, -1e308, 2**63, 2**63 - 1, 2**31, 86_400_000, 86_400_001, 0.5]),
    st.text(max_size=12),
    st.from_regex(r"-?\d{1,30}(\.\d+)?(e\d{1,3})?", fullmatch=True),
    st.booleans(),
    st.none(),
)
TEXTS = st.one_of(
    st.from_regex(r"\d{1,25}(ms|s|m|h)?", fullmatch=True),
    st.text(max_size=20),
    NUMBERS,
)


def check_answer(client: httpx.Client, response: httpx.Response, path: tuple[str, ...]) -> None:
    assert response.status_code in {200, 400}, response.text
    field = "firstConnector." + ".".join(path)
    if response.status_code == 400:
        # The field is named; or the body as a whole is refused (a NUL character, say).
        errors = response.json().get("errors") or {}
        assert field in errors or not errors, response.text
        return
    shown = shown_at(client, path)
    if path in RANGES:
        low, high = RANGES[path]
        assert isinstance(shown, int)
        assert low <= shown <= high
    else:
        assert 100 <= duration_ms(shown) <= 86_400_000


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_value_of_a_numeric_field_makes_a_500(admin: httpx.Client, data: st.DataObject) -> None:
    if not admin.get(f"{BASE}/integrations").json():
        if admin.get("/rest/api/2/project/PA").status_code == 404:
            create_project(admin, "PA")
            create_project(admin, "PB")
        created = send(admin, "POST", f"{BASE}/integrations", body_with(DURATIONS[0], "5s"))
        assert created.status_code == 200, created.text
    path = data.draw(st.sampled_from([*RANGES, *DURATIONS]), label="field")
    value = data.draw(TEXTS if path in DURATIONS else NUMBERS, label="value")
    text = body_with(path, value)
    check_answer(admin, send(admin, "PUT", f"{BASE}/integrations/INT-1", text), path)
    # A create with the value: refused, or a second integration of the same projects (409).
    created = send(admin, "POST", f"{BASE}/integrations", text)
    assert created.status_code in {400, 409}, created.text
    assert admin.get("/healthz").status_code == 200  # the connection is still good


def test_a_number_stored_before_the_ranges_is_brought_into_them_and_the_engine_runs(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin) as pair:
        with services.uow_factory() as uow:
            row = uow.session.get_one(ConnectorRow, pair.second_id)
            # As an older issuesync could store it (in the store's names since migration 0006).
            stored = json.loads(row.configuration)
            stored["sync"]["outgoing_interval"] = "99999999999999h"
            stored["advanced"] |= {
                "archived_messages_per_issue": 2**63,
                "sequence_error_retries": -5,
            }
            uow.session.execute(
                update(ConnectorRow)
                .where(ConnectorRow.id == pair.second_id)
                .values(configuration=json.dumps(stored))
            )
            uow.commit()
        shown = admin.get(f"{BASE}/integrations/INT-1")
        assert shown.status_code == 200, shown.text
        configuration = shown.json()["secondConnector"]["configuration"]
        assert configuration["advanced"]["archivedMessagesPerIssue"] == 10_000
        assert configuration["advanced"]["sequenceErrorRetries"] == 0
        assert configuration["sync"]["outgoingInterval"] == "24h"
        key = create_issue(admin, "PA", "Applied although the stored numbers were too big")
        pair.settle()  # the incoming route of PB runs, its sweep with them, and fails not
        assert pair.twin(key).startswith("PB-")
        status = admin.get(f"{BASE}/integrations/INT-1/status").json()["secondConnector"]
        assert status["incomingDetails"] == ""


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ISSUESYNC_ENGINE_LEASE_MS", "1e30", "ISSUESYNC_ENGINE_LEASE_MS"),
        ("ISSUESYNC_ENGINE_LEASE_MS", str(2**63), "less than or equal to 3600000"),
        ("ISSUESYNC_MAX_ATTACHMENT_SIZE", "0", "greater than or equal to 1"),
        ("ISSUESYNC_MAX_ATTACHMENT_SIZE", str(2**40), "less than or equal to 2147483648"),
        ("ISSUESYNC_PORT", "70000", "less than or equal to 65535"),
        ("ISSUESYNC_LOG_LEVEL", "loud", "ISSUESYNC_LOG_LEVEL"),
        ("ISSUESYNC_BASE_URL", "https://u:pw-in-url@issuesync.example.test", "credentials"),
    ],
)
def test_a_setting_outside_its_range_stops_the_command_on_one_line(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    result = run(tmp_path / "home", "db", "upgrade", env={variable: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the configuration is not valid")
    assert says in lines[0]
    assert "pw-in-url" not in lines[0]
    assert not (tmp_path / "home").exists()  # nothing was made
