"""一次一评 in a real browser: a window clerk prints a receipt, the applicant scans its QR code and rates the
visit without signing in; the same visit cannot be rated twice; the tablet at the window shows the visit
with the case number masked."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import FOOD, FOOD_APPLY

from .conftest import assert_accessible, sign_in
from .flow_helpers import TIMEOUT, api

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")


def decode_qr(png: bytes) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(code.text)


def test_a_visit_is_rated_from_the_printed_receipts_qr_without_signing_in(browser, live_server, shots):
    api(live_server, "PUT", "/windows/W09", "admin", {"name": "市场监管综合窗口", "department": "market",
                                                      "clerks": ["market_clerk"]})
    case_no = api(live_server, "POST", "/cases", "market_clerk",
                  {"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"})["case_no"]

    clerk = sign_in(browser, live_server, "market_clerk")
    clerk.goto(f"{live_server}/staff/cases/{case_no}")
    clerk.locator("ul.notices a").filter(has_text="收件").first.click()
    qr = clerk.locator("img.doc-rating-qr")
    expect(qr).to_be_visible(timeout=TIMEOUT)
    shots(clerk, "receipt-with-qr")
    url = decode_qr(qr.screenshot())
    assert url.startswith(f"{live_server}/rate/visit/")
    assert clerk.locator(".doc-rating-url").inner_text() == url  # printed for those without a scanner
    clerk.reload()  # printed again the same day: the same visit, the same code
    assert decode_qr(clerk.locator("img.doc-rating-qr").screenshot()) == url
    clerk.context.close()

    visitor = browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 900}).new_page()  # a phone
    visitor.goto(url)
    assert_accessible(visitor)
    expect(visitor.get_by_role("heading", name="评价本次服务")).to_be_visible()
    assert case_no not in visitor.content() and "市场监管综合窗口" in visitor.content()  # masked, no names
    visitor.get_by_role("group", name="整体满意度").get_by_label("不满意", exact=True).check()
    for dimension in ("服务效率", "服务水平", "服务态度"):
        visitor.get_by_role("group", name=dimension).get_by_label("满意", exact=True).check()
    visitor.get_by_role("button", name="提交评价").click()
    expect(visitor.get_by_role("alert")).to_contain_text("评价未提交")  # nothing saved yet
    expect(visitor.get_by_role("group", name="差评原因")).to_contain_text("差评须至少选择一项原因")
    expect(visitor.get_by_role("group", name="整体满意度").get_by_label("不满意", exact=True)).to_be_checked()
    visitor.get_by_role("group", name="差评原因").get_by_label("服务态度").check()
    visitor.get_by_label("意见建议（选填）").fill("等候时间较长")
    visitor.get_by_role("button", name="提交评价").click()
    expect(visitor.get_by_role("status")).to_contain_text("感谢您的评价")
    shots(visitor, "rated")
    visitor.goto(url)
    expect(visitor.get_by_text("本次服务已评价")).to_be_visible()
    assert visitor.get_by_role("button", name="提交评价").count() == 0
    visitor.context.close()

    listed = api(live_server, "GET", "/ratings?window=W09", "supervisor")
    assert [(r["level"], r["reasons"][0]["code"], r["comment"]) for r in listed["items"]] == [
        (2, "attitude", "等候时间较长")]
