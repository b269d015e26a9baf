"""Deploy-time checks of a BPMN file; every problem names the BPMN element it concerns.

Order: safe XML parse, XSD, what we can execute (executable processes, routable user tasks, supported
task types, expressions that compile in the restricted engine, forms that exist, called processes that
are known, a literal `loopCardinality` within the multi-instance cap), then a full parse of each
executable process by SpiffWorkflow.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from .bpmn_expressions import EXPRESSION_ELEMENTS, flow_element_id, python_expression
from .juel import JuelError, is_juel
from .parser import BPMN_NS, CAMUNDA_NS, CaseParser
from .sandbox import check_expression, check_script
from .scripting import DEFAULT_MAX_LOOP_INSTANCES
from .specs import BpmnSource
from .xmlsafe import UnsafeXml, parse_xml

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}
UNSUPPORTED = {
    "serviceTask": "service tasks are not supported: model the step as a user task or a script task",
    "sendTask": "send tasks are not supported",
    "businessRuleTask": "business rule (DMN) tasks are not supported",
    "complexGateway": "complex gateways are not supported",
}
FORBIDDEN_NAMES = frozenset({
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars", "dir",
    "type", "breakpoint", "input", "help", "memoryview", "object", "super", "classmethod", "staticmethod",
    "property", "exit", "quit",
})
_ROUTING_VARIABLE = re.compile(r"\$\{\s*[A-Za-z_][\w.]*\s*\}")  # what app/engine/views.py `resolve` substitutes
_validator: BpmnValidator | None = None
_validator_lock = threading.Lock()


@dataclass(frozen=True)
class Problem:
    element_id: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"element_id": self.element_id, "message": self.message}


@dataclass
class LintResult:
    processes: list[tuple[str, str]] = field(default_factory=list)  # (key, name) of executable processes
    called: set[str] = field(default_factory=set)  # called processes not defined in this file
    forms: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


FormFields = Callable[[str], set[str] | None]


def lint(source: BpmnSource, known_processes: Mapping[str, BpmnSource] | None = None,
         form_fields: FormFields | None = None, reserved: frozenset[str] = frozenset(),
         max_loop_instances: int = DEFAULT_MAX_LOOP_INSTANCES) -> LintResult:
    """Check one BPMN file. `known_processes` maps deployed process keys to their files (for call
    activities that point outside this file); `form_fields` gives the field keys of a formKey (None if
    the form does not exist); `reserved` are names task data must not take (the script helpers);
    `max_loop_instances` is the engine's cap on multi-instance loops (`WorkflowEngine.max_loop_instances`)."""
    result = LintResult()
    try:
        tree = parse_xml(source.content)
    except UnsafeXml as exc:
        result.problems.append(Problem(None, str(exc)))
        return result
    root = tree.getroot()
    if root.tag != f"{{{BPMN_NS}}}definitions":
        result.problems.append(Problem(None, "not a BPMN 2.0 file: the root element must be bpmn:definitions"))
        return result
    result.problems.extend(_xsd_problems(tree))
    if result.problems:
        return result
    _check_semantics(root, result, known_processes or {}, form_fields, reserved, max_loop_instances)
    if not result.problems:
        _check_parse(source, result, known_processes or {})
    return result


def _get_validator() -> BpmnValidator:
    global _validator
    with _validator_lock:
        if _validator is None:  # loading the XSDs takes a while: once per process
            _validator = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
        return _validator


def _xsd_problems(tree: etree._ElementTree) -> list[Problem]:
    schema = _get_validator().validator
    if schema.validate(tree):
        return []
    problems = []
    for error in list(schema.error_log)[:20]:
        problems.append(Problem(_element_at_line(tree, error.line), f"XSD: {error.message} (line {error.line})"))
    return problems


def _element_at_line(tree: etree._ElementTree, line: int) -> str | None:
    for element in tree.iter():
        if element.sourceline == line and element.get("id"):
            return str(element.get("id"))
    return None


def _check_semantics(root: etree._Element, result: LintResult, known: Mapping[str, BpmnSource],
                     form_fields: FormFields | None, reserved: frozenset[str], loop_cap: int) -> None:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    defined = {p.get("id") for p in processes}
    for process in processes:
        pid = process.get("id") or ""
        if process.get("isExecutable") != "true":
            continue  # like Camunda: a non-executable pool (the applicant, say) is documentation
        result.processes.append((pid, process.get("name") or pid))
        laned = set(process.xpath(".//bpmn:laneSet//bpmn:flowNodeRef/text()", namespaces=NS))
        for element in process.iter():
            if not isinstance(element.tag, str):
                continue
            _check_element(element, laned, defined, known, form_fields, reserved, loop_cap, result)
    if not result.processes:
        result.problems.extend(Problem(p.get("id"), f"process '{p.get('id')}' is not executable "
                                                     "(isExecutable is not \"true\")") for p in processes)
        if not processes:
            result.problems.append(Problem(None, "the file has no process"))


def _check_element(element: etree._Element, laned: set[str], defined: set[str | None],
                   known: Mapping[str, BpmnSource], form_fields: FormFields | None, reserved: frozenset[str],
                   loop_cap: int, result: LintResult) -> None:
    local = etree.QName(element).localname
    eid = element.get("id")
    owner = _owner_id(element)
    problems = result.problems
    if element.tag.startswith(f"{{{BPMN_NS}}}") and local in UNSUPPORTED:
        problems.append(Problem(eid, UNSUPPORTED[local]))
    if local == "userTask":
        _check_routing(element, problems)
        routed = any(element.get(f"{{{CAMUNDA_NS}}}{a}") for a in ("candidateGroups", "candidateUsers", "assignee"))
        if not routed and eid not in laned:
            problems.append(Problem(eid, "user task has no candidateGroups, candidateUsers or assignee and is in no lane"))
        fields = {str(f.get("id")) for f in element.xpath(".//camunda:formField", namespaces=NS)}
        form_key = element.get(f"{{{CAMUNDA_NS}}}formKey")
        if form_key:
            result.forms.add(form_key)
            keys = form_fields(form_key) if form_fields is not None else set()
            if keys is None:
                problems.append(Problem(eid, f"user task '{eid}': form '{form_key}' is neither uploaded with "
                                             "the process nor a readable form in the server's forms/ folder"))
            fields |= keys or set()
        clash = sorted(fields & reserved)
        if clash:  # task data with these names would hide the helper from every script of the case
            problems.append(Problem(eid, f"form field names reserved for script helpers: {', '.join(clash)}"))
    elif local == "script" and element.tag == f"{{{BPMN_NS}}}script":
        _check_code(owner, element.text, check_script, "script", problems)
    elif local in ("preScript", "postScript") and element.tag.startswith(f"{{{SPIFF_NS}}}"):
        _check_code(owner, element.text, check_script, local, problems)
    elif local in EXPRESSION_ELEMENTS and element.tag == f"{{{BPMN_NS}}}{local}":
        python = _check_expression(flow_element_id(element), local, element.text, problems)
        if local == "conditionExpression":
            _check_condition_source(element, problems)
        if local == "loopCardinality" and python is not None:
            _check_cardinality(flow_element_id(element), python, loop_cap, problems)
    elif local == "multiInstanceLoopCharacteristics" and element.get(f"{{{CAMUNDA_NS}}}collection") is not None:
        _check_expression(flow_element_id(element), "collection", element.get(f"{{{CAMUNDA_NS}}}collection"),
                          problems)
    elif local == "scriptTask" and not element.findall(f"{{{BPMN_NS}}}script"):
        problems.append(Problem(eid, "script task has no script"))
    elif local == "callActivity":
        called = element.get("calledElement")
        if not called:
            problems.append(Problem(eid, "call activity has no calledElement"))
        elif called not in defined:
            result.called.add(called)
            if called not in known:
                problems.append(Problem(eid, f"called process '{called}' is neither in this file nor deployed"))


def _owner_id(element: etree._Element) -> str | None:
    """The nearest ancestor-or-self with an id: the flow element an expression belongs to."""
    current: etree._Element | None = element
    while current is not None:
        if current.get("id"):
            return str(current.get("id"))
        current = current.getparent()
    return None


def _check_expression(owner: str | None, what: str, text: str | None, problems: list[Problem]) -> str | None:
    """Check one expression, JUEL (`${...}`) or Python; returns the Python it runs as, if it is valid."""
    if not text or not text.strip() or not is_juel(text):
        before = len(problems)
        _check_code(owner, text, check_expression, what, problems)
        return None if len(problems) > before else python_expression(what, text or "")
    try:
        python = python_expression(what, text)
    except JuelError as exc:
        problems.append(Problem(owner, f"{what} '{text.strip()}' is outside the supported expression "
                                       f"language: {exc}"))
        return None
    # A translation names only variables, so the names check for designer Python does not apply.
    error = check_expression(python)
    if error:
        problems.append(Problem(owner, f"{what} '{text.strip()}' does not compile in the restricted engine: {error}"))
        return None
    return python


def _check_routing(task: etree._Element, problems: list[Problem]) -> None:
    """Routing attributes are filled in outside the engine (app/engine/views.py), which substitutes only
    `${name}` and `${name.key}`: any other `${...}` / `#{...}` would silently become a group that no
    one is in."""
    for attr in ("candidateGroups", "candidateUsers", "assignee"):
        value = task.get(f"{{{CAMUNDA_NS}}}{attr}") or ""
        if is_juel(_ROUTING_VARIABLE.sub("", value)):
            problems.append(Problem(task.get("id"), f"camunda:{attr} '{value}': routing can use only a variable "
                                                    "(${department}) or its property (${applicant.department})"))


def _check_condition_source(condition: etree._Element, problems: list[Problem]) -> None:
    """The engine evaluates conditions only on flows out of exclusive and inclusive gateways; elsewhere
    (Camunda's conditional flow from a task, a parallel gateway) it would take the flow regardless."""
    flow = condition.getparent()
    if flow is None or flow.tag != f"{{{BPMN_NS}}}sequenceFlow":
        return
    source_id = flow.get("sourceRef") or ""
    source = flow.getparent().xpath("./*[@id=$id]", id=source_id) if flow.getparent() is not None else []
    kind = etree.QName(source[0]).localname if source else ""
    if source and kind not in ("exclusiveGateway", "inclusiveGateway"):
        problems.append(Problem(flow.get("id"), f"the condition of a flow leaving {kind} '{source_id}' would not be "
                                                "evaluated: put an exclusive gateway after it and give the "
                                                "gateway's flows the conditions"))


def _check_code(owner: str | None, text: str | None, check: Callable[[str], str | None], what: str,
                problems: list[Problem]) -> None:
    if not text or not text.strip():
        problems.append(Problem(owner, f"empty {what}"))
        return
    error = check(text.strip())
    if error:
        problems.append(Problem(owner, f"{what} does not compile in the restricted engine: {error}"))
        return
    forbidden = _forbidden_names(text.strip())
    if forbidden:  # they would only fail at run time, in a citizen's case: say so now
        problems.append(Problem(owner, f"{what} uses what the restricted engine does not offer: "
                                       f"{', '.join(sorted(forbidden))}"))


def _check_cardinality(owner: str | None, text: str | None, cap: int, problems: list[Problem]) -> None:
    """A literal cardinality above the cap would fail every case at run time: refuse it now."""
    try:
        value = ast.literal_eval((text or "").strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return  # an expression: checked when it runs
    if isinstance(value, int) and not isinstance(value, bool) and value > cap:
        problems.append(Problem(owner, f"loopCardinality {value} is above the limit of {cap} instances "
                                       "of a multi-instance task"))


def _forbidden_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in FORBIDDEN_NAMES}


def _check_parse(source: BpmnSource, result: LintResult, known: Mapping[str, BpmnSource]) -> None:
    parser = CaseParser()
    try:
        parser.add_bpmn_xml(parse_xml(source.content), filename=source.filename)
        added = {source.sha256}
        for other in known.values():  # the called processes and, transitively, what they call
            if other.sha256 not in added:
                added.add(other.sha256)
                parser.add_bpmn_xml(parse_xml(other.content), filename=other.filename)
        for key, _name in result.processes:
            parser.get_subprocess_specs(key)
            parser.get_spec(key)
    except SpiffWorkflowException as exc:
        result.problems.append(Problem(getattr(exc, "id", None) or None, str(exc)))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # SpiffWorkflow parser bugs on odd input
        result.problems.append(Problem(None, f"the engine could not parse the process: {exc!r}"))
