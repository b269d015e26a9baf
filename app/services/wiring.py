"""Building the `ServiceContext` from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.clock import Clock
from app.db import Database
from app.engine.runtime import WorkflowEngine
from app.engine.specs import SpecCache
from app.forms import FormRegistry
from app.workdays import add_workdays, end_of_day, is_working_day

from .context import ServiceContext


def script_helpers() -> dict[str, Any]:
    """Functions BPMN expressions may call besides the sandbox's defaults."""

    def workday_deadline(start: Any, days: int) -> str:
        """ISO time at which the `days`-th working day after `start` has passed (for timer timeDate)."""
        return end_of_day(add_workdays(start, int(days))).isoformat()

    return {"add_workdays": add_workdays, "is_working_day": is_working_day, "workday_deadline": workday_deadline}


def build_context(config: Any, clock: Clock) -> ServiceContext:
    engine = WorkflowEngine(helpers=script_helpers(), time_limit=float(config["SCRIPT_TIME_LIMIT"]),
                            step_limit=int(config["SCRIPT_STEP_LIMIT"]))
    return ServiceContext(
        db=Database(config["DATABASE_URL"], echo=bool(config.get("SQL_ECHO"))), engine=engine,
        specs=SpecCache(), forms=FormRegistry(Path(config["FORMS_DIR"])), clock=clock,
        secret_key=config["SECRET_KEY"], token_max_age=int(config["TOKEN_MAX_AGE"]),
        bpmn_dir=Path(config["BPMN_DIR"]), max_bpmn_bytes=int(config["MAX_BPMN_BYTES"]),
        password_method=str(config.get("PASSWORD_HASH_METHOD", "scrypt")),
        upload_dir=Path(config["UPLOAD_DIR"]),
    )
