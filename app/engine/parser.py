"""BPMN parser: SpiffWorkflow's Spiff parser plus the Camunda Modeler attributes our designers use.

SpiffWorkflow reads no `camunda:` attributes. Every task and event parser here additionally puts into
`task_spec.extensions` (which the serializer keeps):
- `candidateGroups`, `candidateUsers`, `assignee`, `formKey` (attributes, as written);
- `properties`: `camunda:properties` merged over `spiffworkflow:properties`;
- `formData`: inline `camunda:formData` fields as plain dicts.

Expressions may be written as Camunda writes them (`${approved}`, a JUEL subset, see app/engine/juel.py):
`add_bpmn_xml` translates a copy of the tree into the Python the restricted engine runs, so the stored
file stays what the designer uploaded. Timer values that are plain ISO 8601 text (`P7D`, `R3/PT1H`,
`2026-01-01T09:00:00Z`), as Camunda reads them, become Python strings. A `camunda:collection` with
`camunda:elementVariable` becomes standard multi-instance input whose item, as in Camunda, is local to
its instance (it neither clashes with nor leaks into the process data). A completion condition sees
Camunda's `nrOfInstances`, `nrOfCompletedInstances` and `nrOfActiveInstances`.

Multi-instance tasks refuse to start more instances than the running script engine's
`max_loop_instances` (BANJIAN_MAX_LOOP_INSTANCES, default 200), whether their count comes from a
`loopCardinality` expression or from a collection: the step fails (an incident) instead of creating
tens of thousands of tasks. The deploy check refuses a literal cardinality above the cap already.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from .juel import JuelError, translate
from .sandbox_guards import ScriptLimitExceeded
from .scripting import DEFAULT_MAX_LOOP_INSTANCES

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
ROUTING_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey")
TIMER_ELEMENTS = ("timeDuration", "timeDate", "timeCycle")
# BPMN elements whose text is an expression (`condition` is a conditional event's).
EXPRESSION_ELEMENTS = ("conditionExpression", "completionCondition", "loopCardinality", "condition",
                       *TIMER_ELEMENTS)
_FROM_COLLECTION = "{urn:banjian}fromCollection"  # marks the input reference `translated` wrote
_DURATION = r"P(?=\d|T\d)(?:\d+[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_ISO_TIMER = re.compile(rf"{_DURATION}|{_DATETIME}|R\d*/(?:{_DATETIME}/)?{_DURATION}(?:/{_DATETIME})?")


def python_expression(kind: str, text: str) -> str:
    """The Python the engine runs for the text of an expression element (`kind` is its local name).

    :raises JuelError: `${...}` text outside the supported subset.
    """
    if kind in TIMER_ELEMENTS and _ISO_TIMER.fullmatch(text.strip()):
        return repr(text.strip())
    return translate(text)


def flow_element(element: etree._Element) -> etree._Element | None:
    """The flow element an expression belongs to: the sequence flow of a condition, the event of a
    timer, the task of a loop (not the event definitions and expressions Modeler gives ids too)."""
    current: etree._Element | None = element
    while current is not None:
        local = etree.QName(current).localname if isinstance(current.tag, str) else ""
        skipped = local in EXPRESSION_ELEMENTS or local.endswith(("EventDefinition", "LoopCharacteristics"))
        if current.get("id") and not skipped:
            return current
        current = current.getparent()
    return None


def flow_element_id(element: etree._Element) -> str | None:
    owner = flow_element(element)
    return None if owner is None else str(owner.get("id"))


def translated(tree: etree._ElementTree, filename: str | None = None) -> etree._ElementTree:
    """A copy of `tree` whose expressions are Python and whose Camunda collections are standard markup.

    :raises ValidationException: an expression outside the supported subset, naming its element.
    """
    tree = copy.deepcopy(tree)
    for element in tree.iter(*(f"{{{BPMN_NS}}}{name}" for name in EXPRESSION_ELEMENTS)):
        if element.text and element.text.strip():
            element.text = _element_python(etree.QName(element).localname, element.text, element, filename)
    for loop in tree.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        _standard_collection(loop, filename)
    return tree


def _element_python(kind: str, text: str, element: etree._Element, filename: str | None) -> str:
    try:
        return python_expression(kind, text)
    except JuelError as exc:
        owner = flow_element(element)
        raise ValidationException(f"{kind} '{text.strip()}': {exc}", node=owner if owner is not None else element,
                                  file_name=filename) from None


def _standard_collection(loop: etree._Element, filename: str | None) -> None:
    """`camunda:collection` / `camunda:elementVariable` as `loopDataInputRef` / `inputDataItem`; the
    reference holds the collection's Python expression (`_with_camunda` makes it evaluated)."""
    collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
    standard = loop.find(f"{{{BPMN_NS}}}loopDataInputRef") is not None or \
        loop.find(f"{{{BPMN_NS}}}loopCardinality") is not None
    if collection is None or standard:
        return
    reference = etree.SubElement(loop, f"{{{BPMN_NS}}}loopDataInputRef", {_FROM_COLLECTION: "true"})
    reference.text = _element_python("collection", collection, loop, filename)
    item = loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
    if item:
        etree.SubElement(loop, f"{{{BPMN_NS}}}inputDataItem", id=item, name=item)


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
            if loop_characteristics.find(f"{{{BPMN_NS}}}loopDataInputRef[@{_FROM_COLLECTION}]") is not None:
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
