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

from .staff_helpers import Browser, main_text, text

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

    from app.services.clock_sweep import sweep_clocks
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
