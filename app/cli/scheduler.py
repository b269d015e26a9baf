"""`flask scheduler run`: the scheduler in its own process; `flask scheduler tick`: every job once."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.jobs.scheduler import run_blocking
from app.jobs.ticks import JOBS, run_job

scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduler until interrupted; any number may run against one database."""
    click.echo(f"scheduler: ticking every {current_app.config['SCHEDULER_INTERVAL']} s (Ctrl+C stops)")
    run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("tick")
def tick() -> None:
    """Run every job once, print each job's count, and exit (1 if a job failed; the others still ran)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    failed = []
    for job in JOBS:
        count = run_job(app, job)
        if count is None:
            failed.append(job.id)
            click.echo(f"{job.label}: failed (see the log)")
        else:
            click.echo(f"{job.label}: {count} {job.counts}")
    if failed:
        raise SystemExit(1)
