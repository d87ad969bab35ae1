"""SD Elements' dialect, the pure parts: Django REST framework's error bodies, the
``Token`` scheme's credentials, and the seed's times."""

from __future__ import annotations

import pytest

from issuesync.api.connections.common import named
from issuesync.api.connections.errors import drf_error
from issuesync.api.connections.render import iso_offset, iso_z
from issuesync.api.connections.routers import _body_field
from issuesync.auth import _credentials
from issuesync.errors import AuthenticationError, InvalidInputError


def test_errors_are_drfs_detail_or_fields_nested_one_level() -> None:
    for status in (401, 403, 404, 405, 409, 413, 429, 500, 503):
        assert drf_error(status, "Not found.", {"x": "ignored"}) == {"detail": "Not found."}
    assert drf_error(400, "JSON parse error", {}) == {"non_field_errors": ["JSON parse error"]}
    assert drf_error(
        400,
        "invalid",
        {
            "alias": "This field is required.",
            "params.issue_tracker_project": "This field may not be blank.",
            "params": "At most 50 params besides issuesync's own are kept.",
            "params.a.b": "A key with dots stays one key.",
        },
    ) == {
        "alias": ["This field is required."],
        "params": {
            "issue_tracker_project": ["This field may not be blank."],
            "non_field_errors": ["At most 50 params besides issuesync's own are kept."],
            "a.b": ["A key with dots stays one key."],
        },
    }
    # The object's own message first, its fields after: the same body.
    assert drf_error(400, "", {"params": "own", "params.x": "field"}) == {
        "params": {"non_field_errors": ["own"], "x": ["field"]}
    }


@pytest.mark.parametrize(
    "header",
    ['Token "isy_abc"', "Token isy_abc", "token isy_abc", 'Token  "isy_abc" ', "Bearer isy_abc"],
)
def test_the_token_scheme_takes_the_token_with_or_without_the_seeds_quotes(header: str) -> None:
    assert _credentials(header) == (None, "isy_abc")


@pytest.mark.parametrize("header", ["Token", 'Token ""', "Token  ", "Tokens isy_abc"])
def test_a_token_header_without_a_token_is_refused(header: str) -> None:
    with pytest.raises(AuthenticationError):
        _credentials(header)


def test_times_are_written_as_the_seed_writes_them() -> None:
    ms = 1_481_841_927_412  # 2016-12-15T22:45:27.412Z, the seed's last_run
    assert iso_z(ms) == "2016-12-15T22:45:27.412Z"
    assert iso_z(1_481_841_927_000) == "2016-12-15T22:45:27.000Z"
    assert iso_offset(ms) == "2016-12-15T22:45:27.412000+00:00"


def test_the_applications_field_names_become_a_connection_bodys() -> None:
    with pytest.raises(InvalidInputError) as refused, named(_body_field):
        raise InvalidInputError(
            "The integration is not valid.",
            field_errors={
                "project_id": "a",
                "tracker_server_id": "b",
                "second.project_key": "c",
                "second.connection.base_url": "d",
                "first.queues": "e",
                "second.configuration.sync.outgoing_jqls": "f",
                "alias": "g",
            },
        )
    assert refused.value.field_errors == {
        "project": "a",  # where two become one, the first's message
        "connector": "b",
        "params.issue_tracker_project": "c",
        "params": "f",
        "alias": "g",
    }
