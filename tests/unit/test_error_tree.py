"""Every exception issuesync defines is in the one tree, under exactly one recovery group,
and every surface answers every request error with a status of its own."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import issuesync
from issuesync.api.backbone.errors import BACKBONE
from issuesync.api.connections.errors import SDE
from issuesync.api.errors import PLAIN, ErrorDialect
from issuesync.api.jira.errors import JIRA
from issuesync.cli import EXIT_TEMPFAIL, EXIT_USAGE, UsageError, exit_code
from issuesync.domain.message import ReceiveState
from issuesync.errors import (
    RECOVERY_GROUPS,
    BusyError,
    IssueSyncError,
    PerIssueError,
    RequestError,
)
from issuesync.testing import fake_github_state, fake_gitlab_wire, fake_jira_cloud

# Modules that do something when imported: the CLI's entry, and Alembic's script (it
# runs a migration). They are read instead (see the test that they define no class).
NOT_IMPORTED = frozenset({"issuesync.__main__", "issuesync.store.migrations.env"})

# The fakes stand for remote trackers behind httpx's MockTransport: these are each fake
# server's way to leave a handler with an HTTP answer, caught in the fake itself and never
# raised into issuesync. They are the fake tracker's, not issuesync's.
NOT_ISSUESYNC_ERRORS: frozenset[type[BaseException]] = frozenset(
    (fake_github_state.Reply, fake_gitlab_wire.Reply, fake_jira_cloud.Refusal)
)

DIALECTS = {"jira": JIRA, "backbone": BACKBONE, "sde": SDE, "plain": PLAIN}


def _defined_exceptions() -> list[type[BaseException]]:
    for module in pkgutil.walk_packages(issuesync.__path__, f"{issuesync.__name__}."):
        if module.name not in NOT_IMPORTED:
            importlib.import_module(module.name)
    found: list[type[BaseException]] = []
    pending: list[type[BaseException]] = [BaseException]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == issuesync.__name__ and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


EXCEPTIONS = _defined_exceptions()
TREE = [cls for cls in EXCEPTIONS if cls not in NOT_ISSUESYNC_ERRORS]


def _name(cls: type[BaseException]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _an(cls: type[IssueSyncError]) -> IssueSyncError:
    """An instance whose class is all a table looks at (constructors differ)."""
    return cls.__new__(cls)


def test_the_walk_finds_the_tree_and_the_errors_defined_beside_it() -> None:
    names = {cls.__name__ for cls in TREE}
    assert {"IssueSyncError", "TrackerRejectedError", "UsageError"} <= names
    assert "ConflictPendingError" in names  # defined in the engine, under the tree


@pytest.mark.parametrize("cls", TREE, ids=_name)
def test_every_exception_is_in_the_tree_under_exactly_one_group(
    cls: type[BaseException],
) -> None:
    assert issubclass(cls, IssueSyncError), f"{_name(cls)} is outside issuesync.errors' tree"
    if cls is IssueSyncError:
        return
    groups = [group.__name__ for group in RECOVERY_GROUPS if issubclass(cls, group)]
    assert len(groups) == 1, f"{_name(cls)} is under {groups or 'no group'}"


@pytest.mark.parametrize("module", sorted(NOT_IMPORTED))
def test_the_modules_not_imported_define_no_class(module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]


@pytest.mark.parametrize(
    "cls", [c for c in TREE if issubclass(c, PerIssueError)], ids=lambda c: c.__name__
)
def test_a_per_issue_error_parks_in_a_receive_state(cls: type[PerIssueError]) -> None:
    assert cls.state in set(ReceiveState)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
@pytest.mark.parametrize(
    "cls", [c for c in TREE if issubclass(c, RequestError)], ids=lambda c: c.__name__
)
def test_every_dialect_answers_every_request_error_with_a_client_error(
    dialect: ErrorDialect, cls: type[RequestError]
) -> None:
    assert 400 <= dialect.status(_an(cls)) < 500


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_a_table_takes_the_nearest_class_and_answers_500_for_none(dialect: ErrorDialect) -> None:
    class UnlistedError(BusyError):
        pass

    assert dialect.status(_an(UnlistedError)) == dialect.status(_an(BusyError))
    assert dialect.status(_an(IssueSyncError)) == 500


def test_the_cli_exit_codes() -> None:
    assert exit_code(UsageError("no")) == EXIT_USAGE
    assert exit_code(BusyError("busy")) == EXIT_TEMPFAIL
    others = [c for c in TREE if issubclass(c, IssueSyncError)]
    for cls in others:
        if not issubclass(cls, UsageError | BusyError):
            assert exit_code(_an(cls)) == 1, _name(cls)
