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
