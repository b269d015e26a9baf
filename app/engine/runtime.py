"""Running workflows: start, complete a user task, fire due timers, and read what is waiting.

This is the only module the services call to make the engine act. It knows nothing about the database:
it takes and returns workflows, plain data and small views, and raises `EngineFailure` with the BPMN
element id when a script, condition or limit fails (the caller then discards the workflow).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import TaskState

from .sandbox import RestrictedEnvironment, ScriptForbidden, ScriptLimitExceeded
from .serializer import StateSerializer
from .specs import SpecBundle
from .timers import engine_time, recount_date_timers, waiting_timers

_VAR = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}")


class EngineFailure(Exception):
    """A step failed inside the engine; the workflow object must be thrown away."""

    def __init__(self, message: str, element_id: str | None, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.limit = limit


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


class WorkflowEngine:
    """Stateless apart from the script engine and serializer; one per app, safe to share."""

    def __init__(self, helpers: Mapping[str, Any] | None = None, time_limit: float = 1.0,
                 step_limit: int = 200_000) -> None:
        self.script_engine = PythonScriptEngine(
            environment=RestrictedEnvironment(helpers=helpers, time_limit=time_limit, step_limit=step_limit))
        self.serializer = StateSerializer()

    @property
    def reserved_names(self) -> frozenset[str]:
        """Names task data must not use: they would hide a helper from every script."""
        return frozenset(self.script_engine.environment.globals)

    # -- persistence -------------------------------------------------------------------------------
    def dumps(self, workflow: BpmnWorkflow) -> str:
        return self.serializer.dumps(workflow)

    def loads(self, state: str, bundle: SpecBundle) -> BpmnWorkflow:
        workflow = self.serializer.loads(state, bundle)
        workflow.script_engine = self.script_engine  # not serialized: attach after every load
        return workflow

    # -- acting ------------------------------------------------------------------------------------
    def start(self, bundle: SpecBundle, data: Mapping[str, Any], now: Callable[[], datetime]
              ) -> tuple[BpmnWorkflow, StepResult]:
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        result = StepResult()
        self._guard(lambda: self._steps(workflow, result), now)
        return workflow, result

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any],
                 now: Callable[[], datetime]) -> StepResult:
        """Complete the READY user task `task_id` with `data` and run the engine on.

        :raises KeyError: no READY user task with that id.
        :raises EngineFailure: a script, condition or limit failed.
        """
        task = self._ready_user_task(workflow, task_id)
        result = StepResult()

        def act() -> None:
            task.set_data(**data)
            task.run()
            result.passed.append(_describe(task))
            self._steps(workflow, result)

        self._guard(act, now, element_id=task.task_spec.bpmn_id)
        return result

    def fire_timers(self, workflow: BpmnWorkflow, now: Callable[[], datetime]) -> StepResult:
        """Run every timer that is due at `now()` and whatever follows it."""
        result = StepResult()

        def act() -> None:
            workflow.refresh_timers()  # due timers become READY but do not run: run them now
            self._steps(workflow, result)

        self._guard(act, now)
        return result

    def send_message(self, workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any],
                     now: Callable[[], datetime]) -> StepResult | None:
        """Deliver the message `name` (a message start or catch event waiting for it) and run the engine on.

        The payload goes into the catching event's data (under its `spiffworkflow:messageVariable` if it
        names one), so what follows sees its keys. Returns None, with the workflow unchanged, when nothing
        in this process version waits for the message.
        :raises EngineFailure: a script, condition or limit failed.
        """
        # The class must be the parser's (CaseParser is a SpiffBpmnParser): events match by class.
        event = BpmnEvent(MessageEventDefinition(name), payload=dict(payload))
        try:
            with engine_time(now):
                workflow.send_event(event)
        except WorkflowException:
            return None
        for task in workflow.get_tasks(state=TaskState.READY):
            definition = getattr(task.task_spec, "event_definition", None)
            if (isinstance(definition, MessageEventDefinition) and definition.name == name
                    and definition.message_var is None and name in task.internal_data):
                task.data.update(task.internal_data.pop(name) or {})
        result = StepResult()
        self._guard(lambda: self._steps(workflow, result), now)
        return result

    @staticmethod
    def cancel(workflow: BpmnWorkflow) -> None:
        """End the workflow where it stands: open tasks and timers are cancelled (a withdrawal)."""
        workflow.cancel()

    # -- reading -----------------------------------------------------------------------------------
    def user_tasks(self, workflow: BpmnWorkflow) -> list[UserTaskView]:
        return [_view(t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]

    def recount_timers(self, workflow: BpmnWorkflow, now: Callable[[], datetime]) -> int:
        """Re-evaluate waiting timeDate timers (after a calendar change); returns how many moved."""
        moved = 0

        def act() -> None:
            nonlocal moved
            moved = recount_date_timers(workflow)

        self._guard(act, now)
        return moved

    def timers(self, workflow: BpmnWorkflow) -> list[TimerView]:
        return [TimerView(tid, key, due) for tid, key, due in waiting_timers(workflow)]

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
        return dict(self._ready_user_task(workflow, task_id).data)

    @staticmethod
    def completed_data(workflow: BpmnWorkflow, key: str) -> list[dict[str, Any]]:
        """The data of every completed task with BPMN id `key` (a loop or an event subprocess may have
        run it more than once), the most recently completed first."""
        done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == key]
        return [dict(t.data) for t in sorted(done, key=lambda t: t.last_state_change, reverse=True)]

    @staticmethod
    def is_completed(workflow: BpmnWorkflow) -> bool:
        return bool(workflow.is_completed())

    @staticmethod
    def data(workflow: BpmnWorkflow) -> dict[str, Any]:
        """The data a case shows: the final data once completed, else the root task's."""
        if workflow.is_completed():
            return dict(workflow.data)
        return dict(workflow.last_task.data if workflow.last_task else workflow.task_tree.data)

    # -- internals ---------------------------------------------------------------------------------
    @staticmethod
    def _steps(workflow: BpmnWorkflow, result: StepResult) -> None:
        def did_complete(task: Any) -> None:
            result.passed.append(_describe(task))

        workflow.do_engine_steps(did_complete_task=did_complete)

    @staticmethod
    def _ready_user_task(workflow: BpmnWorkflow, task_id: str) -> Any:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException, KeyError):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise KeyError(task_id)
        return task

    @staticmethod
    def _guard(act: Callable[[], None], now: Callable[[], datetime], element_id: str | None = None) -> None:
        try:
            with engine_time(now):
                act()
        except SpiffWorkflowException as exc:
            raise _failure(exc, element_id) from exc
        except (ScriptLimitExceeded, ScriptForbidden, RecursionError) as exc:
            raise EngineFailure(str(exc), element_id, limit=True) from exc


def _failure(exc: SpiffWorkflowException, fallback_id: str | None) -> EngineFailure:
    task = getattr(exc, "task", None) or getattr(exc, "sender", None)
    spec = getattr(task, "task_spec", None) if task is not None else None
    element_id = getattr(spec, "bpmn_id", None) or getattr(exc, "id", None) or fallback_id
    causes = list(_chain(exc))
    limit = any(isinstance(c, (ScriptLimitExceeded, RecursionError)) for c in causes)
    message = str(exc)
    for cause in causes[1:2]:
        if str(cause) and str(cause) not in message:
            message = f"{message}: {cause}"
    return EngineFailure(message, element_id, limit=limit)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it: SpiffWorkflow re-raises inside `except`, so follow the context."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _describe(task: Any) -> Passed:
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


def _view(task: Any) -> UserTaskView:
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
