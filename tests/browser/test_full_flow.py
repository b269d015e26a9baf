"""The whole life of a jointly handled case in a real browser, one browser context per person.

建筑工程施工许可证核发（并联审批）: the builder applies online with real PDF and PNG files, the housing
window clerk sends ONE correction notice, the builder resubmits, the clerk accepts, fire, health and
planning approve in parallel (three contexts, interleaved), the head grants, the service centre issues
the licence for pickup, and the builder sees the case closed with its pickup receipt.

Along the way: a screenshot of every page (test-artifacts/<test>/), a title on every page, a label for
every form field, and the keyboard reaching the outcome buttons of each task form.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from app.clock import CHINA_TZ
from tests.e2e.flows import JOINT_APPLY, PASS

from .conftest import sign_in
from .flow_helpers import (
    TIMEOUT,
    api,
    api_complete,
    check_title,
    field,
    flash,
    form_page,
    keyboard_reaches_outcomes,
    open_my_case,
    open_task,
    outcome,
    snap,
    tiny_pdf,
    tiny_png,
)

ITEM = "420100-ZJJ-001"
ITEM_NAME = "建筑工程施工许可证核发（并联审批）"
# The application form's inputs by their labels; the values are tests/e2e/flows.py JOINT_APPLY's.
LABELS = {
    "project_name": "工程名称", "project_code": "投资项目代码", "project_address": "建设地址",
    "planning_permit_no": "建设工程规划许可证编号", "building_area": "建筑面积（平方米）",
    "contract_price": "合同价格（万元）", "planned_start_date": "计划开工日期",
    "planned_completion_date": "计划竣工日期", "construction_unit": "建设单位",
    "credit_code": "建设单位统一社会信用代码", "legal_representative": "建设单位法定代表人",
    "contractor": "施工总承包单位", "contact_name": "联系人", "contact_phone": "联系电话（手机）",
}
PLAN = "建设工程规划许可证及附图"  # gets the PNG
FORM_SHEET = "建筑工程施工许可申请表"  # gets the PDF, and is the one the clerk finds deficient
REQUIREMENT = "申请表缺少建设单位盖章，请盖章后重新上传"
OTHER_REQUIRED = ["施工场地已基本具备施工条件的说明", "中标通知书或施工合同", "建设资金已经落实承诺书",
                  "施工图设计文件审查合格书", "工程质量安全承诺书"]
DEPARTMENTS = {"fire_approver": "消防", "health_approver": "卫生", "planning_approver": "规划"}
LICENCE_NO = "SG420100202600001"
STAFF_NO = {"fire_approver": "XF0201", "health_approver": "WJ0201", "planning_approver": "GH0201"}


@pytest.mark.slow
def test_joint_permit_from_application_to_licence(browser, live_server, shots, tmp_path):
    base = live_server
    pdf = tiny_pdf(tmp_path / "施工许可申请表.pdf")
    png = tiny_png(tmp_path / "规划许可证附图.png")
    corrected = tiny_pdf(tmp_path / "施工许可申请表-已盖章.pdf", "stamped")

    # 1. The builder reads the guide, applies, uploads, submits ------------------------------------------
    builder = sign_in(browser, base, "builder")
    builder.goto(f"{base}/items/{ITEM}")
    expect(builder.get_by_role("heading", level=1)).to_have_text(ITEM_NAME)
    snap(shots, builder, "builder-guide")
    builder.get_by_role("link", name="在线申办", exact=True).click()
    expect(builder.get_by_role("heading", name=f"在线申办：{ITEM_NAME}")).to_be_visible(timeout=TIMEOUT)
    form_page(builder)
    for key, label in LABELS.items():
        field(builder, label).fill(str(JOINT_APPLY[key]))
    field(builder, "结构类型").select_option(label="框架-剪力墙结构")
    assert JOINT_APPLY["structure_type"] == "frame_shear_wall"
    field(builder, FORM_SHEET).set_input_files(pdf)
    field(builder, PLAN).set_input_files(png)
    snap(shots, builder, "builder-apply-filled")
    builder.get_by_role("button", name="提交申请", exact=True).click()
    # The item asks for seven required materials: the page says which are missing, next to each input,
    # and keeps the two files already uploaded in the draft.
    summary = builder.get_by_role("alert").filter(has_text="申请未提交")
    expect(summary).to_be_visible(timeout=TIMEOUT)
    expect(summary.get_by_role("link")).to_have_count(len(OTHER_REQUIRED))
    expect(builder.get_by_role("link", name=pdf.name, exact=True)).to_be_visible()
    expect(builder.get_by_role("link", name=png.name, exact=True)).to_be_visible()
    form_page(builder)
    snap(shots, builder, "builder-apply-missing-materials")
    for material in OTHER_REQUIRED:
        field(builder, material).set_input_files(pdf)
    builder.get_by_role("button", name="提交申请", exact=True).click()
    builder.wait_for_url(re.compile(r"/my/cases/[^/]+$"), timeout=TIMEOUT)
    case_no = builder.url.rsplit("/", 1)[1]
    expect(flash(builder)).to_contain_text(f"受理编号：{case_no}")
    expect(builder.get_by_role("heading", level=1)).to_contain_text(case_no)
    notices = builder.get_by_role("region", name="收到的文书")
    receipt = notices.get_by_role("link", name="收件回执", exact=True)
    expect(receipt).to_be_visible()
    snap(shots, builder, "builder-case-submitted")
    receipt.click()
    expect(builder.get_by_role("heading", level=1)).to_have_text("收件回执")
    expect(builder.get_by_role("article")).to_contain_text(case_no)
    snap(shots, builder, "builder-receipt")

    # 2. The housing window clerk finds the case and sends ONE correction notice -------------------------
    clerk = sign_in(browser, base, "housing_clerk")
    open_task(clerk, base, case_no, "预审", shots, "clerk")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("预审")
    form_page(clerk)
    assert keyboard_reaches_outcomes(clerk, ["材料齐全", "需补正", "不予受理"])
    snap(shots, clerk, "clerk-preview")
    entry = clerk.get_by_role("group", name="第 1 项")
    field(entry, "材料名称").select_option(label=FORM_SHEET)
    field(entry, "补正要求").fill(REQUIREMENT)
    snap(shots, clerk, "clerk-preview-correction-filled")
    outcome(clerk, "需补正").click()
    expect(flash(clerk)).to_contain_text(f"办件 {case_no}：“预审”已办理完毕", timeout=TIMEOUT)
    snap(shots, clerk, "clerk-inbox-after-preview")
    clerk.goto(f"{base}/staff/cases/{case_no}")
    check_title(clerk)
    notice_link = clerk.get_by_role("link", name="补正告知书")
    expect(notice_link).to_have_count(1)
    snap(shots, clerk, "clerk-case-correction")
    notice_link.click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("补正告知书")
    document = clerk.get_by_role("article")
    expect(document).to_contain_text(FORM_SHEET)
    expect(document).to_contain_text(REQUIREMENT)
    expect(clerk.get_by_role("button", name="打印")).to_be_visible()
    snap(shots, clerk, "clerk-correction-notice")

    # 3. The builder sees the notice with its list and resubmits ------------------------------------------
    open_my_case(builder, base, case_no, "待补正", shots)
    expect(builder.get_by_text("待补正", exact=True)).to_be_visible(timeout=TIMEOUT)
    correction = builder.get_by_role("region", name="需要补正")
    expect(correction.get_by_role("row").filter(has_text=FORM_SHEET)).to_contain_text(REQUIREMENT)
    received = builder.get_by_role("region", name="收到的文书")
    expect(received.get_by_role("link", name="补正告知书", exact=True)).to_be_visible()
    expect(received).to_contain_text(f"{FORM_SHEET}：{REQUIREMENT}")
    form_page(builder)
    snap(shots, builder, "builder-case-correction")
    field(correction, FORM_SHEET).set_input_files(corrected)
    field(correction, "补正说明").fill("已加盖建设单位公章，重新上传申请表")
    field(correction, "已按补正告知补齐全部材料").check()
    snap(shots, builder, "builder-resubmit-filled")
    correction.get_by_role("button", name="提交补正材料", exact=True).click()
    expect(flash(builder)).to_have_text("补正材料已提交。", timeout=TIMEOUT)
    expect(builder.get_by_role("region", name="需要补正")).to_have_count(0)
    expect(builder.get_by_role("link", name=corrected.name, exact=True)).to_be_visible()
    snap(shots, builder, "builder-case-resubmitted")

    # 4. The clerk passes the preview and accepts: the acceptance notice is issued --------------------------
    open_task(clerk, base, case_no, "预审", shots, "clerk")
    expect(clerk.get_by_role("link", name=corrected.name, exact=True)).to_be_visible()
    form_page(clerk)
    snap(shots, clerk, "clerk-preview-round-2")
    outcome(clerk, "材料齐全").click()
    expect(flash(clerk)).to_contain_text("下一环节：受理", timeout=TIMEOUT)
    open_task(clerk, base, case_no, "受理", shots, "clerk")
    form_page(clerk)
    assert keyboard_reaches_outcomes(clerk, ["予以受理", "不予受理"])
    snap(shots, clerk, "clerk-acceptance")
    outcome(clerk, "予以受理").click()
    expect(flash(clerk)).to_contain_text(f"办件 {case_no}：“受理”已办理完毕", timeout=TIMEOUT)
    clerk.goto(f"{base}/staff/cases/{case_no}")
    acceptance = clerk.get_by_role("link", name="受理通知书", exact=True)
    expect(acceptance).to_have_count(1)
    snap(shots, clerk, "clerk-case-accepted")
    acceptance.click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("受理通知书")
    expect(clerk.get_by_role("article")).to_contain_text(case_no)
    snap(shots, clerk, "clerk-acceptance-notice")
    clerk.context.close()

    # 5. Fire, health and planning approve in parallel: all three task pages open at once -----------------
    approvers = {}
    for username, department in DEPARTMENTS.items():
        page = sign_in(browser, base, username)
        open_task(page, base, case_no, "并联审批", shots, username)
        expect(page.locator(".task-state")).to_contain_text(department)
        form_page(page)
        assert keyboard_reaches_outcomes(page, ["同意", "不同意"])
        field(page, "会签意见").fill(f"{department}意见：材料真实，符合条件，同意")
        snap(shots, page, f"{username}-task-open")
        approvers[username] = page
    # Submitted in another order than opened; each one leaves the others' approvals open, the last one
    # moves the case on to the decision.
    still_open = {0: "下一环节：并联审批（消防救援支队）、并联审批（卫生健康委员会）。",
                  1: "下一环节：并联审批（卫生健康委员会）。", 2: "下一环节：决定。"}
    for n, username in enumerate(("planning_approver", "fire_approver", "health_approver")):
        page = approvers[username]
        outcome(page, "同意").click()
        expect(flash(page)).to_contain_text(f"办件 {case_no}：“并联审批”已办理完毕", timeout=TIMEOUT)
        expect(flash(page)).to_contain_text(still_open[n])
        snap(shots, page, f"{username}-approved")
    for page in approvers.values():
        page.context.close()

    # 6. The head grants the licence; the service centre issues it for pickup -------------------------------
    head = sign_in(browser, base, "housing_head")
    open_task(head, base, case_no, "决定", shots, "head")
    history = head.get_by_role("region", name="办理记录")  # who approved, with staff number and opinion
    expect(history.get_by_role("listitem").filter(has_text="办理完成 · 并联审批")).to_have_count(3)
    for username, department in DEPARTMENTS.items():
        expect(history).to_contain_text(f"工号 {STAFF_NO[username]}")
        expect(history).to_contain_text(f"{department}意见：材料真实，符合条件，同意")
    form_page(head)
    assert keyboard_reaches_outcomes(head, ["准予许可", "不予许可"])
    field(head, "决定理由").fill("符合《建筑工程施工许可管理办法》规定的条件，准予许可")
    snap(shots, head, "head-decision")
    outcome(head, "准予许可").click()
    expect(flash(head)).to_contain_text("下一环节：发证", timeout=TIMEOUT)
    snap(shots, head, "head-inbox-after-decision")
    head.context.close()

    issuer = sign_in(browser, base, "center_clerk")
    open_task(issuer, base, case_no, "发证", shots, "issuer")
    form_page(issuer)
    assert keyboard_reaches_outcomes(issuer, ["办理完成"])
    field(issuer, "许可证编号").fill(LICENCE_NO)
    assert re.fullmatch(r"^[A-Z]{0,4}[0-9]{6,26}$", LICENCE_NO)
    field(issuer, "发证日期").fill(datetime.now(CHINA_TZ).date().isoformat())
    issuer.get_by_role("radio", name="窗口领取", exact=True).check()
    snap(shots, issuer, "issuer-issuance")
    issuer.get_by_role("button", name="办理完成", exact=True).click()
    expect(flash(issuer)).to_contain_text("已办结（已发证）", timeout=TIMEOUT)
    issuer.goto(f"{base}/staff/cases/{case_no}")
    check_title(issuer)
    expect(issuer.get_by_role("link", name="领证回执", exact=True)).to_have_count(1)
    snap(shots, issuer, "issuer-case-issued")
    issuer.context.close()

    # 7. The builder sees the case closed and the pickup receipt --------------------------------------------
    open_my_case(builder, base, case_no, "已办结（已发证）", shots)
    summary = builder.get_by_role("region", name="办件信息")
    expect(summary.get_by_text("已办结（已发证）", exact=True)).to_be_visible(timeout=TIMEOUT)
    received = builder.get_by_role("region", name="收到的文书")
    for kind in ("收件回执", "补正告知书", "受理通知书", "领证回执"):
        expect(received.get_by_role("link", name=kind, exact=True)).to_have_count(1)
    snap(shots, builder, "builder-case-issued")
    received.get_by_role("link", name="领证回执", exact=True).click()
    expect(builder.get_by_role("heading", level=1)).to_have_text("领证回执")
    expect(builder.get_by_role("article")).to_contain_text(LICENCE_NO)
    snap(shots, builder, "builder-pickup-receipt")
    builder.context.close()


def test_task_page_diagram_marks_done_and_current_steps(browser, live_server, shots):
    """bpmn-js draws the case's own process on the task page: the preview done, the acceptance current."""
    base = live_server
    case_no = api(base, "POST", "/cases", "builder", {"item_code": ITEM, "data": JOINT_APPLY})["case_no"]
    api_complete(base, case_no, "preview", "housing_clerk", PASS)

    clerk = sign_in(browser, base, "housing_clerk")
    open_task(clerk, base, case_no, "受理")
    diagram = clerk.get_by_role("group", name=f"办件 {case_no} 的流程图")
    expect(diagram.locator("svg").first).to_be_visible(timeout=TIMEOUT)
    expect(diagram.locator('g.djs-element[data-element-id="acceptance"]')).to_have_class(
        re.compile(r"\bcurrent\b"), timeout=TIMEOUT)
    expect(diagram.locator('g.djs-element[data-element-id="preview"]')).to_have_class(re.compile(r"\bdone\b"))
    expect(diagram.locator("g.djs-element.current")).to_have_count(1)
    expect(diagram.locator('g.djs-element[data-element-id="decision"]')).not_to_have_class(
        re.compile(r"\b(done|current)\b"))
    check_title(clerk)
    diagram.scroll_into_view_if_needed()
    snap(shots, clerk, "task-page-diagram")
    diagram.screenshot(path=str(shots.folder / "diagram-only.png"))
    clerk.context.close()
