"""The per-process caches stay correct when another process (a second worker) writes."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from issuesync.accounts import NewUser, create_token, create_user
from issuesync.app import build_services
from issuesync.auth import Authenticator
from issuesync.config import Settings
from issuesync.errors import AuthenticationError
from issuesync.services import Services
from issuesync.trackers.local import catalog


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_reference_data_written_by_another_worker_is_seen_at_once(
    services: Services, database_url: str
) -> None:
    admin = services.authenticator.authenticate(basic("admin", "admin-secret"))
    # A second set of services on the same database stands for a second worker process.
    other = build_services(
        Settings(
            home=services.settings.home, database_url=database_url, admin_password=SecretStr("x")
        )
    )
    try:
        with other.tracker.read(admin) as op:
            before = {f["name"] for f in catalog.list_fields(op)}
        assert "Severity" not in before
        with services.tracker.write(admin) as op:
            catalog.create_custom_field(
                op, {"name": "Severity", "type": "option", "options": ["S1"]}
            )
        with other.tracker.read(admin) as op:
            after = {f["name"] for f in catalog.list_fields(op)}
        assert "Severity" in after
    finally:
        other.close()


def test_a_remembered_check_expires(services: Services) -> None:
    create_user(services.uow_factory, NewUser(name="fay", password="first-password"))
    token = create_token(services.uow_factory, "fay")
    authenticator = Authenticator(services.uow_factory, ttl_s=0)
    assert authenticator.authenticate(f"Bearer {token}").name == "fay"
    assert authenticator.remembered(f"Bearer {token}") is None
    with pytest.raises(AuthenticationError):
        authenticator.authenticate(basic("fay", "wrong-password"))


def test_a_remembered_check_is_reused_within_its_time(services: Services) -> None:
    create_user(services.uow_factory, NewUser(name="gus", password="gus-password"))
    authenticator = Authenticator(services.uow_factory, ttl_s=60)
    header = basic("gus", "gus-password")
    principal = authenticator.authenticate(header)
    assert authenticator.remembered(header) == principal
    assert authenticator.remembered(basic("gus", "other")) is None
    authenticator.forget()
    assert authenticator.remembered(header) is None
