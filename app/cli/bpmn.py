"""`flask bpmn deploy PATH...` and `flask bpmn lint PATH...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.engine.specs import BpmnSource
from app.forms.bundle import BPMN_SUFFIXES, FORM_SUFFIXES
from app.services.casework import process_forms, processes

from .common import ctx, one_line_errors

bpmn_cli = AppGroup("bpmn", help="Process models.")


def _named(paths: tuple[str, ...]) -> tuple[list[Path], dict[str, Path]]:
    """The BPMN files and the form files (by file name) named or found in the named folders."""
    files: list[Path] = []
    forms: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file())
            files.extend(p for p in found if p.name.lower().endswith(BPMN_SUFFIXES))
            forms.update({p.name: p for p in found if p.name.lower().endswith(FORM_SUFFIXES)})
        elif path.is_file() and path.name.lower().endswith(FORM_SUFFIXES):
            forms[path.name] = path
        elif path.is_file():
            files.append(path)
        else:
            raise click.ClickException(f"{raw}: no such file or folder")
    return files, forms


def _forms_for(bpmn: Path, named: dict[str, Path]) -> dict[str, bytes]:
    """The form files a BPMN file names: given on the command line (or in a folder given), else lying
    next to it; a formKey found in neither is taken from the server's forms/ folder by the deploy."""
    forms: dict[str, bytes] = {}
    for key in sorted(process_forms.form_keys(bpmn.read_bytes())):
        path = named.get(key) or bpmn.parent / key
        if path.is_file():
            forms[key] = path.read_bytes()
    return forms


@bpmn_cli.command("deploy")
@click.argument("paths", nargs=-1, required=True)
def deploy(paths: tuple[str, ...]) -> None:
    """Deploy BPMN files with their forms (.form/.json files named, in a folder named, or next to the BPMN
    file; else the server's forms/ folder); unchanged files and forms keep their version."""
    files, named = _named(paths)
    if not files:
        raise click.ClickException("no .bpmn file given")
    for path in processes.deploy_order(files):
        with one_line_errors():
            for d in processes.deploy(ctx(), None, path.read_bytes(), path.name, _forms_for(path, named)):
                state = "deployed" if d.created else "unchanged"
                click.echo(f"{d.key} v{d.version} {state} ({path})")


@bpmn_cli.command("lint")
@click.argument("paths", nargs=-1, required=True)
def lint(paths: tuple[str, ...]) -> None:
    """Check BPMN files (with their forms, found as by deploy) as a deploy would; exit status 1 if any has
    problems."""
    failed = 0
    files, named = _named(paths)
    files = processes.deploy_order(files)
    sources = [BpmnSource(f.name, f.read_bytes()) for f in files]
    for path, source in zip(files, sources, strict=True):
        result = processes.lint_file(ctx(), source.content, source.filename, others=sources,
                                     forms=_forms_for(path, named))
        for problem in result.problems:
            click.echo(f"{path}: {problem.element_id or '-'}: {problem.message}", err=True)
        if result.problems:
            failed += 1
        else:
            click.echo(f"{path}: ok ({', '.join(k for k, _ in result.processes)})")
    if failed:
        raise click.ClickException(f"{failed} file(s) with problems")

