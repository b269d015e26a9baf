"""The task page: each reference form rendered, completing through the page, validation errors next
to the fields with nothing changed, the claim-before-work rules and who may open it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.flows import (
    APPROVE,
    FOOD,
    FOOD_APPLY,
    GRANT,
    INSTANT,
    INSTANT_APPLY,
    PASS,
    apply,
    approval,
    case,
    complete,
    food_to_review,
    joint_to_approval,
    open_keys,
    task_id,
)

from .staff_helpers import Browser, flashes, main_text, text

pytestmark = pytest.mark.usefixtures("demo")
MATERIAL = "食品经营许可申请书"


def food(api):
    return apply(api, FOOD, FOOD_APPLY)["case_no"]


def error_next_to(page, field_id):
    """The messages shown in the field's own error element (aria-describedby points at it)."""
    body = page.get_data(as_text=True)
    assert f'aria-describedby="{field_id}-error"' in body or f'{field_id}-error"' in body, field_id
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', body, flags=re.S)
    assert match, f"no error next to {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_preview_page_shows_the_case_and_the_form(app, api):
    case_no = food(api)
    page = Browser(app, "market_clerk").get(f"/staff/tasks/{task_id(api, case_no, 'preview')}")
    assert page.status_code == 200
    html, shown = text(page), main_text(page)
    assert "<title>预审 · " + case_no in html
    for expected in (case_no, "食品经营许可", "江城味道餐饮管理有限公司", "2026-11-23 09:00", "已提交",
                     "武汉市江岸区老街坊餐饮店", "热食类食品制售", "收件回执", "申请已提交"):
        assert expected in shown, expected
    # the outcome is chosen with one button per value, not a radio group
    for value, label in (("pass", "材料齐全"), ("correct", "需补正"), ("refuse", "不予受理")):
        assert f'<button type="submit" name="preview_result" value="{value}" class="outcome' in html
        assert label in html
    assert 'type="radio" name="preview_result"' not in html
    # the deficiencies list: a material select fed from the item's materials, a requirement box
    assert '<select name="deficiencies-0-material" id="f-deficiencies-0-material"' in html
    assert f'<option value="{MATERIAL}">{MATERIAL}</option>' in html
    assert '<label for="f-deficiencies-0-requirement">补正要求' in html
    assert 'name="_add_row" value="deficiencies"' in html
    assert "仅在选择“需补正”时填写" in shown
    assert 'data-hide="=preview_result != "correct""' in html  # for the progressive enhancement script


def test_correction_notice_through_the_page(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    # add a second entry without JavaScript: the page comes back with one more row, nothing saved
    more = clerk.post(f"/staff/tasks/{tid}", [
        ("deficiencies-0-_row", "1"), ("deficiencies-0-material", MATERIAL),
        ("deficiencies-0-requirement", "请补充法定代表人签字"), ("_add_row", "deficiencies")])
    assert more.status_code == 200
    assert text(more).count('class="dl-row"') == 2
    assert "请补充法定代表人签字</textarea>" in text(more) and case(api, case_no)["status"] == "submitted"
    resp = clerk.post(f"/staff/tasks/{tid}", [
        ("deficiencies-0-_row", "1"), ("deficiencies-0-material", MATERIAL),
        ("deficiencies-0-requirement", "请补充法定代表人签字"),
        ("deficiencies-1-_row", "1"), ("deficiencies-1-material", "法定代表人（负责人）身份证明"),
        ("deficiencies-1-requirement", "身份证反面不清晰"),
        ("deficiencies-2-_row", "1"), ("deficiencies-2-material", ""), ("deficiencies-2-requirement", ""),
        ("preview_remarks", ""), ("preview_result", "correct")])
    assert resp.status_code == 302 and resp.location.endswith("/staff/inbox")
    after = case(api, case_no)
    assert after["status"] == "correction" and open_keys(api, case_no) == ["correction"]
    assert after["data"]["deficiencies"] == [
        {"material": MATERIAL, "requirement": "请补充法定代表人签字"},
        {"material": "法定代表人（负责人）身份证明", "requirement": "身份证反面不清晰"}]
    message = " ".join(flashes(clerk.get("/staff/inbox")))
    assert case_no in message and "预审" in message and "补正材料" in message
    # the case page lists every deficiency the clerk wrote, with the form's labels
    shown = main_text(clerk.get(f"/staff/cases/{case_no}"))
    assert f"预审结果 需补正 补正告知（需补正的全部材料） 1 · 材料名称 {MATERIAL}" in shown
    assert "补正告知（需补正的全部材料） 2 · 补正要求 身份证反面不清晰" in shown


def test_validation_errors_next_to_the_fields_and_nothing_changed(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    before = case(api, case_no)
    resp = clerk.post(f"/staff/tasks/{tid}", [
        ("deficiencies-0-_row", "1"), ("deficiencies-0-material", ""), ("deficiencies-0-requirement", ""),
        ("preview_remarks", "先看看"), ("preview_result", "correct")])
    assert resp.status_code == 422
    assert error_next_to(resp, "f-deficiencies") == "至少需要 1 行"
    assert 'class="error-summary" role="alert"' in text(resp)
    assert '<a href="#f-deficiencies">补正告知（需补正的全部材料）</a>' in text(resp)
    assert ">先看看</textarea>" in text(resp)  # what was typed comes back
    # a row with a requirement but no material: the message sits on that row's select
    resp = clerk.post(f"/staff/tasks/{tid}", [
        ("deficiencies-0-_row", "1"), ("deficiencies-0-material", ""), ("deficiencies-0-requirement", "要盖章"),
        ("preview_result", "correct")])
    assert resp.status_code == 422
    assert error_next_to(resp, "f-deficiencies-0-material") == "必填"
    assert 'aria-invalid="true" aria-describedby="f-deficiencies-0-material-error"' in text(resp)
    assert ">要盖章</textarea>" in text(resp)
    resp = clerk.post(f"/staff/tasks/{tid}", {"preview_result": "refuse", "refusal_reason": ""})
    assert error_next_to(resp, "f-refusal_reason") == "必填"
    after = case(api, case_no)
    assert after["status"] == before["status"] == "submitted" and after["version"] == before["version"]
    assert open_keys(api, case_no) == ["preview"]
    assert [e["action"] for e in after["history"]] == [e["action"] for e in before["history"]]


def test_validation_messages_in_english(app, api):
    case_no = food(api)
    clerk = Browser(app, "market_clerk", lang="en")
    resp = clerk.post(f"/staff/tasks/{task_id(api, case_no, 'preview')}", {"preview_result": "correct"})
    assert resp.status_code == 422
    assert error_next_to(resp, "f-deficiencies") == "at least 1 rows"
    assert "Please correct the following" in main_text(resp)
    assert "Needed only when you choose “需补正”." in main_text(resp)


def test_acceptance_review_decision_and_issuance_pages(app, api):
    case_no = food(api)
    complete(api, case_no, "preview", "market_clerk", PASS)
    clerk = Browser(app, "market_clerk")
    tid = task_id(api, case_no, "acceptance")
    page = clerk.get(f"/staff/tasks/{tid}")
    assert 'name="accept_result" value="accept"' in text(page) and "予以受理" in main_text(page)
    assert "仅在选择“不予受理”时填写" in main_text(page)  # the refusal reason
    assert clerk.post(f"/staff/tasks/{tid}", {"accept_result": "accept", "refusal_reason": ""}).status_code == 302
    assert case(api, case_no)["status"] == "in_review"

    approver = Browser(app, "market_approver")
    tid = task_id(api, case_no, "review")
    page = approver.get(f"/staff/tasks/{tid}")
    assert "建议准予许可" in main_text(page) and '<label for="f-review_opinion">审查意见' in text(page)
    assert approver.post(f"/staff/tasks/{tid}", {**APPROVE}).status_code == 302

    head = Browser(app, "market_head")
    tid = task_id(api, case_no, "decision")
    page = head.get(f"/staff/tasks/{tid}")
    assert 'type="checkbox" name="remedy_informed" value="true"' in text(page)
    assert "仅在选择“不予许可”时填写" in main_text(page)
    assert head.post(f"/staff/tasks/{tid}", {**GRANT}).status_code == 302
    assert case(api, case_no)["status"] == "decided"

    window = Browser(app, "center_clerk")
    tid = task_id(api, case_no, "issue_licence")
    page = window.get(f"/staff/tasks/{tid}")
    html = text(page)
    assert '<input type="date" name="issue_date" id="f-issue_date"' in html
    assert 'type="radio" name="delivery_method" value="pickup"' in html  # an ordinary radio group
    assert '<button type="submit" name="_submit" value="1" class="primary">办理完成</button>' in html
    bad = window.post(f"/staff/tasks/{tid}", {"licence_no": "jy-1", "issue_date": "30/11/2026",
                                              "delivery_method": "pickup", "_submit": "1"})
    assert bad.status_code == 422
    assert error_next_to(bad, "f-licence_no") == "格式不正确"
    assert error_next_to(bad, "f-issue_date") == "日期格式应为 YYYY-MM-DD"
    assert 'value="jy-1"' in text(bad)
    done = window.post(f"/staff/tasks/{tid}", {"licence_no": "JY14201020260001", "issue_date": "2026-11-30",
                                               "delivery_method": "pickup", "_submit": "1"})
    assert done.status_code == 302
    final = case(api, case_no)
    assert final["status"] == "issued" and final["data"]["licence_no"] == "JY14201020260001"
    assert f"办件 {case_no}：“发证”已办理完毕。 办件当前状态：已办结（已发证）。" in flashes(window.get("/staff/inbox"))


def test_joint_item_department_approval(app, api):
    case_no = joint_to_approval(api)
    fire = Browser(app, "fire_approver")
    own = task_id(api, case_no, "dept_approval", "fire")
    page = fire.get(f"/staff/tasks/{own}")
    assert page.status_code == 200
    assert "会签结论" in text(page) and 'name="approval_result" value="approve"' in text(page)
    assert "7 个工作日" in main_text(page)  # the form's own guidance text
    assert "建筑工程施工许可证核发" in main_text(page) and "并联审批" in main_text(page)
    assert fire.post(f"/staff/tasks/{own}", {"approval_result": "approve", "approval_opinion": "同意"}).status_code == 302
    # health's task is visible to fire (their department touches the case) but only to read
    health_task = task_id(api, case_no, "dept_approval", "health")
    page = fire.get(f"/staff/tasks/{health_task}")
    assert page.status_code == 200 and "本环节不属于您的办理范围" in main_text(page)
    assert 'name="approval_result"' not in text(page)
    assert fire.post(f"/staff/tasks/{health_task}", approval()).status_code == 403
    assert sorted(t["department"] for t in case(api, case_no)["tasks"]) == ["health", "planning"]


def test_instant_handling_prefills_the_licence_number(app, api):
    case_no = apply(api, INSTANT, INSTANT_APPLY)["case_no"]
    clerk = Browser(app, "market_clerk")
    tid = task_id(api, case_no, "handle_on_spot")
    page = clerk.get(f"/staff/tasks/{tid}")
    assert 'name="licence_no" id="f-licence_no" value="JY14201020012345"' in text(page)
    assert "当场补发" in main_text(page) and "即办件" in main_text(page)
    assert clerk.post(f"/staff/tasks/{tid}", {"instant_result": "grant", "licence_no": "JY14201020012345"}
                      ).status_code == 302
    assert case(api, case_no)["status"] == "issued"


def test_claimed_by_someone_else_is_read_only(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    Browser(app, "market_clerk2").post(f"/staff/tasks/{tid}/claim")
    clerk = Browser(app, "market_clerk")
    page = clerk.get(f"/staff/tasks/{tid}")
    assert page.status_code == 200
    assert "赵磊 已认领此环节" in main_text(page) and 'name="preview_result"' not in text(page)
    assert clerk.post(f"/staff/tasks/{tid}", {**PASS}).status_code == 403
    assert case(api, case_no)["status"] == "submitted" and open_keys(api, case_no) == ["preview"]


def test_a_candidate_completes_without_claiming_first(app, api):
    case_no = food(api)
    clerk = Browser(app, "market_clerk")
    tid = task_id(api, case_no, "preview")
    assert "您可以直接办理本环节" in main_text(clerk.get(f"/staff/tasks/{tid}"))
    assert clerk.post(f"/staff/tasks/{tid}", {**PASS}).status_code == 302
    assert open_keys(api, case_no) == ["acceptance"]
    # the old task address now leads to its case
    again = clerk.get(f"/staff/tasks/{tid}")
    assert again.status_code == 302 and again.location.endswith(f"/staff/cases/{case_no}")
    assert clerk.post(f"/staff/tasks/{tid}", {**PASS}).status_code == 302
    assert open_keys(api, case_no) == ["acceptance"]


def test_other_departments_and_applicants_cannot_open_a_task(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    fire = Browser(app, "fire_approver")
    assert fire.get(f"/staff/tasks/{tid}").status_code == 404
    assert fire.post(f"/staff/tasks/{tid}", {**PASS}).status_code == 404
    applicant = Browser(app, "company")  # even the case's own applicant: staff pages are for staff
    assert applicant.get(f"/staff/tasks/{tid}").status_code == 403
    assert applicant.post(f"/staff/tasks/{tid}", {**PASS}).status_code == 403
    assert Browser(app, "market_clerk").get("/staff/tasks/no-such-task").status_code == 404
    assert case(api, case_no)["status"] == "submitted" and open_keys(api, case_no) == ["preview"]


def test_comments_on_the_task_page(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    resp = clerk.post(f"/staff/cases/{case_no}/comments",
                      {"body": "申请书签字页需核对原件", "task_key": "preview", "next": f"/staff/tasks/{tid}"})
    assert resp.status_code == 302 and resp.location.endswith(f"/staff/tasks/{tid}#comments")
    page = clerk.get(f"/staff/tasks/{tid}")
    assert "申请书签字页需核对原件" in main_text(page) and "王芳 (工号 SJ0101)" in main_text(page)
    assert "内部" in main_text(page)
    clerk.post(f"/staff/cases/{case_no}/comments", {"body": "   "})
    assert any("请填写意见" in m for m in flashes(clerk.get(f"/staff/cases/{case_no}")))
    assert Browser(app, "fire_approver").post(f"/staff/cases/{case_no}/comments", {"body": "x"}).status_code == 404


def test_a_failing_step_shows_the_incident(app, api, monkeypatch):
    from app.errors import ProcessError
    from app.web.staff import tasks as pages

    def broken(*args, **kwargs):
        raise ProcessError("流程执行出错，办件未改变 / the step failed and the case is unchanged: boom", "gw", 7)

    monkeypatch.setattr(pages, "complete_task", broken)
    case_no = food(api)
    resp = Browser(app, "market_clerk").post(f"/staff/tasks/{task_id(api, case_no, 'preview')}", {**PASS})
    assert resp.status_code == 422
    assert "本环节未能办理完成，办件未作任何改变" in main_text(resp) and "异常编号 7" in main_text(resp)


def test_review_page_in_english(app, api):
    case_no = food_to_review(api)
    page = Browser(app, "market_approver", lang="en").get(f"/staff/tasks/{task_id(api, case_no, 'review')}")
    shown = main_text(page)
    for label in ("Handle this step", "Materials", "History", "Process diagram", "Comments", "Case number"):
        assert label in shown, label
    assert "办理本环节" not in shown


def test_materials_with_download_and_inline_preview(app, api, demo, clock):
    import io

    from sqlalchemy import select

    from app.models import Case
    from app.services.documents.files import attach, store_for

    case_no = food(api)
    with demo.uow(write=True) as uow:
        row = uow.session.scalar(select(Case).where(Case.case_no == case_no))
        for name, content in (("申请书.pdf", b"%PDF-1.4\n%%EOF\n"), ("执照.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)):
            stored = store_for(demo).put(io.BytesIO(content))
            attach(uow.session, stored, material=MATERIAL if name.endswith("pdf") else "营业执照或者其他主体资格证明文件",
                   filename=name, uploaded_by=row.applicant_id, now=clock.now(), case_id=row.id)
        uow.commit()
    clerk = Browser(app, "market_clerk")
    page = clerk.get(f"/staff/tasks/{task_id(api, case_no, 'preview')}")
    html = text(page)
    links = re.findall(r'<a href="(/files/\d+)">([^<]+)</a>', html)
    # The six files the application came with (flows.apply), then the two added here.
    assert sorted(name for _href, name in links) == [*(f"m{i}.pdf" for i in range(6)), "执照.png", "申请书.pdf"]
    pdf = next(href for href, name in links if name == "申请书.pdf")
    assert f'<iframe src="{pdf}?inline=1" title="申请书.pdf"' in html
    png = next(href for href, name in links if name == "执照.png")
    assert f'<img src="{png}?inline=1"' in html and "预览" in main_text(page)
    download = clerk.get(pdf)
    assert download.status_code == 200 and download.get_data() == b"%PDF-1.4\n%%EOF\n"
    download.close()
    assert Browser(app, "fire_approver").get(pdf).status_code == 404  # the link is no capability


def test_a_posted_list_of_thousands_of_rows_is_refused_quickly_with_a_short_page(app, api):
    """Dynamic lists are capped at 200 rows: a crafted post of 9 999 (9.9 s and a 15 MB page before) is
    refused next to the list, the page shows at most 200 rows and the case is unchanged."""
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    rows = [(f"deficiencies-{i}-{name}", value) for i in range(9999)
            for name, value in (("_row", "1"), ("material", MATERIAL), ("requirement", "x"))]
    page = Browser(app, "market_clerk").post(f"/staff/tasks/{tid}", [*rows, ("preview_result", "correct")])
    assert page.status_code == 422
    assert "最多 200 行" in text(page)
    assert text(page).count('class="dl-row"') == 200 and len(page.get_data()) < 2_000_000
    assert case(api, case_no)["status"] == "submitted"
