"""A process whose user tasks carry only inline camunda:formData fields (as Camunda Modeler generates
them) works through the API like a formKey form: its form is readable, bad values are refused with field
messages and change nothing, good ones complete the step."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from .flows import case, task_id

pytestmark = pytest.mark.usefixtures("demo")

MODEL = (Path(__file__).parent / "data" / "inline_only.bpmn").read_bytes()
ITEM = {"code": "INLINE-1", "name": "现场核查", "type_code": "20", "department": "market",
        "case_kind": "promised", "promised_limit": 5, "process_key": "inline_only", "case_prefix": "IN"}
GOOD = {"inspector_name": "王五", "floors": 3, "has_parking": True, "visit_date": "2026-11-25",
        "verdict": "pass", "site_code": "FORGED"}


def start_case(api) -> str:
    deployed = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(MODEL), "inline_only.bpmn")},
                        content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.get_json()
    assert api.post("/items", "admin", json=ITEM).status_code == 201
    resp = api.post("/cases", "company", json={"item_code": ITEM["code"], "data": {}})
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["case_no"])


def test_the_task_answers_with_its_inline_form_and_current_values(api):
    case_no = start_case(api)
    tid = task_id(api, case_no, "site_check")
    body = api.get(f"/tasks/{tid}", "market_clerk").get_json()
    assert body["id"] == tid and body["case_no"] == case_no and body["name"] == "现场核查"
    fields = {c["key"]: c for c in body["form"]["components"]}
    assert list(fields) == ["inspector_name", "floors", "has_parking", "visit_date", "verdict", "site_code"]
    assert fields["inspector_name"]["validate"] == {"required": True, "minLength": 2, "maxLength": 10}
    assert fields["floors"]["type"] == "number" and fields["floors"]["validate"] == {"min": 1, "max": 30}
    assert fields["floors"]["defaultValue"] == 1
    assert fields["has_parking"]["type"] == "checkbox"
    assert (fields["visit_date"]["type"], fields["visit_date"]["subtype"]) == ("datetime", "date")
    assert fields["verdict"]["values"] == [{"label": "符合", "value": "pass"}, {"label": "不符合", "value": "fail"}]
    assert fields["site_code"]["readonly"] is True
    assert body["values"] == dict.fromkeys(fields)  # nothing entered yet


def test_bad_values_are_refused_field_by_field_and_change_nothing(api):
    case_no = start_case(api)
    tid = task_id(api, case_no, "site_check")
    bad = {"inspector_name": "王", "floors": 31, "has_parking": "perhaps", "verdict": "maybe"}
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": bad})
    assert resp.status_code == 422, resp.get_json()
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"inspector_name", "floors", "has_parking", "visit_date", "verdict"}
    too_long = {**GOOD, "inspector_name": "王" * 11, "floors": 2.5}
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": too_long})
    assert resp.status_code == 422 and {e["field"] for e in resp.get_json()["errors"]} == {"inspector_name", "floors"}
    assert [t["task_key"] for t in case(api, case_no)["tasks"]] == ["site_check"]  # still waiting


def test_good_values_complete_the_step_and_the_next_step_shows_them(api):
    case_no = start_case(api)
    tid = task_id(api, case_no, "site_check")
    resp = api.post(f"/tasks/{tid}/complete", "market_clerk", json={"data": GOOD})
    assert resp.status_code == 200, resp.get_json()
    assert [t["task_key"] for t in resp.get_json()["next_tasks"]] == ["sign_off"]
    done = next(e for e in case(api, case_no)["history"] if e["action"] == "completed")
    assert done["data_after"]["visit_date"] == "2026-11-25" and done["data_after"]["floors"] == 3
    assert done["data_after"].get("site_code") in (None, "")  # readonly: what the client sent is not taken

    nxt = task_id(api, case_no, "sign_off")
    body = api.get(f"/tasks/{nxt}", "market_approver").get_json()
    assert body["values"] == {"verdict": "pass", "sign_off_note": None}
    assert api.post(f"/tasks/{nxt}/complete", "market_approver",
                    json={"data": {"verdict": "fail", "sign_off_note": "同意"}}).status_code == 200
    after = case(api, case_no)
    assert after["tasks"] == [] and after["closed_at"]
    signed = [e for e in after["history"] if e["action"] == "completed"][-1]
    assert signed["data_after"]["sign_off_note"] == "同意" and signed["data_after"].get("verdict") == "pass"


def test_a_task_outside_ones_list_is_not_found(api):
    case_no = start_case(api)
    tid = task_id(api, case_no, "site_check")
    assert api.get(f"/tasks/{tid}", "housing_clerk").status_code == 404
    assert api.get(f"/tasks/{tid}", "company").status_code == 404
    assert api.get("/tasks/no-such-task", "market_clerk").status_code == 404
    assert api.get(f"/tasks/{tid}", "admin").status_code == 200  # sees every open task, as in the list
