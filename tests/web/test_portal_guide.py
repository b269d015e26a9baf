"""The service guide: the catalogue grouped by department and by type, search, each item's guide with
the DB4201/T 571 §5.1.1.2 fields, its process diagram and its materials."""

from __future__ import annotations

import re

from flask import Flask

from app.services.context import ServiceContext

from .portal_helpers import EN, FOOD, text

JOINT = "420100-ZJJ-001"
INSTANT = "420100-SCJG-002"


def sections(body: str) -> dict[str, str]:
    """The catalogue's group headings with the item names under each."""
    found = {}
    for match in re.finditer(r'<h2 id="group-\d+">(.*?)</h2>\s*<ul class="item-list">(.*?)</ul>', body, re.S):
        heading = re.sub(r"<[^>]+>", "", match.group(1)).strip()
        found[heading] = match.group(2)
    return found


def test_catalogue_grouped_by_department(app: Flask, demo: ServiceContext) -> None:
    resp = app.test_client().get("/items")
    assert resp.status_code == 200
    groups = sections(text(resp))
    assert set(groups) == {"市场监督管理局", "住房和城乡建设局"}
    assert "食品经营许可" in groups["市场监督管理局"] and "食品经营许可证补办" in groups["市场监督管理局"]
    assert "建筑工程施工许可证核发" in groups["住房和城乡建设局"]
    assert f'href="/items/{FOOD}"' in text(resp)
    assert "<title>办事指南" in text(resp) and "共 6 个事项" in text(resp)


def test_catalogue_grouped_by_type_in_both_languages(app: Flask, demo: ServiceContext) -> None:
    zh = sections(text(app.test_client().get("/items?by=type")))
    assert list(zh) == ["行政许可 (01)"]
    en = app.test_client().get("/items?by=type", headers=EN)
    assert list(sections(text(en))) == ["Administrative licensing (01)"]
    assert "6 items" in text(en) and "working days" in text(en)


def test_catalogue_search_by_name_and_code(app: Flask, demo: ServiceContext) -> None:
    client = app.test_client()
    by_name = text(client.get("/items", query_string={"q": "补办"}))
    assert "食品经营许可证补办" in by_name and "建筑工程施工许可" not in by_name
    assert "共 1 个事项" in by_name and 'value="补办"' in by_name
    by_code = text(client.get("/items", query_string={"q": "zjj-001"}))
    assert "建筑工程施工许可" in by_code and "食品经营许可" not in by_code
    none = client.get("/items", query_string={"q": "不存在的事项"}, headers=EN)
    assert "No item matches your search." in text(none)


def test_guide_shows_the_standard_fields(app: Flask, demo: ServiceContext) -> None:
    resp = app.test_client().get(f"/items/{FOOD}")
    body = text(resp)
    assert resp.status_code == 200
    for label in ("事项名称", "事项编码", "事项类型", "实施机构", "受理机构", "设立依据", "收费情况", "受理要求",
                  "时限要求", "申请表单及范本", "办理流程", "办理结果及样本", "办理时间", "办理地点", "咨询电话",
                  "监督投诉方式"):
        assert f">{label}<" in body, label
    for value in (FOOD, "行政许可", "市市场监督管理局", "市政务服务中心市场监管窗口", "《中华人民共和国食品安全法》",
                  "不收费", "承诺时限：10 个工作日", "法定时限：20 个工作日", "食品经营许可证", "027-85550121",
                  "12345 政务服务便民热线", "周一至周五"):
        assert value in body, value
    assert f'href="/items/{FOOD}/apply"' in body  # the Apply button


def test_guide_lists_materials_with_descriptions(app: Flask, demo: ServiceContext) -> None:
    body = text(app.test_client().get(f"/items/{FOOD}"))
    table = body[body.index('id="materials"'):]
    assert "食品经营许可申请书" in table and "在线填写申请表后生成，经营者签字或盖章" in table
    assert "授权委托书及委托代理人身份证明" in table and "视情况提交" in table and "必交" in table
    assert table.count("<tr>") == 1 + 7  # header + the seven materials


def test_guide_process_diagram_and_steps(app: Flask, demo: ServiceContext) -> None:
    client = app.test_client()
    body = text(client.get(f"/items/{JOINT}"))
    assert "bpmn-navigated-viewer.production.min.js" in body
    assert f'data-xml-url="/items/{JOINT}/process.bpmn"' in body
    steps = re.search(r'<ol class="steps">(.*?)</ol>', body, re.S)
    assert steps and "预审" in steps.group(1) and "受理" in steps.group(1)
    assert "并联审批部门" in body and "消防救援支队" in body  # departments by name
    xml = client.get(f"/items/{JOINT}/process.bpmn")  # public, like the guide
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.headers["X-Content-Type-Options"] == "nosniff"
    assert b'<bpmn:process id="construction_permit"' in xml.data


def test_guide_in_english(app: Flask, demo: ServiceContext) -> None:
    body = text(app.test_client().get(f"/items/{INSTANT}", headers=EN))
    for label in ("Item name", "Item code", "Item type", "Implementing agency", "Accepting agency", "Legal basis",
                  "Fees", "Acceptance conditions", "Time limits", "Application form and sample", "Process",
                  "Result and sample", "Office hours", "Address", "Telephone", "Supervision and complaints",
                  "Done on the spot", "Apply online"):
        assert label in body, label


def test_unknown_item_is_404(app: Flask, demo: ServiceContext) -> None:
    client = app.test_client()
    assert client.get("/items/NOPE").status_code == 404
    assert client.get("/items/NOPE/process.bpmn").status_code == 404
