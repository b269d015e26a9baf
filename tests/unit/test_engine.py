"""The engine package without a database: safe XML, the Camunda-aware parser, state round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from app.engine.runtime import WorkflowEngine, resolve
from app.engine.specs import BpmnSource, SpecCache, build_bundle
from app.engine.xmlsafe import UnsafeXml, parse_xml
from tests.bpmn_builder import linear, script, user

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def now() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def engine() -> WorkflowEngine:
    return WorkflowEngine(time_limit=0.5)


def food_bundle():
    sources = [BpmnSource(p.name, p.read_bytes()) for p in (ROOT / "bpmn").glob("*.bpmn")
               if p.stem in ("food_licence", "issuance")]
    return build_bundle("food_licence", sources)


def test_external_entities_and_doctypes_are_refused():
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    with pytest.raises(UnsafeXml, match="malformed"):
        parse_xml(b"<x><y></x>")
    assert parse_xml("<x a='1'/>").getroot().get("a") == "1"


def test_camunda_attributes_and_properties_reach_the_task_spec():
    spec = food_bundle().spec.task_specs["preview"]
    assert spec.extensions["candidateGroups"] == "market.clerk"
    assert spec.extensions["formKey"] == "preview.form"
    assert spec.extensions["properties"]["stage"] == "preview"
    assert spec.extensions["properties"]["timeLimit"] == "1wd"


def test_inline_form_fields_are_parsed():
    xml = linear("p", user("t")).replace(
        b'<bpmn:incoming>f0</bpmn:incoming>',
        b'<bpmn:extensionElements><camunda:formData><camunda:formField id="amount" label="Amount" type="long">'
        b'<camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>'
        b'</camunda:formData></bpmn:extensionElements><bpmn:incoming>f0</bpmn:incoming>', 1)
    spec = build_bundle("p", [BpmnSource("p.bpmn", xml)]).spec.task_specs["t"]
    assert spec.extensions["formData"] == [{"id": "amount", "label": "Amount", "type": "long", "default_value": None,
                                            "options": [], "validation": [{"name": "required", "config": None}]}]


def test_state_round_trip_without_the_spec(engine):
    bundle = food_bundle()
    workflow, _ = engine.start(bundle, {"applicant": "u1", "departments": [], "material_names": ["a"],
                                        "when": date(2026, 11, 23), "fee": Decimal("12.50")}, now)
    state = engine.dumps(workflow)
    # No spec inside: an (event) subprocess names its spec ("spec": "extension_approval"), never embeds it.
    assert '"task_specs"' not in state and "food_licence" not in state.split('"tasks"')[0]
    restored = engine.loads(state, bundle)
    [task] = engine.user_tasks(restored)
    assert task.key == "preview" and task.candidate_groups == ("market.clerk",) and task.department == "market"
    data = engine.task_data(restored, task.id)
    assert data["when"] == date(2026, 11, 23) and data["fee"] == Decimal("12.50")
    engine.complete(restored, task.id, {"preview_result": "pass"}, now)
    assert [t.key for t in engine.user_tasks(restored)] == ["acceptance"]
    with pytest.raises(ValueError, match="format"):
        engine.loads('{"format": "other"}', bundle)


def test_assignee_expression_and_lane_fallback(engine):
    xml = linear("p", user("mine", group=None, assignee="${applicant}"), user("laned", group=None))
    xml = xml.replace(b'<bpmn:startEvent', b'<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="market.clerk">'
                      b'<bpmn:flowNodeRef>laned</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet><bpmn:startEvent', 1)
    bundle = build_bundle("p", [BpmnSource("p.bpmn", xml)])
    workflow, _ = engine.start(bundle, {"applicant": "citizen"}, now)
    [first] = engine.user_tasks(workflow)
    assert first.assignee == "citizen" and first.candidate_groups == ()
    engine.complete(workflow, first.id, {}, now)
    [second] = engine.user_tasks(workflow)
    assert second.candidate_groups == ("market.clerk",)


def test_resolve_templates():
    data = {"department": "fire", "applicant": {"id": "u1"}}
    assert resolve("${department}.approver", data) == "fire.approver"
    assert resolve("${ applicant.id }", data) == "u1"
    assert resolve("${missing}.x", data) == ".x"


def test_a_script_error_names_its_element(engine):
    from app.engine.runtime import EngineFailure

    bundle = build_bundle("p", [BpmnSource("p.bpmn", linear("p", script("boom", "x = 1 / 0")))])
    with pytest.raises(EngineFailure) as failure:
        engine.start(bundle, {}, now)
    assert failure.value.element_id == "boom" and not failure.value.limit
    spin = build_bundle("q", [BpmnSource("q.bpmn", linear("q", script("spin", "while True:\n    pass")))])
    with pytest.raises(EngineFailure) as failure:
        engine.start(spin, {}, now)
    assert failure.value.element_id == "spin" and failure.value.limit


def test_spec_cache_parses_once_per_key():
    cache = SpecCache(size=2)
    calls = []

    def load():
        calls.append(1)
        return "p", [BpmnSource("p.bpmn", linear("p", user("t")))]

    first = cache.get("definition:1", load)
    assert cache.get("definition:1", load) is first and len(calls) == 1 and not first.has_timers
    cache.get("definition:2", load)
    cache.get("definition:3", load)
    cache.get("definition:1", load)  # evicted (LRU of 2): parsed again
    assert len(calls) == 4


def test_a_message_opens_the_extension_approval_beside_the_main_path(engine):
    bundle = food_bundle()
    workflow, _ = engine.start(bundle, {"applicant": "u1", "window_group": "market.clerk"}, now)
    result = engine.send_message(workflow, "extension_requested", {
        "extension_id": 7, "extension_group": "market.head", "extension_days": 10, "extension_reason": "现场核查"}, now)
    assert result is not None and [p.key for p in result.passed][:1] == ["extension_requested"]
    tasks = {t.key: t for t in engine.user_tasks(workflow)}
    assert set(tasks) == {"preview", "approve_extension"}  # non-interrupting: the main path stays open
    approval = tasks["approve_extension"]
    assert approval.candidate_groups == ("market.head",) and approval.department == "market"
    assert approval.properties["clockAction"] == "extension" and approval.form_key == "extension_approval.form"
    assert engine.task_data(workflow, approval.id)["extension_reason"] == "现场核查"
    restored = engine.loads(engine.dumps(workflow), bundle)  # survives a save
    passed = engine.complete(restored, approval.id, {"extension_decision": "approve"}, now).passed
    assert passed[0].key == "approve_extension"
    [data] = engine.completed_data(restored, "approve_extension")
    assert data["extension_decision"] == "approve" and data["extension_id"] == 7
    assert [t.key for t in engine.user_tasks(restored)] == ["preview"]


def test_a_message_nothing_waits_for_changes_nothing(engine):
    bundle = build_bundle("p", [BpmnSource("p.bpmn", linear("p", user("t")))])
    workflow, _ = engine.start(bundle, {}, now)
    state = engine.dumps(workflow)
    assert engine.send_message(workflow, "extension_requested", {"extension_id": 1}, now) is None
    assert engine.dumps(workflow) == state and engine.completed_data(workflow, "approve_extension") == []


# -- a multi-instance task's instances finished by another process -----------------------------------------


def test_instances_created_by_one_process_merge_their_output_when_another_parse_finishes_them():
    """Instances merge their output through an event of the spec object; the library connects it only
    when it creates instances. A worker that parsed the process itself (after a restart, or another
    worker than the one that started the loop) must still collect every instance's output."""
    loop = ('<bpmn:multiInstanceLoopCharacteristics isSequential="false">'
            '<bpmn:loopDataInputRef>departments</bpmn:loopDataInputRef>'
            '<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>'
            '<bpmn:inputDataItem id="department" name="department"/>'
            '<bpmn:outputDataItem id="opinion" name="opinion"/>'
            '</bpmn:multiInstanceLoopCharacteristics>')
    xml = linear("mi", user("approve"), user("after")).replace(b"</bpmn:userTask>", loop.encode() + b"</bpmn:userTask>",
                                                                1)
    source = BpmnSource("mi.bpmn", xml)
    engine = WorkflowEngine(time_limit=0.5, isolated=False)
    workflow, _ = engine.start(build_bundle("mi", [source]), {"departments": ["fire", "health"]}, now)
    state = engine.dumps(workflow)
    fresh = engine.loads(state, build_bundle("mi", [source]))  # another parse, as in another worker
    for task in engine.user_tasks(fresh):
        department = engine.task_data(fresh, task.id)["department"]
        engine.complete(fresh, task.id, {"opinion": f"ok from {department}"}, now)
    assert [t.key for t in engine.user_tasks(fresh)] == ["after"]
    assert sorted(engine.data(fresh)["opinions"]) == ["ok from fire", "ok from health"]
