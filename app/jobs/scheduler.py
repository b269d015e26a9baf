"""APScheduler set-up. The database is the source of truth: jobs claim due rows, so nothing is lost
when a scheduler stops, and several schedulers never act twice on the same row."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.clock import SystemClock

from .ticks import calendar_tick, clocks_tick, engine_timers_tick, orders_tick, outbox_tick

log = logging.getLogger(__name__)


def _add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    # The first tick runs at once, so a restart catches up on what fell due while it was down.
    scheduler.add_job(engine_timers_tick, "interval", args=[app], id="engine_timers",
                      seconds=float(app.config["SCHEDULER_INTERVAL"]), max_instances=1, coalesce=True,
                      next_run_time=SystemClock().now())
    scheduler.add_job(clocks_tick, "interval", args=[app], id="clocks",
                      seconds=float(app.config["SCHEDULER_INTERVAL"]), max_instances=1, coalesce=True,
                      next_run_time=SystemClock().now())
    scheduler.add_job(orders_tick, "interval", args=[app], id="orders",
                      seconds=float(app.config["SCHEDULER_INTERVAL"]), max_instances=1, coalesce=True,
                      next_run_time=SystemClock().now())
    scheduler.add_job(outbox_tick, "interval", args=[app], id="outbox",
                      seconds=float(app.config["SCHEDULER_INTERVAL"]), max_instances=1, coalesce=True,
                      next_run_time=SystemClock().now())
    # Hourly is plenty: the missing-arrangement alarm is raised once per year (unique key).
    scheduler.add_job(calendar_tick, "interval", args=[app], id="calendar", hours=1, max_instances=1,
                      coalesce=True, next_run_time=SystemClock().now())


def start_background(app: Flask) -> BackgroundScheduler:
    """A scheduler thread inside the development server."""
    scheduler = BackgroundScheduler(daemon=True)
    _add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["banjian_scheduler"] = scheduler
    log.info("scheduler started in-process")
    return scheduler


def run_blocking(app: Flask) -> None:
    scheduler = BlockingScheduler()
    _add_jobs(scheduler, app)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
