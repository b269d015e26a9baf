"""The complete example of docs/designing-processes.md deploys as printed and runs a case to its end, so
the page a designer copies from stays true."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from .flows import case, complete

pytestmark = pytest.mark.usefixtures("demo")

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "designing-processes.md"


def example() -> bytes:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## A complete example"):]
    match = re.search(r"```xml\n(.*?)```", section, re.S)
    assert match, "the example's XML block is missing"
    return match.group(1).encode("utf-8")


def test_the_documented_example_deploys_and_runs_a_case_to_its_decision(api):
    resp = api.post("/process-definitions", "designer", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(example()), "permit.bpmn")})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["key"] == "small_permit"
    item = {"code": "DOC-EXAMPLE", "name": "小型许可", "type_code": "01", "department": "market",
            "case_kind": "promised", "statutory_limit": 20, "promised_limit": 5, "process_key": "small_permit",
            "case_prefix": "DX"}
    assert api.post("/items", "admin", json=item).status_code == 201
    granted = api.post("/cases", "company", json={"item_code": "DOC-EXAMPLE", "data": {}}).get_json()["case_no"]
    refused = api.post("/cases", "company", json={"item_code": "DOC-EXAMPLE", "data": {}}).get_json()["case_no"]

    review = [t for t in case(api, granted)["tasks"] if t["task_key"] == "review"][0]
    form = api.get(f"/tasks/{review['id']}", "market_approver").get_json()["form"]
    assert {c.get("key") for c in form["components"]} >= {"result", "opinion"}  # the inline fields
    bad = api.post(f"/tasks/{review['id']}/complete", "market_approver", json={"data": {"result": "grant"}})
    assert bad.status_code == 422 and "opinion" in str(bad.get_json())

    complete(api, granted, "review", "market_approver", {"result": "grant", "opinion": "符合条件"})
    complete(api, refused, "review", "market_approver", {"result": "refuse", "opinion": "不符合条件"})
    assert case(api, granted)["status"] == "issued"
    assert case(api, refused)["status"] == "refused"
