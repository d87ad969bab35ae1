"""Every command's ``--help`` renders: rich reads help texts as markup, so a ``[word]``
in one (``HOST[:PORT][/PATH]``) can crash the help screen with a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from issuesync.cli import app


def _paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    # typer vendors its own click: a group is what has sub-commands.
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, (*path, name))


PATHS = list(_paths(typer.main.get_command(app)))


def test_there_are_commands_to_check() -> None:
    assert ("tracker-connector", "add") in PATHS
    assert len(PATHS) > 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "issuesync")
def test_every_help_screen_renders(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "Traceback" not in result.output
