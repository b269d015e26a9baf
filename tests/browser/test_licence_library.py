"""The licence library (证照库) in a real browser: a market clerk opens it from the navigation, finds a
holder's licence by name, opens it and sees both versions (the first replaced by a change), then follows
the replaced version's verification link to the public page, which leads on to the current version."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.flows import APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS

from .conftest import assert_accessible, sign_in
from .test_staff_pages import call, step

NUMBER = ISSUE["licence_no"]


def _changed_licence(page, base: str) -> None:
    case_no = call(page, base, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    step(page, base, case_no, "preview", "market_clerk", PASS)
    step(page, base, case_no, "acceptance", "market_clerk", {"accept_result": "accept"})
    step(page, base, case_no, "review", "market_approver", APPROVE)
    step(page, base, case_no, "decision", "market_head", GRANT)
    step(page, base, case_no, "issue_licence", "center_clerk", ISSUE)
    change = call(page, base, "company", "POST", "/cases", {"item_code": "420100-SCJG-003", "data": {
        "existing_licence_no": NUMBER, "business_address": "武汉市江岸区中山大道200号", "change_reason": "经营场所搬迁",
        "contact_name": "李四", "contact_phone": "13800138000"}})["case_no"]
    step(page, base, change, "review_change", "market_clerk", {"handling_result": "grant"})


def test_a_clerk_finds_a_holders_licence_and_opens_it(browser, live_server, shots):
    page = sign_in(browser, live_server, "market_clerk")
    _changed_licence(page, live_server)
    page.goto(f"{live_server}/staff/inbox")
    with page.expect_navigation():
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="证照库").click()
    assert_accessible(page)
    page.get_by_label("持证主体（名称、身份证号码或统一社会信用代码）").fill("老街坊")
    page.get_by_label("状态").select_option("valid")
    with page.expect_navigation():
        page.get_by_role("button", name="搜索").click()
    row = page.locator(f"#licence-{NUMBER}")
    expect(row).to_contain_text("武汉市江岸区老街坊餐饮店")
    expect(row).to_contain_text("有效")
    shots(page, "library")

    with page.expect_navigation():
        row.get_by_role("link", name=NUMBER).click()
    expect(page.locator("#facts")).to_contain_text("武汉市江岸区中山大道200号")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator("#version-1")).to_contain_text("被第 2 版替代")
    expect(page.locator("#version-2")).to_contain_text("有效")
    assert page.locator("#version-2").get_by_role("link", name="PDF").get_attribute("href") == \
        f"/licences/{NUMBER}.pdf?version=2"
    assert_accessible(page)
    shots(page, "licence")

    with page.expect_navigation():
        page.locator("#version-1").get_by_role("link", name="核验").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "replaced")
    with page.expect_navigation():
        page.locator("[data-current]").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "valid")
    shots(page, "verified-current")
    page.context.close()
