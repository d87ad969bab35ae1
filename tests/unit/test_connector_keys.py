"""Project keys keep each tracker's spelling; connector keys are always safe in a URL."""

from __future__ import annotations

import pytest

from issuesync.api.backbone.documents.bodies import ConnectorSpec
from issuesync.domain.integration import connector_key_base


@pytest.mark.parametrize(
    ("system", "given", "kept"),
    [
        (None, "pb", "PB"),  # the built-in tracker: Jira's upper-case keys
        ("jira", " web ", "WEB"),
        ("github", "octo-org/Web-Shop", "octo-org/Web-Shop"),
        ("gitlab", "group/sub/project", "group/sub/project"),
        ("redmine", "web-shop", "web-shop"),
    ],
)
def test_a_project_key_keeps_its_trackers_spelling(
    system: str | None, given: str, kept: str
) -> None:
    application = {"system": system, "baseUrl": "https://t.example"} if system else {}
    spec = ConnectorSpec.model_validate(
        {"projectKey": given, "connection": {"application": application}}
    )
    assert spec.project_key == kept


@pytest.mark.parametrize(
    ("project_key", "base"),
    [
        ("PB", "PB"),
        ("octo-org/Web-Shop", "OCTO_ORG_WEB_SHOP"),
        ("group/sub/project", "GROUP_SUB_PROJECT"),
        ("///", "PROJECT"),
        ("x" * 300, "X" * 48),
    ],
)
def test_a_connector_key_is_its_project_key_made_safe(project_key: str, base: str) -> None:
    assert connector_key_base(project_key) == base


def test_a_long_project_path_fits() -> None:
    path = "an-organisation-with-a-long-name/" + "r" * 100
    spec = ConnectorSpec.model_validate(
        {"projectKey": path, "connection": {"application": {"system": "github"}}}
    )
    assert spec.project_key == path
