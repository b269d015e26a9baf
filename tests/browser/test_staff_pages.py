"""Staff pages in a real browser: the preview form with the case diagram, and the issuance form's
conditional fields (progressive enhancement)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows import APPROVE, FOOD, FOOD_APPLY, GRANT, PASS

from .conftest import assert_accessible, sign_in
from .flow_helpers import application_parts


def call(page: Any, base: str, user: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    token = page.request.post(f"{base}/api/v1/auth/token", data={"username": user, "password": "demo1234"}).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    if method == "POST" and path == "/cases" and body is not None:  # with its required materials as files
        data, headers["Content-Type"] = application_parts(base, body)
        resp = page.request.fetch(f"{base}/api/v1{path}", method=method, data=data, headers=headers)
    else:
        resp = page.request.fetch(f"{base}/api/v1{path}", method=method, data=body, headers=headers)
    assert resp.ok, resp.text()
    return resp.json()


def step(page: Any, base: str, case_no: str, key: str, user: str, data: dict[str, Any]) -> None:
    tasks = call(page, base, "admin", "GET", f"/cases/{case_no}")["tasks"]
    task = next(t for t in tasks if t["task_key"] == key)
    call(page, base, user, "POST", f"/tasks/{task['id']}/complete", {"data": data})


def test_preview_page_with_diagram(browser, live_server, shots):
    page = sign_in(browser, live_server, "market_clerk")
    case_no = call(page, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    page.goto(f"{live_server}/staff/inbox")
    assert page.get_by_role("link", name="部门待认领").is_visible()
    assert_accessible(page)
    shots(page, "inbox")
    with page.expect_navigation():
        page.get_by_role("link", name=case_no).first.click()
    page.wait_for_selector('#case-diagram [data-element-id="preview"].current', timeout=15000)
    assert page.locator('#case-diagram [data-element-id="start"].done').count() == 1
    # the deficiencies depend on the outcome button: they stay visible while the form is filled in
    assert page.locator("#f-deficiencies").is_visible() and page.locator("#f-refusal_reason").is_visible()
    assert_accessible(page)
    page.select_option("#f-deficiencies-0-material", "食品经营许可申请书")
    page.fill("#f-deficiencies-0-requirement", "请补充签字")
    shots(page, "preview-form")
    page.get_by_role("button", name="需补正").click()
    page.wait_for_url(f"{live_server}/staff/inbox")
    assert case_no in page.locator(".flash").inner_text()
    assert call(page, live_server, "admin", "GET", f"/cases/{case_no}")["status"] == "correction"
    page.context.close()


def test_issuance_form_shows_mail_fields_only_for_mail(browser, live_server, shots):
    page = sign_in(browser, live_server, "center_clerk")
    case_no = call(page, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", {"accept_result": "accept"}),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT)):
        step(page, live_server, case_no, key, user, data)
    page.goto(f"{live_server}/staff/inbox?view=group")
    with page.expect_navigation():
        page.get_by_role("link", name=case_no).first.click()
    # expect() waits for the page's script to react; a bare is_visible() raced it
    expect(page.locator("#f-licence_no")).to_be_visible()
    expect(page.locator("#f-mail_address")).to_be_hidden()  # hidden until mail is chosen
    page.get_by_label("邮寄送达").check()
    expect(page.locator("#f-mail_address")).to_be_visible()
    page.get_by_label("窗口领取").check()
    expect(page.locator("#f-mail_address")).to_be_hidden()
    page.fill("#f-licence_no", "bad")
    with page.expect_navigation():
        page.get_by_role("button", name="办理完成").click()
    expect(page.get_by_role("alert").first).to_be_visible()  # the error summary, focused
    expect(page.locator(".error-summary")).to_be_focused()
    shots(page, "issuance-errors")
    page.context.close()
