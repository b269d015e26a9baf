"""The jobs each tick runs."""

from __future__ import annotations

from flask import Flask

from app.services.timers import fire_due_timers


def engine_timers_tick(app: Flask) -> int:
    with app.app_context():
        return fire_due_timers(app.extensions["banjian"])
