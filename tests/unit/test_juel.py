"""Camunda expressions (the JUEL subset) become Python for the restricted engine: the translation table,
what the translation evaluates to there, and the refusals with the reason a designer reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from app.engine.bpmn_expressions import python_expression
from app.engine.juel import JuelError, translate
from app.engine.sandbox import RestrictedEnvironment

ENV = RestrictedEnvironment()


def run(text: str, **data: Any) -> Any:
    """What `text` evaluates to over `data` in the restricted engine, as a gateway would see it."""
    return ENV.evaluate(translate(text), dict(data))


@pytest.mark.parametrize(("juel", "python"), [
    ("${approved}", "approved"),
    ("#{approved}", "approved"),
    ("  ${ approved }\n", "approved"),
    ("${!rejected}", "(not rejected)"),
    ("${not rejected}", "(not rejected)"),
    ("${a && b}", "(a and b)"),
    ("${a and b}", "(a and b)"),
    ("${a || b}", "(a or b)"),
    ("${a or b}", "(a or b)"),
    ("${a == 1}", "(a == 1)"),
    ("${a eq 1}", "(a == 1)"),
    ("${a != 'x'}", "(a != 'x')"),
    ("${a ne 'x'}", "(a != 'x')"),
    ("${a < 1}", "(a is not None and a < 1)"),
    ("${a lt 1}", "(a is not None and a < 1)"),
    ("${a gt b}", "(a is not None and b is not None and a > b)"),
    ("${a le 1.5}", "(a is not None and a <= 1.5)"),
    ("${2 ge 1}", "(2 >= 1)"),
    ("${empty x}", "(x in (None, '', [], {}))"),
    ("${a + 1}", "(a + 1)"),
    ("${a - 1}", "(a - 1)"),
    ("${a * 2}", "(a * 2)"),
    ("${a / 2}", "(a / 2)"),
    ("${a div 2}", "(a / 2)"),
    ("${a % 2}", "(a % 2)"),
    ("${a mod 2}", "(a % 2)"),
    ("${-a}", "(-a)"),
    ("${a ? 'x' : 'y'}", "('x' if a else 'y')"),
    ("${true}", "True"),
    ("${false}", "False"),
    ("${null}", "None"),
    ("${1e3}", "1000.0"),
    ("${.5}", "0.5"),
    ("${applicant.name}", "(applicant or {}).get('name')"),
    ("${applicant['name']}", "(applicant or {}).get('name')"),
    ("${items[0]}", "items[0]"),
    ("${'it''s'}", None),  # two literals side by side: refused below
    ("PT${hours}H", "('PT' + str(hours) + 'H')"),
    ("${a}${b}", "(str(a) + str(b))"),
    ("cost \\${not} ${x}", "('cost ${not} ' + str(x))"),
    ("x + 1", "x + 1"),  # no ${: Python as before, unchanged
    ("amount > 100 and approved", "amount > 100 and approved"),
])
def test_translation_table(juel: str, python: str | None):
    if python is None:
        with pytest.raises(JuelError):
            translate(juel)
    else:
        assert translate(juel) == python


@pytest.mark.parametrize(("juel", "data", "expected"), [
    ("${result == 'agree' && amount > 100}", {"result": "agree", "amount": 150}, True),
    ("${result == 'agree' && amount > 100}", {"result": "agree", "amount": 100}, False),
    ("${result == 'agree' && amount > 100}", {"result": "disagree", "amount": 150}, False),
    ("${result == 'agree' && amount > 100}", {"result": "agree", "amount": None}, False),  # null: false
    ("${!rejected}", {"rejected": False}, True),
    ("${a || b && c}", {"a": False, "b": True, "c": False}, False),  # && binds tighter than ||
    ("${!a == b}", {"a": True, "b": False}, True),                    # ! binds tighter than ==
    ("${1 + 2 * 3 == 7}", {}, True),
    ("${(1 + 2) * 3}", {}, 9),
    ("${10 - 4 - 3}", {}, 3),                                          # left-associative
    ("${-2 * 3}", {}, -6),
    ("${7 div 2}", {}, 3.5),                                           # EL division is never integer
    ("${7 mod 4}", {}, 3),
    ("${a < b == true}", {"a": 1, "b": 2}, True),                      # relational before equality
    ("${a ? b ? 1 : 2 : 3}", {"a": True, "b": False}, 2),             # nested ternary
    ("${x > 0 ? 'positive' : 'not positive'}", {"x": 0}, "not positive"),
    ("${empty x}", {"x": None}, True),
    ("${empty x}", {"x": ""}, True),
    ("${empty x}", {"x": []}, True),
    ("${empty x}", {"x": {}}, True),
    ("${empty x}", {"x": 0}, False),
    ("${empty x}", {"x": False}, False),
    ("${empty x}", {"x": "a"}, False),
    ("${not empty x.list}", {"x": {"list": [1]}}, True),
    ("${x == null}", {"x": None}, True),
    ("${x != null}", {"x": 0}, True),
    ("${x < 1}", {"x": None}, False),
    ("${1 > x}", {"x": None}, False),
    ("${x >= y}", {"x": None, "y": None}, False),
    ("${a.b.c}", {"a": {"b": {"c": 5}}}, 5),
    ("${a.missing}", {"a": {}}, None),            # a missing map key is null, as in EL
    ("${a.b.c}", {"a": None}, None),              # so is a property of null
    ("${a['x y']}", {"a": {"x y": 1}}, 1),
    ("${a[i]}", {"a": [10, 20], "i": 1}, 20),
    ("${a[0].name}", {"a": [{"name": "fire"}]}, "fire"),
    ("${'it\\'s' == \"it's\"}", {}, True),        # escaped quotes in both kinds of string
    ("${'a\\\\b'}", {}, "a\\b"),                  # an escaped backslash
    ("${\"}\" == x}", {"x": "}"}, True),          # a brace inside a string does not end the expression
    ("${'中文' == x}", {"x": "中文"}, True),
    ("${金额 > 100}", {"金额": 120}, True),        # identifiers may be Chinese, as in Java
    ("P${days}D", {"days": 5}, "P5D"),
    ("R3/PT${minutes}M", {"minutes": 10}, "R3/PT10M"),
    ("${duration}", {"duration": "PT4H"}, "PT4H"),
    ("${departments}", {"departments": ["fire", "health"]}, ["fire", "health"]),
    ("${a and b}", {"a": True, "b": None}, None),  # Python and/or: a falsy value routes as false
])
def test_what_the_translation_evaluates_to(juel: str, data: dict[str, Any], expected: Any):
    assert run(juel, **data) == expected


def test_a_property_is_a_key_never_a_python_attribute():
    assert translate("${a.__class__}") == "(a or {}).get('__class__')"
    assert run("${a.__class__}", a={}) is None
    with pytest.raises(AttributeError):  # a text has no properties
        run("${a.upper}", a="x")


def test_an_unknown_variable_fails_naming_it_as_camunda_does():
    with pytest.raises(NameError, match="'amount'"):
        run("${amount > 100}")
    with pytest.raises(NameError, match="'note'"):  # `empty` does not make a missing variable empty
        run("${empty note}")


@pytest.mark.parametrize(("juel", "reason"), [
    ("${execution.getVariable('x')}", "'execution' is Camunda's own object"),
    ("${task.assignee}", "'task' is Camunda's own object"),
    ("${bean.method()}", "method calls ('method(...)')"),
    ("${a.b()}", "method calls ('b(...)')"),
    ("${a['b']()}", "method calls"),
    ("${f(x)}", "function calls ('f(...)')"),
    ("${fn:length(x)}", "function calls ('fn:length(...)')"),
    ("${x -> x + 1}", "lambda expressions"),
    ("${a = 1}", "assignments"),
    ("${a += 'x'}", "+="),
    ("${a; b}", "';'"),
    ("${{1, 2}}", "set and map literals"),
    ("${[1, 2]}", "expected a value"),
    ("${a, b}", "lists of values"),
    ("${a instanceof b}", "'instanceof'"),
    ("${a & b}", "write && or and"),
    ("${class == 1}", "a variable cannot be called 'class'"),
    ("${_secret}", "a variable cannot be called '_secret'"),
    ("${'a\\nb'}", "is not an escape"),
    ("${a", "never closed"),
    ("${}", "empty expression"),
    ("${a b}", "unexpected 'b'"),
    ("${(a}", "expected ')'"),
    ("${a ? b}", "expected ':'"),
    ("${a.}", "expected a property name"),
    ("${a @ b}", "unexpected character '@'"),
    ("${" + "(" * 60 + "a" + ")" * 60 + "}", "nested more than"),
    ("${" + "1" * 40 + "}", "more than 30 characters"),
    ("${" + "a + " * 2000 + "a}", "characters long"),
])
def test_refusals_say_what_is_not_supported(juel: str, reason: str):
    with pytest.raises(JuelError) as refused:
        translate(juel)
    assert reason in str(refused.value)


@pytest.mark.parametrize(("kind", "text", "python"), [
    ("timeDuration", "P7D", "'P7D'"),                     # ISO text, as Camunda reads it
    ("timeDuration", " PT1H30M ", "'PT1H30M'"),
    ("timeCycle", "R6/P1D", "'R6/P1D'"),
    ("timeCycle", "R/PT10M", "'R/PT10M'"),
    ("timeDate", "2026-12-01T09:00:00+08:00", "'2026-12-01T09:00:00+08:00'"),
    ("timeDuration", '"P5D"', '"P5D"'),                   # our Python convention keeps working
    ("timeDuration", "timedelta(days=2)", "timedelta(days=2)"),
    ("timeDuration", "PT${hours}H", "('PT' + str(hours) + 'H')"),
    ("conditionExpression", "P7D", "P7D"),                # only timers read ISO text
])
def test_timer_text(kind: str, text: str, python: str):
    assert python_expression(kind, text) == python


def test_a_failing_translation_is_named_as_the_designer_wrote_it():
    from app.engine.juel import original

    python = translate("${amount > limit}")
    assert original(python) == "${amount > limit}"
    assert original("amount > limit") is None  # Python written as Python is its own name


COUNTERSIGN = (Path(__file__).parents[1] / "e2e" / "data" / "camunda" / "countersign.bpmn").read_bytes()


def _countersign(data: dict[str, Any]) -> Any:
    from SpiffWorkflow.bpmn import BpmnWorkflow

    from app.engine.scripting import CaseScriptEngine
    from app.engine.specs import BpmnSource, build_bundle

    bundle = build_bundle("camunda_countersign", [BpmnSource("countersign.bpmn", COUNTERSIGN)])
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=CaseScriptEngine(ENV))
    workflow.task_tree.data.update(data)  # as the engine starts a case
    workflow.do_engine_steps()
    return workflow


def _ready(workflow: Any) -> list[Any]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def test_a_camunda_element_variable_is_local_to_its_instance():
    workflow = _countersign({"departments": ["fire", "health"], "department": "market"})
    assert sorted(t.data["department"] for t in _ready(workflow)) == ["fire", "health"]  # shadows, no error
    for task in _ready(workflow):
        task.set_data(opinion="agree")
        task.run()
        workflow.do_engine_steps()
    [decide] = _ready(workflow)
    assert decide.task_spec.bpmn_id == "decide" and decide.data["department"] == "market"  # not overwritten


def test_a_completion_condition_sees_camunda_instance_counts():
    workflow = _countersign({"departments": ["fire", "health", "planning"]})
    seen = []
    for _ in range(3):
        task = _ready(workflow)[0]
        task.set_data(opinion="agree")
        task.run()
        workflow.do_engine_steps()
        seen.append(sorted(t.task_spec.bpmn_id for t in _ready(workflow)))
    assert seen == [["countersign", "countersign"], ["countersign"], ["decide"]]


def _process(body: str) -> bytes:
    return ('<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            'id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            f'{body}<bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/>'
            '</bpmn:process></bpmn:definitions>').encode()


def _problems(body: str) -> list[tuple[str | None, str]]:
    from app.engine.specs import BpmnSource
    from app.engine.validate import lint

    return [(p.element_id, p.message) for p in lint(BpmnSource("p.bpmn", _process(body))).problems]


CONDITIONAL = ('<bpmn:intermediateCatchEvent id="x"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
               '<bpmn:conditionalEventDefinition id="def"><bpmn:condition xsi:type="bpmn:tFormalExpression">{}'
               '</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>')
TIMER = ('<bpmn:intermediateCatchEvent id="x"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
         '<bpmn:timerEventDefinition id="def"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{}'
         '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
LOOP = ('<bpmn:userTask id="x" camunda:candidateGroups="a.b"><bpmn:incoming>f1</bpmn:incoming>'
        '<bpmn:outgoing>f2</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics {}</bpmn:userTask>')


@pytest.mark.parametrize("body", [
    CONDITIONAL.format("${ready &amp;&amp; count gt 2}"),
    TIMER.format("P7D"), TIMER.format("PT${hours}H"), TIMER.format("${duration}"),
    LOOP.format('camunda:collection="departments" camunda:elementVariable="department" />'),
    LOOP.format('camunda:collection="${item.departments}" />'),
    LOOP.format('><bpmn:loopCardinality>${3}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'),
])
def test_the_deploy_check_accepts(body: str):
    assert _problems(body) == []


@pytest.mark.parametrize(("body", "message"), [
    (CONDITIONAL.format("${execution.getVariable('x')}"), "'execution' is Camunda's own object"),
    (TIMER.format("${dateTime().plusDays(3)}"), "function calls ('dateTime(...)')"),
    (LOOP.format('camunda:collection="${svc.all()}" />'), "method calls ('all(...)')"),
    (LOOP.format('><bpmn:loopCardinality>${500}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'),
     "loopCardinality 500 is above the limit"),
])
def test_the_deploy_check_names_the_flow_element_not_its_definition(body: str, message: str):
    [(element_id, text)] = _problems(body)
    assert element_id == "x" and message in text  # the event or task, not `def` or the loop markup
