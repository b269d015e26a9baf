"""Building the `ServiceContext` from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.clock import Clock
from app.db import Database
from app.engine.runtime import WorkflowEngine
from app.engine.specs import SpecCache
from app.forms import FormRegistry
from app.services.calendar import CalendarHolder
from app.services.context import ServiceContext, StepHooks
from app.services.documents import notices
from app.services.timelimits import clock_actions, clocks
from app.workdays import end_of_day


def script_helpers(calendar: CalendarHolder) -> dict[str, Any]:
    """Functions BPMN expressions may call besides the sandbox's defaults; they count on the
    administrators' calendar as it is when the expression runs."""

    def add_workdays(start: Any, days: int) -> Any:
        """The `days`-th working day strictly after `start` (a date)."""
        return calendar.get().add_workdays(start, int(days))

    def is_working_day(day: Any) -> bool:
        return calendar.get().is_working_day(day)

    def workday_deadline(start: Any, days: int) -> str:
        """ISO time at which the `days`-th working day after `start` has passed (for timer timeDate)."""
        return end_of_day(calendar.get().add_workdays(start, int(days))).isoformat()

    return {"add_workdays": add_workdays, "is_working_day": is_working_day, "workday_deadline": workday_deadline}


def build_context(config: Any, clock: Clock) -> ServiceContext:
    db = Database(config["DATABASE_URL"], echo=bool(config.get("SQL_ECHO")))
    calendar = CalendarHolder(db, float(config.get("CALENDAR_RECHECK_SECONDS", 10)))
    engine = WorkflowEngine(helpers=script_helpers(calendar), time_limit=float(config["SCRIPT_TIME_LIMIT"]),
                            step_limit=int(config["SCRIPT_STEP_LIMIT"]))
    return ServiceContext(
        db=db, engine=engine, calendar=calendar,
        specs=SpecCache(), forms=FormRegistry(Path(config["FORMS_DIR"])), clock=clock,
        secret_key=config["SECRET_KEY"], token_max_age=int(config["TOKEN_MAX_AGE"]),
        bpmn_dir=Path(config["BPMN_DIR"]), max_bpmn_bytes=int(config["MAX_BPMN_BYTES"]),
        password_method=str(config.get("PASSWORD_HASH_METHOD", "scrypt")),
        upload_dir=Path(config["UPLOAD_DIR"]),
        step_hooks=StepHooks(deadlines=clocks.after_step, listeners=(notices.on_step, clock_actions.on_step)),
    )
