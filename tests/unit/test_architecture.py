"""The layers import downwards only: models and engine know nothing of services, HTTP or pages."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
FORBIDDEN = {
    "engine": ("app.services", "app.api", "app.web", "app.models", "app.jobs", "app.cli", "flask", "sqlalchemy"),
    "models": ("app.services", "app.api", "app.web", "app.engine", "app.jobs", "app.cli", "flask"),
    "forms": ("app.services", "app.api", "app.web", "app.engine", "app.models", "flask", "sqlalchemy"),
    "services": ("app.api", "app.web", "app.cli", "app.jobs", "flask"),
}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_import_direction():
    bad = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (APP / layer).rglob("*.py"):
            for name in imports(path):
                if name.startswith(forbidden):
                    bad.append(f"{path.relative_to(APP.parent)} imports {name}")
    assert bad == []


def test_only_the_engine_imports_spiffworkflow():
    users = [str(p.relative_to(APP.parent)) for p in APP.rglob("*.py")
             if any(n.startswith("SpiffWorkflow") for n in imports(p)) and "engine" not in p.parts]
    assert users == []


def _service_unit(path: Path) -> str:
    """A service package (casework, timelimits, ...) or a top-level service module (context, events, ...)."""
    parts = path.relative_to(APP / "services").parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def service_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in (APP / "services").rglob("*.py"):
        source = _service_unit(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    and node.module.startswith("app.services")):
                continue
            parts = node.module.split(".")
            targets = [a.name for a in node.names] if len(parts) == 2 else [parts[2]]
            graph.setdefault(source, set()).update(t for t in targets if t != source)
    return graph


def test_service_packages_import_without_cycles():
    graph = service_graph()
    cycles: list[list[str]] = []

    def visit(unit: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(unit, ())):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif len(trail) < len(graph) + 1:
                visit(nxt, [*trail, nxt])

    for unit in sorted(graph):
        visit(unit, [unit])
    assert cycles == []


def test_service_packages_have_no_relative_imports_across_packages():
    """`from ..x import` would hide an edge from the cycle check above."""
    bad = [f"{p.relative_to(APP.parent)}:{n.lineno}" for p in (APP / "services").rglob("*.py")
           for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
           if isinstance(n, ast.ImportFrom) and n.level > 1]
    assert bad == []


def test_the_services_are_grouped_by_context():
    """The folder shows the system: no loose service modules besides the shared kernel and the wiring."""
    loose = sorted(p.stem for p in (APP / "services").glob("*.py") if p.stem != "__init__")
    assert loose == ["audit", "calendar", "claims", "context", "demo", "events", "paging", "wiring"]
