"""Unit tests for app.engine.sandbox: the restricted environment for BPMN expressions and scripts."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine import sandbox
from app.engine.sandbox import (
    DEFAULT_HELPERS,
    RestrictedEnvironment,
    ScriptForbidden,
    ScriptLimitExceeded,
    check_expression,
    check_script,
)

# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment()


def run(script: str, data: dict[str, Any] | None = None, **limits: Any) -> dict[str, Any]:
    context = dict(data or {})
    RestrictedEnvironment(**limits).execute(script, context)
    return context


def timed(call: Any) -> tuple[BaseException | None, float]:
    start = time.monotonic()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test inspects whatever was raised
        return exc, time.monotonic() - start
    return None, time.monotonic() - start


# -- expressions and scripts behave like TaskDataEnvironment ----------------------------------------


@pytest.mark.parametrize(("expression", "data", "expected"), [
    ('preview_result == "correct"', {"preview_result": "correct"}, True),
    ('preview_result == "correct"', {"preview_result": "ok"}, False),
    ('all(a["approved"] for a in approvals)', {"approvals": [{"approved": True}, {"approved": True}]}, True),
    ('all(a["approved"] for a in approvals)', {"approvals": [{"approved": True}, {"approved": False}]}, False),
    ("len([d for d in departments if d != 'fire']) == 2", {"departments": ["fire", "health", "building"]}, True),
    ("{k: v * 2 for k, v in counts.items()}", {"counts": {"a": 1, "b": 2}}, {"a": 2, "b": 4}),
    ("amount > 100 and applicant['name'].startswith('Li')", {"amount": 120, "applicant": {"name": "Li Lei"}}, True),
    ("sorted(set(xs))[-1] + max(xs) - min(xs)", {"xs": [3, 1, 2, 3]}, 5),
    ("next((a['by'] for a in approvals if not a['ok']), None)", {"approvals": [{"ok": True, "by": "x"}]}, None),
    ("f'{n:05d}-{name!r}'", {"n": 42, "name": "a"}, "00042-'a'"),
    ("f'{name!r:>5}|{n:{w}}'", {"n": 42, "name": "a", "w": 4}, "  'a'|  42"),
    ("'%s has %d items' % (name, n)", {"n": 3, "name": "box"}, "box has 3 items"),
    ("isinstance(n, int) and int('7') + round(2.6) + floor(2.5) + ceil(2.5) == 15", {"n": 1}, True),
    ('"P14D"', {}, "P14D"),
])
def test_expressions_see_task_data(env: RestrictedEnvironment, expression: str, data: dict[str, Any],
                                   expected: Any) -> None:
    assert env.evaluate(expression, data) == expected


def test_expression_blanks_around_are_ignored(env: RestrictedEnvironment) -> None:
    assert env.evaluate("\n    a == 1\n  ", {"a": 1}) is True


def test_datetime_helpers(env: RestrictedEnvironment) -> None:
    data = {"received": datetime(2026, 11, 23, 9, 0, tzinfo=UTC)}
    assert env.evaluate("received + timedelta(days=14)", data) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert env.evaluate("(received + timedelta(days=14)).isoformat()", data) == "2026-12-07T09:00:00+00:00"
    assert env.evaluate("date(2026, 1, 31) + timedelta(days=1)", {}) == date(2026, 2, 1)
    assert env.evaluate("f'{received:%Y-%m-%d}'", data) == "2026-11-23"
    assert env.evaluate("received == datetime(2026, 11, 23, 9, tzinfo=timezone.utc)", data) is True
    assert env.evaluate("Decimal('0.10') * 3", {}) == Decimal("0.30")


def test_script_sets_task_data(env: RestrictedEnvironment) -> None:
    context: dict[str, Any] = {"amount": 120, "items": [{"n": 2}, {"n": 3}]}
    assert env.execute("""
total = 0
for item in items:
    total += item["n"]
summary = {"total": total, "big": amount > 100, "names": [f"item-{i}" for i in range(total)]}
summary["extra"] = [1, 2]
summary["total"] += 10
items.append({"n": 0})
due = datetime(2026, 11, 23) + timedelta(days=3)
a, (b, c) = 1, (2, 3)
""", context) is True
    assert context["total"] == 5
    assert context["summary"] == {"total": 15, "big": True, "names": [f"item-{i}" for i in range(5)],
                                  "extra": [1, 2]}
    assert context["items"][-1] == {"n": 0}
    assert context["due"] == datetime(2026, 11, 26)
    assert (context["a"], context["b"], context["c"]) == (1, 2, 3)


def test_script_leaves_no_helpers_builtins_or_callables_in_data(env: RestrictedEnvironment) -> None:
    context: dict[str, Any] = {"x": 1}
    env.execute("def double(v):\n    return v * 2\ny = double(x)\ng = lambda: 1\nkind = Decimal\nprint(y)",
                context, {"lookup": {"a": 1}})
    assert context == {"x": 1, "y": 2}


def test_external_context_is_visible_but_not_kept(env: RestrictedEnvironment) -> None:
    context: dict[str, Any] = {}
    env.execute("value = lookup['a'] + 1", context, {"lookup": {"a": 1}})
    assert context == {"value": 2}
    assert env.evaluate("lookup['a']", {}, {"lookup": {"a": 5}}) == 5


def test_task_data_may_not_hide_a_helper(env: RestrictedEnvironment) -> None:
    with pytest.raises(ValueError, match="date"):
        env.execute("x = 1", {"date": "2026-01-01"})
    assert env.evaluate("date", {"date": "2026-01-01"}) == "2026-01-01"  # expressions: data wins


def test_extra_helpers_are_added_to_the_defaults() -> None:
    env = RestrictedEnvironment(helpers={"add_workdays": lambda d, n: d + timedelta(days=n)})
    assert env.evaluate("add_workdays(date(2026, 1, 1), 2)", {}) == date(2026, 1, 3)
    assert env.evaluate("timedelta(days=1)", {}) == timedelta(days=1)
    assert set(DEFAULT_HELPERS) <= set(env.globals)
    with pytest.raises(ValueError):
        RestrictedEnvironment(helpers={"_secret": 1})


# -- what scripts cannot do --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    "__import__('os')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__[0].__subclasses__()]",
    "f'{x.__class__}'",
    "(i for i in []).gi_frame",
    "_getattr_",
    "exec('1')",
    "eval('1')",
])
def test_forbidden_at_compile_time(env: RestrictedEnvironment, code: str) -> None:
    with pytest.raises(ScriptForbidden):
        env.evaluate(code, {"x": 1})


@pytest.mark.parametrize("script", [
    "import os",
    "from os import path",
    "class A:\n    pass",
    "x.__class__ = int",
])
def test_forbidden_statements(env: RestrictedEnvironment, script: str) -> None:
    context = {"x": 1}
    with pytest.raises(ScriptForbidden):
        env.execute(script, context)
    assert context == {"x": 1}


@pytest.mark.parametrize(("code", "error"), [
    ('"{0.__class__}".format(1)', AttributeError),
    ('"{0.__class__}".format_map({})', AttributeError),
    ('str.format("{0.__class__}", 1)', AttributeError),
    ('getattr(1, "__class__")', AttributeError),
    ('getattr(getattr, "__globals__")', AttributeError),
    ('hasattr(1, "__class__")', type(None)),  # answers False, reveals nothing
    ("int.mro()", AttributeError),
    ('open("/etc/passwd")', NameError),
    ("type(1)", NameError),
    ("vars()", NameError),
    ("globals()", NameError),
    ("locals()", NameError),
    ("compile('1', 'f', 'eval')", NameError),
    ("breakpoint()", ScriptForbidden),
    ("input()", NameError),
    ("object", NameError),
    ("iter(int, 1)", NameError),
    ('getattr((i for i in []), "gi_frame")', AttributeError),
    ("str.ljust('x', 10**10)", AttributeError),  # size-checked methods only on values
    ("SystemExit", NameError),
    ("BaseException", NameError),
])
def test_refused_at_run_time(env: RestrictedEnvironment, code: str, error: type) -> None:
    if error is type(None):
        assert env.evaluate(code, {}) is False
        return
    with pytest.raises(error):
        env.evaluate(code, {})


def test_scripts_cannot_modify_helpers_or_foreign_objects(env: RestrictedEnvironment) -> None:
    with pytest.raises(TypeError, match="may not modify"):
        env.execute("datetime.max = 1", {})
    with pytest.raises(TypeError, match="may not modify"):
        env.execute("d = datetime(2026, 1, 1)\nd.year = 5", {})
    with pytest.raises(TypeError, match="may not modify"):
        env.execute("t = (1, 2)\nt[0] = 5", {})


# -- limits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["while True: pass", "while True:\n    pass", "x = 0\nwhile True:\n    x += 1"])
def test_endless_loop_stops_at_time_limit(script: str) -> None:
    error, elapsed = timed(lambda: run(script, time_limit=0.2, step_limit=10**9))
    assert isinstance(error, ScriptLimitExceeded)
    assert "time limit" in str(error) and "0.2" in str(error)
    assert elapsed < 2.0


def test_deep_loop_stops_at_step_limit() -> None:
    error, elapsed = timed(lambda: run("n = 0\nfor i in range(1000):\n    for j in range(1000):\n        n += 1",
                                       step_limit=5000, time_limit=30))
    assert isinstance(error, ScriptLimitExceeded)
    assert "step limit" in str(error) and "5000" in str(error)
    assert elapsed < 2.0


def test_steps_count_comprehensions_and_calls() -> None:
    with pytest.raises(ScriptLimitExceeded, match="step limit"):
        run("x = [i for i in range(100000)]", step_limit=1000)
    with pytest.raises(ScriptLimitExceeded, match="step limit"):
        run("f = lambda n: n\nx = list(map(f, range(100000)))", step_limit=1000)


@pytest.mark.parametrize("script", [
    "try:\n    while True: pass\nexcept Exception:\n    pass\nwhile True: pass",
    "while True:\n    try:\n        while True: pass\n    except:\n        pass",
    "try:\n    while True: pass\nfinally:\n    while True: pass",
    "def g():\n    while True: pass\ntry:\n    while True: pass\nexcept g():\n    pass",
    "f = lambda: f()\ntry:\n    f()\nexcept RecursionError:\n    pass\nwhile True: pass",
])
def test_catching_the_limit_does_not_help(script: str) -> None:
    error, elapsed = timed(lambda: run(script, time_limit=0.2, step_limit=10**9))
    assert isinstance(error, ScriptLimitExceeded)
    assert elapsed < 2.0


@pytest.mark.parametrize("code", [
    "10 ** 10 ** 10",
    "2 ** 100000000",
    "pow(7, 10**8)",
    "pow(7, 10**8, 2**5000 + 1)",
    "1 << 10**10",
    "(2**4000) * (2**4000)",
    '"x" * 10**10',
    "10**10 * 'x'",
    "[0] * 10**10",
    "(0,) * 10**10",
    '("x" * 10**6) + ("x" * 10**6)',
    '"x".ljust(10**10)',
    '"x".center(10**10)',
    '"0".zfill(10**10)',
    '"\\t".expandtabs(10**10)',
    '("a" * 1000).replace("a", "b" * 10**4)',
    '",".join(["x" * 10**5] * 20)',
    '("a" * 1000).translate({97: "b" * 10**4})',
    '("a" * 1000).translate(["b" * 10**4] * 128)',
    "(1).to_bytes(10**10, 'big')",
    "range(10**12)",
    'f"{1:>10000000000}"',
    'f"{1:.{n}f}"',
    '"%10000000000s" % 1',
    '"%*s" % (10**10, 1)',
    'int(Decimal("1e999999"))',
    'round(Decimal("1e999999"))',
    'floor(Decimal("1e999999"))',
    '"%d" % Decimal("1e999999")',
    "round(5, -10**7)",
])
def test_huge_single_operations_fail_fast(env: RestrictedEnvironment, code: str) -> None:
    error, elapsed = timed(lambda: env.evaluate(code, {"n": 10**9}))
    assert isinstance(error, ScriptLimitExceeded), error
    assert elapsed < 1.0


@pytest.mark.parametrize("script", [
    "s = 'ab'\nfor i in range(40):\n    s += s",
    "s = 'ab'\nfor i in range(40):\n    s = ''.join([s, s])",
    "s = ['ab']\nfor i in range(40):\n    s.extend(s)",
    "d = {'k': [1]}\nfor i in range(40):\n    d['k'] *= 2",
])
def test_doubling_stops_at_size_limit(script: str) -> None:
    error, elapsed = timed(lambda: run(script))
    assert isinstance(error, ScriptLimitExceeded)
    assert elapsed < 1.0


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="memory is sampled from /proc")
def test_memory_growth_stops_at_memory_limit() -> None:
    script = "m = []\nwhile True:\n    m.append('x' * 999_000 + str(len(m)))"
    error, elapsed = timed(lambda: run(script, time_limit=20, step_limit=10**9))
    assert isinstance(error, ScriptLimitExceeded)
    assert "memory limit" in str(error)
    assert elapsed < 10


def test_sum_of_sequences_is_refused(env: RestrictedEnvironment) -> None:
    with pytest.raises(TypeError, match="sum"):
        env.evaluate("sum([[1]] * 10, [])", {})
    assert env.evaluate("sum([1, 2, 3]) + sum([Decimal('1.5')], Decimal(0))", {}) == Decimal("7.5")


def test_recursion_ends_with_an_error(env: RestrictedEnvironment) -> None:
    with pytest.raises(RecursionError):
        env.execute("f = lambda f: f(f)\nf(f)", {})
    with pytest.raises(RecursionError):
        env.execute("def f(n):\n    return f(n + 1)\nf(0)", {})
    assert env.evaluate("1 + 1", {}) == 2  # still usable afterwards


def test_previous_trace_function_is_restored(env: RestrictedEnvironment) -> None:
    def outer_trace(frame: Any, event: str, arg: Any) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(outer_trace)
    try:
        env.evaluate("1 + 1", {})
        assert sys.gettrace() is outer_trace
        with pytest.raises(ScriptLimitExceeded):
            RestrictedEnvironment(time_limit=0.05).execute("while True: pass", {})
        assert sys.gettrace() is outer_trace
        with pytest.raises(ZeroDivisionError):
            env.evaluate("1 / 0", {})
        assert sys.gettrace() is outer_trace
    finally:
        sys.settrace(previous)


def test_a_runaway_script_in_another_thread_does_not_disturb_this_one(env: RestrictedEnvironment) -> None:
    errors: list[BaseException | None] = []
    runaway = threading.Thread(target=lambda: errors.append(
        timed(lambda: run("while True: pass", time_limit=0.5, step_limit=10**9))[0]))
    previous = sys.gettrace()
    runaway.start()
    for _ in range(200):
        assert env.evaluate("a + 1", {"a": 1}) == 2
    runaway.join(5)
    assert isinstance(errors[0], ScriptLimitExceeded)
    assert sys.gettrace() is previous


def test_limits_are_per_call() -> None:
    env = RestrictedEnvironment(step_limit=3000)
    for _ in range(5):  # each call gets a fresh budget
        env.execute("for i in range(500):\n    x = i", {})


# -- compile-time checks and cache --------------------------------------------------------------------


def test_check_expression_and_check_script() -> None:
    assert check_expression('preview_result == "correct"') is None
    assert check_expression("  amount > 3\n") is None
    assert check_script("x = 1\nfor i in range(3):\n    x += i") is None
    for bad in ["__import__('os')", "a ==", "x = 1", "().__class__"]:
        message = check_expression(bad)
        assert message and "\n" not in message
    for bad in ["import os", "def f(:\n  pass", "class A:\n    pass", "x._y = 1", "x = \\\n"]:
        message = check_script(bad)
        assert message and "\n" not in message
    assert "_" in (check_script("_x = 1") or "")


def test_forbidden_message_lists_every_problem(env: RestrictedEnvironment) -> None:
    with pytest.raises(ScriptForbidden) as caught:
        env.execute("import os\nx = y.__dict__", {})
    assert len(caught.value.errors) == 2
    assert "Line 1" in str(caught.value) and "Line 2" in str(caught.value)


def test_too_long_source_is_forbidden() -> None:
    assert "limit" in (check_script("x = 1\n" * 20_000) or "")


def test_compiled_code_is_cached(env: RestrictedEnvironment) -> None:
    expression = "cache_probe_value == 41 + 1"
    env.evaluate(expression, {"cache_probe_value": 42})
    hits = sandbox._compile.cache_info().hits
    assert env.evaluate(expression, {"cache_probe_value": 42}) is True
    assert sandbox._compile.cache_info().hits == hits + 1


# -- inside SpiffWorkflow ------------------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://banjian.test">
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="assess" name="Assess">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_ok</bpmn:outgoing><bpmn:outgoing>to_reject</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_ok" sourceRef="route" targetRef="end_ok">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_reject" sourceRef="route" targetRef="end_reject">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">not ({condition})</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="assess"/>
    <bpmn:sequenceFlow id="f2" sourceRef="assess" targetRef="route"/>
    <bpmn:endEvent id="end_ok"><bpmn:incoming>to_ok</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_reject"><bpmn:incoming>to_reject</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

GOOD_SCRIPT = """total = sum(item["price"] for item in items)
approvals = [{"by": d, "approved": d != "fire"} for d in departments]
due = (datetime(2026, 11, 23) + timedelta(days=14)).isoformat()"""
GOOD_CONDITION = 'all(a["approved"] for a in approvals) and total < 100'


def make_workflow(script: str, data: dict[str, Any], condition: str = GOOD_CONDITION,
                  **limits: Any) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=escape(script), condition=escape(condition)).encode())
    engine = PythonScriptEngine(environment=RestrictedEnvironment(**limits))
    workflow = BpmnWorkflow(parser.get_spec("review"), parser.get_subprocess_specs("review"),
                            script_engine=engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def completed_ends(workflow: BpmnWorkflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id in ("end_ok", "end_reject")}


@pytest.mark.parametrize(("departments", "end"), [(["health", "building"], "end_ok"),
                                                  (["fire", "health"], "end_reject")])
def test_workflow_runs_script_and_routes(departments: list[str], end: str) -> None:
    workflow = make_workflow(GOOD_SCRIPT, {"items": [{"price": 30}, {"price": 40}], "departments": departments})
    workflow.do_engine_steps()
    assert workflow.completed
    assert completed_ends(workflow) == {end}
    assert workflow.data["total"] == 70
    assert workflow.data["due"] == "2026-12-07T00:00:00"
    assert "datetime" not in workflow.data and "__builtins__" not in workflow.data


def test_workflow_endless_script_raises_limit() -> None:
    workflow = make_workflow("while True: pass", {}, time_limit=0.2, step_limit=10**9)
    error, elapsed = timed(workflow.do_engine_steps)
    assert isinstance(error, WorkflowTaskException)
    # SpiffWorkflow raises its wrapper inside `except`: the original is the context, its name error_type.
    assert isinstance(error.__cause__ or error.__context__, ScriptLimitExceeded)
    assert error.error_type == "ScriptLimitExceeded"
    assert elapsed < 2.0
    assert not workflow.completed


def test_workflow_script_error_has_its_line() -> None:
    workflow = make_workflow("x = 1\ny = x / 0", {})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert caught.value.error_type == "ZeroDivisionError"
    assert (caught.value.line_number, caught.value.error_line) == (2, "y = x / 0")


def test_workflow_forbidden_script_raises() -> None:
    workflow = make_workflow("import os", {})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert isinstance(caught.value.__context__, ScriptForbidden)


def test_workflow_forbidden_condition_raises() -> None:
    workflow = make_workflow(GOOD_SCRIPT, {"items": [], "departments": []}, condition="().__class__")
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert isinstance(caught.value.__context__, ScriptForbidden)


def test_lazy_results_are_materialized_within_the_limits(env: RestrictedEnvironment) -> None:
    assert env.evaluate("(x * 2 for x in xs)", {"xs": [1, 2]}) == [2, 4]
    assert env.evaluate("map(str, xs)", {"xs": [1, 2]}) == ["1", "2"]
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment(step_limit=100).evaluate("(x for x in range(1000))", {})


def test_task_data_cannot_shadow_the_guards(env: RestrictedEnvironment) -> None:
    context: dict[str, Any] = {"_getattr_": "not a guard", "_step_": 1, "s": "abc"}
    assert env.evaluate("s.upper()", context) == "ABC"
    env.execute("t = s.upper()\nfor c in s:\n    t += c", context)
    assert context == {"_getattr_": "not a guard", "_step_": 1, "s": "abc", "t": "ABCabc", "c": "c"}
