"""Numbers and dates typed into a page's URL or a tampered form: a page with a message or a 404, never a 500
(issue 8 §3)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import CaseFile, ClockSuspension, SupervisionOrder
from tests.e2e.flows import food_to_review

from .portal_helpers import FOOD, new_applicant, pdf_bytes, post, upload
from .staff_helpers import Browser, flashes, main_text, text

pytestmark = pytest.mark.usefixtures("demo")

HUGE = str(10**30)
BEYOND_INTEGER = 2**31  # one more than the largest row id (a PostgreSQL INTEGER)
BEYOND_BIGINT = 2**63


def count(ctx, model) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("path", ["/notifications", "/supervision/orders", "/supervision/"])
def test_a_page_number_beyond_any_list_shows_the_page(app, path):
    resp = Browser(app, "supervisor").get(f"{path}?page={HUGE}")
    assert resp.status_code == 200


@pytest.mark.parametrize("user, method, path", [
    ("supervisor", "GET", f"/files/{BEYOND_BIGINT}"),
    ("supervisor", "GET", f"/documents/{BEYOND_BIGINT}"),
    ("supervisor", "GET", f"/supervision/orders/{BEYOND_BIGINT}"),
    ("supervisor", "POST", f"/supervision/orders/{BEYOND_BIGINT}/reply"),
    ("supervisor", "POST", f"/notifications/{BEYOND_BIGINT}/read"),
    ("supervisor", "GET", f"/supervision/orders/{BEYOND_INTEGER}"),
    ("supervisor", "POST", f"/notifications/{BEYOND_INTEGER}/read"),
    ("supervisor", "GET", "/files/0"),
])
def test_an_id_beyond_any_row_is_not_found(app, user, method, path):
    browser = Browser(app, user)
    resp = browser.get(path) if method == "GET" else browser.post(path, {})
    assert resp.status_code == 404


def test_ending_a_special_procedure_beyond_any_row_is_not_found(app, api):
    case_no = food_to_review(api)
    approver = Browser(app, "market_approver")
    ends = [approver.post(f"/staff/cases/{case_no}/suspensions/{big}/end", {}).status_code
            for big in (BEYOND_INTEGER, BEYOND_BIGINT)]
    assert ends == [404, 404]


def test_a_draft_id_beyond_any_row_is_not_found(app):
    me = new_applicant(app.test_client(), "zhang")
    assert [me.get(f"/my/drafts/{big}").status_code for big in (BEYOND_INTEGER, BEYOND_BIGINT)] == [404, 404]


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01"])
def test_dashboard_dates_outside_the_window_are_refused_with_a_message(app, query):
    resp = Browser(app, "supervisor").get(f"/supervision/?{query}")
    assert resp.status_code == 400
    assert "请填写 2000-01-01 至 2199-12-31 之间的日期。" in main_text(resp)


def test_a_reply_date_in_year_9999_is_refused_on_the_order_form(app, api, ctx):
    case_no = food_to_review(api)
    resp = Browser(app, "supervisor").post("/supervision/orders", {
        "case_no": case_no, "department": "market", "reason": "请说明", "reply_by": "9999-12-31"})
    assert resp.status_code == 400
    assert "请填写 2000-01-01 至 2199-12-31 之间的日期。" in main_text(resp)
    assert count(ctx, SupervisionOrder) == 0


@pytest.mark.parametrize("user, path", [
    (None, "/items/%00"), ("market_clerk", "/staff/cases/%00"), ("market_clerk", "/staff/inbox?q=%00"),
    ("supervisor", "/supervision/orders?department=%00"),
])
def test_a_nul_character_in_the_url_is_refused(app, user, path):
    client = Browser(app, user) if user else app.test_client()
    assert client.get(path).status_code == 400


def test_a_nul_character_in_a_form_is_refused(app, api, ctx):
    resp = Browser(app, "supervisor").post("/supervision/orders", {
        "case_no": "\x00", "department": "market", "reason": "请说明", "reply_by": "2026-12-01"})
    assert resp.status_code == 400 and count(ctx, SupervisionOrder) == 0


def test_removing_a_file_by_a_superscript_number_removes_nothing(app, ctx):
    me = new_applicant(app.test_client(), "zhang")
    multi = {"content_type": "multipart/form-data"}
    draft = post(me, f"/items/{FOOD}/apply", {"_action": "save", "material-0": [upload(pdf_bytes(), "scan.pdf")]},
                 **multi).headers["Location"]
    resp = post(me, draft, {"_remove_file": "²"}, **multi)
    assert resp.status_code == 200 and "scan.pdf" in text(resp)
    assert count(ctx, CaseFile) == 1


def test_expected_days_written_as_a_superscript_are_refused(app, api, ctx):
    case_no = food_to_review(api)
    resp = Browser(app, "market_approver").post(f"/staff/cases/{case_no}/suspensions",
                                                {"procedure": "testing", "expected_days": "²"},
                                                follow_redirects=True)
    [error] = flashes(resp)
    assert "预计工作日: 请填写 1–365 个工作日" in error
    assert count(ctx, ClockSuspension) == 0
