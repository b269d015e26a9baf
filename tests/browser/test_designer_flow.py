"""A process designer changes a reference process in the browser and the next case runs the change.

The designer opens 食品经营许可 v1 from the versions page in the modeler, puts a new user task 现场核查
before the preview (drawn through the bpmn-js API: the one part that is mouse geometry), names it and
routes it in the properties panel, names a form that does not exist yet, and presses Check: the server
refuses and the task is marked. The form is made in the form editor tab (a text field dragged from the
palette, its label and key set in the editor's panel), Check passes, Deploy makes v2. A new case
starts on v2, waits at the new task, and the clerk's task page shows the new form's field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows import FOOD, FOOD_APPLY

from .conftest import assert_accessible, sign_in
from .test_csp import watched
from .test_staff_pages import call

TIMEOUT = 20000
BPMN = Path(__file__).resolve().parents[2] / "bpmn"

# Makes room right of the correction merge (as the space tool does) and splits its flow to the preview
# with a new user task (bpmn-js drops a shape created on a flow into it, as a designer dragging a task
# onto the arrow does).
ADD_TASK = """() => {
  const modeler = window.banjianModeler, registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling'), merge = registry.get('merge_preview');
  const root = modeler.get('canvas').getRootElement();
  const right = registry.filter(e => e.parent === root && !e.waypoints && e.type !== 'label' && e.x > merge.x + merge.width);
  modeling.moveElements(right, { x: 140, y: 0 });
  const flow = registry.get('flow_to_preview');
  const shape = modeler.get('elementFactory').createShape({ type: 'bpmn:UserTask' });
  const a = flow.waypoints[0], b = flow.waypoints[flow.waypoints.length - 1];
  return modeling.createShape(shape, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, flow).id;
}"""


def panel_field(page: Any, group: str, label: str) -> Any:
    """A field of the diagram's properties panel, its group opened first if it is closed."""
    props = page.locator("#properties")
    field = props.get_by_label(label, exact=True)
    if not field.is_visible():
        props.get_by_text(group, exact=True).click()
    return field


def test_designer_adds_a_task_with_a_new_form_and_a_new_case_runs_on_v2(browser, live_server, shots):
    page = sign_in(browser, live_server, "designer")
    console = watched(page)
    page.goto(f"{live_server}/design/processes")
    assert_accessible(page)
    page.get_by_role("link", name="食品经营许可").first.click()
    expect(page.locator("tr[data-version]")).to_have_count(1)
    page.get_by_role("link", name="在建模器中打开").click()
    page.wait_for_selector('#canvas [data-element-id="preview"]', timeout=TIMEOUT)
    expect(page.locator("#modeler-status")).to_contain_text("已打开 food_licence.bpmn")
    assert_accessible(page)
    shots(page, "opened")
    page.get_by_role("tab", name="表单").click()
    page.locator('#form-list li[data-form-key="review.form"] button').click()  # opened, not edited
    expect(page.locator("#form-preview")).to_contain_text("审查意见", timeout=TIMEOUT)
    page.get_by_role("tab", name="流程图").click()
    page.get_by_role("button", name="部署").click()  # nothing edited: the same version
    expect(page.locator("#modeler-status")).to_contain_text("内容未变：food_licence 仍为 v1。", timeout=TIMEOUT)

    task_id = page.evaluate(ADD_TASK)
    page.click(f'#canvas [data-element-id="{task_id}"]')
    # The properties panel speaks the page's language.
    panel_field(page, "通用", "名称").fill("现场核查")
    panel_field(page, "用户分配", "候选组").fill("market.clerk")
    panel_field(page, "表单", "类型").select_option(label="嵌入或者外部任务表单")
    panel_field(page, "表单", "表单 key").fill("site-check.form")
    page.locator("#properties").get_by_label("表单 key", exact=True).press("Tab")

    page.get_by_role("button", name="检查", exact=True).click()
    problem = page.locator(f'#problem-list li[data-element-id="{task_id}"]')
    expect(problem).to_contain_text("site-check.form", timeout=TIMEOUT)
    expect(page.locator(f'#canvas .djs-overlays[data-container-id="{task_id}"] .problem-badge')).to_be_visible()
    expect(page.locator(f'#canvas [data-element-id="{task_id}"].has-problem')).to_have_count(1)
    shots(page, "check-marks-the-task")
    problem.get_by_role("button", name="现场核查").click()  # the list entry selects the element
    expect(page.locator("#properties")).to_contain_text("现场核查")

    # The form the task names, made in the form editor: a text field from the palette, labelled and keyed.
    page.get_by_role("tab", name="表单").click()
    entry = page.locator('#form-list li[data-form-key="site-check.form"]')
    expect(entry).to_contain_text("用于 现场核查")
    page.get_by_label("新表单键").fill("site-check.form")
    page.get_by_role("button", name="新建表单").click()
    expect(page.locator("#form-title")).to_have_text("site-check.form")
    page.locator('#form-editor .fjs-palette-field[data-field-type="textfield"]').drag_to(
        page.locator("#form-editor .fjs-drop-container-vertical").first)
    editor_panel = page.locator("#form-editor .fjs-editor-properties-container")
    editor_panel.get_by_text("General", exact=True).click()
    editor_panel.get_by_label("Field label", exact=True).fill("核查结论")
    editor_panel.get_by_label("Key", exact=True).fill("site_check_result")
    expect(page.locator("#form-preview")).to_contain_text("核查结论", timeout=TIMEOUT)  # live preview
    assert_accessible(page)
    page.get_by_role("button", name="检查表单").click()
    expect(page.locator("#form-status")).to_have_text("表单没有问题。")
    page.get_by_role("button", name="随流程图保存表单").click()
    expect(entry).to_contain_text("已在此编辑，随部署提交")
    shots(page, "form-editor")

    page.get_by_role("tab", name="流程图").click()
    page.get_by_role("button", name="检查", exact=True).click()
    expect(page.locator("#modeler-status")).to_have_text("未发现问题：流程图可以部署。", timeout=TIMEOUT)
    expect(page.locator("#canvas .problem-badge")).to_have_count(0)
    page.get_by_role("button", name="部署").click()
    expect(page.locator("#modeler-status")).to_contain_text("已部署 food_licence v2。", timeout=TIMEOUT)
    shots(page, "deployed")
    assert page.evaluate("window.__violations") == [] and console == []

    # Deploying the same diagram and forms again keeps v2.
    page.get_by_role("button", name="部署").click()
    expect(page.locator("#modeler-status")).to_contain_text("内容未变：food_licence 仍为 v2。", timeout=TIMEOUT)

    case = call(page, live_server, "company", "POST", "/cases", {"item_code": FOOD, "data": FOOD_APPLY})
    detail = call(page, live_server, "admin", "GET", f"/cases/{case['case_no']}")
    assert detail["process_version"] == 2
    assert [t["name"] for t in detail["tasks"]] == ["现场核查"]

    page.goto(f"{live_server}/design/processes/food_licence")
    expect(page.locator('tr[data-version="2"] td.running')).to_have_text("1")
    expect(page.locator('tr[data-version="1"] td.running')).to_have_text("0")
    page.context.close()

    clerk = sign_in(browser, live_server, "market_clerk")
    clerk.goto(f"{live_server}/staff/cases/{case['case_no']}")
    clerk.get_by_role("link", name="现场核查").first.click()
    expect(clerk.get_by_label("核查结论")).to_be_visible(timeout=TIMEOUT)
    shots(clerk, "task-with-new-form")
    clerk.context.close()


def test_a_blank_diagram_is_checked_and_a_local_file_opens_and_downloads(browser, live_server, shots):
    page = sign_in(browser, live_server, "designer")
    console = watched(page)
    page.goto(f"{live_server}/design/modeler")
    page.wait_for_selector("#canvas .djs-element", timeout=TIMEOUT)
    page.get_by_role("button", name="检查", exact=True).click()
    expect(page.locator("#modeler-status")).to_contain_text("个问题", timeout=TIMEOUT)
    expect(page.locator("#problem-list li.problem").first).not_to_be_empty()
    shots(page, "blank-checked")

    page.get_by_label("打开本地 BPMN 文件").set_input_files(str(BPMN / "food_licence_reissue.bpmn"))
    expect(page.locator("#modeler-status")).to_have_text("已打开 food_licence_reissue.bpmn。", timeout=TIMEOUT)
    expect(page.locator('#canvas [data-element-id="handle_on_spot"]')).to_have_count(1)
    expect(page.locator("#problem-list li.problem")).to_have_count(0)  # the old diagram's marks are gone
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 BPMN").click()
    assert download.value.suggested_filename == "food_licence_reissue.bpmn"
    assert 'id="food_licence_reissue"' in Path(download.value.path()).read_text(encoding="utf-8")

    page.get_by_role("button", name="部署").click()  # the file as it is: the same as the deployed v1
    expect(page.locator("#modeler-status")).to_contain_text("内容未变：food_licence_reissue 仍为 v1。",
                                                            timeout=TIMEOUT)
    assert page.evaluate("window.__violations") == [] and console == []
    page.context.close()
