"""Expressions in a BPMN file as the engine runs them, translated on a copy of the parsed XML.

Expression elements written in Camunda's language (`${...}`, app/engine/juel.py) become Python for the
restricted engine; timer values that are plain ISO 8601 text (`P7D`, `R3/PT1H`, `2026-01-01T09:00:00Z`),
as Camunda reads them, become Python strings; a `camunda:collection` / `camunda:elementVariable` becomes
standard multi-instance markup (app/engine/parser.py makes its input evaluated and its item local).
Python expressions are left as they are. The parser works on the copy, so the stored file stays what the
designer uploaded and reopens in the modeler; the deploy check (app/engine/validate.py) reports the same
problems by element first.
"""

from __future__ import annotations

import copy
import re

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .juel import JuelError, translate

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TIMER_ELEMENTS = ("timeDuration", "timeDate", "timeCycle")
# BPMN elements whose text is an expression (`condition` is a conditional event's).
EXPRESSION_ELEMENTS = ("conditionExpression", "completionCondition", "loopCardinality", "condition",
                       *TIMER_ELEMENTS)
FROM_COLLECTION = "{urn:banjian}fromCollection"  # marks the input reference `translated` writes
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
    reference holds the collection's Python expression (the parser makes it evaluated)."""
    collection = loop.get(f"{{{CAMUNDA_NS}}}collection")
    standard = loop.find(f"{{{BPMN_NS}}}loopDataInputRef") is not None or \
        loop.find(f"{{{BPMN_NS}}}loopCardinality") is not None
    if collection is None or standard:
        return
    reference = etree.SubElement(loop, f"{{{BPMN_NS}}}loopDataInputRef", {FROM_COLLECTION: "true"})
    reference.text = _element_python("collection", collection, loop, filename)
    item = loop.get(f"{{{CAMUNDA_NS}}}elementVariable")
    if item:
        etree.SubElement(loop, f"{{{BPMN_NS}}}inputDataItem", id=item, name=item)
