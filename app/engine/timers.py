"""Engine time: BPMN timers follow the injected clock, and waiting timers are readable.

SpiffWorkflow's timer module calls `datetime.now(timezone.utc)` itself. We swap that module's
`datetime` name for a subclass whose `now()` asks the clock of the engine call in progress (a context
variable), so tests move time with a `ManualClock` and a late scheduler tick computes nothing from the
wall clock. Outside an engine call it behaves exactly like `datetime`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.task import TaskState

_now: ContextVar[Callable[[], datetime] | None] = ContextVar("banjian_engine_now", default=None)


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        source = _now.get()
        if source is None:
            return datetime.now(tz)
        current = source()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _EngineDatetime  # type: ignore[misc]


@contextmanager
def engine_time(now: Callable[[], datetime]) -> Iterator[None]:
    """Run engine code with `now` as the current time."""
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)


def waiting_timers(workflow: Any) -> list[tuple[str, str, datetime]]:
    """(task id, BPMN id, due time in UTC) of every waiting timer, subprocesses included."""
    result = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = _due(task, definition)
        if due is not None:
            result.append((str(task.id), task.task_spec.bpmn_id or task.task_spec.name, due))
    return result


def _due(task: Any, definition: TimerEventDefinition) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # cycle timers keep {'cycles', 'next', 'duration'}
        value = value.get("next")
    if not value:
        return None
    try:
        due = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else value
    except ValueError:
        return None
    due = due.astimezone(UTC)
    # SpiffWorkflow builds it with our `_EngineDatetime`: hand out a plain datetime.
    return datetime(due.year, due.month, due.day, due.hour, due.minute, due.second, due.microsecond, UTC)


def recount_date_timers(workflow: Any) -> int:
    """Evaluate the expression of every waiting timeDate timer again (the engine caches its first
    result); returns how many due times changed. For a calendar change: `workday_deadline(...)` counts
    on the calendar as it is now. Duration and cycle timers are left alone: their start would move."""
    moved = 0
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimeDateEventDefinition):
            continue
        value = workflow.script_engine.evaluate(task, definition.expression)
        if value != task.internal_data.get("event_value"):
            task.internal_data["event_value"] = value
            moved += 1
    return moved
