"""Bad input gets a clear error and changes nothing; every call checks who may do what."""

from __future__ import annotations

import pytest

from tests.bpmn_builder import linear, script, user

from .flows import (
    ACCEPT,
    FOOD,
    FOOD_APPLY,
    JOINT,
    PASS,
    apply,
    case,
    complete,
    joint_to_approval,
    post_case,
    task_id,
)

pytestmark = pytest.mark.usefixtures("demo")

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">&lol3;</bpmn:definitions>"""


def deploy(api, content: bytes, user_name: str = "designer", name: str = "p.bpmn"):
    return api.post("/process-definitions", user_name, data={"file": (__import__("io").BytesIO(content), name)},
                    content_type="multipart/form-data")


def count_versions(api, key: str) -> int:
    resp = api.get(f"/process-definitions/{key}", "admin")
    return 0 if resp.status_code == 404 else len(resp.get_json()["versions"])


@pytest.mark.parametrize("content, needle", [
    (b"<bpmn:definitions", "malformed XML"),
    (XXE, "DOCTYPE"),
    (LAUGHS, "DOCTYPE"),
    (b"<html><body>hello</body></html>", "bpmn:definitions"),
])
def test_unsafe_or_malformed_xml_is_refused(api, content, needle):
    resp = deploy(api, content)
    assert resp.status_code == 400
    messages = " ".join(e["message"] for e in resp.get_json()["errors"])
    assert needle in messages
    assert count_versions(api, "p") == 0


def test_unroutable_user_task_is_refused_with_its_element_id(api):
    resp = deploy(api, linear("p", user("orphan", group=None)))
    assert resp.status_code == 400
    assert {"element_id": "orphan", "message": resp.get_json()["errors"][0]["message"]} in resp.get_json()["errors"]
    assert "no candidateGroups" in resp.get_json()["errors"][0]["message"]


@pytest.mark.parametrize("code", [
    "__import__('os').getpid()",
    "x = ().__class__.__base__.__subclasses__()",
    "import os",
    "open('/etc/passwd').read()",
])
def test_dangerous_scripts_are_refused_at_deploy(api, code):
    resp = deploy(api, linear("p", script("evil", code), user("work")))
    errors = resp.get_json()["errors"]
    assert resp.status_code == 400, errors
    assert [e["element_id"] for e in errors] == ["evil"]
    assert count_versions(api, "p") == 0


def test_expression_errors_name_the_flow(api):
    bpmn = linear("p", user("work")).replace(
        b'<bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="end"/>',
        b'<bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="end">'
        b'<bpmn:conditionExpression>x ==</bpmn:conditionExpression></bpmn:sequenceFlow>')
    resp = deploy(api, bpmn)
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["element_id"] == "f1"


def _bench_item(api, process_key: str) -> None:
    body = {"code": "BENCH-1", "name": "测试事项", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": process_key, "case_prefix": "BX"}
    assert api.post("/items", "admin", json=body).status_code == 201


def test_a_script_that_loops_forever_fails_the_step_and_records_an_incident(api, ctx):
    loop = linear("loopy", user("work", group="market.clerk"), script("spin", "while True:\n    pass"))
    assert deploy(api, loop).status_code == 201
    _bench_item(api, "loopy")
    case_no = apply(api, "BENCH-1", {})["case_no"]
    before = case(api, case_no)

    tid = task_id(api, case_no, "work")
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": {}})

    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["element_id"] == "spin"
    after = case(api, case_no)
    assert after["tasks"] == before["tasks"] and after["version"] == before["version"]
    assert [i["element_id"] for i in after["incidents"]] == ["spin"]
    assert "limit" in after["incidents"][0]["message"]


def test_a_failing_script_at_start_creates_no_case(api):
    assert deploy(api, linear("broken", script("boom", "x = 1 / 0"), user("work", group="market.clerk"))
                  ).status_code == 201
    _bench_item(api, "broken")
    resp = api.post("/cases", "company", json={"item_code": "BENCH-1", "data": {}})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["element_id"] == "boom"
    assert api.get("/tasks?view=all", "admin").get_json()["total"] == 0


def test_unknown_item(api):
    resp = api.post("/cases", "company", json={"item_code": "NOPE", "data": {}})
    assert resp.status_code == 404
    assert resp.get_json()["errors"] == [{"field": "item_code", "message": "unknown item"}]


def test_invalid_application_data_is_refused_field_by_field(api):
    resp = post_case(api, FOOD, {**FOOD_APPLY, "contact_phone": "12", "business_name": ""})
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"contact_phone", "business_name"}
    assert api.get("/tasks?view=all", "admin").get_json()["total"] == 0


def test_invalid_form_data_changes_nothing(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    before = case(api, case_no)
    tid = task_id(api, case_no, "preview")
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": {"preview_result": "maybe"}})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "preview_result"
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk",
                    json={"data": {"preview_result": "correct", "deficiencies": [{"material": "不存在的材料"}]}})
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"deficiencies.0.material", "deficiencies.0.requirement"}
    after = case(api, case_no)
    assert after["version"] == before["version"] and after["tasks"] == before["tasks"]


def test_another_departments_task_is_forbidden(api):
    case_no = joint_to_approval(api)
    fire_task = task_id(api, case_no, "dept_approval", "fire")
    before = case(api, case_no)
    for who in ("health_approver", "market_clerk", "company"):
        resp = api.post(f"/tasks/{fire_task}/complete", who,
                        json={"data": {"approval_result": "approve", "approval_opinion": "同意"}})
        assert resp.status_code == 403, who
        assert api.post(f"/tasks/{fire_task}/claim", who).status_code == 403, who
    assert case(api, case_no)["version"] == before["version"]


def test_claiming_rules(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    tid = task_id(api, case_no, "preview")
    assert api.post(f"/tasks/{tid}/claim", "market_clerk").get_json()["assignee"] == "market_clerk"
    assert api.post(f"/tasks/{tid}/claim", "market_clerk").status_code == 200  # idempotent
    assert api.post(f"/tasks/{tid}/claim", "market_clerk2").status_code == 409
    assert api.post(f"/tasks/{tid}/complete", "market_clerk2", json={"data": PASS}).status_code == 409
    assert api.post(f"/tasks/{tid}/unclaim", "market_clerk2").status_code == 403
    mine = api.get("/tasks?view=mine", "market_clerk").get_json()
    assert [t["id"] for t in mine["items"]] == [tid]
    assert api.get("/tasks?view=group", "market_clerk2").get_json()["total"] == 0
    assert api.post(f"/tasks/{tid}/unclaim", "market_clerk").get_json()["assignee"] is None
    assert api.get("/tasks?view=group", "market_clerk2").get_json()["total"] == 1
    assert api.post(f"/tasks/{tid}/complete", "market_clerk2", json={"data": PASS}).status_code == 200
    assert api.post(f"/tasks/{tid}/complete", "market_clerk2", json={"data": PASS}).status_code == 409
    history = case(api, case_no)["history"]
    assert [(e["action"], e["actor"]) for e in history if e["task_id"] == tid] == [
        ("claimed", "market_clerk"), ("unclaimed", "market_clerk"), ("completed", "market_clerk2")]


def test_authentication_and_roles(api):
    assert api.get("/tasks").status_code == 401
    assert api.get("/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401
    bad = api.client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong"})
    assert bad.status_code == 401
    missing = api.client.post("/api/v1/auth/token", json={"username": "admin"})
    assert missing.status_code == 400 and missing.get_json()["errors"][0]["field"] == "password"
    assert deploy(api, linear("p", user("work")), user_name="company").status_code == 403
    assert deploy(api, linear("p", user("work")), user_name="market_clerk").status_code == 403
    item = {"code": "X-1", "name": "x", "type_code": "01", "department": "market", "case_kind": "promised",
            "promised_limit": 5, "process_key": "food_licence", "case_prefix": "XX"}
    assert api.post("/items", "market_head", json=item).status_code == 403


def test_applicants_see_only_their_own_cases(api):
    case_no = apply(api, FOOD, FOOD_APPLY, user="company")["case_no"]
    assert api.get(f"/cases/{case_no}", "company").status_code == 200
    assert api.get(f"/cases/{case_no}", "citizen").status_code == 404
    assert api.get(f"/cases/{case_no}", "fire_approver").status_code == 404  # another department
    assert api.get(f"/cases/{case_no}", "market_approver").status_code == 200  # the item's department
    assert api.get(f"/cases/{case_no}", "supervisor").status_code == 200
    assert api.get("/tasks?view=all", "citizen").get_json()["total"] == 0


def test_item_rules(api):
    item = {"code": "X-1", "name": "x", "type_code": "01", "department": "market", "case_kind": "promised",
            "statutory_limit": 20, "promised_limit": 25, "process_key": "not_deployed", "case_prefix": "XX",
            "form_key": "missing.form"}
    resp = api.post("/items", "admin", json=item)
    assert resp.status_code == 400
    assert {e["field"] for e in resp.get_json()["errors"]} == {"promised_limit", "process_key", "form_key"}
    resp = api.post("/items", "admin", json={**item, "type_code": "99", "case_kind": "later"})
    assert {e["field"] for e in resp.get_json()["errors"]} == {"type_code", "case_kind"}
    assert api.get("/items/X-1").status_code == 404


def test_joint_item_guide_is_public(api):
    guide = api.get(f"/items/{JOINT}").get_json()
    assert guide["joint"] is True and guide["statutory_limit"] == 45
    assert guide["departments"] == ["fire", "health", "planning"]
    for field in ("legal_basis", "fees", "implementing_agency", "accepting_agency", "office_hours", "location",
                  "phone", "complaint_channel", "materials", "type_name", "case_kind_name"):
        assert guide[field], field


def test_completed_task_again_is_a_conflict(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    tid = task_id(api, case_no, "preview")
    complete(api, case_no, "preview", "market_clerk", PASS)
    assert api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": PASS}).status_code == 409
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    assert api.post("/tasks/not-a-task/complete", "market_clerk", json={"data": {}}).status_code == 404


def test_form_fields_may_not_hide_script_helpers(api):
    field = (b'<bpmn:extensionElements><camunda:formData><camunda:formField id="date" label="Date" type="date"/>'
             b'</camunda:formData></bpmn:extensionElements><bpmn:incoming>f0</bpmn:incoming>')
    bpmn = linear("p", user("when")).replace(b"<bpmn:incoming>f0</bpmn:incoming>", field, 1)
    resp = deploy(api, bpmn)
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == [
        {"element_id": "when", "message": "form field names reserved for script helpers: date"}]


def test_window_intake_on_behalf_of_an_applicant(api):
    resp = api.post("/cases", "market_clerk", json={"item_code": FOOD, "data": FOOD_APPLY})
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "applicant"
    resp = post_case(api, FOOD, FOOD_APPLY, "market_clerk", applicant="citizen")
    assert resp.status_code == 201 and resp.get_json()["applicant"] == "citizen"
    assert api.get(f"/cases/{resp.get_json()['case_no']}", "citizen").status_code == 200
    resp = api.post("/cases", "company", json={"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"})
    assert resp.status_code == 403
    resp = api.post("/cases", "market_approver", json={"item_code": FOOD, "data": FOOD_APPLY})
    assert resp.status_code == 403
