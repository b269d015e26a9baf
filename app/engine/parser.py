"""BPMN parser: SpiffWorkflow's Spiff parser plus the Camunda Modeler attributes our designers use.

SpiffWorkflow reads no `camunda:` attributes. Every task and event parser here additionally puts into
`task_spec.extensions` (which the serializer keeps):
- `candidateGroups`, `candidateUsers`, `assignee`, `formKey` (attributes, as written);
- `properties`: `camunda:properties` merged over `spiffworkflow:properties`;
- `formData`: inline `camunda:formData` fields as plain dicts.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

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

    CamundaAware.__name__ = CamundaAware.__qualname__ = f"Camunda{parser_cls.__name__}"
    return CamundaAware


class CaseParser(SpiffBpmnParser):
    """The parser for every process we deploy or run."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_camunda(parser), spec)
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    }
