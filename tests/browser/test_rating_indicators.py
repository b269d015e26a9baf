"""The 好差评 indicators page in a real browser: a supervisor opens it from the statistics tabs, changes the
grouping and the range, and sees the chart (drawn from the data island, strict CSP) and its table follow;
the public results page works signed out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from app.clock import SystemClock
from app.services.demo import load_demo
from tests.conftest import build_app, wipe
from tests.e2e.test_rating_indicators import insert_ratings

from .conftest import assert_accessible, serving, sign_in
from .flow_helpers import TIMEOUT


@pytest.fixture(scope="module")
def rated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo data and the fixed ratings of the API tests (October to 1 December 2026)."""
    db = tmp_path_factory.mktemp("indicators") / "browser.sqlite3"
    app = build_app(f"sqlite:///{db}", SystemClock())  # type: ignore[arg-type]
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    insert_ratings(ctx)
    try:
        with serving(app) as base:
            yield base
    finally:
        wipe(app)


def test_indicator_chart_and_table_follow_the_filters(browser, rated_server, shots):
    page = sign_in(browser, rated_server, "supervisor")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    page.get_by_role("link", name="好差评指标").click()
    expect(page.locator("#chart[data-rendered='true'] svg")).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("起始日期").fill("2026-11-01")
    page.get_by_label("截止日期").fill("2026-11-30")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("#figures tbody tr")
    expect(rows).to_have_count(2, timeout=TIMEOUT)  # November, and the total
    expect(page.locator("#kpi-good_rate strong")).to_have_text("50.00%")

    page.get_by_label("分组").select_option("department")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(3, timeout=TIMEOUT)  # the two departments rated, and the total
    texts = [r.inner_text().split("\t") for r in rows.all()]
    assert [t[:7] for t in texts] == [
        ["2026-11", "市场监督管理局 (market)", "50.0", "44.44", "25.0", "66.67", "66.67"],
        ["2026-11", "住房和城乡建设局 (housing)", "50.0", "50.0", "0.0", "—", "0.0"],
        ["合计 / total", "", "50.0", "45.45", "21.43", "66.67", "50.0"]]
    chart = page.locator("#chart[data-rendered='true'] svg")
    expect(chart).to_contain_text("市场监督管理局", timeout=TIMEOUT)  # the chart was redrawn for the departments
    assert_accessible(page)
    shots(page, "by-department")

    page.get_by_label("评价渠道").select_option("window")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(2, timeout=TIMEOUT)
    assert rows.first.inner_text().split("\t")[1:4] == ["市场监督管理局 (market)", "33.33", "33.33"]
    expect(page.get_by_text("主动评价好评率 = 办事人主动评价中的好评数")).to_be_visible()
    shots(page, "window-ratings")
    assert errors == []  # no CSP violation, no script error
    page.context.close()


def test_public_results_signed_out(browser, rated_server, shots):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(rated_server)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="好差评公开").click()
    page.get_by_label("年").select_option("2026")
    page.get_by_label("月").select_option("11")
    page.get_by_role("button", name="显示").click()
    expect(page.locator("#chart[data-rendered='true'] svg")).to_be_visible(timeout=TIMEOUT)
    market = page.locator("#results-department tbody tr").first
    expect(market).to_contain_text("市场监督管理局 (market)")
    assert "王芳" not in page.content() and "market_clerk" not in page.content()
    assert_accessible(page)
    shots(page, "public")
    context.close()
