"""The 好差评 indicator and performance pages as their users see them: the fixed data set's figures in the
table under the chart, the CSV and XLSX downloads holding the same numbers (read back with openpyxl), the
formulas stated, the weights form for administrators; and the public results page, signed out, naming no
person."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from tests.e2e.test_rating_indicators import insert_ratings, performance_data
from tests.web.signin import sign_in
from tests.web.test_statistics_pages import cells, table_rows

pytestmark = pytest.mark.usefixtures("demo")
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def rows_of(html: str, table_id: str) -> list[list[str]]:
    return table_rows(html.replace(f'<table class="table figures" id="{table_id}">',
                                   '<table class="table figures" id="figures">'))


def downloads_match(client, path: str, query: str, html: str) -> None:
    rows = table_rows(html)
    header, body = rows[0], rows[1:]
    text = client.get(f"{path}/export.csv?{query}").get_data().decode("utf-8-sig")
    from_csv = list(csv.reader(io.StringIO(text)))
    assert from_csv[0] == header
    assert cells(from_csv[1:]) == cells(body)
    resp = client.get(f"{path}/export.xlsx?{query}")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    values = [list(r) for r in load_workbook(io.BytesIO(resp.get_data())).active.iter_rows(values_only=True)]
    assert [str(v) for v in values[0]] == header
    assert cells(values[1:]) == cells(body)


def test_indicator_table_and_downloads_hold_the_same_numbers(app, ctx):
    insert_ratings(ctx)
    client = sign_in(app.test_client(), "supervisor")
    query = f"{NOVEMBER}&by=department"
    page = client.get(f"/statistics/ratings?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = table_rows(html)
    # period, group, the five rates (%), then services, with a level, good ...
    market = next(r for r in rows if "(market)" in r[1])
    assert market[:8] == ["2026-11", "市场监督管理局 (market)", "50.0", "44.44", "25.0", "66.67", "66.67", "12"]
    housing = next(r for r in rows if "(housing)" in r[1])
    assert housing[2:7] == ["50.0", "50.0", "0.0", "—", "0.0"]  # no valid bad rating: no rectification rate
    assert rows[-1][:8] == ["合计 / total", "", "50.0", "45.45", "21.43", "66.67", "50.0", "14"]
    assert 'id="chart-data"' in html and "<script>" not in html
    assert "好评率 = 好评数" in html and "实名差评回访率 = 已回访的实名差评数" in html  # the formulas stated
    assert 'id="kpi-good_rate"' in html and "50.00%" in html
    downloads_match(client, "/statistics/ratings", query, html)
    assert isinstance(load_workbook(io.BytesIO(client.get(f"/statistics/ratings/export.xlsx?{query}").get_data()))
                      .active.cell(2, 8).value, int)  # numbers stay numbers


def test_performance_table_downloads_and_weights_form(api, app, ctx):
    performance_data(api, ctx)
    admin = sign_in(app.test_client(), "admin")
    html = admin.get(f"/statistics/performance?{NOVEMBER}").get_data(as_text=True)
    market = next(r for r in table_rows(html) if "(market)" in r[0])
    assert market[1:] == ["20", "90.0", "50.0", "66.67", "2", "10.0", "0.0", "64.33"]
    assert "绩效得分 = Σ 权重" in html and 'id="weight-on_time">40<' in html
    downloads_match(admin, "/statistics/performance", NOVEMBER, html)

    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    bad = admin.post("/statistics/performance/weights", data={"csrf_token": token, "on_time": "-3", "good_rating": "30",
                                                              "rectification": "20", "supervision": "10",
                                                              "order_cap": "abc"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="w-on_time" name="on_time" inputmode="numeric" value="-3" aria-invalid="true"' in text
    assert "请输入 1–100 之间的整数" in text
    saved = admin.post("/statistics/performance/weights", data={"csrf_token": token, "on_time": "50", "good_rating": "20",
                                                                "rectification": "20", "supervision": "10",
                                                                "order_cap": "20"}, follow_redirects=True)
    assert saved.status_code == 200 and "绩效权重已保存" in saved.get_data(as_text=True)
    market = next(r for r in table_rows(admin.get(f"/statistics/performance?{NOVEMBER}").get_data(as_text=True))
                  if "(market)" in r[0])
    assert market[-1] == "73.33"

    supervisor = sign_in(app.test_client(), "supervisor")
    page = supervisor.get(f"/statistics/performance?{NOVEMBER}").get_data(as_text=True)
    assert 'id="weights-title"' not in page  # only administrators set the weights
    assert supervisor.post("/statistics/performance/weights", data={"on_time": "1"}).status_code in (400, 403)


@pytest.mark.parametrize("query", ["from=2026-02-30", "period=week", "by=colour", "channel=fax", "department=nope",
                                   "window=W99", "officer=company", "from=2026-11-30&to=2026-11-01"])
def test_bad_filters_get_a_readable_message(app, query):
    client = sign_in(app.test_client(), "supervisor")
    for path in ("/statistics/ratings", "/statistics/performance"):
        resp = client.get(f"{path}?{query}")
        assert resp.status_code in (200, 400), (path, query)  # the performance page ignores the others' filters
        if resp.status_code == 400:
            assert 'class="error-summary" role="alert"' in resp.get_data(as_text=True)
        assert client.get(f"{path}/export.csv?{query}").status_code in (200, 400)
    assert client.get(f"/statistics/ratings?{query}").status_code == 400


def test_who_is_offered_the_pages(app, ctx):
    insert_ratings(ctx)
    head = sign_in(app.test_client(), "market_head")
    html = head.get(f"/statistics/ratings?{NOVEMBER}").get_data(as_text=True)
    assert table_rows(html)[-1][7] == "12"  # their department only
    assert head.get(f"/statistics/ratings?{NOVEMBER}&department=housing").status_code == 403
    for user in ("market_clerk", "company"):
        client = sign_in(app.test_client(), user)
        assert client.get("/statistics/ratings").status_code == 403
        assert client.get("/statistics/performance/export.csv").status_code == 403
    assert app.test_client().get("/statistics/ratings").status_code == 302  # to the sign-in page


def test_public_page_signed_out_names_no_person(app, ctx):
    insert_ratings(ctx)
    client = app.test_client()
    resp = client.get("/public/ratings?year=2026&month=11")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    departments = rows_of(html, "results-department")
    market = next(r for r in departments if "(market)" in r[0])
    assert market == ["市场监督管理局 (market)", "50.0", "44.44", "25.0", "66.67", "66.67", "12", "5", "5"]
    items = rows_of(html, "results-item")
    assert any("食品经营许可证补办" in r[0] for r in items)
    for person in ("王芳", "赵磊", "孙丽", "李娜", "江城味道", "江城置业", "market_clerk", "housing_clerk", "citizen",
                   "company", "builder", "一号窗口", "W01"):
        assert person not in html, person
    year = client.get("/public/ratings?year=2026&month=all").get_data(as_text=True)
    assert "2026-01-01" in year and "2026-11-23" in year  # the whole year so far
    assert "好差评公开" in client.get("/").get_data(as_text=True)  # linked from the public navigation
    for bad in ("year=1999", "year=abc", "month=13", "month=12"):  # December 2026 has not begun
        assert client.get(f"/public/ratings?{bad}").status_code == 400, bad
