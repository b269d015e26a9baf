"""The staff case page (open tasks, who did what when, notices) and the diagram route."""

from __future__ import annotations

import pytest

from tests.e2e.flows import (
    FOOD,
    FOOD_APPLY,
    PASS,
    apply,
    approval,
    complete,
    food_to_review,
    joint_to_approval,
)

from .staff_helpers import Browser, flashes, main_text, open_task, text

pytestmark = pytest.mark.usefixtures("demo")


def test_case_page_shows_tasks_steps_and_people(app, api):
    case_no = food_to_review(api)
    page = Browser(app, "market_approver").get(f"/staff/cases/{case_no}")
    assert page.status_code == 200
    shown = main_text(page)
    assert f"<title>办件 {case_no}" in text(page)
    assert "在办任务" in shown and "审查" in shown and "待认领 —— 可办理：市场监督管理局·审批人员" in shown
    # every completed step with who (name and staff number) and when
    assert "已办环节" in shown
    assert "预审 王芳 SJ0101 2026-11-23 09:00" in shown and "受理 王芳 SJ0101 2026-11-23 09:00" in shown
    assert "收件回执" in shown and "受理通知书" in shown  # notices issued so far
    assert "经营者名称 武汉市江岸区老街坊餐饮店" in shown  # the application, with the form's labels
    assert "已受理" in shown and "2026-12-07" in shown  # accepted, promised deadline: 10 working days later
    assert "流程图" in shown and 'data-current="review"' in text(page)
    # what each step entered, with the form's labels: the outcome first
    assert "填写内容 预审结果 材料齐全" in shown and "填写内容 受理结果 予以受理" in shown
    assert "审查 市场监督管理局 待认领" in shown  # the open task's department by name


def test_case_page_in_english(app, api):
    case_no = food_to_review(api)
    shown = main_text(Browser(app, "market_approver", lang="en").get(f"/staff/cases/{case_no}"))
    for label in ("Open tasks", "Completed steps", "Staff number", "History", "Materials", "Notices"):
        assert label in shown, label


def test_case_page_access(app, api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert Browser(app, "fire_approver").get(f"/staff/cases/{case_no}").status_code == 404
    assert Browser(app, "housing_clerk").get(f"/staff/cases/{case_no}").status_code == 404
    assert Browser(app, "company").get(f"/staff/cases/{case_no}").status_code == 403  # its own applicant
    assert Browser(app, "market_clerk").get("/staff/cases/NOPE123").status_code == 404
    assert Browser(app, "supervisor").get(f"/staff/cases/{case_no}").status_code == 200
    joint = joint_to_approval(api)
    assert Browser(app, "fire_approver").get(f"/staff/cases/{joint}").status_code == 200  # fire co-approves


def test_diagram_route_marks_done_and_current_steps(app, api):
    case_no = food_to_review(api)
    resp = Browser(app, "market_approver").get(f"/staff/cases/{case_no}/diagram.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    assert resp.headers["Cache-Control"] == "private, no-store"
    xml = resp.get_data(as_text=True)
    assert "<bpmn:definitions" in xml and 'id="review"' in xml and "bpmndi:BPMNDiagram" in xml
    done = resp.headers["X-Diagram-Done"].split()
    assert set(done) >= {"start", "preview", "acceptance", "accepted"} and "review" not in done
    assert "end_refused_preview" not in done and "decision" not in done
    assert resp.headers["X-Diagram-Current"].split() == ["review"]


def test_diagram_of_the_issuance_call_and_of_a_refusal(app, api):
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", {"review_result": "approve", "review_opinion": "材料真实"})
    complete(api, case_no, "decision", "market_head", {"decision": "grant", "decision_reason": "符合条件"})
    resp = Browser(app, "market_head").get(f"/staff/cases/{case_no}/diagram.xml")
    # issuance runs in a called process: its call activity is the current step of this diagram
    assert resp.headers["X-Diagram-Current"].split() == ["call_issuance"]
    assert "decided" in resp.headers["X-Diagram-Done"].split()
    refused = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, refused, "preview", "market_clerk", PASS)
    complete(api, refused, "acceptance", "market_clerk", {"accept_result": "refuse", "refusal_reason": "不属于本机关职权"})
    done = Browser(app, "market_clerk").get(f"/staff/cases/{refused}/diagram.xml").headers["X-Diagram-Done"].split()
    # two end events are named 不予受理: the one after acceptance is marked, not the one after preview
    assert "end_refused_acceptance" in done and "end_refused_preview" not in done



def test_joint_diagram_shows_parallel_approvals(app, api):
    case_no = joint_to_approval(api)
    complete(api, case_no, "dept_approval", "fire_approver", approval(), department="fire")
    resp = Browser(app, "housing_clerk").get(f"/staff/cases/{case_no}/diagram.xml")
    assert resp.headers["X-Diagram-Current"].split() == ["dept_approval"]  # health and planning still open
    assert "acceptance" in resp.headers["X-Diagram-Done"].split()


def test_diagram_route_is_access_checked(app, api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert Browser(app, "fire_approver").get(f"/staff/cases/{case_no}/diagram.xml").status_code == 404
    assert Browser(app, "company").get(f"/staff/cases/{case_no}/diagram.xml").status_code == 403
    assert app.test_client().get(f"/staff/cases/{case_no}/diagram.xml").status_code == 302
    assert Browser(app, "market_clerk").get("/staff/cases/NOPE/diagram.xml").status_code == 404


def test_history_names_the_department_of_each_parallel_approval(app, api):
    case_no = joint_to_approval(api)
    complete(api, case_no, "dept_approval", "fire_approver", approval(), department="fire")
    complete(api, case_no, "dept_approval", "health_approver", approval(), department="health")
    page = main_text(Browser(app, "housing_clerk").get(f"/staff/cases/{case_no}"))
    history = page[page.rindex("办理记录"):]
    assert "并联审批（消防救援支队）" in history and "并联审批（卫生健康委员会）" in history
    steps = page[page.index("已办环节"):page.rindex("办理记录")]
    assert "并联审批（消防救援支队）" in steps
    assert "预审（" not in page  # single steps are named as before


def test_case_page_shows_each_time_limit_with_its_light(app, api, clock):
    from datetime import date, timedelta

    from app.services.timelimits.clock_sweep import sweep_clocks
    from app.workdays import end_of_day

    case_no = food_to_review(api)
    browser = Browser(app, "market_approver")
    shown = main_text(browser.get(f"/staff/cases/{case_no}"))
    assert "办理时限" in shown
    assert "补正告知（5个工作日） 5个工作日 2026-11-30 按时办结" in shown  # stopped at acceptance
    assert "10个工作日 · 法定 20 2026-12-07" in shown and "剩余" in shown
    clock.set(end_of_day(date(2026, 12, 7)) + timedelta(seconds=1))
    sweep_clocks(app.extensions["banjian"])
    page = browser.get(f"/staff/cases/{case_no}")
    assert 'class="light light-red"' in text(page) and "超期" in main_text(page)


def test_approver_starts_and_ends_a_special_procedure_on_the_case_page(app, api):
    case_no = food_to_review(api)
    approver = Browser(app, "market_approver")
    page = approver.get(f"/staff/cases/{case_no}")
    shown = main_text(page)
    assert "<summary>开始特别程序</summary>" in text(page) and "<summary>申请延期</summary>" in text(page)
    for name in ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审"):
        assert f">{name}</option>" in text(page), name
    bad = approver.post(f"/staff/cases/{case_no}/suspensions", {"procedure": "picnic", "expected_days": "abc"},
                        follow_redirects=True)
    [error] = flashes(bad)
    assert "特别程序: 请选择特别程序" in error and "预计工作日: 请填写 1–365 个工作日" in error
    assert "检测 · 自" not in main_text(bad)
    started = approver.post(f"/staff/cases/{case_no}/suspensions",
                            {"procedure": "testing", "expected_days": "5", "reason": "样品送检"}, follow_redirects=True)
    assert flashes(started) == ["特别程序已开始，已书面告知申请人。"]
    shown = main_text(started)
    assert "检测 · 自 2026-11-23 起 · 预计 5 个工作日" in shown and "样品送检" in shown and "中止计时" in shown
    assert "特别程序告知书" in shown and "<summary>开始特别程序</summary>" not in text(started)  # one at a time
    suspension = decision_clock(api, case_no)["suspensions"][0]
    ended = approver.post(f"/staff/cases/{case_no}/suspensions/{suspension['id']}/end", follow_redirects=True)
    assert flashes(ended) == ["特别程序已结束，审查期限恢复计算。"]
    assert "个工作日不计入期限" in main_text(ended) and "结束特别程序" not in main_text(ended)
    again = approver.post(f"/staff/cases/{case_no}/suspensions/{suspension['id']}/end", follow_redirects=True)
    assert flashes(again) == ["该特别程序已结束"]


def test_extension_requested_on_the_case_page_and_approved_on_the_heads_task_page(app, api):
    case_no = food_to_review(api)
    approver = Browser(app, "market_approver")
    empty = approver.post(f"/staff/cases/{case_no}/extensions", {"reason": "  "}, follow_redirects=True)
    assert flashes(empty) == ["延期理由: 请说明延期理由"]
    asked = approver.post(f"/staff/cases/{case_no}/extensions", {"reason": "需现场核查"}, follow_redirects=True)
    assert flashes(asked) == ["延期申请已提交部门负责人审批。"]
    shown = main_text(asked)
    assert "延长 10 个工作日 · 待部门负责人审批" in shown and "<summary>申请延期</summary>" not in text(asked)
    assert "审批延期申请" in shown  # the head's task among the open tasks
    head = Browser(app, "market_head")
    tid = open_task(api, case_no, "approve_extension")
    form = head.get(f"/staff/tasks/{tid}")
    assert form.status_code == 200 and "需现场核查" in text(form) and "批准延期" in text(form)
    assert Browser(app, "market_approver").post(f"/staff/tasks/{tid}", {"extension_decision": "approve"}
                                                 ).status_code == 403  # sees the case, not a candidate
    assert decision_clock(api, case_no)["extended_by"] == 0  # the approver could not decide
    done = head.post(f"/staff/tasks/{tid}", {"extension_decision": "approve", "extension_comment": "同意"})
    assert done.status_code == 302
    page = approver.get(f"/staff/cases/{case_no}")
    shown = main_text(page)
    assert "延长 10 个工作日 · 已批准" in shown and "同意" in shown and "延期告知书" in shown and "2026-12-21" in shown
    assert "<summary>申请延期</summary>" not in text(page)  # once only


def test_clock_forms_only_for_the_handling_departments_approvers(app, api):
    case_no = food_to_review(api)
    clerk = Browser(app, "market_clerk")  # sees the case, may not stop or extend its clock
    page = clerk.get(f"/staff/cases/{case_no}")
    assert "<summary>开始特别程序</summary>" not in text(page) and "<summary>申请延期</summary>" not in text(page)
    tried = clerk.post(f"/staff/cases/{case_no}/suspensions", {"procedure": "testing", "expected_days": "5"},
                       follow_redirects=True)
    assert flashes(tried) == ["只有承办部门的审批人员可以操作"]
    tried = clerk.post(f"/staff/cases/{case_no}/extensions", {"reason": "x"}, follow_redirects=True)
    assert flashes(tried) == ["只有承办部门的审批人员可以操作"]
    assert decision_clock(api, case_no)["suspensions"] == [] and decision_clock(api, case_no)["extensions"] == []
    assert Browser(app, "fire_approver").post(f"/staff/cases/{case_no}/extensions", {"reason": "x"}).status_code == 404
    no_token = Browser(app, "market_approver").client.post(f"/staff/cases/{case_no}/extensions", data={"reason": "x"})
    assert no_token.status_code == 400  # CSRF


def decision_clock(api, case_no):
    resp = api.get(f"/cases/{case_no}/clocks", "admin")
    assert resp.status_code == 200, resp.get_json()
    [decision] = [c for c in resp.get_json()["clocks"] if c["kind"] == "decision"]
    return decision
