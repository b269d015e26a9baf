"""`flask bpmn deploy PATH...` and `flask bpmn lint PATH...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.engine.specs import BpmnSource
from app.services.casework import processes

from .common import ctx, one_line_errors

bpmn_cli = AppGroup("bpmn", help="Process models.")


def bpmn_files(paths: tuple[str, ...]) -> list[Path]:
    """The .bpmn files named or found in the named folders, called processes' files first."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.glob("*.bpmn")))
        elif path.is_file():
            files.append(path)
        else:
            raise click.ClickException(f"{raw}: no such file or folder")
    return processes.deploy_order(files)


@bpmn_cli.command("deploy")
@click.argument("paths", nargs=-1, required=True)
def deploy(paths: tuple[str, ...]) -> None:
    """Deploy BPMN files; unchanged files keep their version."""
    for path in bpmn_files(paths):
        with one_line_errors():
            for d in processes.deploy(ctx(), None, path.read_bytes(), path.name):
                state = "deployed" if d.created else "unchanged"
                click.echo(f"{d.key} v{d.version} {state} ({path})")


@bpmn_cli.command("lint")
@click.argument("paths", nargs=-1, required=True)
def lint(paths: tuple[str, ...]) -> None:
    """Check BPMN files as a deploy would; exit status 1 if any has problems."""
    failed = 0
    files = bpmn_files(paths)
    sources = [BpmnSource(f.name, f.read_bytes()) for f in files]
    for path, source in zip(files, sources, strict=True):
        result = processes.lint_file(ctx(), source.content, source.filename, others=sources)
        for problem in result.problems:
            click.echo(f"{path}: {problem.element_id or '-'}: {problem.message}", err=True)
        if result.problems:
            failed += 1
        else:
            click.echo(f"{path}: ok ({', '.join(k for k, _ in result.processes)})")
    if failed:
        raise click.ClickException(f"{failed} file(s) with problems")

