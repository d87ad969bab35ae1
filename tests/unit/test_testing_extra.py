"""`issuesync.testing` imports only what `pip install issuesync[testing]` brings.

Every module of the shipped package is imported, and every import statement in it
(at module level or inside a function) that names a third-party package must be
declared: a runtime dependency of the installed distribution `issuesync`, or one
of its `testing` extra. So the extra cannot drift from what the package imports.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import pkgutil
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

import issuesync.testing

OWN = "issuesync"


def shipped_modules() -> list[str]:
    """The names of every module of `issuesync.testing`, the package itself included."""
    package = issuesync.testing
    found = pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    return [package.__name__, *sorted(info.name for info in found)]


def declared_distributions() -> set[NormalizedName]:
    """The distributions `issuesync` requires at runtime or with its `testing` extra."""
    declared: set[NormalizedName] = set()
    for line in importlib.metadata.requires(OWN) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": "testing"}):
            declared.add(canonicalize_name(requirement.name))
    return declared


def top_level_imports(path: Path) -> set[str]:
    """The top-level names of the modules that the source at `path` imports, anywhere."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def third_party(names: set[str]) -> set[str]:
    """Those of `names` that are neither the standard library nor issuesync."""
    return {
        name
        for name in names
        if name not in sys.stdlib_module_names and name not in {OWN, "__future__"}
    }


def test_every_module_imports() -> None:
    modules = shipped_modules()
    assert "issuesync.testing.contract" in modules
    for name in modules:
        importlib.import_module(name)


def test_every_third_party_import_is_declared() -> None:
    declared = declared_distributions()
    providers = importlib.metadata.packages_distributions()
    undeclared: dict[str, list[str]] = {}
    for name in shipped_modules():
        source = importlib.import_module(name).__file__
        assert source is not None
        for imported in sorted(third_party(top_level_imports(Path(source)))):
            dists = {canonicalize_name(dist) for dist in providers.get(imported, [])}
            if not dists & declared:
                undeclared.setdefault(name, []).append(imported)
    assert undeclared == {}, (
        "issuesync.testing imports packages that are neither runtime dependencies nor in "
        f"the `testing` extra of pyproject.toml: {undeclared}"
    )


def test_the_extra_is_what_the_contract_suite_needs() -> None:
    # contract.py is a pytest class: pytest comes with the extra, not with the runtime.
    runtime = {
        canonicalize_name(Requirement(line).name)
        for line in importlib.metadata.requires(OWN) or []
        if Requirement(line).marker is None
    }
    assert "pytest" not in runtime
    assert "pytest" in declared_distributions()
