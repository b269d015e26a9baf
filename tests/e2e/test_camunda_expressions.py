"""Models saved by Camunda Modeler 5 (tests/e2e/data/camunda) write conditions, collections and timers in
Camunda's expression language (`${...}`): they deploy through the API as saved, every route is taken
according to the values entered, and expressions outside the supported subset are refused at deploy
naming their element (docs/expressions.md)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import EngineTimer, ProcessDefinition
from app.services.casework.timers import fire_due_timers

from .flows import case, complete, open_keys, task_id

pytestmark = pytest.mark.usefixtures("demo")

MODELS = Path(__file__).parent / "data" / "camunda"


def deploy(api, name: str) -> Any:
    content = (MODELS / name).read_bytes()
    return api.post("/process-definitions", "designer", data={"file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data")


def start(api, name: str, process_key: str, **item: Any) -> str:
    """Deploy `name`, offer it as an item and apply for it; returns the case number."""
    resp = deploy(api, name)
    assert resp.status_code == 201, resp.get_json()
    code = f"CAM-{process_key}"
    if api.get(f"/items/{code}", "admin").status_code == 404:
        body = {"code": code, "name": process_key, "type_code": "20", "department": "market",
                "case_kind": "promised", "promised_limit": 5, "process_key": process_key,
                "case_prefix": "CM", **item}
        assert api.post("/items", "admin", json=body).status_code == 201
    resp = api.post("/cases", "company", json={"item_code": code, "data": {}})
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["case_no"])


def assess(api, **values: Any) -> list[str]:
    """Start a `routing.bpmn` case, complete its first step with `values`; the steps open next."""
    case_no = start(api, "routing.bpmn", "camunda_routing")
    data = {"result": "agree", "amount": 50, "rejected": False, "note": "", **values}
    body = complete(api, case_no, "assess", "market_clerk", data)
    return sorted(t["task_key"] for t in body["next_tasks"])


def test_the_stored_model_keeps_the_expressions_as_drawn(api, ctx):
    assert deploy(api, "routing.bpmn").status_code == 201
    with ctx.uow() as uow:  # the designer reopens this file in the modeler: it must not hold our Python
        stored = uow.session.scalar(select(ProcessDefinition.bpmn_xml)
                                    .where(ProcessDefinition.key == "camunda_routing"))
    assert "${result == 'agree' &amp;&amp; amount &gt; 100}" in stored and "#{not empty note}" in stored
    assert "is not None" not in stored


@pytest.mark.parametrize(("values", "next_steps"), [
    ({"result": "agree", "amount": 150}, ["big_review"]),            # ${result == 'agree' && amount > 100}
    ({"result": "agree", "amount": 100}, []),                        # not above 100: default flow, no note
    ({"result": "disagree", "amount": 500}, []),                     # not agreed
    ({"result": "agree", "amount": None}, []),                       # amount left blank: not above 100
    ({"rejected": True}, ["return_notice"]),                         # ${rejected eq true}
    ({"note": "申请人另附说明"}, ["note_review"]),                    # #{not empty note}
])
def test_each_route_follows_the_values_entered(api, values, next_steps):
    assert assess(api, **values) == next_steps


def test_a_case_whose_route_ends_is_closed(api):
    case_no = start(api, "routing.bpmn", "camunda_routing")
    complete(api, case_no, "assess", "market_clerk", {"result": "agree", "amount": 1, "rejected": False, "note": ""})
    view = case(api, case_no)
    assert view["tasks"] == [] and view["closed_at"]  # ${!rejected}, then ${empty note}: straight to the end


def test_a_collection_starts_one_task_per_department_routed_by_its_element_variable(api):
    case_no = start(api, "countersign.bpmn", "camunda_countersign", joint=True, departments=["fire", "health"])
    tasks = case(api, case_no)["tasks"]
    assert sorted((t["task_key"], t["department"]) for t in tasks) == [("countersign", "fire"),
                                                                       ("countersign", "health")]
    assert api.post(f"/tasks/{task_id(api, case_no, 'countersign', 'fire')}/complete", "health_approver",
                    json={"data": {"opinion": "agree"}}).status_code in (403, 404)  # another department's step
    complete(api, case_no, "countersign", "fire_approver", {"opinion": "agree"}, department="fire")
    assert open_keys(api, case_no) == ["countersign"]  # nrOfCompletedInstances (1) < nrOfInstances (2)
    complete(api, case_no, "countersign", "health_approver", {"opinion": "agree"}, department="health")
    assert open_keys(api, case_no) == ["decide"]
    assert "department" not in case(api, case_no)["data"]  # the element variable stays in its instance


def test_a_completion_condition_ends_the_countersign_early(api):
    case_no = start(api, "countersign.bpmn", "camunda_countersign", joint=True, departments=["fire", "health"])
    complete(api, case_no, "countersign", "fire_approver", {"opinion": "disagree"}, department="fire")
    assert open_keys(api, case_no) == ["refusal_notice"]  # ${opinion == 'disagree' || ...}: health is not asked


def test_timer_values_are_computed_from_the_case_data(api, ctx, clock):
    case_no = start(api, "timers.bpmn", "camunda_timers")
    complete(api, case_no, "set_deadline", "market_clerk", {"pause": "PT1H", "hours": 2})
    assert _due(ctx) == clock.now() + timedelta(hours=1)  # ${pause}
    clock.advance(timedelta(minutes=59))
    assert fire_due_timers(ctx) == 0
    clock.advance(timedelta(minutes=2))
    assert fire_due_timers(ctx) == 1 and open_keys(api, case_no) == ["wait_reply"]
    assert _due(ctx) == clock.now() + timedelta(hours=2)  # PT${hours}H
    clock.advance(timedelta(hours=1, minutes=59))
    assert fire_due_timers(ctx) == 0
    clock.advance(timedelta(minutes=2))
    assert fire_due_timers(ctx) == 1 and open_keys(api, case_no) == ["overdue_review"]


def _due(ctx) -> Any:
    with ctx.uow() as uow:
        dues = uow.session.scalars(select(EngineTimer.due_at)).all()
    assert len(dues) == 1
    return dues[0]


def test_expressions_outside_the_subset_are_refused_naming_their_elements(api):
    resp = deploy(api, "refused.bpmn")
    assert resp.status_code == 400
    errors = {e["element_id"]: e["message"] for e in resp.get_json()["errors"]}
    assert set(errors) == {"Flow_execution", "Flow_bean", "Flow_method", "approve", "approve_deadline"}
    assert "${execution.getVariable('x') == 1}" in errors["Flow_execution"]
    assert "'execution'" in errors["Flow_execution"]
    assert "method calls" in errors["Flow_bean"] and "${bean.method()}" in errors["Flow_bean"]
    assert "method calls" in errors["Flow_method"] and "${a.b()}" in errors["Flow_method"]
    assert "${departmentService.findAll()}" in errors["approve"]
    assert "function calls" in errors["approve_deadline"]
    assert api.get("/process-definitions/camunda_refused", "designer").status_code == 404  # nothing stored


def test_a_condition_on_a_flow_leaving_a_task_is_refused(api):
    xml = (MODELS / "routing.bpmn").read_bytes().replace(
        b'<bpmn:sequenceFlow id="Flow_1assessed" sourceRef="assess" targetRef="Gateway_amount" />',
        b'<bpmn:sequenceFlow id="Flow_1assessed" sourceRef="assess" targetRef="Gateway_amount">'
        b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${amount &gt; 0}</bpmn:conditionExpression>'
        b'</bpmn:sequenceFlow>')
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(xml), "routing.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 400
    errors = {e["element_id"]: e["message"] for e in resp.get_json()["errors"]}
    assert list(errors) == ["Flow_1assessed"] and "exclusive gateway" in errors["Flow_1assessed"]


def test_an_unknown_variable_stops_the_step_naming_it(api):
    """As Camunda raises "Cannot resolve identifier": the step fails, names the expression as drawn and
    the variable, and the case is unchanged."""
    xml = (MODELS / "routing.bpmn").read_bytes().replace(b"amount &gt; 100", b"amount_typo &gt; 100")
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(xml), "routing.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    item = {"code": "CAM-typo", "name": "typo", "type_code": "20", "department": "market", "case_kind": "promised",
            "promised_limit": 5, "process_key": "camunda_routing", "case_prefix": "CT"}
    assert api.post("/items", "admin", json=item).status_code == 201
    case_no = str(api.post("/cases", "company", json={"item_code": "CAM-typo", "data": {}}).get_json()["case_no"])
    tid = task_id(api, case_no, "assess")
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk",
                    json={"data": {"result": "agree", "amount": 150, "rejected": False, "note": ""}})
    assert resp.status_code == 422
    [error] = resp.get_json()["errors"]
    assert error["element_id"] == "Gateway_amount"
    assert "${result == 'agree' && amount_typo > 100}" in error["message"] and "'amount_typo'" in error["message"]
    assert task_id(api, case_no, "assess") == tid  # still waiting, nothing changed


def test_routing_with_more_than_a_variable_is_refused(api):
    """Routing attributes substitute `${name}` / `${name.key}` only; anything else would offer the step to
    a group no one is in."""
    xml = (MODELS / "countersign.bpmn").read_bytes().replace(
        b'camunda:candidateGroups="${department}.approver"',
        b'camunda:candidateGroups="${execution.getVariable(&quot;department&quot;)}.approver"')
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(xml), "countersign.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 400
    [error] = resp.get_json()["errors"]
    assert error["element_id"] == "countersign" and "camunda:candidateGroups" in error["message"]
