"""A step whose form is only inline camunda:formData fields shows that form on the staff task page, refuses
bad values with messages at the fields, and completes with good ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .conftest import assert_accessible, sign_in

MODEL = (Path(__file__).parents[1] / "e2e" / "data" / "inline_only.bpmn").read_bytes()
ITEM = {"code": "INLINE-B", "name": "现场核查", "type_code": "20", "department": "market",
        "case_kind": "promised", "promised_limit": 5, "process_key": "inline_only", "case_prefix": "IB"}


def token(page: Any, base: str, user: str) -> str:
    resp = page.request.post(f"{base}/api/v1/auth/token", data={"username": user, "password": "demo1234"})
    return str(resp.json()["token"])


def call(page: Any, base: str, user: str, method: str, path: str, **kwargs: Any) -> Any:
    resp = page.request.fetch(f"{base}/api/v1{path}", method=method,
                              headers={"Authorization": f"Bearer {token(page, base, user)}"}, **kwargs)
    assert resp.ok, resp.text()
    return resp.json()


def test_inline_fields_render_validate_and_complete_on_the_task_page(browser, live_server, shots):
    page = sign_in(browser, live_server, "market_clerk")
    call(page, live_server, "designer", "POST", "/process-definitions", multipart={
        "file": {"name": "inline_only.bpmn", "mimeType": "application/xml", "buffer": MODEL}})
    call(page, live_server, "admin", "POST", "/items", data=ITEM)
    case_no = call(page, live_server, "company", "POST", "/cases", data={"item_code": ITEM["code"], "data": {}})["case_no"]
    task = next(t for t in call(page, live_server, "admin", "GET", f"/cases/{case_no}")["tasks"])

    page.goto(f"{live_server}/staff/tasks/{task['id']}")
    for label in ("核查人", "楼层数", "有停车场", "核查日期", "场所编码"):
        expect(page.get_by_label(label, exact=False).first).to_be_visible()
    expect(page.get_by_text("核查结论").first).to_be_visible()
    expect(page.get_by_text("此步骤没有表单")).to_have_count(0)
    expect(page.get_by_label("场所编码", exact=False).first).not_to_be_editable()
    assert_accessible(page)
    shots(page, "inline-form")

    page.get_by_label("核查人", exact=False).first.fill("王")
    page.get_by_label("楼层数", exact=False).first.fill("31")
    with page.expect_navigation():
        page.get_by_role("button", name="办理完成").click()
    expect(page.locator(".error-summary")).to_be_visible()
    errors = page.locator(".error-summary").inner_text()
    for label in ("核查人", "楼层数", "核查日期", "核查结论"):
        assert label in errors, errors
    shots(page, "inline-errors")

    page.get_by_label("核查人", exact=False).first.fill("王五")
    page.get_by_label("楼层数", exact=False).first.fill("3")
    page.get_by_label("有停车场", exact=False).first.check()
    page.get_by_label("核查日期", exact=False).first.fill("2026-11-25")
    verdict = page.locator('[name="verdict"]')
    if verdict.first.evaluate("e => e.tagName") == "SELECT":
        verdict.first.select_option("pass")
    else:
        page.get_by_label("符合", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="办理完成").click()
    expect(page.locator(".flash")).to_contain_text(case_no)
    view = call(page, live_server, "admin", "GET", f"/cases/{case_no}")
    assert [t["task_key"] for t in view["tasks"]] == ["sign_off"]
    done = next(e for e in view["history"] if e["action"] == "completed")
    assert done["data_after"]["inspector_name"] == "王五" and done["data_after"]["floors"] == 3
    assert done["data_after"]["has_parking"] is True and done["data_after"]["visit_date"] == "2026-11-25"
    assert done["data_after"]["verdict"] == "pass"

    # The approver's step shows the clerk's verdict in its readonly field.
    approver = sign_in(browser, live_server, "market_approver")
    approver.goto(f"{live_server}/staff/tasks/{view['tasks'][0]['id']}")
    expect(approver.get_by_label("复核意见", exact=False).first).to_be_editable()
    expect(approver.get_by_label("核查结论", exact=False).first).to_have_value("pass")
    expect(approver.get_by_label("核查结论", exact=False).first).not_to_be_editable()
    shots(approver, "readonly-verdict")
    approver.context.close()
    page.context.close()
