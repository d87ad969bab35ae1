"""No import cycle anywhere in ``src/issuesync``: module by module, function-level imports too.

``make lint``'s ``acyclic_siblings`` contract forbids cycles between sibling packages,
but a cycle through a package's own ``__init__`` (a module importing its package
while the package imports it) is inside one node there; this graph sees every module.
"""

from __future__ import annotations

import grimp


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (more than one module).

    A module is in a cycle with exactly the modules it imports that also import it.
    """
    found: list[list[str]] = []
    seen: set[str] = set()
    for module in sorted(graph.modules):
        if module in seen:
            continue
        both = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if both:
            component = sorted(both | {module})
            seen.update(component)
            found.append(component)
    return found


def a_cycle(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """One cycle through the component's first module, as the chain of its imports."""
    first = component[0]
    members = set(component)
    for imported in sorted(graph.find_modules_directly_imported_by(first) & members):
        back = graph.find_shortest_chain(importer=imported, imported=first)
        if back is not None:
            return [first, *back]
    return component


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("issuesync", include_external_packages=False)
    cycles = [a_cycle(graph, component) for component in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p", imported="p.a")
    (component,) = strongly_connected(graph)
    assert component == ["p.a", "p.b", "p.c"]
    assert a_cycle(graph, component) == ["p.a", "p.b", "p.c", "p.a"]
