"""An administrator creates an item in the catalogue pages with a material and its template file; the
author cannot publish their own draft, a second administrator does; an applicant finds the item in the
guide, downloads the template (the same bytes) and applies."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.clock import SystemClock
from tests.conftest import build_app, wipe

from .conftest import assert_accessible, sign_in
from .flow_helpers import TIMEOUT, field, flash, tiny_pdf

CODE = "420100-TEST-009"
NAME = "户外广告设置备案"
MATERIAL = "广告设置申请表"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo app with a second administrator, without the publish right, who drafts (the demo admin
    holds the right and publishes: another pair of eyes)."""
    from app.services.demo import load_demo
    from app.services.identity import users

    db = tmp_path_factory.mktemp("catalogue") / "catalogue.sqlite3"
    app = build_app(f"sqlite:///{db}", SystemClock())  # type: ignore[arg-type]
    load_demo(app.extensions["banjian"])
    users.create_user(app.extensions["banjian"], "admin2", "demo1234", "admin", full_name="第二管理员")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        wipe(app)


def test_admin_creates_an_item_an_applicant_downloads_its_template_and_applies(browser, server, shots, tmp_path):
    template = tiny_pdf(tmp_path / "广告设置申请表（范本）.pdf", "template")
    scan = tiny_pdf(tmp_path / "申请表扫描件.pdf", "filled in")

    # 1. The administrator fills the new-item form; promised above statutory is refused at the field.
    admin = sign_in(browser, server, "admin2")
    admin.goto(f"{server}/admin/items")
    admin.get_by_role("link", name="新建事项").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("新建事项")
    assert_accessible(admin)
    admin.get_by_label(re.compile("^事项编码")).fill(CODE)
    admin.get_by_label("事项名称").fill(NAME)
    admin.get_by_label("事项类型").select_option("20")
    admin.get_by_label("牵头部门").select_option("market")
    admin.get_by_label("办件类型").select_option("promised")
    admin.get_by_label(re.compile("^法定时限")).fill("10")
    admin.get_by_label(re.compile("^承诺时限")).fill("15")
    admin.get_by_label("流程").select_option("food_licence")
    admin.get_by_label(re.compile("^受理编号前缀")).fill("HWGG")
    rows = admin.locator("fieldset.material")
    expect(rows).to_have_count(1)  # one empty row to start with
    admin.get_by_role("button", name="添加材料").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label("名称")).to_be_focused()
    rows.nth(1).get_by_role("button", name="删除此材料").click()
    expect(rows).to_have_count(1)
    row = rows.first
    row.get_by_label("名称").fill(MATERIAL)
    row.get_by_label("说明").fill("下载范本，填写后签字上传")
    row.get_by_label("样表（空白表格）").set_input_files(template)
    admin.get_by_role("button", name="保存为草稿").click()
    expect(admin.locator("#error-summary")).to_be_visible(timeout=TIMEOUT)
    expect(admin.locator("#e-promised_limit")).to_contain_text("不能超过法定时限")
    expect(admin.get_by_label(re.compile("^承诺时限"))).to_have_attribute("aria-invalid", "true")
    shots(admin, "promised-above-statutory")

    # The uploaded template is kept while the form is corrected.
    expect(admin.locator("fieldset.material").first.get_by_text(template.name)).to_be_visible()
    admin.get_by_label(re.compile("^承诺时限")).fill("5")
    admin.get_by_role("button", name="保存为草稿").click()
    expect(flash(admin)).to_contain_text("草稿修订 1", timeout=TIMEOUT)
    publish = admin.get_by_role("button", name="发布修订 1")
    expect(publish).to_be_disabled()
    expect(admin.locator("#why-not")).to_contain_text("另一位管理员")
    shots(admin, "draft-saved")

    # 2. Not in the guide yet; a second administrator publishes.
    applicant = sign_in(browser, server, "company")
    assert applicant.goto(f"{server}/items/{CODE}").status == 404
    second = sign_in(browser, server, "admin")
    second.goto(f"{server}/admin/items/{CODE}")
    second.get_by_role("button", name="发布修订 1").click()
    expect(flash(second)).to_contain_text("修订 1 已发布", timeout=TIMEOUT)
    expect(second.locator("#published-revision")).to_contain_text(re.compile(r"by admin |由 ?admin[^2]|admin\b(?!2)"))

    # 3. The applicant reads the guide, downloads the template, and applies with the filled-in form.
    applicant.goto(f"{server}/items/{CODE}")
    expect(applicant.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(applicant.get_by_role("cell", name=MATERIAL, exact=True)).to_be_visible()
    shots(applicant, "guide")
    with applicant.expect_download() as download_info:
        applicant.get_by_role("link", name=re.compile(f"样表.*{MATERIAL}")).click()
    download = download_info.value
    assert Path(download.path()).read_bytes() == template.read_bytes()
    assert download.suggested_filename == template.name
    applicant.get_by_role("link", name="在线申办", exact=True).click()
    field(applicant, MATERIAL).set_input_files(scan)
    applicant.get_by_role("button", name="提交申请", exact=True).click()
    applicant.wait_for_url(re.compile(r"/my/cases/HWGG[^/]+$"), timeout=TIMEOUT)
    expect(flash(applicant)).to_contain_text("受理编号：HWGG")
    shots(applicant, "applied")
