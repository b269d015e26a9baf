"""Changing a food licence as its users do it (issue 10): the company applies for the change item on the
portal's apply page naming the licence it holds, the market window grants it on the task page, and the
company's case page then shows version 2 while the QR of version 1 verifies as replaced."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS
from tests.e2e.licence_flows import LICENCE

from .conftest import assert_accessible, sign_in
from .flow_helpers import TIMEOUT, field, open_task, outcome, snap, tiny_pdf
from .test_staff_pages import call, step

CHANGE = "420100-SCJG-003"
NEW_ADDRESS = "武汉市江岸区中山大道200号"
CHANGE_MATERIALS = ("食品经营许可变更申请书", "与变更事项有关的材料")


def test_company_changes_its_licence_on_the_portal_and_the_window_grants_it(browser, live_server, shots,
                                                                            tmp_path: Path):
    applicant = sign_in(browser, live_server, "company")
    food = call(applicant, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", ISSUE)):
        step(applicant, live_server, food["case_no"], key, user, data)
    v1 = call(applicant, live_server, "company", "GET", f"/licences/{LICENCE}")
    assert (v1["version"], v1["facts"]["content"]["经营场所"]) == (1, FOOD_APPLY["business_address"])

    applicant.goto(f"{live_server}/items/{CHANGE}/apply")
    expect(applicant.get_by_role("heading", level=1)).to_contain_text("食品经营许可证变更", timeout=TIMEOUT)
    field(applicant, "许可证编号").fill("JY14201029999999")  # a number the company does not hold
    field(applicant, "变更后的经营场所").fill(NEW_ADDRESS)
    field(applicant, "变更事项及原因").fill("经营场所搬迁")
    field(applicant, "联系人").fill("李四")
    field(applicant, "联系电话（手机）").fill("13800138000")
    for i, material in enumerate(CHANGE_MATERIALS):
        field(applicant, material).set_input_files(tiny_pdf(tmp_path / f"m{i}.pdf", f"m{i}"))
    applicant.get_by_role("button", name="提交申请", exact=True).click()
    expect(applicant.get_by_role("alert").filter(has_text="申请未提交")).to_be_visible(timeout=TIMEOUT)
    expect(applicant.get_by_text("许可证编号：许可证不存在")).to_be_visible()  # the summary's link
    expect(applicant.get_by_text("许可证不存在", exact=True)).to_be_visible()  # beside the field
    form_url = applicant.url
    applicant.goto(f"{live_server}/my/cases")
    expect(applicant.get_by_role("heading", name="我的办件", level=1)).to_be_visible(timeout=TIMEOUT)
    expect(applicant.get_by_role("row").filter(has_text="食品经营许可证变更")).to_have_count(0)  # nothing saved

    applicant.goto(form_url)
    field(applicant, "许可证编号").fill(LICENCE)
    field(applicant, "变更后的经营场所").fill(NEW_ADDRESS)
    field(applicant, "变更事项及原因").fill("经营场所搬迁")
    field(applicant, "联系人").fill("李四")
    field(applicant, "联系电话（手机）").fill("13800138000")
    for i, material in enumerate(CHANGE_MATERIALS):
        field(applicant, material).set_input_files(tiny_pdf(tmp_path / f"m{i}.pdf", f"m{i}"))
    assert_accessible(applicant)
    snap(shots, applicant, "applicant-change-apply")
    applicant.get_by_role("button", name="提交申请", exact=True).click()
    expect(applicant.get_by_role("heading", name="已提交的材料")).to_be_visible(timeout=TIMEOUT)
    case_no = applicant.url.rstrip("/").rsplit("/", 1)[1]

    clerk = sign_in(browser, live_server, "market_clerk")
    open_task(clerk, live_server, case_no, "变更审核", shots, who="clerk")
    expect(clerk.get_by_text(NEW_ADDRESS).first).to_be_visible()
    assert_accessible(clerk)
    snap(shots, clerk, "clerk-grants-change")
    outcome(clerk, "准予办理").click()
    expect(clerk.locator(".flash").first).to_be_visible(timeout=TIMEOUT)
    clerk.context.close()

    applicant.goto(f"{live_server}/my/cases/{case_no}")
    section = applicant.locator("section.licence-delivery")
    expect(section.locator(".licence-no")).to_have_text(LICENCE, timeout=TIMEOUT)
    expect(section.locator(".licence-state")).to_have_class(re.compile(r"\blicence-valid\b"))
    snap(shots, applicant, "applicant-changed-licence")
    v2 = call(applicant, live_server, "company", "GET", f"/licences/{LICENCE}")
    assert (v2["version"], v2["case_no"], v2["facts"]["content"]["经营场所"]) == (2, case_no, NEW_ADDRESS)

    applicant.goto(f"{live_server}/verify/{LICENCE}?sig={v1['short_signature']}")  # the old paper's QR
    verdict = applicant.locator(".verdict")
    expect(verdict).to_have_attribute("data-status", "replaced", timeout=TIMEOUT)
    verdict.get_by_role("link", name=re.compile("2")).click()
    expect(applicant.locator(".verdict")).to_have_attribute("data-status", "valid", timeout=TIMEOUT)
    snap(shots, applicant, "verify-current-version")
    applicant.context.close()
