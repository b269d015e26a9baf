"""Delivery of the licence in a real browser (送达): the window clerk records who collected the licence on the
staff case page; the applicant sees the licence section on their case page and downloads the PDF."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, PASS

from .conftest import assert_accessible, sign_in
from .flow_helpers import TIMEOUT, field, snap
from .test_staff_pages import call, step

NUMBER = "JY14201020269901"


def issued_for_pickup(page: Any, base: str) -> str:
    """A food licence granted and issued for pickup, set up through the API."""
    case_no = call(page, base, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    issuance = {"licence_no": NUMBER, "issue_date": "2026-11-30", "delivery_method": "pickup"}
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", issuance)):
        step(page, base, case_no, key, user, data)
    return str(case_no)


def test_clerk_records_the_collection_and_the_applicant_downloads_the_licence(browser, live_server, shots):
    clerk = sign_in(browser, live_server, "center_clerk")
    case_no = issued_for_pickup(clerk, live_server)

    clerk.goto(f"{live_server}/staff/cases/{case_no}")
    section = clerk.locator("section.licence-delivery")
    expect(section.get_by_role("heading", name="证照与送达")).to_be_visible(timeout=TIMEOUT)
    expect(section.locator(".delivery-status")).to_have_text("待领取")
    assert_accessible(clerk)
    field(section, "领取人").fill("王五")
    field(section, "领取人身份证号码").fill("420102199001010014")
    section.get_by_role("radio", name="代领").check()
    snap(shots, clerk, "clerk-collection-form")
    section.get_by_role("button", name="登记领取").click()
    expect(clerk.get_by_text("已登记领取。请打印领证回执请领取人签字。")).to_be_visible(timeout=TIMEOUT)
    section = clerk.locator("section.licence-delivery")
    expect(section.locator(".delivery-status")).to_contain_text("已领取")
    expect(section.locator(".collector")).to_contain_text("王五")
    expect(section.get_by_role("button", name="登记领取")).to_have_count(0)

    with clerk.expect_navigation():
        section.get_by_role("link", name="打印领证回执").click()
    expect(clerk.locator(".doc-collector")).to_have_text("王五", timeout=TIMEOUT)
    snap(shots, clerk, "pickup-receipt")

    applicant = sign_in(browser, live_server, "company")
    applicant.goto(f"{live_server}/my/cases/{case_no}")
    mine = applicant.locator("section.licence-delivery")
    expect(mine.locator(".licence-no")).to_have_text(NUMBER, timeout=TIMEOUT)
    expect(mine.locator(".delivery-status")).to_contain_text("已领取")
    expect(mine.get_by_role("link", name="核验证照")).to_be_visible()
    assert_accessible(applicant)
    snap(shots, applicant, "applicant-licence-section")
    with applicant.expect_download(timeout=60_000) as info:
        mine.get_by_role("link", name="下载电子证照（PDF）").click()
    download = info.value
    assert download.suggested_filename == f"licence-{NUMBER}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
