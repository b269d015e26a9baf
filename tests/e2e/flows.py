"""Driving the reference items through the API the way their users do: data and small steps."""

from __future__ import annotations

import io
import json
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

FOOD = "420100-SCJG-001"
JOINT = "420100-ZJJ-001"
INSTANT = "420100-SCJG-002"

FOOD_APPLY = {
    "business_name": "武汉市江岸区老街坊餐饮店", "credit_code": "92420102MA4K12345X",
    "legal_representative": "李四", "business_address": "武汉市江岸区沿江大道100号", "premises_area": 85,
    "main_format": "catering", "business_categories": ["hot_food", "cold_food"],
    "food_safety_manager": "李四", "contact_name": "李四", "contact_phone": "13800138000",
}
JOINT_APPLY = {
    "project_name": "光谷中心城安置房二期", "project_code": "2026-420100-47-01-123456",
    "project_address": "武汉市东湖新技术开发区高新大道999号", "planning_permit_no": "建字第420100202600123号",
    "building_area": 52000.5, "contract_price": 18000, "structure_type": "frame_shear_wall",
    "planned_start_date": "2027-01-10", "planned_completion_date": "2028-12-30",
    "construction_unit": "武汉光谷建设投资有限公司", "credit_code": "91420100MA4K7ABC1D",
    "legal_representative": "张三", "contractor": "中建三局第一建设工程有限责任公司",
    "contact_name": "王工", "contact_phone": "13900139000",
}
INSTANT_APPLY = {
    "business_name": "武汉市江岸区老街坊餐饮店", "credit_code": "92420102MA4K12345X",
    "licence_no": "JY14201020012345", "reissue_reason": "lost", "loss_statement": "许可证正本于2026年11月遗失，已登报声明作废",
    "contact_name": "李四",
    "contact_phone": "13800138000",
}
PASS = {"preview_result": "pass"}
ACCEPT = {"accept_result": "accept"}
APPROVE = {"review_result": "approve", "review_opinion": "材料真实，符合条件"}
GRANT = {"decision": "grant", "decision_reason": "符合许可条件，准予许可"}
ISSUE = {"licence_no": "JY14201020260001", "issue_date": "2026-11-30", "delivery_method": "pickup"}
CORRECT = {"preview_result": "correct", "deficiencies": [
    {"material": "食品经营许可申请书", "requirement": "请补充法定代表人签字"},
]}
RESUBMIT = {"correction_note": "已补充签字", "correction_confirmed": True}
DEPARTMENTS = ("fire", "health", "planning")


def apply(api: Any, item: str, data: dict[str, Any], user: str = "company",
          applicant: str | None = None) -> dict[str, Any]:
    resp = post_case(api, item, data, user, applicant)
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def post_case(api: Any, item: str, data: dict[str, Any], user: str = "company", applicant: str | None = None) -> Any:
    """POST /cases as `user` (for `applicant`, at a window) with a small PDF for each required material
    of the item, as the API requires; the response, whatever it is."""
    files = {f"material-{i}": (f"m{i}.pdf", pdf(f"m{i}")) for i in required_materials(api, item)}
    body = {"item_code": item, "data": data, **({"applicant": applicant} if applicant else {})}
    return post_files(api, "/cases", user, body, files)


def required_materials(api: Any, item: str) -> list[int]:
    """The indexes of the item's required materials, from its guide."""
    guide = api.get(f"/items/{item}", "admin").get_json()
    return [i for i, m in enumerate(guide.get("materials") or []) if m.get("required")]


def pdf(text: str = "banjian") -> bytes:
    """A small PDF (the store types files by their first bytes); `text` makes each one distinct."""
    return b"%PDF-1.4\n%" + text.encode() + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def post_files(api: Any, path: str, user: str, body: dict[str, Any],
               files: dict[str, tuple[str, bytes] | list[tuple[str, bytes]]]) -> Any:
    """POST `body` as the `json` part with `files` (part name -> (filename, bytes), or a list of them);
    a plain JSON request when there are no files. Encoded in memory: the test client would spool a
    large body to a temporary file it never closes."""
    if not files:
        return api.post(path, user, json=body)
    fields = MultiDict([("json", json.dumps(body))])
    for name, value in files.items():
        for filename, content in value if isinstance(value, list) else [value]:
            fields.add(name, FileStorage(io.BytesIO(content), filename=filename, content_type="application/pdf"))
    boundary, encoded = encode_multipart(fields)
    return api.post(path, user, data=encoded, content_type=f"multipart/form-data; boundary={boundary}")


def case(api: Any, case_no: str, user: str = "admin") -> dict[str, Any]:
    resp = api.get(f"/cases/{case_no}", user)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def task_id(api: Any, case_no: str, key: str, department: str | None = None) -> str:
    tasks = [t for t in case(api, case_no)["tasks"] if t["task_key"] == key
             and (department is None or t["department"] == department)]
    assert len(tasks) == 1, f"expected one open '{key}' task, open: {case(api, case_no)['tasks']}"
    return str(tasks[0]["id"])


def complete(api: Any, case_no: str, key: str, user: str, data: dict[str, Any],
             department: str | None = None) -> dict[str, Any]:
    tid = task_id(api, case_no, key, department)
    resp = api.post(f"/tasks/{tid}/complete", user, json={"data": data})
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def correct(api: Any, case_no: str, user: str = "company", data: dict[str, Any] = RESUBMIT) -> dict[str, Any]:
    """Complete the correction step as `user` (the applicant, or a window clerk for a walk-in case) with a
    new file for every material the correction notice lists, as the rule asks."""
    detail = case(api, case_no)
    listed = {d["material"] for d in detail["data"].get("deficiencies") or []}
    guide = api.get(f"/items/{detail['item_code']}", user).get_json()
    files: dict[str, tuple[str, bytes] | list[tuple[str, bytes]]] = {
        f"material-{i}": (f"补正{i}.pdf", pdf(f"corrected {i}"))
        for i, m in enumerate(guide["materials"]) if m["name"] in listed}
    resp = post_files(api, f"/tasks/{task_id(api, case_no, 'correction')}/complete", user, {"data": data}, files)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def open_keys(api: Any, case_no: str) -> list[str]:
    return sorted(t["task_key"] for t in case(api, case_no)["tasks"])


def food_to_review(api: Any) -> str:
    case_no = str(apply(api, FOOD, FOOD_APPLY)["case_no"])
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    return case_no


def joint_to_approval(api: Any) -> str:
    case_no = str(apply(api, JOINT, JOINT_APPLY, user="builder")["case_no"])
    complete(api, case_no, "preview", "housing_clerk", PASS)
    complete(api, case_no, "acceptance", "housing_clerk", ACCEPT)
    return case_no


def approval(result: str = "approve") -> dict[str, str]:
    return {"approval_result": result, "approval_opinion": "同意" if result == "approve" else "消防通道不符合要求"}
