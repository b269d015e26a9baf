"""The staff pages in a real browser: the inbox, the preview form with its outcome buttons, the
diagram drawn by bpmn-js with its marks, and fields shown and hidden as the form is filled in."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.clock import SystemClock
from tests.conftest import build_app, wipe
from tests.e2e.flows import APPROVE, FOOD, FOOD_APPLY, GRANT, PASS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """The app with demo data on a file SQLite database, served by a thread on 127.0.0.1."""
    from app.services.demo import load_demo

    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"banjian-staff-browser-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    app = build_app(f"sqlite:///{folder / 'browser.sqlite3'}", SystemClock())  # type: ignore[arg-type]
    load_demo(app.extensions["banjian"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        wipe(app)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def assert_accessible(page: Any) -> None:
    """A title, and a label for every visible form field."""
    assert page.title().strip()
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => e.name || e.id)""")
    assert unlabeled == [], f"fields without a label on {page.url}: {unlabeled}"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=True)


def call(page: Any, base: str, user: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    token = page.request.post(f"{base}/api/v1/auth/token", data={"username": user, "password": "demo1234"}).json()
    resp = page.request.fetch(f"{base}/api/v1{path}", method=method, data=body,
                              headers={"Authorization": f"Bearer {token['token']}"})
    assert resp.ok, resp.text()
    return resp.json()


def step(page: Any, base: str, case_no: str, key: str, user: str, data: dict[str, Any]) -> None:
    tasks = call(page, base, "admin", "GET", f"/cases/{case_no}")["tasks"]
    task = next(t for t in tasks if t["task_key"] == key)
    call(page, base, user, "POST", f"/tasks/{task['id']}/complete", {"data": data})


def test_preview_page_with_diagram(browser, live_server):
    page = sign_in(browser, live_server, "market_clerk")
    case_no = call(page, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    page.goto(f"{live_server}/staff/inbox")
    assert page.get_by_role("link", name="部门待认领").is_visible()
    assert_accessible(page)
    shot(page, "inbox")
    with page.expect_navigation():
        page.get_by_role("link", name=case_no).first.click()
    page.wait_for_selector('#case-diagram [data-element-id="preview"].current', timeout=15000)
    assert page.locator('#case-diagram [data-element-id="start"].done').count() == 1
    # the deficiencies depend on the outcome button: they stay visible while the form is filled in
    assert page.locator("#f-deficiencies").is_visible() and page.locator("#f-refusal_reason").is_visible()
    assert_accessible(page)
    page.select_option("#f-deficiencies-0-material", "食品经营许可申请书")
    page.fill("#f-deficiencies-0-requirement", "请补充签字")
    shot(page, "preview-form")
    page.get_by_role("button", name="需补正").click()
    page.wait_for_url(f"{live_server}/staff/inbox")
    assert case_no in page.locator(".flash").inner_text()
    assert call(page, live_server, "admin", "GET", f"/cases/{case_no}")["status"] == "correction"
    page.context.close()


def test_issuance_form_shows_mail_fields_only_for_mail(browser, live_server):
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
    shot(page, "issuance-errors")
    page.context.close()
