"""Workflow state without its spec, and the check that task data can be stored.

SpiffWorkflow's serializer embeds the whole spec in every instance. Ours writes only the instance (tasks,
data, subprocesses, events) and rebuilds it against the cached spec of the case's pinned version:
about 4x faster and 60 % smaller (see shared/notes/spiffworkflow-3.2.md §4).

Task data may hold what JSON holds plus `date`, `datetime`, `timedelta` (days, seconds and
microseconds), `Decimal` and `UUID`; tuples and sets come back as lists. Anything else a script leaves
in the data (a generator, `range`, `bytes`, `complex`, `map`, an exception, ...) makes `dumps` raise
`UnstorableData` naming the variable, its type and the task, so the step fails with a readable incident
instead of a server error. In an engine worker (`bound_depth=True`) data nested more than about
MAX_DATA_DEPTH levels is refused too: deeper data would exhaust the recursion limit of whoever reads
it back.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .scripting import RefusingScriptEngine
from .specs import SpecBundle

FORMAT = f"banjian-1/{VERSION}"
_FORMAT_TAIL = f',"format":"{FORMAT}"}}'
MAX_DATA_DEPTH = 100
# Levels of the state document above task data (workflow > tasks > task > delta > updates, subprocesses)
# plus the frames of the caller: the recursion limit while encoding is the current depth + this + MAX.
_DEPTH_OVERHEAD = 40
_PLAIN = (str, int, float, bool, type(None))


class UnstorableData(Exception):
    """Task data holds something the state cannot store; `element_id` is the task that holds it."""

    def __init__(self, message: str, element_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Like the default converter, minus `spec` and `subprocess_specs`, which the caller supplies."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], bundle: SpecBundle | None = None, script_engine: Any = None
                  ) -> BpmnWorkflow:
        if bundle is None or script_engine is None:
            raise ValueError("a spec bundle and a script engine are needed to restore a workflow")
        # Never SpiffWorkflow's default engine (plain eval), not even for a moment.
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, script_engine=script_engine,
                                     deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = {**SPIFF_CONFIG, BpmnWorkflow: SpecFreeWorkflowConverter}
    registry = BpmnWorkflowSerializer.configure(config)
    # Task data from forms and scripts may hold these; the default registry refuses date and Decimal
    # and drops the microseconds of a timedelta (older states without them still read back).
    registry.register(date, lambda d: {"value": d.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda d: Decimal(d["value"]))
    registry.register(timedelta, lambda v: {"days": v.days, "seconds": v.seconds, "microseconds": v.microseconds},
                      lambda v: timedelta(**v))
    return registry


@contextmanager
def _depth_bound(levels: int) -> Iterator[None]:
    """Encoding and comparing nested data recurse (in C too): a recursion limit just above the current
    depth turns data nested deeper than `levels` into a RecursionError. For a single-threaded process
    only: the limit is the interpreter's."""
    previous = sys.getrecursionlimit()
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + levels)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


class StateSerializer:
    """Turns a workflow into a JSON string and back, given the spec bundle.

    `bound_depth`: refuse data nested more than MAX_DATA_DEPTH levels (changes the interpreter's
    recursion limit while encoding: only for a single-threaded engine worker)."""

    def __init__(self, bound_depth: bool = False) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())
        self._bound_depth = bound_depth

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """:raises UnstorableData: the task data holds what cannot be stored (named in the message)."""
        try:
            if self._bound_depth:
                with _depth_bound(MAX_DATA_DEPTH + _DEPTH_OVERHEAD):
                    return self._dumps(workflow)
            return self._dumps(workflow)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise self._unstorable(workflow, exc) from None

    def _dumps(self, workflow: BpmnWorkflow) -> str:
        registry = self._serializer.registry
        registry._encoder_mode = True  # what serialize_json does: lets the registry skip deep copies
        try:
            dct = registry.convert(workflow)
        finally:
            registry._encoder_mode = False
        dct["format"] = FORMAT
        return json.dumps(dct, separators=(",", ":"), ensure_ascii=False, cls=self._serializer._encoder_cls)

    def loads(self, state: str, bundle: SpecBundle, script_engine: Any = None) -> BpmnWorkflow:
        """The workflow in `state`, with `script_engine` attached (by default one that refuses to run
        anything: reading a workflow needs none)."""
        check_format(state)
        dct = json.loads(state)
        dct.pop("format", None)
        workflow: BpmnWorkflow = self._serializer.registry.restore(
            dct, bundle=bundle, script_engine=script_engine or _READER)
        return workflow

    def as_saved(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` as it reads back from a saved state (the state holding it was saved already)."""
        registry = self._serializer.registry
        encoded = json.dumps(registry.clean(data), separators=(",", ":"), cls=self._serializer._encoder_cls)
        restored: dict[str, Any] = registry.restore(json.loads(encoded))
        return restored

    # -- finding what cannot be stored ---------------------------------------------------------------
    def _unstorable(self, workflow: BpmnWorkflow, exc: BaseException) -> UnstorableData:
        """Name the first variable that fails to encode, and the task that put it there: the earliest
        completed task holding it (the one before it did not, or its data was stored before)."""
        tasks = sorted(workflow.get_tasks(),
                       key=lambda t: (t.state != TaskState.COMPLETED, t.last_state_change or 0))
        places: list[tuple[Any, str, dict[str, Any]]] = []
        for task in tasks:
            places.append((task, "task data", task.data))
            places.append((task, "engine data", task.internal_data))
        places.append((None, "the process data", workflow.data))
        for task, where, data in places:
            for key, value in list(data.items()) if isinstance(data, dict) else ():
                problem = _problem(value)
                if problem is None and not self._encodes(value):
                    problem = "a value that cannot be stored"
                if problem is not None:
                    element = task.task_spec.bpmn_id if task is not None else None
                    return UnstorableData(
                        f"{where} cannot be stored: '{key}' holds {problem}; task data may hold text, numbers, "
                        "true/false, lists, dicts, dates, datetimes, timedeltas and Decimals only", element)
        return UnstorableData(f"the workflow state cannot be stored: {type(exc).__name__}: {exc}", None)

    def _encodes(self, value: Any) -> bool:
        try:
            if self._bound_depth:
                with _depth_bound(MAX_DATA_DEPTH + _DEPTH_OVERHEAD):
                    json.dumps(value, cls=self._serializer._encoder_cls)
            else:
                json.dumps(value, cls=self._serializer._encoder_cls)
        except (TypeError, ValueError, OverflowError, RecursionError):
            return False
        return True

    @property
    def registered(self) -> frozenset[type]:
        return frozenset(self._serializer.registry.typenames)


def _problem(value: Any, limit_nodes: int = 1_000_000) -> str | None:
    """What in `value` cannot be stored ("a generator", "data nested more than 100 levels deep"), or None.
    Iterative: it must not itself fail on the deep data it looks for."""
    registered = _REGISTERED
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack and seen < limit_nodes:
        item, depth = stack.pop()
        seen += 1
        if depth > MAX_DATA_DEPTH:
            return f"data nested more than {MAX_DATA_DEPTH} levels deep"
        kind = type(item)
        if kind in _PLAIN or kind in registered:
            continue
        if kind is dict:
            for key, inner in item.items():
                if type(key) not in _PLAIN:
                    return f"a dict whose key is {_a(key)}"
                stack.append((inner, depth + 1))
        elif kind in (list, tuple, set):
            stack.extend((inner, depth + 1) for inner in item)
        elif callable(item):
            continue  # the encoder stores functions and modules as null
        else:
            return _a(item)
    return None


def _a(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


_REGISTERED = StateSerializer().registered
_READER = RefusingScriptEngine()


def check_format(state: str) -> None:
    """:raises ValueError: `state` was not written by this serializer (checked without parsing it)."""
    if not state.endswith(_FORMAT_TAIL):
        try:
            fmt = json.loads(state).get("format")
        except (ValueError, AttributeError):
            fmt = None
        if fmt != FORMAT:
            raise ValueError(f"unsupported engine state format {fmt!r}; expected {FORMAT!r}")


def ready_user_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    """The READY user task `task_id`. :raises KeyError: there is none."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TypeError, KeyError, SpiffWorkflowException):
        task = None
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise KeyError(task_id)
    return task
