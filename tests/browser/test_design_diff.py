"""Comparing two versions in chromium: v2 of 食品经营许可 adds a task, routes the review to another group
and changes the review form; the diff page marks the new task on v2's diagram and the changed review
on both, lists them, and the server's tables name the changed routing and form."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from .conftest import assert_accessible, sign_in
from .test_csp import watched
from .test_designer_flow import ADD_TASK, TIMEOUT

EDIT = """(taskId) => {
  const modeler = window.banjianModeler, registry = modeler.get('elementRegistry'), modeling = modeler.get('modeling');
  modeling.updateProperties(registry.get(taskId), { name: '现场核查', 'camunda:candidateGroups': 'market.clerk' });
  modeling.updateProperties(registry.get('review'), { 'camunda:candidateGroups': 'market.head' });
  return modeler.saveXML({ format: true }).then(r => r.xml);
}"""


def test_diff_marks_the_added_and_changed_elements_on_both_diagrams(browser, live_server, shots):
    page = sign_in(browser, live_server, "designer")
    console = watched(page)
    page.goto(f"{live_server}/design/modeler?key=food_licence&version=1")
    page.wait_for_selector('#canvas [data-element-id="preview"]', timeout=TIMEOUT)
    task_id = page.evaluate(ADD_TASK)
    xml = page.evaluate(EDIT, task_id)
    review = json.loads(page.request.get(f"{live_server}/design/processes/food_licence/1/forms/review.form").text())
    review["components"][-1]["label"] = "审查意见（详细）"
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    deployed = page.request.post(f"{live_server}/design/deploy", headers={"X-CSRFToken": token}, data={
        "bpmn": xml, "filename": "food_licence.bpmn", "forms": {"review.form": json.dumps(review, ensure_ascii=False)}})
    assert deployed.ok and deployed.json()["deployed"][0]["version"] == 2

    page.goto(f"{live_server}/design/processes/food_licence")
    assert page.get_by_label("从版本").input_value() == "1" and page.get_by_label("到版本").input_value() == "2"
    page.get_by_role("button", name="对比").click()
    page.wait_for_selector("body[data-diff-ready]", timeout=TIMEOUT)
    assert_accessible(page)

    expect(page.locator(f'#diff-b [data-element-id="{task_id}"].diff-added')).to_have_count(1)
    expect(page.locator(f'#diff-a [data-element-id="{task_id}"]')).to_have_count(0)
    expect(page.locator('#diff-a [data-element-id="review"].diff-changed')).to_have_count(1)
    expect(page.locator('#diff-b [data-element-id="review"].diff-changed')).to_have_count(1)
    expect(page.locator('#diff-a [data-element-id="preview"].diff-changed')).to_have_count(0)
    added = page.locator(f'#diagram-changes tr[data-element-id="{task_id}"]')
    expect(added).to_contain_text("现场核查")
    expect(added).to_contain_text("新增")
    expect(page.locator('#diagram-changes tr[data-element-id="review"]')).to_contain_text("market.approver → market.head")
    routing = page.locator('#setting-changes tr[data-element-id="review"]')
    expect(routing).to_contain_text("candidateGroups")
    expect(routing).to_contain_text("market.head")
    expect(page.locator("#form-changes")).to_contain_text("review.form 已修改")
    shots(page, "diff")
    assert page.evaluate("window.__violations") == [] and console == []
    page.context.close()
