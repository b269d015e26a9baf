"""`flask licences keys generate DEPT | rotate DEPT | list`: the departments' e-licence signing keys."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.services.licensing import keys

from .common import ctx, one_line_errors

licences_cli = AppGroup("licences", help="E-licences (电子证照): signing keys.")
keys_cli = AppGroup("keys", help="Department signing keys (Ed25519), private halves in BANJIAN_KEYS_DIR.")
licences_cli.add_command(keys_cli)


def _keys_dir() -> Path:
    return Path(current_app.config["KEYS_DIR"])


@keys_cli.command("generate")
@click.argument("department")
def generate(department: str) -> None:
    """Create the department's first signing key."""
    with one_line_errors():
        view = keys.generate(ctx(), _keys_dir(), department)
    click.echo(f"{view.key_id}  {view.public_key}")


@keys_cli.command("rotate")
@click.argument("department")
def rotate(department: str) -> None:
    """Retire the department's key and create a new one; licences signed before stay verifiable."""
    with one_line_errors():
        view = keys.generate(ctx(), _keys_dir(), department, rotate=True)
    click.echo(f"{view.key_id}  {view.public_key}")


@keys_cli.command("list")
def list_keys() -> None:
    """The published public keys, retired ones too."""
    for view in keys.published(ctx()):
        state = f"retired {view.retired_at:%Y-%m-%d}" if view.retired_at else "current"
        click.echo(f"{view.department}  {view.key_id}  {state}  {view.public_key}")
