"""The statistics pages as their users see them: the figures of a small fixed set of cases in the table
under the chart, the CSV and XLSX downloads holding the same numbers (read back with openpyxl), readable
messages for bad filters, and who is offered the page."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from openpyxl import load_workbook

from tests.e2e.test_statistics_api import fixed_cases, seat
from tests.web.signin import sign_in

pytestmark = pytest.mark.usefixtures("demo")
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def table_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="table figures" id="figures">(.*?)</table>', html, re.S)
    assert table, "no figures table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [[unescape(re.sub(r"<[^>]+>", "", c).strip()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def cell(value) -> object:
    """A cell of the page or a download, comparable across them: numbers as numbers (the workbook keeps
    1.0 as 1), no figure ("—" on the page, an empty cell in a download) as None."""
    if value in (None, "", "—"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def cells(rows) -> list[list[object]]:
    return [[cell(v) for v in r] for r in rows]


def test_workload_page_table_and_downloads_hold_the_same_numbers(api, app, clock):
    fixed_cases(api, app, clock)
    client = sign_in(app.test_client(), "supervisor")
    page = client.get(f"/statistics/?tab=workload&{NOVEMBER}&period=day")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = table_rows(html)
    header, body = rows[0], rows[1:]
    assert body[0][:3] == ["2026-11-23", "合计 / all", "4"]  # 4 received on Monday
    assert body[-1][0] == "合计 / total" and body[-1][2:5] == ["4", "1", "2"]  # received, accepted, finished
    assert 'id="chart-data"' in html and "<script>" not in html  # the chart's data is an island, no inline code

    text = client.get(f"/statistics/export.csv?tab=workload&{NOVEMBER}&period=day").get_data().decode("utf-8-sig")
    from_csv = list(csv.reader(io.StringIO(text)))
    assert from_csv[0] == header
    assert cells(from_csv[1:]) == cells(body)

    resp = client.get(f"/statistics/export.xlsx?tab=workload&{NOVEMBER}&period=day")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(v) for v in values[0]] == header
    assert cells(values[1:]) == cells(body)
    assert isinstance(values[1][2], int)  # numbers stay numbers in the workbook


def test_times_and_backlog_tabs(api, app, clock):
    fixed_cases(api, app, clock)
    client = sign_in(app.test_client(), "supervisor")
    times = table_rows(client.get(f"/statistics/?tab=times&{NOVEMBER}").get_data(as_text=True))
    assert [r[2:] for r in times[1:]] == [["收件至受理 / received → accepted", "1", "0.0", "0"],
                                          ["受理至决定 / accepted → decided", "1", "2.0", "2"],
                                          ["收件至办结 / received → finished", "2", "1.5", "2"]]
    backlog = client.get("/statistics/?tab=backlog&by=channel").get_data(as_text=True)
    rows = table_rows(backlog)
    assert rows[1][:3] == ["窗口收件 / window", "1", "1"]


def downloads(client, query: str) -> tuple[list[list[str]], list[list[object]]]:
    """The CSV and the XLSX download of a page's query, as rows."""
    text = client.get(f"/statistics/export.csv?{query}").get_data().decode("utf-8-sig")
    book = load_workbook(io.BytesIO(client.get(f"/statistics/export.xlsx?{query}").get_data()))
    return list(csv.reader(io.StringIO(text))), [list(r) for r in book.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("query", [
    f"tab=times&{NOVEMBER}&by=officer&period=day",
    f"tab=times&{NOVEMBER}&window=W01",
    f"tab=workload&{NOVEMBER}&by=window&period=year",
    "tab=backlog&by=item&channel=window",
])
def test_new_views_download_the_numbers_of_the_page(api, app, ctx, clock, query):
    seat(ctx, clock, "market_clerk")
    fixed_cases(api, app, clock)
    client = sign_in(app.test_client(), "supervisor")
    page = client.get(f"/statistics/?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = table_rows(html)
    assert len(rows) > 2 or "backlog" in query
    from_csv, from_xlsx = downloads(client, query)
    assert from_csv[0] == rows[0] == [str(v) for v in from_xlsx[0]]
    assert cells(from_csv[1:]) == cells(rows[1:]) == cells(from_xlsx[1:])
    # the download links carry the page's filters
    links = re.findall(r'id="export-(?:csv|xlsx)" href="([^"]+)"', html)
    assert len(links) == 2
    for part in query.split("&"):
        assert all(part in link.replace("&amp;", "&") for link in links), part


def test_times_per_officer_on_the_page(api, app, ctx, clock):
    fixed_cases(api, app, clock)
    client = sign_in(app.test_client(), "supervisor")
    rows = table_rows(client.get(f"/statistics/?tab=times&{NOVEMBER}&by=officer").get_data(as_text=True))
    heads = {(r[1].split(" (")[-1].rstrip(")"), r[2]): r[3:] for r in rows[1:]}
    assert heads[("market_head", "受理至决定 / accepted → decided")] == ["1", "2.0", "2"]
    assert heads[("center_clerk", "收件至办结 / received → finished")] == ["1", "2.0", "2"]


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_pickers_offer_what_the_user_may_see(api, app, ctx, clock):
    seat(ctx, clock, "market_clerk")
    fixed_cases(api, app, clock)
    everything = sign_in(app.test_client(), "supervisor").get("/statistics/?tab=times").get_data(as_text=True)
    assert options(everything, "department")[0] == "" and {"market", "housing"} <= set(options(everything, "department"))
    assert "420100-SCJG-001" in options(everything, "item") and options(everything, "window") == ["", "W01"]
    assert {"market_clerk", "center_clerk"} <= set(options(everything, "officer"))
    assert "company" not in options(everything, "officer")  # applicants are not officers

    head = sign_in(app.test_client(), "market_head")
    own = head.get("/statistics/?tab=workload").get_data(as_text=True)
    assert options(own, "department") == ["market"]  # no "all departments" for a head
    assert "420100-SCJG-001" in options(own, "item")
    assert "420100-ZJJ-001" not in options(own, "item")  # the housing department's
    assert "center_clerk" in options(own, "officer")  # acted on the department's cases (issued A)
    other = sign_in(app.test_client(), "housing_head").get("/statistics/").get_data(as_text=True)
    assert "420100-SCJG-001" not in options(other, "item") and "center_clerk" not in options(other, "officer")

    backlog = sign_in(app.test_client(), "supervisor").get("/statistics/?tab=backlog&officer=market_clerk")
    html = backlog.get_data(as_text=True)
    assert backlog.status_code == 200 and 'id="f-officer"' not in html and 'id="f-from"' not in html


def test_bad_filters_give_a_readable_message_and_no_figures(app):
    client = sign_in(app.test_client(), "supervisor")
    for query, field in (("from=2026-02-30", "from"), ("by=colour", "by"), ("department=nope", "department"),
                         ("from=2026-12-01&to=2026-11-01", "to")):
        page = client.get(f"/statistics/?{query}")
        assert page.status_code == 400, query
        html = page.get_data(as_text=True)
        assert f'id="error-{field}"' in html and 'id="figures"' not in html, query
    assert client.get("/statistics/export.csv?from=nonsense").status_code == 400


@pytest.mark.parametrize(("user", "offered"), [
    ("supervisor", True), ("admin", True), ("market_head", True), ("market_clerk", False), ("designer", False),
])
def test_the_page_is_offered_to_exactly_the_roles_that_may_open_it(app, user, offered):
    client = sign_in(app.test_client(), user)
    nav = re.search(r'<nav class="main-nav".*?</nav>', client.get("/").get_data(as_text=True), re.S)
    assert nav and ('href="/statistics/"' in nav.group(0)) == offered
    assert client.get("/statistics/").status_code == (200 if offered else 403)
    assert client.get("/statistics/export.csv").status_code == (200 if offered else 403)


def test_a_head_sees_their_own_department_only(api, app, clock):
    fixed_cases(api, app, clock)
    head = sign_in(app.test_client(), "housing_head")
    html = head.get(f"/statistics/?{NOVEMBER}").get_data(as_text=True)
    assert table_rows(html)[-1][2] == "0"  # the food cases belong to the market department
    assert head.get(f"/statistics/?{NOVEMBER}&department=market").status_code == 403
