"""The electronic supervision pages: the dashboard, issuing an order, the department's reply, closing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.services.timelimits.clock_sweep import sweep_clocks
from tests.e2e.flows import food_to_review

from .staff_helpers import Browser, text

pytestmark = pytest.mark.usefixtures("demo")


def _order_id(resp) -> int:
    match = re.search(r"/supervision/orders/(\d+)$", resp.headers["Location"])
    assert match, resp.headers.get("Location")
    return int(match.group(1))


def test_issue_reply_close_through_the_pages(app, api):
    case_no = food_to_review(api)
    supervisor = Browser(app, "supervisor")
    home = text(supervisor.get("/staff/inbox"))
    assert "电子监察" in home and 'href="/supervision/"' in home
    assert "电子监察" not in text(Browser(app, "market_clerk").get("/staff/inbox"))

    resp = supervisor.post("/supervision/orders", {"case_no": case_no, "department": "market",
                                                   "reason": "审查超过承诺时限，请说明原因", "reply_by": "2026-11-27"})
    assert resp.status_code == 302
    order_id = _order_id(resp)
    shown = text(supervisor.get(f"/supervision/orders/{order_id}"))
    assert "待回复" in shown and "审查超过承诺时限" in shown and "办结督办单" in shown and "提交回复" not in shown

    head = Browser(app, "market_head")
    listed = text(head.get("/supervision/orders"))
    assert case_no in listed and "下发督办单" not in listed
    page = text(head.get(f"/supervision/orders/{order_id}"))
    assert "提交回复" in page and "办结督办单" not in page
    assert head.post(f"/supervision/orders/{order_id}/reply", {"reply": "已安排专人加快审查"}).status_code == 302
    page = text(head.get(f"/supervision/orders/{order_id}"))
    assert "已回复" in page and "已安排专人加快审查" in page and "回复已提交" in page

    assert supervisor.post(f"/supervision/orders/{order_id}/close").status_code == 302
    assert "已办结" in text(supervisor.get(f"/supervision/orders/{order_id}"))


def test_others_may_not(app, api):
    case_no = food_to_review(api)
    supervisor = Browser(app, "supervisor")
    order_id = _order_id(supervisor.post("/supervision/orders", {
        "case_no": case_no, "department": "market", "reason": "请说明", "reply_by": "2026-11-27"}))
    clerk = Browser(app, "market_clerk")
    assert clerk.get("/supervision/").status_code == 403
    assert clerk.post("/supervision/orders", {"case_no": case_no, "department": "market", "reason": "x",
                                              "reply_by": "2026-11-27"}).status_code == 403
    assert clerk.post(f"/supervision/orders/{order_id}/reply", {"reply": "收到"}).status_code == 403
    housing = Browser(app, "housing_head")
    assert housing.get(f"/supervision/orders/{order_id}").status_code == 404
    assert housing.post(f"/supervision/orders/{order_id}/reply", {"reply": "收到"}).status_code == 404
    assert Browser(app, "market_head").post(f"/supervision/orders/{order_id}/close").status_code == 403
    # without the CSRF token nothing is issued
    resp = supervisor.client.post("/supervision/orders", data={"case_no": case_no, "department": "market",
                                                              "reason": "x", "reply_by": "2026-11-27"})
    assert resp.status_code == 400
    assert len(re.findall(r'id="order-\d+"', text(supervisor.get("/supervision/orders")))) == 1


def test_bad_input_is_shown_next_to_the_field(app, api):
    case_no = food_to_review(api)
    supervisor = Browser(app, "supervisor")
    resp = supervisor.post("/supervision/orders", {"case_no": case_no, "department": "housing", "reason": "",
                                                   "reply_by": "2026-11-23"})
    assert resp.status_code == 400
    shown = text(resp)
    assert "请选择承办该办件的部门（market）" in shown and "回复期限须晚于今天" in shown and "请填写督办事由" in shown
    resp = supervisor.post("/supervision/orders", {"case_no": case_no, "department": "market", "reason": "x",
                                                   "reply_by": "下周"})
    assert resp.status_code == 400 and "请填写日期" in text(resp)
    resp = supervisor.post("/supervision/orders", {"case_no": "NOPE1", "department": "market", "reason": "x",
                                                   "reply_by": "2026-11-27"})
    assert resp.status_code == 400 and "没有这个办件编号" in text(resp)
    resp = supervisor.get("/supervision/?from=2026-12-01&to=2026-11-01")
    assert resp.status_code == 400 and "起始日期不能晚于截止日期" in text(resp)


def test_dashboard_shows_a_case_gone_red(app, api, ctx, clock):
    case_no = food_to_review(api)
    supervisor = Browser(app, "supervisor")
    before = text(supervisor.get("/supervision/"))
    assert "没有超期办件" in before and case_no not in before
    clock.advance(timedelta(days=16))
    sweep_clocks(ctx)
    after = text(supervisor.get("/supervision/?department=market"))
    assert f'href="/staff/cases/{case_no}"' in after and "超期办件" in after
    row = re.search(r'<tr id="department-market">(.*?)</tr>', after, re.S)
    assert row and 'class="num level-red"><span class="lvl lvl-red">1</span>' in row.group(1)
    english = text(Browser(app, "supervisor", lang="en").get("/supervision/"))
    assert "Overdue cases" in english and "On-time completion rate" in english
