"""The administrators' working-day calendar page (工作日历): twelve month grids with holidays and make-up
days, the provisional banner of an unpublished year, editing one day, importing a year's arrangement
with every bad line listed, the publish toggle, both languages, and who may open it."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from .staff_helpers import Browser, flashes, main_text, text

pytestmark = pytest.mark.usefixtures("demo")


def cell(resp, day: date) -> str:
    """The month-grid cell of a day: its class list and title."""
    match = re.search(rf'<td class="([^"]*)"\s+data-date="{day.isoformat()}"( title="[^"]*")?', text(resp))
    assert match, f"no cell for {day}"
    return match.group(1) + (match.group(2) or "")


def upload(browser: Browser, name: str, content: str, year: int = 2027):
    return browser.post("/admin/calendar/import", {"year": str(year), "file": (io.BytesIO(content.encode()), name)},
                        content_type="multipart/form-data")


def test_year_view_shows_holidays_and_make_up_days(app):
    admin = Browser(app, "admin")
    start = admin.get("/admin/calendar")
    assert start.status_code == 302 and start.headers["Location"].endswith("/admin/calendar/2026")
    page = admin.get("/admin/calendar/2026")
    assert page.status_code == 200
    body = main_text(page)
    assert "工作日历 2026" in body and "已发布" in body and "暂定" not in body.split("图例")[0]
    assert page.get_data(as_text=True).count('<table class="month">') == 12
    assert "holiday" in cell(page, date(2026, 10, 1)) and "国庆节" in cell(page, date(2026, 10, 1))
    assert "makeup" in cell(page, date(2026, 9, 20)) and "makeup" in cell(page, date(2026, 10, 10))
    assert "holiday" not in cell(page, date(2026, 11, 23)) and "today" in cell(page, date(2026, 11, 23))
    assert 'href="/admin/calendar"' in text(page)  # the header link, for administrators
    assert "2026-10-01 国庆节" in text(page)
    english = Browser(app, "admin", lang="en").get("/admin/calendar/2026")
    assert "Working-day calendar 2026" in main_text(english) and "National Day" in cell(english, date(2026, 10, 1))


def test_an_unpublished_year_is_provisional(app):
    admin = Browser(app, "admin")
    page = admin.get("/admin/calendar/2027")
    assert "2027 年节假日安排尚未发布" in main_text(page)
    assert "statutory" in cell(page, date(2027, 1, 1)) and "元旦" in cell(page, date(2027, 1, 1))
    assert admin.get("/admin/calendar/1990").status_code == 404


def test_edit_one_day_and_back(app):
    admin = Browser(app, "admin")
    admin.get("/admin/calendar/2026")
    done = admin.post("/admin/calendar/2026/day", {"date": "2026-11-26", "kind": "local", "name": "地方假日"})
    assert done.status_code == 302
    page = admin.get("/admin/calendar/2026")
    assert any("2026-11-26 已设为：地方性假日" in f for f in flashes(page))
    assert "holiday" in cell(page, date(2026, 11, 26)) and "local" in cell(page, date(2026, 11, 26))
    refused = admin.post("/admin/calendar/2026/day", {"date": "2026-11-25", "kind": "workday"})
    page = admin.get(refused.headers["Location"])
    assert any("调休上班日必须是周末" in f for f in re.findall(r'flash-error[^>]*>(.*?)</div>', text(page), re.S))
    admin.post("/admin/calendar/2026/day", {"date": "2026-11-26", "kind": ""})
    assert "holiday" not in cell(admin.get("/admin/calendar/2026"), date(2026, 11, 26))


def test_import_lists_every_bad_line_and_changes_nothing(app):
    admin = Browser(app, "admin")
    admin.get("/admin/calendar/2027")
    bad = upload(admin, "2027.csv", "date,kind,name\n2027-01-01,休,元旦\n2027-01-05,班,周二\n2027-02-30,休,x\n")
    assert bad.status_code == 400
    body = main_text(bad)
    assert "2027.csv 未导入" in body and "第 3 行" in body and "第 4 行" in body and "调休上班日必须是周末" in body
    assert "2027 年节假日安排尚未发布" in main_text(admin.get("/admin/calendar/2027"))
    good = upload(admin, "2027.json", '{"year": 2027, "days": [{"date": "2027-01-01", "kind": "holiday", '
                                      '"name": "元旦"}, {"date": "2027-02-06", "kind": "workday", "name": "春节"}]}')
    assert good.status_code == 302 and good.headers["Location"].endswith("/admin/calendar/2027")
    page = admin.get("/admin/calendar/2027")
    assert any("2027 年安排已导入：2 天" in f for f in flashes(page))
    assert "已发布" in main_text(page) and "makeup" in cell(page, date(2027, 2, 6))
    admin.post("/admin/calendar/2027/publish", {"published": "0"})
    assert "2027 年节假日安排尚未发布" in main_text(admin.get("/admin/calendar/2027"))
    empty = admin.post("/admin/calendar/import", {"year": "2027"})
    assert empty.status_code == 302


def test_forms_need_the_csrf_token(app):
    admin = Browser(app, "admin")
    admin.get("/admin/calendar/2026")
    resp = admin.client.post("/admin/calendar/2026/day", data={"date": "2026-11-26", "kind": "holiday"})
    assert resp.status_code == 400
    assert "holiday" not in cell(admin.get("/admin/calendar/2026"), date(2026, 11, 26))


@pytest.mark.parametrize("user", ["market_clerk", "supervisor", "market_head", "company"])
def test_only_administrators_open_or_change_it(app, user):
    other = Browser(app, user)
    assert other.get("/admin/calendar/2026").status_code == 403
    assert other.get("/admin/calendar").status_code == 403
    if user != "company":
        assert 'href="/admin/calendar"' not in text(other.get("/staff/inbox"))
    assert other.post("/admin/calendar/2026/day", {"date": "2026-11-26", "kind": "holiday"}).status_code == 403
    assert other.post("/admin/calendar/2027/publish", {"published": "1"}).status_code == 403
    assert upload(other, "x.csv", "2027-01-01,休,元旦").status_code == 403
    admin = Browser(app, "admin")
    assert "holiday" not in cell(admin.get("/admin/calendar/2026"), date(2026, 11, 26))
    assert "2027 年节假日安排尚未发布" in main_text(admin.get("/admin/calendar/2027"))


def test_signed_out_visitors_are_sent_to_sign_in(app):
    resp = app.test_client().get("/admin/calendar/2026")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
