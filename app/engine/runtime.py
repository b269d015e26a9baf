"""Running workflows: start, complete a user task, fire due timers, deliver a message, and read what waits.

This is the only module the services call to make the engine act. It knows nothing about the database:
it takes and returns `CaseWorkflow`s (a case's state between engine calls), plain data and small views,
and raises `EngineFailure` with the BPMN element id when a script, condition or limit fails (the
caller then discards the workflow; the case keeps its last committed state).

Isolation (the default, `isolated=True`): every call that may run designer code (start, complete,
fire_timers, send_message, cancel, recount_timers, migrate) is a job for an engine worker process
(app/engine/pool.py, worker.py), which the operating system limits in time and memory; this process
sends the state, the action and the current time, and gets back the new state with a snapshot of what
the services read after a step (open user tasks and their data, timers, completion, case data). This
process never evaluates designer code: reads of a state it has no snapshot for (`data`, `task_data`,
`completed_data`, or when a worker cannot help) deserialize here, with a script engine that refuses to
evaluate anything. Before a step,
`user_tasks` and `task_data` come from the snapshot the last step returned for exactly this state (kept
per engine for recent states, `RECENT_*`), else from a worker's read job, which leaves the workflow
deserialized in that worker for the step that follows.

`isolated=False` runs the steps in the calling thread, under the in-process sandbox only: for
benchmarks and debugging, never with designs you do not trust.

A step runs at one instant: `now()` is read once when the call starts.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import TaskState

from app.workdays import WorkCalendar, default_calendar

from . import migrate as migration
from .helpers import HELPER_NAMES
from .pool import EnginePool, shared_pool
from .sandbox import DEFAULT_HELPERS
from .scripting import DEFAULT_MAX_LOOP_INSTANCES, RefusingScriptEngine
from .serializer import StateSerializer, check_format, ready_user_task
from .specs import SpecBundle
from .steps import Job, Limits, Outcome, Snapshot, StepRunner, case_data
from .timers import waiting_timers
from .views import EngineFailure, Passed, StepResult, TimerView, UserTaskView, resolve, user_task_view

log = logging.getLogger(__name__)

RECENT_STATES = 256                  # snapshots of recent states kept per engine...
RECENT_TOTAL_CHARS = 32_000_000      # ...holding at most this much state text
RECENT_MAX_CHARS = 1_000_000         # larger states are not kept

MigrationPlan = migration.MigrationPlan
TaskMapping = migration.TaskMapping

__all__ = ["CaseWorkflow", "EngineFailure", "MigrationPlan", "Passed", "StepResult", "TaskMapping", "TimerView",
           "UserTaskView", "WorkflowEngine", "resolve"]


class CaseWorkflow:
    """A case's workflow as the services hold it between engine calls: opaque, pass it back to the
    engine. It holds the serialized state, what the last step reported, and (only when a read needs
    it) the workflow deserialized here."""

    __slots__ = ("bundle", "state", "snapshot", "_workflow")

    def __init__(self, bundle: SpecBundle, state: str | None) -> None:
        self.bundle = bundle
        self.state = state
        self.snapshot: Snapshot | None = None
        self._workflow: BpmnWorkflow | None = None


class WorkflowEngine:
    """One per app, safe to share between threads. See the module docstring for `isolated`.

    `calendar()` gives the working-day calendar that `add_workdays` and the other helpers count on (read
    once per step); `workers` is the size of this process's pool for these limits (pools are shared by
    engines with the same limits)."""

    def __init__(self, *, time_limit: float = 1.0, step_limit: int = 200_000, memory_limit_mb: int = 256,
                 workers: int = 2, max_loop_instances: int = DEFAULT_MAX_LOOP_INSTANCES,
                 isolated: bool = True, calendar: Callable[[], WorkCalendar] | None = None) -> None:
        if time_limit <= 0 or step_limit <= 0 or memory_limit_mb <= 0 or workers < 1 or max_loop_instances < 1:
            raise ValueError("engine limits must be positive and there must be at least one worker")
        self.limits = Limits(float(time_limit), int(step_limit), int(memory_limit_mb), int(max_loop_instances))
        self.workers = int(workers)
        self.isolated = isolated
        self._calendar = calendar or default_calendar
        self._reader = StateSerializer()
        self._reading = RefusingScriptEngine(self.reserved_names)
        self._runners = threading.local()  # isolated=False: one runner per thread
        self._pool: EnginePool | None = None
        # Isolated: the snapshots of recent states (what the last steps returned, what workers read), so
        # the next step of a case this process just ran needs no read job. Pickled: never shared objects.
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        self._recent_chars = 0
        self._recent_lock = threading.Lock()

    @property
    def reserved_names(self) -> frozenset[str]:
        """Names task data must not use: they would hide a helper from every script."""
        return frozenset(DEFAULT_HELPERS) | HELPER_NAMES

    @property
    def max_loop_instances(self) -> int:
        return self.limits.max_loop_instances

    # -- persistence -------------------------------------------------------------------------------------
    def dumps(self, workflow: CaseWorkflow) -> str:
        assert workflow.state is not None
        return workflow.state

    def loads(self, state: str, bundle: SpecBundle) -> CaseWorkflow:
        """:raises ValueError: `state` is not an engine state of this format."""
        check_format(state)
        workflow = CaseWorkflow(bundle, state)
        if self.isolated:
            workflow.snapshot = self._recall(state)
        return workflow

    # -- acting ------------------------------------------------------------------------------------------
    def start(self, bundle: SpecBundle, data: Mapping[str, Any], now: Callable[[], datetime]
              ) -> tuple[CaseWorkflow, StepResult]:
        """:raises EngineFailure: a script, condition or limit failed (no case should be created)."""
        workflow = CaseWorkflow(bundle, None)
        outcome = self._run(workflow, Job("start", bundle.cache_key, now=now(), data=dict(data)))
        assert outcome.result is not None
        return workflow, outcome.result

    def complete(self, workflow: CaseWorkflow, task_id: str, data: Mapping[str, Any],
                 now: Callable[[], datetime]) -> StepResult:
        """Complete the READY user task `task_id` with `data` and run the engine on.

        :raises KeyError: no READY user task with that id.
        :raises EngineFailure: a script, condition or limit failed.
        """
        outcome = self._run(workflow, Job("complete", workflow.bundle.cache_key, now=now(), task_id=task_id,
                                          data=dict(data)))
        assert outcome.result is not None
        return outcome.result

    def fire_timers(self, workflow: CaseWorkflow, now: Callable[[], datetime]) -> StepResult:
        """Run every timer that is due at `now()` and whatever follows it."""
        outcome = self._run(workflow, Job("fire_timers", workflow.bundle.cache_key, now=now()))
        assert outcome.result is not None
        return outcome.result

    def send_message(self, workflow: CaseWorkflow, name: str, payload: Mapping[str, Any],
                     now: Callable[[], datetime]) -> StepResult | None:
        """Deliver the message `name` (a message start or catch event waiting for it) and run the engine on.

        The payload goes into the catching event's data (under its `spiffworkflow:messageVariable` if it
        names one), so what follows sees its keys. Returns None, with the workflow unchanged, when nothing
        in this process version waits for the message.
        :raises EngineFailure: a script, condition or limit failed.
        """
        outcome = self._run(workflow, Job("send_message", workflow.bundle.cache_key, now=now(), name=name,
                                          data=dict(payload)))
        return None if outcome.nothing_waits else outcome.result

    def cancel(self, workflow: CaseWorkflow) -> None:
        """End the workflow where it stands: open tasks and timers are cancelled (a withdrawal)."""
        self._run(workflow, Job("cancel", workflow.bundle.cache_key))

    def recount_timers(self, workflow: CaseWorkflow, now: Callable[[], datetime]) -> int:
        """Re-evaluate waiting timeDate timers (after a calendar change); returns how many moved."""
        return self._run(workflow, Job("recount_timers", workflow.bundle.cache_key, now=now())).moved

    def migrate(self, workflow: CaseWorkflow, target: SpecBundle, now: Callable[[], datetime]) -> StepResult:
        """Move the workflow to another version of its process (see migrate.py) and run the engine on;
        the workflow is on `target` afterwards.

        :raises EngineFailure: the plan refuses it (re-checked on this very state), or designer code
            evaluated by the move (a new timer's expression, say) failed; the workflow is unchanged.
        """
        job = Job("migrate", workflow.bundle.cache_key, now=now(), target_key=target.cache_key)
        outcome = self._run(workflow, job, target)
        workflow.bundle = target
        assert outcome.result is not None
        return outcome.result

    # -- reading (no designer code runs) -------------------------------------------------------------------
    def plan_migration(self, workflow: CaseWorkflow, target: SpecBundle) -> MigrationPlan:
        """Which open tasks have a place in `target` and whether the workflow can move (compares specs
        and reads the state: no designer code, so it runs here)."""
        return migration.plan(self._live(workflow), target)

    def user_tasks(self, workflow: CaseWorkflow) -> list[UserTaskView]:
        """The open user tasks. Before a step (no snapshot yet) an engine worker reads them, with their
        data, and keeps the workflow for the step that usually follows."""
        snapshot = workflow.snapshot or self._read(workflow)
        if snapshot is not None:
            return list(snapshot.views)
        return [user_task_view(t) for t in self._live(workflow).get_tasks(state=TaskState.READY, manual=True)]

    def timers(self, workflow: CaseWorkflow) -> list[TimerView]:
        if not workflow.bundle.has_timers:
            return []
        if workflow.snapshot is not None and workflow.snapshot.timers is not None:
            return list(workflow.snapshot.timers)
        return [TimerView(*t) for t in waiting_timers(self._live(workflow))]

    def task_data(self, workflow: CaseWorkflow, task_id: str) -> dict[str, Any]:
        """:raises KeyError: no READY user task with that id."""
        ready = workflow.snapshot.ready_data if workflow.snapshot is not None else None
        if ready is not None:
            return dict(ready[task_id])
        return dict(ready_user_task(self._live(workflow), task_id).data)

    def completed_data(self, workflow: CaseWorkflow, key: str) -> list[dict[str, Any]]:
        """The data of every completed task with BPMN id `key` (a loop or an event subprocess may have
        run it more than once), the most recently completed first."""
        done = [t for t in self._live(workflow).get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == key]
        return [dict(t.data) for t in sorted(done, key=lambda t: t.last_state_change, reverse=True)]

    def is_completed(self, workflow: CaseWorkflow) -> bool:
        if workflow.snapshot is not None:
            return workflow.snapshot.completed
        return bool(self._live(workflow).is_completed())

    def data(self, workflow: CaseWorkflow) -> dict[str, Any]:
        """The data a case shows: the final data once completed, else the last completed task's."""
        if workflow.snapshot is not None and workflow.snapshot.data is not None:
            return dict(workflow.snapshot.data)
        return case_data(self._live(workflow))

    # -- internals -----------------------------------------------------------------------------------------
    def _live(self, workflow: CaseWorkflow) -> BpmnWorkflow:
        """The workflow deserialized here, for reading (its script engine refuses to run anything)."""
        if workflow._workflow is None:
            assert workflow.state is not None
            workflow._workflow = self._reader.loads(workflow.state, workflow.bundle, self._reading)
        return workflow._workflow

    def _read(self, workflow: CaseWorkflow) -> Snapshot | None:
        """Isolated: an engine worker's snapshot of the state (None: read it here instead)."""
        if not self.isolated or workflow.state is None:
            return None
        job = Job("read", workflow.bundle.cache_key, state=workflow.state)
        try:
            outcome = self._isolated(workflow, job)
        except (EngineFailure, KeyError) as exc:  # an unreadable state: reading it here says why
            log.warning("an engine worker could not read a workflow state: %s", exc)
            return None
        workflow.snapshot = outcome.snapshot
        self._remember(workflow.state, outcome.snapshot)
        return workflow.snapshot

    def _remember(self, state: str, snapshot: Snapshot | None) -> None:
        if snapshot is None or snapshot.ready_data is None or snapshot.data is None or len(state) > RECENT_MAX_CHARS:
            return
        frozen = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        with self._recent_lock:
            if state in self._recent:
                return
            self._recent[state] = frozen
            self._recent_chars += len(state)
            while len(self._recent) > RECENT_STATES or self._recent_chars > RECENT_TOTAL_CHARS:
                old, _ = self._recent.popitem(last=False)
                self._recent_chars -= len(old)

    def _recall(self, state: str) -> Snapshot | None:
        with self._recent_lock:
            frozen = self._recent.get(state)
        return None if frozen is None else pickle.loads(frozen)

    def _run(self, workflow: CaseWorkflow, job: Job, target: SpecBundle | None = None) -> Outcome:
        if job.op != "start" and workflow.state is None:
            raise ValueError("the workflow has no state")
        job.state = workflow.state
        outcome = (self._isolated(workflow, job, target) if self.isolated
                   else self._in_process(workflow, job, target))
        if not outcome.nothing_waits:
            workflow.state = outcome.state
            workflow.snapshot = outcome.snapshot
            if self.isolated and outcome.state is not None:
                self._remember(outcome.state, outcome.snapshot)
        return outcome

    def _isolated(self, workflow: CaseWorkflow, job: Job, target: SpecBundle | None = None) -> Outcome:
        calendar = self._calendar()
        job.calendar_key = calendar.key
        bundles = {b.cache_key: b for b in (workflow.bundle, target) if b is not None}

        def answer(kind: str, key: str) -> Any:
            if kind == "bundle" and key in bundles:
                return bundles[key].key, bundles[key].sources
            if kind == "calendar" and key == calendar.key:
                return calendar
            raise EngineFailure(f"an engine worker asked for an unknown {kind}", None, limit=True)

        reply = self._shared_pool().run(job, answer)
        if reply[0] == "ok":
            outcome: Outcome = reply[1]
            if not outcome.nothing_waits and job.op != "read":
                workflow._workflow = None  # what was read here is the old state
            return outcome
        if reply[0] == "missing":
            raise KeyError(job.task_id)
        _, message, element_id, limit, _retire = reply
        raise EngineFailure(str(message), element_id, limit=bool(limit))

    def _in_process(self, workflow: CaseWorkflow, job: Job, target: SpecBundle | None = None) -> Outcome:
        runner = getattr(self._runners, "runner", None)
        if runner is None:
            runner = self._runners.runner = StepRunner(self.limits, lambda: self._calendar())
        live = workflow._workflow
        if live is not None:
            live.script_engine = runner.script_engine
        try:
            live, outcome = runner.run(job, workflow.bundle, live, snapshot=False, target=target)
        except KeyError:
            if workflow._workflow is not None:
                workflow._workflow.script_engine = self._reading
            raise
        except EngineFailure:
            workflow._workflow = None  # half-run: read the state again
            raise
        if live is not None:
            live.script_engine = self._reading
        workflow._workflow = live
        return outcome

    def _shared_pool(self) -> EnginePool:
        pool = self._pool
        if pool is None or pool.closed or pool.pid != os.getpid():
            pool = self._pool = shared_pool(self.limits, self.workers)
        return pool
