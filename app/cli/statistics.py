"""`flask statistics rebuild [--from DATE]` and `flask statistics update`: the statistics' rollups."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from app.services.statistics import rollups

from .common import ctx

statistics_cli = AppGroup("statistics", help="Statistics (统计分析): the daily rollups of the case event log.")


@statistics_cli.command("rebuild")
@click.option("--from", "since", default=None, metavar="YYYY-MM-DD",
              help="Recount from the first day of this date's month on (default: every day).")
def rebuild(since: str | None) -> None:
    """Recount the rollups from the case event log (after a fix, or to fill them the first time)."""
    day = None
    if since is not None:
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise click.ClickException(f"--from: not a date (YYYY-MM-DD): {since!r}") from None
    cases = rollups.rebuild(ctx(), day)
    start = day.replace(day=1).isoformat() if day else "the beginning"
    click.echo(f"rebuilt from {start}: {cases} case(s) read")


@statistics_cli.command("update")
def update() -> None:
    """Fold in the events written since the last run now (what the scheduler does every minute)."""
    click.echo(f"{rollups.run_rollups(ctx())} event(s) folded")
