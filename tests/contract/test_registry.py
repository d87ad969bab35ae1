"""Tracker adapters are found through the ``issuesync.trackers`` entry point group.

A third-party adapter is installed for real: a ``*.dist-info`` directory with an
``entry_points.txt`` and the module it names, on ``sys.path``, which is exactly
what ``pip install`` leaves behind.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import parse_integration_spec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.application.integrations import connector_rows
from issuesync.errors import ConfigurationError, InvalidInputError, TrackerOfflineError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers import registry
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.local import catalog
from issuesync.trackers.registry import known_systems, open_tracker

PLUGIN = '''
"""A third-party adapter package, as a test installs it."""

from issuesync.errors import TrackerOfflineError
from issuesync.trackers.local.adapter import local_adapter_for


def open_fake(context):
    # Any Tracker will do: this one serves the built-in tracker under another name.
    adapter = local_adapter_for(context.local, context.access.project_key, context.user)
    adapter.name = "fake"
    return adapter


def open_broken(context):
    raise RuntimeError(f"no route to {context.access.base_url}")


def open_offline(context):
    raise TrackerOfflineError("the tracker does not answer")
'''

ENTRY_POINTS = """
[issuesync.trackers]
fake = issuesync_fake_tracker:open_fake
broken = issuesync_fake_tracker:open_broken
offline = issuesync_fake_tracker:open_offline
absent = issuesync_absent_tracker:open_absent
"""


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: these tests are about finding adapters."""
    return sqlite_url


@pytest.fixture
def world(services: Services) -> Services:
    """The built-in tracker with projects PA and PB and a sync user."""
    with services.uow_factory(readonly=True) as uow:
        admin = uow.session.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        principal = Principal.of(admin)
    with services.tracker.write(principal) as op:
        for key in ("PA", "PB"):
            catalog.create_project(op, {"key": key, "name": f"Project {key}"})
    create_user(services.uow_factory, NewUser(name="sync", email="sync@example.test"))
    return services


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution providing the ``fake``, ``broken``, ``offline`` and ``absent`` adapters."""
    site = tmp_path / "site"
    info = site / "issuesync_fake_tracker-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: issuesync-fake-tracker\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    (site / "issuesync_fake_tracker.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    registry.installed_adapters.cache_clear()
    yield site
    monkeypatch.undo()
    registry.installed_adapters.cache_clear()


def access(system: str, project_key: str = "PA", user: str | None = "sync") -> TrackerAccess:
    return TrackerAccess(system, project_key, "https://tracker.example", user, None)


def test_the_built_in_adapter_is_found_through_its_entry_point(world: Services) -> None:
    entry = registry.installed_adapters()["local"]
    assert entry.value == "issuesync.trackers.local:open_local"
    assert entry.dist is not None
    assert entry.dist.name == "issuesync"
    assert "local" in known_systems()
    assert known_systems() == tuple(sorted(known_systems()))
    adapter = open_tracker(access("local"), world.tracker, "admin")
    assert (adapter.name, adapter.project_key) == ("local", "PA")
    assert adapter.test_connection().ok
    # No user of its own: refused, never the default (administrator) user.
    with pytest.raises(ConfigurationError, match="names no sync user"):
        open_tracker(access("local", user=None), world.tracker, "admin")
    with pytest.raises(ConfigurationError, match="'ghost' does not exist"):
        open_tracker(access("local", user="ghost"), world.tracker, "admin")


def test_an_unknown_system_names_the_installed_adapters(world: Services) -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_tracker(access("bugzilla"), world.tracker, "admin")
    message = raised.value.message
    assert "'bugzilla'" in message
    assert f"the installed tracker adapters are {', '.join(known_systems())}." in message
    with pytest.raises(ConfigurationError, match="adapters are none"):
        open_tracker(access("local"), world.tracker, "admin", adapters={})


@pytest.mark.usefixtures("third_party")
def test_a_third_party_adapter_is_opened_with_the_context(world: Services) -> None:
    assert {"fake", "broken", "offline", "absent", "local"} <= set(known_systems())
    entry = registry.installed_adapters()["fake"]
    assert entry.dist is not None
    assert entry.dist.name == "issuesync-fake-tracker"
    adapter = open_tracker(access("fake", "PB"), world.tracker, "admin")
    assert (adapter.name, adapter.project_key) == ("fake", "PB")
    assert adapter.describe().key == "PB"
    registry.installed_adapters.cache_clear()
    assert "fake" in known_systems()  # read again from the installed distributions


@pytest.mark.usefixtures("third_party")
def test_a_failing_adapter_is_a_configuration_error_with_its_reason(world: Services) -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_tracker(access("broken"), world.tracker, "admin")
    assert raised.value.message == (
        "The 'broken' tracker adapter could not be opened for project PA: "
        "RuntimeError: no route to https://tracker.example"
    )
    with pytest.raises(ConfigurationError, match=r"'absent'.*cannot be loaded.*No module"):
        open_tracker(access("absent"), world.tracker, "admin")
    # An error of issuesync's own tree keeps its meaning: offline is retried, not fatal.
    with pytest.raises(TrackerOfflineError, match="does not answer"):
        open_tracker(access("offline"), world.tracker, "admin")


def _create(services: Services, system: str) -> list[str]:
    """Create PA <> PB with ``system`` on the second side; the connectors' systems."""
    body = {
        "firstConnector": {"projectKey": "PA"},
        "secondConnector": {
            "projectKey": "PB",
            "connection": {"application": {"system": system, "baseUrl": "https://x.example"}},
        },
    }
    with services.uow_factory() as uow:
        row = create_from_spec(
            uow.session,
            parse_integration_spec(body),
            actor="admin",
            secrets=services.secrets,
            project_exists=lambda _system, _key: True,
            places=services.queue_places,
        )
        systems = [connector.system for connector in connector_rows(uow.session, row.id)]
        uow.commit()
    return systems


def test_integrations_accept_the_systems_of_installed_adapters(world: Services) -> None:
    with pytest.raises(InvalidInputError) as raised:
        _create(world, "fake")
    error = raised.value.field_errors["secondConnector.connection.application.system"]
    assert error == (
        "'fake' is not a known tracker; the installed tracker adapters are: "
        + ", ".join(known_systems())
    )


@pytest.mark.usefixtures("third_party")
def test_integrations_accept_a_third_party_system(world: Services) -> None:
    assert _create(world, "fake") == ["local", "fake"]
