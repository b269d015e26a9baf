"""Parsed process specs, built from stored BPMN and cached in memory by content hash.

A spec is immutable once parsed, so one object is shared by every case on that version (spec objects,
unlike workflows, are safe to share between threads). A bundle keeps the sources it was parsed from:
an engine worker that has not seen its `cache_key` yet gets them once and parses its own copy.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from .parser import CaseParser
from .xmlsafe import parse_xml


@dataclass(frozen=True)
class BpmnSource:
    """One BPMN file as stored: its name and its bytes."""

    filename: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class SpecBundle:
    """Everything needed to run one process: its spec and the specs of the processes it calls."""

    key: str
    spec: Any
    subprocess_specs: dict[str, Any]
    cache_key: str
    has_timers: bool = False  # lets a save skip the timer projection for the many processes without
    sources: tuple[BpmnSource, ...] = ()  # what it was parsed from (sent to engine workers on a miss)


def bundle_key(process_key: str, sources: Sequence[BpmnSource]) -> str:
    digest = hashlib.sha256(process_key.encode())
    for source in sources:
        digest.update(source.sha256.encode())
    return digest.hexdigest()


def build_bundle(process_key: str, sources: Sequence[BpmnSource]) -> SpecBundle:
    """Parse `sources` and return the bundle for `process_key` (no validation: see `validate`)."""
    parser = CaseParser()
    for source in sources:
        parser.add_bpmn_xml(parse_xml(source.content), filename=source.filename)
    spec = parser.get_spec(process_key)
    subprocess_specs = parser.get_subprocess_specs(process_key)
    for each in (spec, *subprocess_specs.values()):
        connect_loop_merges(each)
    timers = any(isinstance(getattr(t, "event_definition", None), TimerEventDefinition)
                 for s in (spec, *subprocess_specs.values()) if s is not None for t in s.task_specs.values())
    return SpecBundle(process_key, spec, subprocess_specs, bundle_key(process_key, sources), timers, tuple(sources))


def connect_loop_merges(spec: Any) -> None:
    """A multi-instance task collects each finished instance's output through the completed event of
    the instance's spec, which the library connects only when it creates instances with that spec object
    (or restores a serialized spec). A process that parsed the spec itself, such as a worker started
    after the instances were created, would finish them without collecting anything and the case would
    stop: connect them at parse time, as the spec deserializer does (idempotent)."""
    if spec is None:
        return
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs.get(task_spec.task_spec)
            if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


class SpecCache:
    """A bounded, thread-safe LRU of parsed bundles keyed by process key and content hash."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, SpecBundle] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], tuple[str, Sequence[BpmnSource]]]) -> SpecBundle:
        """The bundle cached under `key`; on a miss `load()` gives the process key and the sources.

        `key` must change whenever the sources do (a definition id works: definitions are immutable),
        so a hit needs neither the BPMN text nor a hash of it.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        bundle = build_bundle(*load())  # parse outside the lock; a rare double parse is fine
        with self._lock:
            self._items[key] = bundle
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return bundle
