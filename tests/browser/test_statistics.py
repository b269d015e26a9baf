"""The statistics page in a real browser: the chart is drawn from the page's data island (the strict CSP
allows no inline script) and its table of figures is there for screen readers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.flows import FOOD, FOOD_APPLY

from .conftest import assert_accessible, sign_in
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
