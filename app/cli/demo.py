"""`flask demo load`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services.demo import load_demo

from .common import ctx, one_line_errors

demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
def load() -> None:
    """Create departments, users for every role, the reference processes and items (idempotent); print
    what was new."""
    with one_line_errors():
        counts = load_demo(ctx())
    listed = ", ".join(f"{n} {what}" for what, n in counts.items())
    click.echo(f"demo data: new: {listed}" if any(counts.values()) else f"demo data: nothing new ({listed})")
