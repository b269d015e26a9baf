"""差评整改 in a real browser, as the people involved meet it (the issue's scenario): the applicant rates a
finished case 不满意 with a reason on the rating page; the rectification case opens and the centre's clerk finds
it in the list of rectifications; its callback limit goes yellow, then red, as the app's clock moves and the
scheduler ticks; the supervisor issues an order on the supervision page; the clerk records the callback and
classifies the rating as valid on the task pages; the market department rectifies on its task page; the clerk
feeds back; the applicant reads the feedback on their case page and rates again (追加评价)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from app.clock import ManualClock
from tests.conftest import START, build_app, wipe
from tests.e2e.flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS

from .conftest import assert_accessible, serving, sign_in
from .flow_helpers import TIMEOUT, api, api_complete, field, flash, open_task, outcome


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, ManualClock]]:
    """The demo on a file SQLite database with a clock the test moves, served on 127.0.0.1."""
    from app.services.demo import load_demo

    clock = ManualClock(START)
    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('rectification') / 'db.sqlite3'}", clock)
    load_demo(app.extensions["banjian"])
    try:
        with serving(app) as base:
            yield base, app, clock
    finally:
        wipe(app)


def tick(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output


def light_of(page: Any, base: str, case_no: str) -> str:
    page.goto(f"{base}/ratings/rectifications")
    row = page.locator("#rectifications tbody tr").filter(has_text=case_no)
    expect(row).to_have_count(1, timeout=TIMEOUT)
    return row.locator(".level-text").inner_text()


def test_a_bad_rating_is_called_back_on_the_clock_rectified_and_rated_again(browser, server, shots):
    base, app, clock = server
    case_no = api(base, "POST", "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY})["case_no"]
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", ISSUE)):
        api_complete(base, case_no, key, user, data)

    # the applicant rates the finished case 不满意, with a reason
    applicant = sign_in(browser, base, "company")
    applicant.goto(f"{base}/my/cases/{case_no}")
    applicant.get_by_role("link", name="去评价").click()
    applicant.get_by_role("group", name="整体满意度").get_by_label("不满意", exact=True).check()
    for dimension in ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性"):
        applicant.get_by_role("group", name=dimension).get_by_label("基本满意", exact=True).check()
    applicant.get_by_role("group", name="差评原因").get_by_label("办事效率").check()
    applicant.get_by_label("意见建议（选填）").fill("审查拖了很久")
    applicant.get_by_role("button", name="提交评价").click()
    expect(applicant.get_by_role("status")).to_contain_text("感谢您的评价")
    shots(applicant, "rated-bad")

    # the centre's clerk finds the rectification: who rated, what, and its light
    clerk = sign_in(browser, base, "center_clerk")
    clerk.goto(f"{base}/ratings/rectifications")
    assert_accessible(clerk)
    row = clerk.locator("#rectifications tbody tr").filter(has_text=case_no)
    expect(row).to_contain_text("不满意")
    expect(row).to_contain_text("审查拖了很久")
    expect(row).to_contain_text("市场监督管理局")
    expect(row).to_contain_text("回访")
    rect_no = row.get_by_role("link").inner_text()
    assert rect_no.startswith("HCP") and light_of(clerk, base, case_no) == "正常"
    shots(clerk, "rectifications-green")

    # the callback limit of one working day: yellow, then red, on the app's clock
    clock.advance(timedelta(hours=20))
    tick(app)
    assert light_of(clerk, base, case_no) == "即将到期"
    clock.advance(timedelta(days=2))
    tick(app)
    assert light_of(clerk, base, case_no) == "已超期"
    shots(clerk, "rectifications-red")

    # the supervisor orders the centre to answer for the late callback
    supervisor = sign_in(browser, base, "supervisor")
    supervisor.goto(f"{base}/supervision/orders")
    supervisor.get_by_label("办件编号").fill(rect_no)
    supervisor.get_by_label("部门").select_option(label="政务服务中心")
    supervisor.get_by_label("督办事由").fill("差评回访超过 1 个工作日")
    supervisor.get_by_label("回复期限").fill((START + timedelta(days=10)).date().isoformat())
    supervisor.get_by_role("button", name="下发").click()
    expect(flash(supervisor)).to_contain_text(rect_no, timeout=TIMEOUT)
    shots(supervisor, "order-issued")
    supervisor.context.close()

    # the clerk calls back and classifies on the task pages
    open_task(clerk, base, rect_no, "回访")
    clerk.get_by_role("group", name="回访情况").get_by_label("已联系评价人").check()
    field(clerk, "回访记录").fill("已电话联系申请人，审查超时属实")
    clerk.get_by_role("button", name="办理完成", exact=True).click()
    expect(flash(clerk)).to_contain_text("回访", timeout=TIMEOUT)
    open_task(clerk, base, rect_no, "分类研判")
    field(clerk, "研判理由").fill("审查超出承诺时限")
    shots(clerk, "classify")
    outcome(clerk, "有效差评").click()
    expect(flash(clerk)).to_contain_text("分类研判", timeout=TIMEOUT)

    # the market department rectifies on its task page
    approver = sign_in(browser, base, "market_approver")
    open_task(approver, base, rect_no, "整改")
    expect(approver.locator("body")).to_contain_text("审查拖了很久")  # the rating is in the task's data
    field(approver, "整改情况或申诉理由").fill("已增设专人跟踪审查时限")
    outcome(approver, "已整改").click()
    expect(flash(approver)).to_contain_text("整改", timeout=TIMEOUT)
    approver.context.close()

    # the clerk accepts it and feeds back
    open_task(clerk, base, rect_no, "反馈")
    field(clerk, "反馈评价人的内容（退回时写明不到位之处）").fill("市场监管局已增设专人跟踪审查时限，感谢监督")
    outcome(clerk, "整改到位，反馈评价人").click()
    expect(flash(clerk)).to_contain_text("反馈", timeout=TIMEOUT)
    clerk.context.close()

    # the applicant reads the feedback on the case page and rates again
    applicant.goto(f"{base}/my/cases/{case_no}")
    section = applicant.locator(".rectification")
    expect(section).to_contain_text("已回访")
    expect(section).to_contain_text("已整改")
    expect(section.locator(".feedback")).to_have_text("市场监管局已增设专人跟踪审查时限，感谢监督")
    shots(applicant, "feedback")
    applicant.get_by_role("link", name="追加评价").click()
    applicant.get_by_role("group", name="整体满意度").get_by_label("满意", exact=True).check()
    for dimension in ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性"):
        applicant.get_by_role("group", name=dimension).get_by_label("满意", exact=True).check()
    applicant.get_by_role("button", name="提交评价").click()
    expect(applicant.get_by_role("status")).to_contain_text("感谢您的评价")
    applicant.context.close()
    listed = api(base, "GET", "/rectifications", "supervisor")["items"]
    assert [(r["state"], r["classification"], bool(r["rectified_at"])) for r in listed] == [("closed", "valid", True)]
