"""The scheduler's jobs, listed once: `flask scheduler run` (and the development server) schedule every
row of `JOBS`; `flask scheduler tick` runs every row once. Each job is thin: an app context and one
service call, which isolates its items itself (one failing case, clock, order or message is recorded and
postponed and never stops the others). To add a job, add a function and a row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from app.services.admin import item_files
from app.services.admin.calendar_admin import raise_missing_year_alarm
from app.services.archive.builder import run_archive
from app.services.casework.timers import fire_due_timers
from app.services.documents.cleanup import clean_up
from app.services.messaging.outbox import dispatch_outbox
from app.services.ratings.sweep import sweep_ratings
from app.services.statistics.rollups import run_rollups
from app.services.timelimits.clock_sweep import sweep_clocks
from app.services.timelimits.supervision import sweep_orders

log = logging.getLogger(__name__)


def engine_timers_tick(app: Flask) -> int:
    """Run the due BPMN timers; returns how many cases moved on."""
    with app.app_context():
        return fire_due_timers(app.extensions["banjian"])


def clocks_tick(app: Flask) -> int:
    """Fire the clocks whose level changes by now (yellow, red, deemed acceptance); returns alarms fired."""
    with app.app_context():
        return sweep_clocks(app.extensions["banjian"]).alarms


def orders_tick(app: Flask) -> int:
    """Alarm the supervision orders whose reply day has passed unanswered; returns alarms fired."""
    with app.app_context():
        return sweep_orders(app.extensions["banjian"]).alarms


def outbox_tick(app: Flask) -> int:
    """Send the due e-mails and text messages with the sender built at start-up (OUTBOX_SENDER)."""
    with app.app_context():
        ctx = app.extensions["banjian"]
        return dispatch_outbox(ctx, ctx.clock.now(), int(app.config["OUTBOX_BATCH"]),
                               sender=app.extensions["banjian_outbox_sender"],
                               max_attempts=int(app.config["OUTBOX_MAX_ATTEMPTS"]))


def calendar_tick(app: Flask) -> int | None:
    """From 1 October: alarm the administrators (once) when next year's holiday arrangement is missing;
    returns the year alarmed for now, else None."""
    with app.app_context():
        ctx = app.extensions["banjian"]
        return raise_missing_year_alarm(ctx, ctx.clock.now())


def files_tick(app: Flask) -> int:
    """Delete drafts unchanged for DRAFT_DAYS, then stored bytes no record refers to that are older than
    FILE_GRACE_HOURS; returns the files removed."""
    with app.app_context():
        ctx = app.extensions["banjian"]
        grace = float(app.config["FILE_GRACE_HOURS"])
        removed = clean_up(ctx, draft_days=int(app.config["DRAFT_DAYS"]), grace_hours=grace).files_removed
        now = ctx.clock.now()
        return removed + item_files.sweep(ctx, now - timedelta(hours=grace), now)[0]


def archive_tick(app: Flask) -> int:
    """Build the archive package of every case closed since (each exactly once); returns packages built."""
    with app.app_context():
        return run_archive(app.extensions["banjian"]).built


def statistics_tick(app: Flask) -> int:
    """Fold the case events written since the last run into the statistics' daily rollups; returns the
    events read."""
    with app.app_context():
        return run_rollups(app.extensions["banjian"])


def ratings_tick(app: Flask) -> int:
    """Close the rating windows due (未评 or the default level), then send the due reminders (once);
    returns windows closed plus reminders sent."""
    with app.app_context():
        result = sweep_ratings(app.extensions["banjian"])
        return result.expired + result.reminded


@dataclass(frozen=True)
class Job:
    id: str  # the APScheduler job id
    label: str  # how `flask scheduler tick` names it
    counts: str  # what its count counts
    run: Callable[[Flask], int]
    seconds: float | None = None  # None: every SCHEDULER_INTERVAL

    def interval(self, app: Flask) -> float:
        return self.seconds if self.seconds is not None else float(app.config["SCHEDULER_INTERVAL"])


JOBS: tuple[Job, ...] = (
    Job("engine_timers", "timers", "case(s) moved", engine_timers_tick),
    Job("clocks", "clocks", "alarm(s) fired", clocks_tick),
    Job("orders", "supervision orders", "overdue alarm(s) fired", orders_tick),
    Job("outbox", "outbox", "message(s) sent", outbox_tick),
    # Hourly is plenty: the missing-arrangement alarm is raised once per year (unique key).
    Job("calendar", "calendar", "alarm(s) raised", lambda app: int(calendar_tick(app) is not None), 3600.0),
    Job("files", "file clean-up", "stored file(s) removed", files_tick, 3600.0),
    # Every five minutes: a package is due when a case closes, not at a deadline.
    Job("archive", "archive", "package(s) built", archive_tick, 300.0),
    # Every five minutes: reminders and closing windows are due by the hour and the day.
    Job("ratings", "ratings", "rating window(s) closed or reminded", ratings_tick, 300.0),
    # The figures may lag a few minutes; every minute keeps each batch small.
    Job("statistics", "statistics", "event(s) folded", statistics_tick, 60.0),
)


def run_job(app: Flask, job: Job) -> int | None:
    """Run one job; None if it failed as a whole (logged), so the other jobs of a tick still run."""
    try:
        return job.run(app)
    except Exception:  # noqa: BLE001  (a job's own failure, e.g. the database down, must not stop the others)
        log.exception("scheduler job %s failed", job.id)
        return None
