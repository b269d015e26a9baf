"""Flask CLI commands: db, demo, users, bpmn, calendar, scheduler, serve, licences, statistics."""

from __future__ import annotations

from flask import Flask

from .bpmn import bpmn_cli
from .calendar import calendar_cli
from .db import db_cli
from .demo import demo_cli
from .licences import licences_cli
from .scheduler import scheduler_cli
from .serve import serve_cli
from .statistics import statistics_cli
from .users import users_cli


def register_cli(app: Flask) -> None:
    for group in (db_cli, demo_cli, users_cli, bpmn_cli, calendar_cli, scheduler_cli, serve_cli,
                  licences_cli, statistics_cli):
        app.cli.add_command(group)
