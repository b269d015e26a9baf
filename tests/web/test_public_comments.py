"""A staff member's public comment reaches the applicant's case page with the author's role, department and
time; an internal comment does not."""

from __future__ import annotations

import re

import pytest

from tests.e2e.flows import food_to_review

from .portal_helpers import sign_in, text
from .staff_helpers import Browser

pytestmark = pytest.mark.usefixtures("demo")


def test_the_applicant_sees_public_comments_and_not_internal_ones(app, api):
    case_no = food_to_review(api)  # applied by the demo account "company"
    staff = Browser(app, "market_approver")
    assert staff.post(f"/staff/cases/{case_no}/comments",
                      {"body": "请于周五前到窗口核验营业执照原件", "public": "true"}).status_code == 302
    assert staff.post(f"/staff/cases/{case_no}/comments", {"body": "内部：申请人曾有违规记录"}).status_code == 302
    assert "内部：申请人曾有违规记录" in text(staff.get(f"/staff/cases/{case_no}"))

    page = text(sign_in(app.test_client(), "company").get(f"/my/cases/{case_no}"))
    section = page[page.index('id="comments"'):]
    section = section[:section.index("</section>")]
    assert "工作人员留言" in section and "请于周五前到窗口核验营业执照原件" in section
    assert re.search(r"审批人员 · 市场监督管理局 · <time>2026-11-23 \d\d:\d\d</time>", section)
    assert "内部" not in page and "李强" not in section  # the internal remark, and no staff names


def test_no_comment_section_without_public_comments(app, api):
    case_no = food_to_review(api)
    Browser(app, "market_approver").post(f"/staff/cases/{case_no}/comments", {"body": "内部备注"})
    page = text(sign_in(app.test_client(), "company").get(f"/my/cases/{case_no}"))
    assert 'id="comments"' not in page and "内部备注" not in page
