"""The counter's printable documents: the 存档回执单 (papers filed at the window) and the 审批签批表 (every
step's officer, opinion and time), for staff who may see the case and nobody else."""

from __future__ import annotations

import re

import pytest

from app.services.casework.cases import create_case
from tests.e2e.flows import (
    APPROVE,
    DEPARTMENTS,
    FOOD,
    FOOD_APPLY,
    GRANT,
    ISSUE,
    apply,
    approval,
    complete,
    food_to_review,
    joint_to_approval,
)

from .documents_helpers import who
from .staff_helpers import EN, Browser, text

pytestmark = pytest.mark.usefixtures("demo")


def flat(resp) -> str:
    return re.sub(r"\s+", " ", text(resp))


def rows(page: str, css: str) -> list[str]:
    body = page[page.index(f'class="doc-table {css}"'):]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body[body.index("<tbody>"):body.index("</tbody>")])


def granted_case(api) -> str:
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    return case_no


def test_the_archive_receipt_lists_the_materials_and_who_received_them(app, api):
    case_no = food_to_review(api)
    clerk = Browser(app, "market_clerk")
    case_page = text(clerk.get(f"/staff/cases/{case_no}"))
    assert f'href="/documents/cases/{case_no}/archive-receipt">存档回执单</a>' in case_page

    resp = clerk.get(f"/documents/cases/{case_no}/archive-receipt")
    assert resp.status_code == 200
    page = flat(resp)
    assert "<h1 id=\"doc-title\">存档回执单</h1>" in page and f"CD{case_no}" in page
    for fact in (case_no, "食品经营许可", "420100-SCJG-001", "江城味道餐饮管理有限公司", "2026年11月23日"):
        assert fact in page, fact
    listed = rows(page, "doc-materials")
    assert len(listed) == 7 and "食品经营许可申请书" in listed[0] and "必须提交" in listed[0]
    assert "授权委托书及委托代理人身份证明" in listed[6] and "视情况提交" in listed[6]
    # the officer who accepted the case received its papers; the window's name signs it
    assert "接收人：王芳（工号：SJ0101），市场监督管理局" in page
    assert "市政务服务中心市场监管窗口" in page and "data-print" in page

    en = flat(clerk.client.get(f"/documents/cases/{case_no}/archive-receipt", headers=EN))
    assert "Archive receipt" in en and "Received by: 王芳 (staff no. SJ0101)" in en


def test_the_archive_receipt_waits_for_acceptance_unless_taken_in_at_the_window(app, api, ctx):
    online = apply(api, FOOD, FOOD_APPLY)["case_no"]  # submitted online, not accepted yet
    clerk = Browser(app, "market_clerk")
    assert "archive-receipt" not in text(clerk.get(f"/staff/cases/{online}"))
    assert clerk.get(f"/documents/cases/{online}/archive-receipt").status_code == 404

    walk_in = create_case(ctx, who(ctx, "market_clerk"), FOOD, FOOD_APPLY, applicant="company")["case_no"]
    assert f"/documents/cases/{walk_in}/archive-receipt" in text(clerk.get(f"/staff/cases/{walk_in}"))
    page = flat(clerk.get(f"/documents/cases/{walk_in}/archive-receipt"))
    assert "接收人：王芳（工号：SJ0101）" in page and walk_in in page


def test_the_signoff_sheet_has_every_step_with_officer_opinion_and_time(app, api):
    case_no = granted_case(api)
    head = Browser(app, "market_head")
    assert f'href="/documents/cases/{case_no}/signoff">审批签批表</a>' in text(head.get(f"/staff/cases/{case_no}"))
    resp = head.get(f"/documents/cases/{case_no}/signoff")
    assert resp.status_code == 200
    page = flat(resp)
    assert "<h1 id=\"doc-title\">审批签批表</h1>" in page and "市市场监督管理局" in page
    steps = rows(page, "doc-steps")
    assert [re.sub(r"<[^>]+>", "|", s).split("|")[3] for s in steps] == ["预审", "受理", "审查", "决定", "发证"]
    review, decision = steps[2], steps[3]
    assert "李强" in review and "工号 SJ0201" in review and "市场监督管理局" in review
    assert "审查意见：</span> 材料真实，符合条件" in review
    assert "张伟" in decision and "符合许可条件，准予许可" in decision
    assert re.search(r"2026年11月23日 \d\d:\d\d", review)
    # a licence number is data, not an opinion
    assert "JY14201020260001" not in steps[4]


def test_the_signoff_sheet_has_one_line_per_department_of_a_joint_approval(app, api):
    case_no = joint_to_approval(api)
    complete(api, case_no, "dept_approval", "fire_approver", {"approval_result": "reject",
                                                               "approval_opinion": "消防通道不符合要求"}, department="fire")
    for department in DEPARTMENTS[1:]:
        complete(api, case_no, "dept_approval", f"{department}_approver", approval(), department=department)
    page = flat(Browser(app, "housing_head").get(f"/documents/cases/{case_no}/signoff"))
    lines = [s for s in rows(page, "doc-steps") if "并联审批" in s]
    assert len(lines) == 3
    assert "郑浩" in lines[0] and "消防救援支队" in lines[0] and "不同意" in lines[0] and "消防通道不符合要求" in lines[0]
    assert "冯静" in lines[1] and "卫生健康委员会" in lines[1] and "同意" in lines[1]
    assert "何军" in lines[2] and "自然资源和规划局" in lines[2]


@pytest.mark.parametrize("user", ["company", "citizen", "fire_approver"])
def test_the_applicant_and_outsiders_cannot_open_them(app, api, user):
    case_no = granted_case(api)
    browser = Browser(app, user)
    for doc in ("archive-receipt", "signoff"):
        resp = browser.client.get(f"/documents/cases/{case_no}/{doc}")
        assert resp.status_code == 404, (user, doc)
        assert "王芳" not in text(resp)
    anonymous = app.test_client().get(f"/documents/cases/{case_no}/signoff")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
