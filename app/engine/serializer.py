"""Workflow state without its spec.

SpiffWorkflow's serializer embeds the whole spec in every instance. Ours writes only the instance (tasks,
data, subprocesses, events) and rebuilds it against the cached spec of the case's pinned version:
about 4x faster and 60 % smaller (see shared/notes/spiffworkflow-3.2.md §4).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .specs import SpecBundle

FORMAT = f"banjian-1/{VERSION}"


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Like the default converter, minus `spec` and `subprocess_specs`, which the caller supplies."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], bundle: SpecBundle | None = None) -> BpmnWorkflow:
        if bundle is None:
            raise ValueError("a spec bundle is needed to restore a workflow")
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = {**SPIFF_CONFIG, BpmnWorkflow: SpecFreeWorkflowConverter}
    registry = BpmnWorkflowSerializer.configure(config)
    # Task data from forms and scripts may hold these; the default registry refuses them.
    registry.register(date, lambda d: {"value": d.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda d: Decimal(d["value"]))
    return registry


class StateSerializer:
    """Turns a workflow into a JSON string and back, given the spec bundle."""

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())

    def dumps(self, workflow: BpmnWorkflow) -> str:
        registry = self._serializer.registry
        registry._encoder_mode = True  # what serialize_json does: lets the registry skip deep copies
        try:
            dct = registry.convert(workflow)
        finally:
            registry._encoder_mode = False
        dct["format"] = FORMAT
        return json.dumps(dct, separators=(",", ":"), ensure_ascii=False,
                          cls=self._serializer._encoder_cls)

    def loads(self, state: str, bundle: SpecBundle) -> BpmnWorkflow:
        dct = json.loads(state)
        fmt = dct.pop("format", None)
        if fmt != FORMAT:
            raise ValueError(f"unsupported engine state format {fmt!r}; expected {FORMAT!r}")
        workflow: BpmnWorkflow = self._serializer.registry.restore(dct, bundle=bundle)
        return workflow
