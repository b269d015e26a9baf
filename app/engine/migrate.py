"""Moving a running workflow to another version of its process (SpiffWorkflow's `bpmn.util.diff`).

SpiffWorkflow aligns the task specs of two versions by BPMN id (`SpecDiff`; a spec whose id is gone is
matched by its neighbours when it can be) and says which tasks of an instance sit on removed or changed
specs (`WorkflowDiff`); `migrate_workflow` points every task at its new spec and resets the READY and
WAITING ones, so their successors are predicted from the new version.

What we add:
- `plan` decides, per open task (READY, WAITING or STARTED, subprocesses included), whether it has a
  place in the target: its spec was removed, its type changed, or a started multi-instance or
  subprocess was changed in its running settings -> the case cannot move, with that reason. A case
  moves only whole: a single open task without a place refuses the migration, and nothing changes.
- A reset copies the parent's data over the task's own and clears its engine data; an open task keeps
  both here (a parallel-approval instance keeps the department it was routed to and its place in the
  output list; a timer keeps its due time unless its definition changed).
- Finished tasks on removed specs (steps the case has passed) stay in the tree on a stand-in spec.
- Event subprocesses, which SpecDiff's walk from the start never reaches, are aligned as well.
- A target that wraps an open task in boundary events (a deadline timer added in v2) gets the
  boundary structure built around the task as it stands (the task keeps its id and its claim), so the
  new events wait from the migration on.

`plan` runs no designer code (it compares specs and reads the state) and may run wherever the state was
read; `apply` resets tasks, which evaluates timer expressions and data inputs, so it runs in an engine
worker like every step (StepRunner's "migrate" job), followed by `do_engine_steps`.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState

from .parser import CaseParser
from .specs import SpecBundle, connect_loop_merges


def _spec_registry() -> Any:
    """A registry that converts every task spec our parser makes (SpecDiff compares specs as dicts).
    The parser's capped multi-instance classes are subclasses the library's registry does not know
    (the state serializer never converts specs): they convert as the classes they extend."""
    config = dict(SPIFF_CONFIG)
    for parser_cls, _spec in CaseParser.OVERRIDE_PARSER_CLASSES.values():
        for attr in ("PARALLEL_MI_CLASS", "SEQUENTIAL_MI_CLASS"):
            capped = getattr(parser_cls, attr, None)
            if capped is not None and capped not in config:
                base = next((c for c in capped.__mro__[1:] if c in SPIFF_CONFIG), None)
                if base is not None:
                    config[capped] = SPIFF_CONFIG[base]
    return BpmnWorkflowSerializer.configure(config)


_REGISTRY = _spec_registry()


class _SpecDiff(SpecDiff):
    """SpecDiff walks a spec from its start along the outputs; an event subprocess hangs off the start's
    triggers instead, so the walk never reaches it (and WorkflowDiff fails on its task). Specs the walk
    missed are aligned too, the same way (by BPMN id first)."""

    def __init__(self, registry: Any, original: Any, new: Any) -> None:
        super().__init__(registry, original, new)
        for spec in list(original.task_specs.values()):
            if spec not in self.alignment:
                self._align(spec, original, new)

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Settings a started multi-instance or subprocess runs by: changing them under running instances
# would leave the instances out of step with their parent.
RUNNING_SETTINGS = frozenset({"task_spec", "cardinality", "data_input", "data_output", "input_item",
                              "output_item", "condition", "spec"})


@dataclass(frozen=True)
class TaskMapping:
    """One open task of the case and where it goes in the target version."""

    task_id: str
    key: str                   # BPMN id in the current version
    name: str
    state: str                 # READY / WAITING / STARTED
    target: str | None         # BPMN id in the target version (None: it has no place there)
    changed: tuple[str, ...]   # attributes of its spec that differ in the target
    reason: str | None = None  # why it cannot move (None: it can)
    note: str | None = None    # what the migration adds around it (boundary events)

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class MigrationPlan:
    tasks: list[TaskMapping] = field(default_factory=list)
    reason: str | None = None  # a reason that is not about one task (a subprocess missing, say)

    @property
    def migratable(self) -> bool:
        return self.reason is None and all(t.ok for t in self.tasks)

    @property
    def why_not(self) -> str | None:
        """The reasons the case cannot move, in one line (None: it can)."""
        reasons = ([self.reason] if self.reason else []) + [f"{t.name or t.key}: {t.reason}" for t in self.tasks
                                                            if t.reason]
        return "; ".join(reasons) or None


class MigrationRefused(Exception):
    """The workflow cannot move to the target version (the plan says why); nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def plan(workflow: BpmnWorkflow, target: SpecBundle) -> MigrationPlan:
    """Which open tasks of `workflow` have a place in `target`, and whether the workflow can move."""
    if workflow.is_completed():
        return MigrationPlan(reason="the process has finished")
    try:
        diffs = _diffs(workflow, target)
    except KeyError as exc:  # a task on a spec the alignment never reached
        return MigrationPlan(reason=f"the task structure cannot be aligned with the target ({exc})")
    reasons = [f"the subprocess '{sp.spec.name}' does not exist in the target version"
               for sp_id, sp in workflow.subprocesses.items() if diffs.get(sp_id) is None]
    mappings = []
    for task in workflow.get_tasks(state=OPEN):
        pair = diffs.get(None if task.workflow is workflow else task.workflow.parent_task_id)
        if pair is not None:  # else its subprocess is refused as a whole above
            mappings.append(_map(task, *pair))
    return MigrationPlan(mappings, "; ".join(reasons) or None)


def apply(workflow: BpmnWorkflow, target: SpecBundle) -> MigrationPlan:
    """Move `workflow` to `target` in place (the caller runs the engine on and serializes it).

    :raises MigrationRefused: the plan says it cannot move (the workflow is untouched).
    """
    checked = plan(workflow, target)
    if not checked.migratable:
        raise MigrationRefused(checked.why_not or "the case cannot move")
    diffs = _diffs(workflow, target)
    for spec in (target.spec, *target.subprocess_specs.values()):  # a bundle built elsewhere: cheap, idempotent
        connect_loop_merges(spec)
    reset = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    own_data = {t.id: deepcopy(t.data) for t in reset}
    own_internal = {t.id: deepcopy(t.internal_data) for t in reset if _keeps_internal_data(t, diffs, workflow)}
    wrap = [t.task_id for t in checked.tasks if t.note]
    for sp_id, sp in list(workflow.subprocesses.items()):
        pair = diffs[sp_id]
        assert pair is not None  # the plan refused missing subprocesses
        migrate_workflow(pair[0], sp, target.subprocess_specs[sp.spec.name])
    top = diffs[None]
    assert top is not None
    migrate_workflow(top[0], workflow, target.spec)
    workflow.subprocess_specs = target.subprocess_specs
    _stand_in_for_removed(workflow)
    for task_id in wrap:
        _wrap_in_boundary_events(_task(workflow, task_id))
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.id in own_data:
            task.data = own_data[task.id]
        if task.id in own_internal:
            task.internal_data = own_internal[task.id]
    return checked


def _diffs(workflow: BpmnWorkflow, target: SpecBundle) -> dict[Any, tuple[WorkflowDiff, SpecDiff] | None]:
    """The diff of the workflow (key None) and of each running subprocess (key: its parent task's id;
    None when the target has no such process). What `diff_workflow` does, keeping the spec diffs,
    which name the changed attributes."""
    top = _SpecDiff(_REGISTRY, workflow.spec, target.spec)
    diffs: dict[Any, tuple[WorkflowDiff, SpecDiff] | None] = {None: (WorkflowDiff(workflow, top), top)}
    for sp_id, sp in workflow.subprocesses.items():
        new = target.subprocess_specs.get(sp.spec.name)
        if new is None:
            diffs[sp_id] = None
        else:
            spec_diff = _SpecDiff(_REGISTRY, sp.spec, new)
            diffs[sp_id] = (WorkflowDiff(sp, spec_diff), spec_diff)
    return diffs


# -- planning ------------------------------------------------------------------------------------------------
def _map(task: Any, diff: WorkflowDiff, spec_diff: SpecDiff) -> TaskMapping:
    spec = task.task_spec
    key, name, state = spec.bpmn_id or spec.name, spec.bpmn_name or "", TaskState.get_name(task.state)
    new = diff.alignment.get(task)
    if new is None:
        return TaskMapping(str(task.id), key, name, state, None, (), "it was removed in the target version")
    changed = tuple(spec_diff.changed.get(task.task_spec, ()))
    target = new.bpmn_id or new.name
    if "typename" in changed:
        return TaskMapping(str(task.id), key, name, state, target, changed,
                           f"its type changed ({type(spec).__name__} -> {type(new).__name__})")
    if task.state == TaskState.STARTED and RUNNING_SETTINGS & set(changed):
        return TaskMapping(str(task.id), key, name, state, target, changed,
                           "it is running and its " + ", ".join(sorted(RUNNING_SETTINGS & set(changed)))
                           + " changed")
    note = None
    split = _new_split(task, new)
    if split is not None:
        if task.state != TaskState.READY:
            return TaskMapping(str(task.id), key, name, state, target, changed,
                               "boundary events were added to it while it waits")
        events = [o.bpmn_id or o.name for o in split.outputs if isinstance(o, BoundaryEvent)]
        note = "boundary events added: " + ", ".join(events)
    elif _lost_split(task, new):
        return TaskMapping(str(task.id), key, name, state, target, changed,
                           "its boundary events were removed in the target version")
    return TaskMapping(str(task.id), key, name, state, target, changed, None, note)


def _new_split(task: Any, new: Any) -> Any:
    """The boundary-event split the target puts in front of this task, when the task has none yet."""
    split = next((i for i in new.inputs if isinstance(i, BoundaryEventSplit)), None)
    parent = task.parent
    if split is None or parent is None or isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    return split


def _lost_split(task: Any, new: Any) -> bool:
    """The task waits inside a boundary structure the target no longer has."""
    parent = task.parent
    return (parent is not None and isinstance(parent.task_spec, BoundaryEventSplit)
            and not isinstance(task.task_spec, BoundaryEvent)
            and not any(isinstance(i, BoundaryEventSplit) for i in new.inputs))


# -- applying --------------------------------------------------------------------------------------------------
def _keeps_internal_data(task: Any, diffs: dict[Any, tuple[WorkflowDiff, SpecDiff] | None], top: Any) -> bool:
    """A reset clears a task's engine data: a multi-instance instance's item and index (without them its
    output is never merged), a timer's due time, a caught message. An open task keeps it, unless its
    event definition changed in the target (a new timer expression is evaluated afresh)."""
    pair = diffs.get(None if task.workflow is top else task.workflow.parent_task_id)
    changed = pair[1].changed.get(task.task_spec, ()) if pair is not None else ()
    return "event_definition" not in changed and "typename" not in changed


def _task(workflow: BpmnWorkflow, task_id: str) -> Any:
    from uuid import UUID

    task = workflow.get_task_from_id(UUID(task_id))
    assert task is not None
    return task


def _stand_in_for_removed(workflow: BpmnWorkflow) -> None:
    """Finished tasks on specs the target removed (steps the case has passed) keep their place in the
    tree, since the data of what follows is stored relative to theirs, and point at the target's start
    spec instead: the serializer stores a task by its spec's name and could not restore a name the target
    lacks, and nothing looks a start spec up among finished tasks (joins look for their inputs, boundary
    joins for their split).

    :raises MigrationRefused: an unfinished task without a place (the plan looks at open tasks; a
        predicted one left under a running subprocess, say, would end here).
    """
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.tasks.values():
            if wf.spec.task_specs.get(task.task_spec.name) is not None:
                continue
            if not task.has_state(TaskState.FINISHED_MASK):
                raise MigrationRefused(f"the task '{task.task_spec.bpmn_id or task.task_spec.name}' "
                                       f"({TaskState.get_name(task.state)}) has no place in the target version")
            task.task_spec = wf.spec.start


def _wrap_in_boundary_events(task: Any) -> None:
    """Put the target's boundary-event split between a READY task and its parent, as if the split had
    run just before the task opened: the task keeps its id (and so its claim and its inbox row), and
    the new events wait (a timer is evaluated when the engine runs on)."""
    split_spec = next(i for i in task.task_spec.inputs if isinstance(i, BoundaryEventSplit))
    parent = task.parent
    parent._children.remove(task.id)
    split = parent._add_child(split_spec, TaskState.FUTURE)
    split.data = deepcopy(parent.data)
    _place_before(task.workflow, split, task)
    split._children.append(task.id)
    task._parent = split.id
    split_spec._predict(split, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)  # adds the events
    task._set_state(TaskState.READY)  # the prediction made the main task FUTURE again
    split._set_state(TaskState.COMPLETED)
    split_spec._run_hook(split)  # the events wait from now on
    for event in split.children:
        if isinstance(event.task_spec, BoundaryEvent):
            event.data = deepcopy(split.data)
            event.task_spec._update(event)


def _place_before(workflow: Any, first: Any, then: Any) -> None:
    """The serializer stores a task's data as a delta to its parent's and restores tasks in the order
    of `workflow.tasks`: a parent must come before its children there, or the child's data is lost."""
    order = [tid for tid in workflow.tasks if tid != first.id]
    order.insert(order.index(then.id), first.id)
    tasks = dict(workflow.tasks)
    workflow.tasks.clear()
    workflow.tasks.update((tid, tasks[tid]) for tid in order)
