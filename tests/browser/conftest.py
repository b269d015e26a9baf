"""Browser tests: the real app served on a loopback port, Debian's chromium driven by Playwright.

Skipped with a reason when chromium or Playwright is missing (`.ci/run` installs chromium). Screenshots go
to test-artifacts/ (not committed).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.clock import SystemClock
from tests.conftest import build_app, wipe

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN"]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with demo data on a file SQLite database, served by a thread on 127.0.0.1."""
    from app.services.demo import load_demo

    db = tmp_path_factory.mktemp("browser") / "browser.sqlite3"
    app = build_app(f"sqlite:///{db}", SystemClock())  # type: ignore[arg-type]
    load_demo(app.extensions["banjian"])
    try:
        with serving(app) as base:
            yield base
    finally:
        wipe(app)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` served by a thread on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _missing(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where a green run must mean the pages were driven."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _missing(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    """Numbered screenshots of a test, in test-artifacts/<test name>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.n = 0

    def __call__(self, page: Any, label: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.folder / f"{self.n:02d}-{label}.png"), full_page=True)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


def sign_in(browser: Any, base: str, username: str, password: str = "demo1234") -> Any:
    """A new browser context (its own cookies) signed in as `username`; returns its page."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def assert_accessible(page: Any) -> None:
    """Basics: a title, and a label for every visible form field."""
    assert page.title().strip()
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => e.name || e.id)""")
    assert unlabeled == [], f"fields without a label on {page.url}: {unlabeled}"
