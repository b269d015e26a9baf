"""Reusing a held licence in a real browser (减材料): the company, holding a food licence issued on its
granted case, applies for the reissue item, picks the licence from the licence library instead of uploading
the original, and the window clerk sees "来自证照库" with the licence's number on the task page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, INSTANT, INSTANT_APPLY, ISSUE, PASS
from tests.e2e.licence_flows import FOOD_LICENCE, ITEM_FIELDS, LICENCE, ORIGINAL

from .conftest import assert_accessible, sign_in
from .flow_helpers import TIMEOUT, field, open_task, snap, tiny_pdf
from .test_staff_pages import call, step

REISSUE_MATERIALS = ("食品经营许可证补办申请书", "营业执照或者其他主体资格证明文件", "遗失情况说明或损坏的许可证原件",
                     "经办人身份证明")


def holds_a_food_licence(page: Any, base: str) -> None:
    """Set up through the API: the company's food licence, and the reissue item asking for the original."""
    case_no = call(page, base, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", ISSUE)):
        step(page, base, case_no, key, user, data)
    item = call(page, base, "admin", "GET", f"/items/{INSTANT}")
    materials = [{k: m.get(k) for k in ("name", "required", "description", "template", "sample", "licence_type")}
                 for m in item["materials"]]
    materials.append({"name": ORIGINAL, "required": True, "description": "", "licence_type": FOOD_LICENCE})
    call(page, base, "admin", "PUT", f"/items/{INSTANT}", {**{k: item[k] for k in ITEM_FIELDS}, "materials": materials})


def test_apply_with_a_licence_from_the_library_and_the_clerk_sees_it(browser, live_server, shots, tmp_path: Path):
    applicant = sign_in(browser, live_server, "company")
    holds_a_food_licence(applicant, live_server)

    applicant.goto(f"{live_server}/items/{INSTANT}")
    expect(applicant.get_by_text(f"可调取电子证照：{FOOD_LICENCE}")).to_be_visible(timeout=TIMEOUT)
    applicant.goto(f"{live_server}/items/{INSTANT}/apply")
    applicant.get_by_role("radio", name="遗失", exact=True).check()  # shows the statement field
    for label, key in (("经营者名称", "business_name"), ("统一社会信用代码", "credit_code"), ("原许可证编号", "licence_no"),
                       ("遗失情况说明", "loss_statement"), ("联系人", "contact_name"), ("联系电话（手机）", "contact_phone")):
        field(applicant, label).fill(str(INSTANT_APPLY[key]))
    for i, material in enumerate(REISSUE_MATERIALS):
        field(applicant, material).set_input_files(tiny_pdf(tmp_path / f"m{i}.pdf", f"m{i}"))
    choice = applicant.get_by_role("group", name=f"如何提供“{ORIGINAL}”？")
    offer = choice.get_by_role("radio", name=re.compile(f"使用证照库中的电子证照 {FOOD_LICENCE} {LICENCE}（有效期至 "))
    expect(offer).to_be_visible()
    offer.check()
    assert_accessible(applicant)
    snap(shots, applicant, "applicant-apply-with-licence")
    applicant.get_by_role("button", name="提交申请").click()
    expect(applicant.get_by_role("heading", name="已提交的材料")).to_be_visible(timeout=TIMEOUT)
    case_no = applicant.url.rstrip("/").rsplit("/", 1)[1]
    expect(applicant.locator(".from-library")).to_contain_text(LICENCE)
    snap(shots, applicant, "applicant-case")
    applicant.context.close()

    clerk = sign_in(browser, live_server, "market_clerk")
    open_task(clerk, live_server, case_no, "当场办理", shots, who="clerk")
    source = clerk.locator(".from-library")
    expect(source).to_contain_text("来自证照库", timeout=TIMEOUT)
    expect(source.get_by_role("link", name=re.compile(f"{LICENCE} v1"))).to_have_attribute("href", f"/verify/{LICENCE}")
    snap(shots, clerk, "clerk-task-from-library")
    clerk.context.close()
