"""BPMN parser: SpiffWorkflow's Spiff parser plus the Camunda Modeler attributes our designers use.

SpiffWorkflow reads no `camunda:` attributes. Every task and event parser here additionally puts into
`task_spec.extensions` (which the serializer keeps):
- `candidateGroups`, `candidateUsers`, `assignee`, `formKey` (attributes, as written);
- `properties`: `camunda:properties` merged over `spiffworkflow:properties`;
- `formData`: inline `camunda:formData` fields as plain dicts.

Multi-instance tasks refuse to start more instances than the running script engine's
`max_loop_instances` (BANJIAN_MAX_LOOP_INSTANCES, default 200), whether their count comes from a
`loopCardinality` expression or from a collection: the step fails (an incident) instead of creating
tens of thousands of tasks. The deploy check refuses a literal cardinality above the cap already.
"""

from __future__ import annotations

import functools
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .sandbox_guards import ScriptLimitExceeded
from .scripting import DEFAULT_MAX_LOOP_INSTANCES

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
ROUTING_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey")


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

    Capped.__name__ = Capped.__qualname__ = spec_cls.__name__  # the name the serializer registry knows
    return Capped


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
