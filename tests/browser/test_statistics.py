"""The statistics page in a real browser: the chart is drawn from the page's data island (the strict CSP
allows no inline script) and its table of figures is there for screen readers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from app.clock import SystemClock
from app.services.demo import load_demo
from app.services.statistics import rollups
from tests.conftest import build_app, wipe
from tests.e2e.flows import FOOD, FOOD_APPLY

from .conftest import assert_accessible, serving, sign_in
from .flow_helpers import TIMEOUT, api


def test_backlog_chart_and_its_table(browser, live_server, shots):
    # Two online applications and one at a window wait for their preview: the live backlog shows them.
    for _ in range(2):
        api(live_server, "POST", "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY})
    api(live_server, "POST", "/cases", "market_clerk", {"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"})
    page = sign_in(browser, live_server, "supervisor")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    expect(page.get_by_role("heading", name="统计分析", level=1)).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("link", name="在办积压").click()
    page.get_by_label("分组").select_option("channel")
    page.get_by_role("button", name="筛选").click()
    chart = page.locator("#chart[data-rendered='true'] svg")
    expect(chart).to_be_visible(timeout=TIMEOUT)  # ECharts drew it (SVG renderer)
    table = page.get_by_role("table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)  # online, window, total
    texts = [r.inner_text().split("\t") for r in rows.all()]
    assert [t[:2] for t in texts] == [["网上申请 / online", "2"], ["窗口收件 / window", "1"], ["合计 / total", "3"]]
    assert_accessible(page)
    shots(page, "backlog")
    assert errors == []  # no CSP violation, no script error
    page.get_by_role("link", name="业务量").click()
    expect(page.locator("#kpi-in-progress strong")).to_have_text("3", timeout=TIMEOUT)
    page.context.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """Like `live_server`, with the app at hand: the rollups are folded in the test, not after the
    scheduler's lag."""
    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('statistics') / 'db.sqlite3'}", SystemClock())  # type: ignore[arg-type]
    load_demo(app.extensions["banjian"])
    try:
        with serving(app) as base:
            yield base, app
    finally:
        wipe(app)


def chart_data(page) -> list[list[Any]]:
    """The series the chart on the page holds now (read from ECharts itself, not from the data island)."""
    return page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart'))"
                         ".getOption().series.map(s => s.data)")


def test_choosing_an_officer_changes_the_chart_and_the_table(browser, served):
    # Two online applications and one recorded by market_clerk at a window for a walk-in citizen.
    base, app = served
    for _ in range(2):
        api(base, "POST", "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY})
    api(base, "POST", "/cases", "market_clerk", {"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"})
    ctx = app.extensions["banjian"]
    rollups.rebuild(ctx, now=ctx.clock.now() + rollups.LAG + timedelta(seconds=1))
    page = sign_in(browser, base, "supervisor")
    page.goto(f"{base}/statistics/?tab=workload&period=year")
    expect(page.locator("#chart[data-rendered='true'] svg")).to_be_visible(timeout=TIMEOUT)
    received = page.locator("#figures tbody tr").last.locator("td").nth(1)
    expect(received).to_have_text("3")
    assert sum(chart_data(page)[0]) == 3  # the chart's first series: received

    page.get_by_label("经办人", exact=True).select_option("market_clerk")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_label("经办人", exact=True)).to_have_value("market_clerk", timeout=TIMEOUT)
    expect(page.locator("#chart[data-rendered='true'] svg")).to_be_visible(timeout=TIMEOUT)
    expect(received).to_have_text("1")
    assert sum(chart_data(page)[0]) == 1
    assert "officer=market_clerk" in (page.locator("#export-xlsx").get_attribute("href") or "")

    page.get_by_role("link", name="在办积压").click()  # the backlog takes no officer: the picker is not there
    expect(page.get_by_label("分组")).to_be_visible(timeout=TIMEOUT)
    assert page.locator("#f-officer").count() == 0
    page.get_by_label("申请渠道").select_option("window")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#figures tbody tr").last.locator("td").first).to_have_text("1", timeout=TIMEOUT)
    assert chart_data(page) == [[1], [0], [0], [0], [0]]  # one window case, received today
    assert_accessible(page)
    page.context.close()
