"""BPMN parser: SpiffWorkflow's Spiff parser plus the Camunda Modeler attributes our designers use.

SpiffWorkflow reads no `camunda:` attributes. Every task and event parser here additionally puts into
`task_spec.extensions` (which the serializer keeps):
- `candidateGroups`, `candidateUsers`, `assignee`, `formKey` (attributes, as written);
- `properties`: `camunda:properties` merged over `spiffworkflow:properties`;
- `formData`: inline `camunda:formData` fields as plain dicts.

`add_bpmn_xml` parses a copy of the file whose expressions are translated into Python
(app/engine/bpmn_expressions.py). A `camunda:collection` is evaluated as an expression and its
`camunda:elementVariable` is, as in Camunda, local to its instance (it neither clashes with nor leaks
into the process data). A completion condition sees Camunda's `nrOfInstances`,
`nrOfCompletedInstances` and `nrOfActiveInstances`.

Multi-instance tasks refuse to start more instances than the running script engine's
`max_loop_instances` (BANJIAN_MAX_LOOP_INSTANCES, default 200), whether their count comes from a
`loopCardinality` expression or from a collection: the step fails (an incident) instead of creating
tens of thousands of tasks. The deploy check refuses a literal cardinality above the cap already.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from .bpmn_expressions import BPMN_NS, CAMUNDA_NS, FROM_COLLECTION, translated
from .sandbox_guards import ScriptLimitExceeded
from .scripting import DEFAULT_MAX_LOOP_INSTANCES

NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
ROUTING_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey")
class CollectionExpression(TaskDataReference):  # type: ignore[misc]
    """The input of a Camunda multi-instance: its collection expression, evaluated when read."""

    def get(self, my_task: Any) -> Any:
        return my_task.workflow.script_engine.evaluate(my_task, self.bpmn_id)

    def exists(self, my_task: Any) -> bool:
        return True


class LocalItem(TaskDataReference):  # type: ignore[misc]
    """A Camunda `elementVariable`: local to its instance, so a process variable of the same name is
    shadowed, not an error (SpiffWorkflow refuses to start when the name exists)."""

    def exists(self, my_task: Any) -> bool:
        return False


def camunda_extensions(node: etree._Element) -> dict[str, Any]:
    """The Camunda attributes, properties and inline form fields of one BPMN element."""
    ext: dict[str, Any] = {}
    for attr in ROUTING_ATTRIBUTES:
        value = node.get(f"{{{CAMUNDA_NS}}}{attr}")
        if value is not None and value.strip():
            ext[attr] = value.strip()
    props = node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NSMAP)
    if props:
        ext["properties"] = {p.get("name"): p.get("value", "") for p in props if p.get("name")}
    fields = node.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NSMAP)
    if fields:
        ext["formData"] = [_form_field(f) for f in fields]
    return ext


def _form_field(node: etree._Element) -> dict[str, Any]:
    values = node.xpath("./camunda:value", namespaces=NSMAP)
    constraints = node.xpath("./camunda:validation/camunda:constraint", namespaces=NSMAP)
    return {
        "id": node.get("id"),
        "label": node.get("label") or node.get("id"),
        "type": node.get("type", "string"),
        "default_value": node.get("defaultValue"),
        "options": [{"id": v.get("id"), "name": v.get("name") or v.get("id")} for v in values],
        "validation": [{"name": c.get("name"), "config": c.get("config")} for c in constraints],
    }


@functools.cache
def _capped(spec_cls: type) -> type:
    """A multi-instance spec class that stops at the script engine's `max_loop_instances`."""

    class Capped(spec_cls):  # type: ignore[misc, valid-type]
        def create_child(self, my_task: Any, item: Any, key_or_index: Any = None) -> None:
            cap = getattr(my_task.workflow.script_engine, "max_loop_instances", DEFAULT_MAX_LOOP_INSTANCES)
            made = sum(1 for child in my_task.children if child.task_spec.name == self.task_spec)
            if made >= cap:
                message = (f"multi-instance '{self.bpmn_id}' would start more than {cap} instances "
                           f"(the limit is {cap})")
                raise WorkflowTaskException(message, task=my_task) from ScriptLimitExceeded(message)
            super().create_child(my_task, item, key_or_index)
            if isinstance(self.input_item, LocalItem):  # the child inherited the process's value: shadow it
                self.input_item.set(my_task.children[-1], copy.deepcopy(item))

        def merge_child(self, workflow: Any, child: Any) -> None:
            local = self.input_item.bpmn_id if isinstance(self.input_item, LocalItem) else None
            if local is None or self.data_output is not None or local not in child.data:
                return super().merge_child(workflow, child)
            value = child.data.pop(local)  # the instance's own item must not become process data
            try:
                super().merge_child(workflow, child)
            finally:
                child.data[local] = value

        def check_completion_condition(self, my_task: Any) -> Any:
            merged = my_task.internal_data.get("merged", [])
            if not merged or self.condition is None:
                return None
            last = next(c for c in my_task.children if str(c.id) == merged[-1])
            return my_task.workflow.script_engine.evaluate(last, self.condition, _instance_counts(self, my_task))

    Capped.__name__ = Capped.__qualname__ = spec_cls.__name__  # the name the serializer registry knows
    return Capped


def _instance_counts(spec: Any, my_task: Any) -> dict[str, int]:
    """Camunda's multi-instance variables, for completion conditions written for Camunda."""
    instances = [c for c in my_task.children if c.task_spec.name == spec.task_spec]
    completed = sum(1 for c in instances if c.has_state(TaskState.FINISHED_MASK))
    total = my_task.internal_data.get("cardinality")
    if total is None:  # parallel: every instance exists; sequential: the rest are still to come
        total = len(instances) + len(my_task.internal_data.get("remaining", []))
    return {"nrOfInstances": total, "nrOfCompletedInstances": completed,
            "nrOfActiveInstances": len(instances) - completed}


def _with_camunda(parser_cls: type) -> type:
    class CamundaAware(parser_cls):  # type: ignore[misc, valid-type]
        def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
            ext: dict[str, Any] = super().parse_extensions(node)
            if node is None or node is self.node:
                extra = camunda_extensions(self.node)
                props = {**ext.get("properties", {}), **extra.pop("properties", {})}
                ext.update(extra)
                if props:
                    ext["properties"] = props
            return ext

        def _add_multiinstance_task(self, loop_characteristics: etree._Element) -> None:
            super()._add_multiinstance_task(loop_characteristics)
            if loop_characteristics.find(f"{{{BPMN_NS}}}loopDataInputRef[@{FROM_COLLECTION}]") is not None:
                self.task.data_input = CollectionExpression(self.task.data_input.bpmn_id)
                if self.task.input_item is not None:
                    self.task.input_item = LocalItem(self.task.input_item.bpmn_id, self.task.input_item.bpmn_name)

    for attr in ("PARALLEL_MI_CLASS", "SEQUENTIAL_MI_CLASS"):
        original = getattr(parser_cls, attr, None)
        if original is not None:
            setattr(CamundaAware, attr, _capped(original))
    CamundaAware.__name__ = CamundaAware.__qualname__ = f"Camunda{parser_cls.__name__}"
    return CamundaAware


class CaseParser(SpiffBpmnParser):
    """The parser for every process we deploy or run."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_camunda(parser), spec)
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    }

    def add_bpmn_xml(self, bpmn: etree._ElementTree, filename: str | None = None) -> None:
        """Add a file with its expressions translated (see `translated`); `bpmn` is not changed."""
        super().add_bpmn_xml(translated(bpmn, filename), filename=filename)
