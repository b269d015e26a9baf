"""A calendar change made by one process reaches another process's copy (after its recheck interval),
also where no caller passes a session (the BPMN working-day helpers)."""

from __future__ import annotations

from datetime import date

from app import create_app
from app.engine.helpers import calendar_helpers
from app.services.admin.calendar_admin import set_day
from tests.conftest import demo_app, make_config


def test_another_process_sees_a_new_local_holiday(shared_url: str, clock):
    with demo_app(shared_url, clock) as admin_app:
        other = create_app(make_config(shared_url, CALENDAR_RECHECK_SECONDS=0), clock=clock)
        helpers = calendar_helpers(other.extensions["banjian"].calendar.get)
        assert helpers["add_workdays"](date(2026, 12, 1), 1) == date(2026, 12, 2)
        set_day(admin_app.extensions["banjian"], None, date(2026, 12, 2), "holiday", "地方假日", local=True)
        assert not helpers["is_working_day"](date(2026, 12, 2))  # no session passed: it reloads by itself
        assert helpers["add_workdays"](date(2026, 12, 1), 1) == date(2026, 12, 3)
        other.extensions["banjian"].db.dispose()
