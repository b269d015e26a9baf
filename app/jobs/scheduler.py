"""APScheduler set-up. The database is the source of truth: jobs claim due rows, so nothing is lost
when a scheduler stops, and several schedulers never act twice on the same row."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.clock import SystemClock

from .ticks import JOBS, run_job

log = logging.getLogger(__name__)


def _add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    for job in JOBS:
        # The first tick runs at once, so a restart catches up on what fell due while it was down.
        scheduler.add_job(run_job, "interval", args=[app, job], id=job.id, seconds=job.interval(app),
                          max_instances=1, coalesce=True, next_run_time=SystemClock().now())


def start_background(app: Flask) -> BackgroundScheduler:
    """A scheduler thread inside the development server."""
    scheduler = BackgroundScheduler(daemon=True)
    _add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["banjian_scheduler"] = scheduler
    log.info("scheduler started in-process")
    return scheduler


def run_blocking(app: Flask) -> None:
    """The scheduler in the foreground until interrupted (Ctrl+C / SIGINT)."""
    scheduler = BlockingScheduler()
    _add_jobs(scheduler, app)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
