"""`flask demo load`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services.demo import load_demo

from .common import ctx, one_line_errors

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
def load() -> None:
    """Create departments, users for every role, the reference processes and items (idempotent)."""
    with one_line_errors():
        counts = load_demo(ctx())
    click.echo("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + " (new: users, processes, items)")
