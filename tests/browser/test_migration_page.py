"""A designer moves a running v1 case to v2 from the versions page: preview, migrate, and the case page
shows the new version."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.test_migration_api import KEY, V1, V2_ADDS

from .conftest import assert_accessible, sign_in


def token(page: Any, base: str, user: str) -> str:
    reply = page.request.post(f"{base}/api/v1/auth/token", data={"username": user, "password": "demo1234"}).json()
    return str(reply["token"])


def api(page: Any, base: str, user: str, method: str, path: str, **kwargs: Any) -> Any:
    resp = page.request.fetch(f"{base}/api/v1{path}", method=method,
                              headers={"Authorization": f"Bearer {token(page, base, user)}", **kwargs.pop("headers", {})},
                              **kwargs)
    assert resp.ok, resp.text()
    return resp.json()


def deploy(page: Any, base: str, content: bytes) -> int:
    reply = api(page, base, "designer", "POST", f"/process-definitions?filename={KEY}.bpmn", data=content,
                headers={"Content-Type": "application/xml"})
    return int(reply["version"])


def test_a_designer_migrates_a_v1_case_to_v2_from_the_versions_page(browser, live_server, shots):
    page = sign_in(browser, live_server, "designer")
    assert deploy(page, live_server, V1) == 1
    api(page, live_server, "admin", "POST", "/items", data={
        "code": "MIG-B", "name": "迁移演示", "type_code": "20", "department": "market", "case_kind": "promised",
        "promised_limit": 5, "process_key": KEY, "case_prefix": "MB"})
    case_no = api(page, live_server, "company", "POST", "/cases", data={"item_code": "MIG-B", "data": {}})["case_no"]
    assert deploy(page, live_server, V2_ADDS) == 2

    page.goto(f"{live_server}/design/processes/{KEY}")
    with page.expect_navigation():
        page.locator(f'tr[data-version="1"] a[href*="/design/processes/{KEY}/migrate"]').click()
    assert page.locator("#from-version").input_value() == "1" and page.locator("#to-version").input_value() == "2"
    assert_accessible(page)
    expect(page.locator("#tick-all")).to_be_visible()  # the page's script runs (no inline script under the CSP)
    page.get_by_label(case_no).check()
    assert page.locator("#scope-selected").is_checked()  # ticking a case chooses "only the ticked"
    shots(page, "cases")

    with page.expect_navigation():
        page.get_by_role("button", name="预览迁移").click()
    row = page.locator(f'#migrate-results tr[data-case="{case_no}"]')
    expect(row).to_contain_text("可以迁移")
    expect(row).to_contain_text("first")
    assert api(page, live_server, "admin", "GET", f"/cases/{case_no}")["process_version"] == 1
    shots(page, "preview")

    assert page.get_by_label(case_no).is_checked()  # the selection is kept for the migration
    with page.expect_navigation():
        page.locator("#migrate-button").click()
    expect(page.locator(f'#migrate-results tr[data-case="{case_no}"]')).to_contain_text("已迁移")
    shots(page, "migrated")

    page.goto(f"{live_server}/staff/cases/{case_no}")
    expect(page.locator("dl.facts")).to_contain_text(f"{KEY} v2")
    history = api(page, live_server, "admin", "GET", f"/cases/{case_no}")["history"]
    assert [e["actor"] for e in history if e["action"] == "migrated"] == ["designer"]
    page.context.close()
