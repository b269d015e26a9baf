"""`flask serve`: the development server with the scheduler running inside it."""

from __future__ import annotations

import click
from flask import current_app
from werkzeug.serving import run_simple

from app.jobs.scheduler import start_background


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_cli(host: str, port: int) -> None:
    """Serve the app (threaded, no reloader) and, if SCHEDULER_ENABLED, tick the scheduler in-process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["SCHEDULER_ENABLED"]:
        start_background(app)
        click.echo(f"scheduler: in-process, every {app.config['SCHEDULER_INTERVAL']} s")
    click.echo(f"serving on http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False)
