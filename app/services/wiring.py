"""Building the `ServiceContext` from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app import SettingsError
from app.clock import Clock
from app.db import Database
from app.engine.helpers import calendar_helpers
from app.engine.runtime import WorkflowEngine
from app.engine.specs import SpecCache
from app.forms import FormRegistry
from app.services.calendar import CalendarHolder
from app.services.context import ServiceContext, StepHooks
from app.services.documents import notices
from app.services.licensing import delivery as licence_delivery
from app.services.licensing import issue as licence_issue
from app.services.messaging import milestones
from app.services.ratings import invite as rating_invite
from app.services.ratings import rate as rating_rate
from app.services.ratings import rectification
from app.services.timelimits import clock_actions, clocks


def script_helpers(calendar: CalendarHolder) -> dict[str, Any]:
    """The working-day helpers BPMN expressions may call (app/engine/helpers.py: bounded arguments),
    counting on this process's calendar as it is when they run; the engine hands its workers a copy."""
    return calendar_helpers(calendar.get)


def _setting(config: Any, name: str, kind: type, low: float, high: float) -> Any:
    raw = config.get(name)
    try:
        value = kind(str(raw).strip()) if raw is not None else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"BANJIAN_{name} must be {what} from {low:g} to {high:g}, got {raw!r}")
    return value


def _switch(config: Any, name: str) -> bool:
    raw = str(config.get(name, "on")).strip().lower()
    if raw not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise SettingsError(f"BANJIAN_{name} must be on or off, got {raw!r}")
    return raw in {"1", "true", "yes", "on"}


def build_engine(config: Any, calendar: CalendarHolder) -> WorkflowEngine:
    """The workflow engine from settings (see config.py): BPMN code runs in worker processes under OS
    limits; the helpers count on the calendar as read for each step.
    :raises SettingsError: a setting is not valid."""
    return WorkflowEngine(
        time_limit=_setting(config, "SCRIPT_TIME_LIMIT", float, 0.05, 300),
        step_limit=_setting(config, "SCRIPT_STEP_LIMIT", int, 1000, 10**9),
        memory_limit_mb=_setting(config, "SCRIPT_MEMORY_LIMIT_MB", int, 32, 1024 * 1024),
        workers=_setting(config, "ENGINE_WORKERS", int, 1, 64),
        max_loop_instances=_setting(config, "MAX_LOOP_INSTANCES", int, 1, 100_000),
        isolated=_switch(config, "ENGINE_ISOLATION"), calendar=calendar.get)


def build_context(config: Any, clock: Clock) -> ServiceContext:
    db = Database(config["DATABASE_URL"], echo=bool(config.get("SQL_ECHO")))
    calendar = CalendarHolder(db, float(config.get("CALENDAR_RECHECK_SECONDS", 10)))
    engine = build_engine(config, calendar)
    if rectification.on_bad_rating not in rating_rate.bad_rating_listeners:  # one list for every app built here
        rating_rate.bad_rating_listeners.append(rectification.on_bad_rating)
    pickup = licence_delivery.PickupDefaults(str(config.get("PICKUP_PLACE") or ""), str(config.get("PICKUP_HOURS") or ""))
    return ServiceContext(
        db=db, engine=engine, calendar=calendar,
        specs=SpecCache(), forms=FormRegistry(Path(config["FORMS_DIR"])), clock=clock,
        secret_key=config["SECRET_KEY"], token_max_age=int(config["TOKEN_MAX_AGE"]),
        bpmn_dir=Path(config["BPMN_DIR"]), max_bpmn_bytes=int(config["MAX_BPMN_BYTES"]),
        password_method=str(config.get("PASSWORD_HASH_METHOD", "scrypt")),
        upload_dir=Path(config["UPLOAD_DIR"]), public_url=str(config.get("PUBLIC_URL") or ""),
        step_hooks=StepHooks(deadlines=clocks.after_step, listeners=(notices.on_step, clock_actions.on_step, milestones.on_step,
                                                                         licence_issue.listener(Path(config["KEYS_DIR"])),
                                                                         licence_delivery.listener(pickup),
                                                                         rating_invite.on_step, rectification.on_step)),
    )
