"""The Content-Security-Policy in a real browser: the main pages, with their scripts (bpmn-js diagrams,
the form-js forms' progressive enhancement), load and work without one violation."""

from __future__ import annotations

from typing import Any

from tests.e2e.flows import FOOD, FOOD_APPLY

from .conftest import sign_in
from .test_staff_pages import call

# Runs before any page script (injected by the browser, not subject to the page's policy).
WATCH = """window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber);
});"""


def watched(page: Any) -> list[str]:
    """Console errors about the policy, collected from now on."""
    page.context.add_init_script(WATCH)
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def visit(page: Any, url: str, ready: str, console: list[str]) -> None:
    response = page.goto(url)
    assert response.ok and "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(ready, timeout=15000)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == [], url
    assert console == [], url


def test_main_pages_load_without_a_policy_violation(browser, live_server, shots):
    anonymous = browser.new_context(locale="zh-CN").new_page()
    console = watched(anonymous)
    # the guide's diagram is drawn by bpmn-js from a static script, no inline one
    visit(anonymous, f"{live_server}/items/{FOOD}", "#process-diagram svg", console)
    shots(anonymous, "guide")
    anonymous.context.close()

    clerk = sign_in(browser, live_server, "market_clerk")
    console = watched(clerk)
    case_no = call(clerk, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    visit(clerk, f"{live_server}/staff/inbox", "table", console)
    with clerk.expect_navigation():
        clerk.get_by_role("link", name=case_no).first.click()
    clerk.wait_for_selector('#case-diagram [data-element-id="preview"].current', timeout=15000)
    clerk.get_by_role("button", name="需补正").wait_for()  # the task's form
    assert clerk.evaluate("window.__violations") == [] and console == []
    shots(clerk, "task")
    clerk.context.close()

    for user, url, ready in (("supervisor", "/supervision/", "main h1"), ("admin", "/admin/calendar", "main h1")):
        page = sign_in(browser, live_server, user)
        console = watched(page)
        visit(page, f"{live_server}{url}", ready, console)
        shots(page, user)
        page.context.close()
