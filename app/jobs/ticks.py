"""The jobs each tick runs."""

from __future__ import annotations

from flask import Flask

from app.services.admin.calendar_admin import raise_missing_year_alarm
from app.services.casework.timers import fire_due_timers
from app.services.messaging.outbox import dispatch_outbox
from app.services.timelimits.clock_sweep import sweep_clocks
from app.services.timelimits.supervision import sweep_orders


def engine_timers_tick(app: Flask) -> int:
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
    """From 1 October: alarm the administrators (once) when next year's holiday arrangement is missing."""
    with app.app_context():
        ctx = app.extensions["banjian"]
        return raise_missing_year_alarm(ctx, ctx.clock.now())
