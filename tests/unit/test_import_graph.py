"""The import graph of ``callcenter``, ``ivr_flows`` and ``crm_bridge``, read with ``ast``
from the source files: no cycles, and no module importing a layer above its own.

Every import counts: module-level, inside functions and under ``TYPE_CHECKING`` (a local
import is how a cycle hides).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("callcenter", "ivr_flows", "crm_bridge")
# The composition root: builds and mounts everything, so nothing below may import it.
ROOT = {"callcenter.app", "callcenter.cli", "callcenter.compose", "callcenter.http_routes",
        "callcenter.parts"}
# Who may import a root module: the root itself, the routes' one dependency (deps), and
# the command-line entry points (which build the app or prepare the store).
ROOT_IMPORTERS = ROOT | {"callcenter.deps", "callcenter.followups.cli", "callcenter.reports.cli"}

Graph = dict[str, set[str]]


def module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic scripts, loaded by Alembic, never imported
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported_names(tree: ast.AST) -> Iterator[str]:
    """Every absolute ``import x`` / ``from x import y`` (as ``x`` and ``x.y``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_graph() -> Graph:
    files = module_files()

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for name, path in files.items():
        targets = {resolve(n) for n in imported_names(ast.parse(path.read_text()))}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_reader_sees_a_cycle_and_a_local_import() -> None:
    """Tried: a made-up graph with a two-module cycle and a function-local import; expect
    the cycle reported and the local import read (the check can fail)."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    tree = ast.parse("def f():\n    from callcenter.app import create_app\n")
    assert "callcenter.app.create_app" in set(imported_names(tree))


def test_no_import_cycles() -> None:
    """Tried: every import of every module; expect no module reachable from itself."""
    graph = import_graph()
    assert "callcenter.compose" in graph and len(graph) > 100
    assert cycles(graph) == []


def test_nothing_below_the_composition_root_imports_it() -> None:
    """Tried: every importer of app/compose/cli/http_routes/parts; expect only the root,
    ``deps`` and the command-line entry points."""
    graph = import_graph()
    offenders = sorted(f"{name} -> {target}" for name, targets in graph.items()
                       for target in targets & ROOT if name not in ROOT_IMPORTERS)
    assert offenders == []


def test_layers_point_downwards() -> None:
    """Tried: the rules the layout promises; expect ivr_flows to import neither of the
    other packages, no capability to import another's HTTP routes, models to import no
    services, and cases (below crm_bridge) never to import crm_bridge."""
    graph = import_graph()
    wrong = []
    for name, targets in graph.items():
        for target in targets:
            if name.startswith("ivr_flows") and not target.startswith("ivr_flows"):
                wrong.append(f"{name} -> {target}")
            if target.endswith(".http") and name != "callcenter.http_routes":
                wrong.append(f"{name} -> {target}")
            if name.endswith(".models") and target.endswith((".services", ".http")):
                wrong.append(f"{name} -> {target}")
            if name.startswith(("callcenter.cases", "callcenter.outbox")) and \
                    target.startswith("crm_bridge"):
                wrong.append(f"{name} -> {target}")
    assert sorted(wrong) == []
