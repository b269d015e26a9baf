"""One engine step, as an engine worker (or, with isolation off, the calling thread) runs it.

A step is: load the state (or start a new workflow) -> act (complete a task, fire timers, deliver a
message, cancel, recount timers) -> `do_engine_steps` -> serialize. Everything that runs designer code
happens here, under the restricted script engine; the outcome is plain data: the new state, what the
step passed, and a `Snapshot` of what the services read after a step (open user tasks, waiting timers,
completion, the case data). Every failure becomes an `EngineFailure` naming the element when known.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import TaskState

from app.workdays import WorkCalendar

from . import migrate
from .helpers import calendar_helpers
from .sandbox import RestrictedEnvironment, ScriptForbidden, ScriptLimitExceeded
from .scripting import DEFAULT_MAX_LOOP_INSTANCES, CaseScriptEngine
from .serializer import StateSerializer, UnstorableData, ready_user_task
from .specs import SpecBundle
from .timers import engine_time, recount_date_timers, waiting_timers
from .views import EngineFailure, StepResult, TimerView, UserTaskView, describe, user_task_view

log = logging.getLogger(__name__)

OPS = frozenset({"start", "complete", "fire_timers", "send_message", "cancel", "recount_timers", "read",
                 "migrate"})
MAX_READY_DATA = 16  # a read sends the data of at most this many open user tasks


@dataclass(frozen=True)
class Limits:
    """What designer code may use. Hashable: engine worker pools are shared per set of limits."""

    time_limit: float = 1.0          # seconds per expression or script, and for a whole step in a worker
    step_limit: int = 200_000        # Python steps per expression or script
    memory_limit_mb: int = 256       # address space an engine worker may add to its size at start
    max_loop_instances: int = DEFAULT_MAX_LOOP_INSTANCES

    def describe_time(self) -> str:
        return f"the step ran longer than {self.time_limit:g} s"

    def describe_memory(self) -> str:
        return f"the step used more than {self.memory_limit_mb} MB of memory"


@dataclass
class Job:
    """An engine call as sent to a worker: no callables, no spec (only its key), the state as text."""

    op: str
    bundle_key: str
    state: str | None = None
    now: datetime | None = None
    calendar_key: str | None = None
    task_id: str | None = None
    data: dict[str, Any] | None = None   # start: initial data; complete: form data; send_message: payload
    name: str | None = None              # send_message: the message name
    target_key: str | None = None        # migrate: the bundle of the version the case moves to


@dataclass
class Snapshot:
    """What the services read after a step, computed where the workflow is."""

    views: list[UserTaskView]
    timers: list[TimerView] | None  # None: the process has no timers (the save skips them)
    completed: bool
    data: dict[str, Any] | None     # None: it did not pickle (read it from the state)
    ready_data: dict[str, dict[str, Any]] | None = None  # a read: the data of each open user task


@dataclass
class Outcome:
    """A successful step. `state` is None when nothing changed (a message nothing waits for)."""

    state: str | None
    result: StepResult | None = None
    snapshot: Snapshot | None = None
    moved: int = 0
    nothing_waits: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class StepRunner:
    """Runs steps with one restricted script engine; one per worker (or per in-process engine).

    `calendar()` gives the working-day calendar the helpers count on; `on_element(bpmn_id)` hears which
    element's code is about to run. `worker`: this is a single-threaded engine worker (data depth is
    bounded while serializing, which changes the interpreter's recursion limit)."""

    def __init__(self, limits: Limits, calendar: Callable[[], WorkCalendar],
                 on_element: Callable[[str], None] | None = None, worker: bool = False) -> None:
        self.limits = limits
        environment = RestrictedEnvironment(helpers=calendar_helpers(calendar), time_limit=limits.time_limit,
                                            step_limit=limits.step_limit)
        self.current_element: str | None = None
        self._notify = on_element
        self.script_engine = CaseScriptEngine(environment, limits.max_loop_instances, self._entered)
        self.serializer = StateSerializer(bound_depth=worker)

    def _entered(self, element: str) -> None:
        if element != self.current_element:
            self.current_element = element
            if self._notify is not None:
                self._notify(element)

    # -- whole steps -----------------------------------------------------------------------------------
    def load(self, state: str, bundle: SpecBundle) -> BpmnWorkflow:
        return self.serializer.loads(state, bundle, self.script_engine)  # engines are not serialized

    def run(self, job: Job, bundle: SpecBundle, workflow: BpmnWorkflow | None,
            snapshot: bool = True, target: SpecBundle | None = None) -> tuple[BpmnWorkflow | None, Outcome]:
        """Act on `workflow` (loaded from `job.state` when None), serialize it and describe it.
        `target`: a migration's target version (the workflow is on it afterwards).

        :raises KeyError: `complete` names no READY user task.
        :raises EngineFailure: designer code failed or hit a limit, or the data cannot be stored.
        """
        self.current_element = None
        if workflow is None and job.op != "start":
            if job.state is None:
                raise ValueError(f"{job.op} needs a state")
            workflow = self.load(job.state, bundle)
        if job.op == "read":  # no designer code: describe the state as it is
            assert workflow is not None
            return workflow, Outcome(state=None, snapshot=self.snapshot(workflow, bundle, fresh=True))
        if job.op == "migrate":
            assert workflow is not None and target is not None
            workflow, outcome = self._migrate(job, workflow, target)
            bundle = target
        else:
            workflow, outcome = self._act(job, bundle, workflow)
        if outcome.nothing_waits:
            return workflow, outcome
        assert workflow is not None
        try:
            outcome.state = self.serializer.dumps(workflow)
        except UnstorableData as exc:
            raise EngineFailure(exc.message, exc.element_id or self.current_element) from None
        except MemoryError:
            raise EngineFailure(self.limits.describe_memory(), self.current_element, limit=True) from None
        if snapshot:
            outcome.snapshot = self.snapshot(workflow, bundle)
        return workflow, outcome

    def _act(self, job: Job, bundle: SpecBundle, workflow: BpmnWorkflow | None
             ) -> tuple[BpmnWorkflow | None, Outcome]:
        op, now = job.op, job.now
        clock: Callable[[], datetime] | None = (lambda: now) if now is not None else None  # type: ignore[return-value]
        outcome = Outcome(state=None)
        if op == "start":
            workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self.script_engine)
            workflow.task_tree.data.update(job.data or {})
            result = outcome.result = StepResult()
            self.guard(lambda: self._steps(workflow, result), clock)
        elif op == "complete":
            assert workflow is not None and job.task_id is not None
            task = ready_user_task(workflow, job.task_id)  # KeyError: not a READY user task
            result = outcome.result = StepResult()

            def complete() -> None:
                task.set_data(**(job.data or {}))
                task.run()
                result.passed.append(describe(task))
                self._steps(workflow, result)

            self.guard(complete, clock, element_id=task.task_spec.bpmn_id)
        elif op == "fire_timers":
            assert workflow is not None
            result = outcome.result = StepResult()

            def fire() -> None:
                workflow.refresh_timers()  # due timers become READY but do not run: run them now
                self._steps(workflow, result)

            self.guard(fire, clock)
        elif op == "send_message":
            assert workflow is not None and job.name is not None
            if not self._deliver(workflow, job.name, job.data or {}, clock):
                outcome.nothing_waits = True
                return workflow, outcome
            result = outcome.result = StepResult()
            self.guard(lambda: self._steps(workflow, result), clock)
        elif op == "cancel":
            assert workflow is not None
            self.guard(workflow.cancel, clock)
        elif op == "recount_timers":
            assert workflow is not None

            def recount() -> None:
                outcome.moved = recount_date_timers(workflow)

            self.guard(recount, clock)
        else:
            raise ValueError(f"unknown engine operation {op!r}")
        return workflow, outcome

    def _migrate(self, job: Job, workflow: BpmnWorkflow, target: SpecBundle) -> tuple[BpmnWorkflow, Outcome]:
        """Move the workflow to `target` (see migrate.py), then run the engine on, as after any step.

        Between the two it goes through the serializer once: the reset tasks and the new boundary
        events are then registered as a freshly loaded workflow's are (waiting events, timers)."""
        now = job.now
        clock: Callable[[], datetime] | None = (lambda: now) if now is not None else None  # type: ignore[return-value]
        result = StepResult()
        self.guard(lambda: migrate.apply(workflow, target), clock)
        try:
            moved = self.load(self.serializer.dumps(workflow), target)
        except UnstorableData as exc:
            raise EngineFailure(exc.message, exc.element_id) from None
        self.guard(lambda: self._steps(moved, result), clock)
        return moved, Outcome(state=None, result=result)

    def _deliver(self, workflow: BpmnWorkflow, name: str, payload: dict[str, Any],
                 clock: Callable[[], datetime] | None) -> bool:
        """Send the message `name`; False when nothing in this process version waits for it.

        The payload goes into the catching event's data (under its `spiffworkflow:messageVariable` if it
        names one), so what follows sees its keys."""
        # The class must be the parser's (CaseParser is a SpiffBpmnParser): events match by class.
        event = BpmnEvent(MessageEventDefinition(name), payload=dict(payload))
        try:
            self.guard(lambda: workflow.send_event(event), clock, nothing_waits=True)
        except _NothingWaits:
            return False
        for task in workflow.get_tasks(state=TaskState.READY):
            definition = getattr(task.task_spec, "event_definition", None)
            if (isinstance(definition, MessageEventDefinition) and definition.name == name
                    and definition.message_var is None and name in task.internal_data):
                task.data.update(task.internal_data.pop(name) or {})
        return True

    def snapshot(self, workflow: BpmnWorkflow, bundle: SpecBundle, fresh: bool = False) -> Snapshot:
        """What the services read, with the data of each open user task (up to MAX_READY_DATA).

        `fresh`: the workflow was just deserialized. After a step it was not: its data passes through the
        serializer's encoding, so it reads exactly as from the saved state (tuples and sets as lists...)."""
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        timers = [TimerView(*t) for t in waiting_timers(workflow)] if bundle.has_timers else None
        completed = not ready and bool(workflow.is_completed())
        as_saved = (lambda value: value) if fresh else self.serializer.as_saved
        snapshot = Snapshot([user_task_view(t) for t in ready], timers, completed, as_saved(case_data(workflow)))
        if len(ready) <= MAX_READY_DATA:
            snapshot.ready_data = {str(t.id): as_saved(dict(t.data)) for t in ready}
        return snapshot

    # -- internals ---------------------------------------------------------------------------------------
    @staticmethod
    def _steps(workflow: BpmnWorkflow, result: StepResult) -> None:
        def did_complete(task: Any) -> None:
            result.passed.append(describe(task))

        workflow.do_engine_steps(did_complete_task=did_complete)

    def guard(self, act: Callable[[], Any], clock: Callable[[], datetime] | None,
              element_id: str | None = None, nothing_waits: bool = False) -> None:
        """Run `act` at the engine time `clock()`; every failure becomes an EngineFailure."""
        try:
            if clock is None:
                act()
            else:
                with engine_time(clock):
                    act()
        except WorkflowException as exc:
            if nothing_waits:
                raise _NothingWaits() from exc
            raise self.failure(exc, element_id) from exc
        except Exception as exc:  # whatever designer code raised, or made the engine raise
            raise self.failure(exc, element_id) from exc

    def failure(self, exc: BaseException, fallback_id: str | None) -> EngineFailure:
        """The EngineFailure for what `exc` says (and what caused it)."""
        causes = _chain(exc)
        task = getattr(exc, "task", None) or getattr(exc, "sender", None)
        spec = getattr(task, "task_spec", None) if task is not None else None
        element_id = (getattr(spec, "bpmn_id", None) or getattr(exc, "id", None) or self.current_element
                      or fallback_id)
        if any(isinstance(c, MemoryError) for c in causes):
            return EngineFailure(self.limits.describe_memory(), element_id, limit=True)
        limit = any(isinstance(c, (ScriptLimitExceeded, RecursionError)) for c in causes)
        if isinstance(exc, SpiffWorkflowException):
            message = str(exc)
            for cause in causes[1:2]:
                if str(cause) and str(cause) not in message:
                    message = f"{message}: {cause}"
        elif isinstance(exc, migrate.MigrationRefused):
            message = exc.message
        elif isinstance(exc, (ScriptLimitExceeded, ScriptForbidden, RecursionError)):
            message, limit = str(exc) or type(exc).__name__, True
        else:
            log.exception("unexpected engine error")
            message = f"the engine failed: {type(exc).__name__}: {exc}"
        return EngineFailure(message, element_id, limit=limit)


class _NothingWaits(Exception):
    pass


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data a case shows: the final data once completed, else the last completed task's."""
    if workflow.is_completed():
        return dict(workflow.data)
    return dict(workflow.last_task.data if workflow.last_task else workflow.task_tree.data)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it: SpiffWorkflow re-raises inside `except`, so follow the context."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
