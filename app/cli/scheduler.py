"""`flask scheduler run`: the scheduler in its own process."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.jobs.scheduler import run_blocking
from app.jobs.ticks import clocks_tick, engine_timers_tick, orders_tick, outbox_tick

scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduler until interrupted; any number may run against one database."""
    click.echo(f"scheduler: ticking every {current_app.config['SCHEDULER_INTERVAL']} s (Ctrl+C stops)")
    run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("tick")
def tick() -> None:
    """Run one tick now and exit."""
    moved = engine_timers_tick(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"timers: {moved} case(s) moved")
    fired = clocks_tick(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"clocks: {fired} alarm(s) fired")
    overdue = orders_tick(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"supervision orders: {overdue} overdue alarm(s) fired")
    sent = outbox_tick(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"outbox: {sent} message(s) sent")
