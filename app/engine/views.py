"""What an engine call hands back to the services: failures, passed nodes, open user tasks, timers.

Plain, picklable values: the engine workers build them and send them to the web or scheduler process
(`runtime.WorkflowEngine` re-exports them; the services import them from there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_VAR = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}")


class EngineFailure(Exception):
    """A step failed inside the engine; the workflow must be thrown away (the case keeps its last state).

    `limit` is True when a limit stopped it (time, memory, steps, sizes, loop instances) or the engine
    worker running it died; `element_id` is the BPMN element that was running, when known.
    """

    def __init__(self, message: str, element_id: str | None, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return (EngineFailure, (self.message, self.element_id, self.limit))


@dataclass(frozen=True)
class UserTaskView:
    """A READY user task as the projections need it."""

    id: str
    key: str
    name: str
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    form_key: str | None
    form_fields: tuple[dict[str, Any], ...] | None
    properties: Mapping[str, str]
    department: str | None


@dataclass(frozen=True)
class TimerView:
    id: str
    key: str
    due_at: datetime


@dataclass(frozen=True)
class Passed:
    """A node the engine completed: its BPMN id, name, properties and whether it was a user task."""

    key: str
    name: str
    properties: Mapping[str, str]
    manual: bool


@dataclass
class StepResult:
    """What an engine call passed through, in order."""

    passed: list[Passed] = field(default_factory=list)


def describe(task: Any) -> Passed:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", None) or {}
    return Passed(spec.bpmn_id or spec.name, spec.bpmn_name or "", extensions.get("properties", {}),
                  bool(spec.manual))


def resolve(template: str, data: Mapping[str, Any]) -> str:
    """Substitute `${var}` / `${var.key}` from task data; a missing value becomes empty."""

    def value(match: re.Match[str]) -> str:
        current: Any = data
        for part in match.group(1).split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
            if current is None:
                return ""
        return str(current)

    return _VAR.sub(value, template)


def _split(value: str | None, data: Mapping[str, Any]) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(p.strip() for p in resolve(value, data).split(",") if p.strip())


def user_task_view(task: Any) -> UserTaskView:
    spec = task.task_spec
    ext = getattr(spec, "extensions", None) or {}
    data = task.data
    groups = _split(ext.get("candidateGroups"), data)
    users = _split(ext.get("candidateUsers"), data)
    assignee = resolve(ext["assignee"], data).strip() or None if ext.get("assignee") else None
    if not groups and not users and not assignee and spec.lane:
        groups = (spec.lane,)  # a lane names a group when no attribute is given
    department = data.get("department") if isinstance(data.get("department"), str) else None
    if department is None and groups and "." in groups[0]:
        department = groups[0].split(".", 1)[0]
    form_data = ext.get("formData")
    return UserTaskView(
        id=str(task.id), key=spec.bpmn_id or spec.name, name=spec.bpmn_name or spec.bpmn_id or spec.name,
        candidate_groups=groups, candidate_users=users, assignee=assignee, form_key=ext.get("formKey"),
        form_fields=tuple(form_data) if form_data else None, properties=ext.get("properties", {}),
        department=department,
    )
