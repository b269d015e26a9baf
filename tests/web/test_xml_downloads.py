"""BPMN downloads cannot run script on our origin: a designer's XHTML <script> (or SVG, or a stylesheet
instruction) is dropped at deploy, and every XML download is served sandboxed and not sniffed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from tests.e2e.flows import FOOD, food_to_review

from .staff_helpers import Browser, main_text

pytestmark = pytest.mark.usefixtures("demo")

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = (ROOT / "bpmn" / "food_licence.bpmn").read_text(encoding="utf-8")
SCRIPT = ('<html:script xmlns:html="http://www.w3.org/1999/xhtml">fetch("/staff/inbox")</html:script>'
          '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
ALLOWED = {"http://www.omg.org/spec/BPMN/20100524/MODEL", "http://www.omg.org/spec/BPMN/20100524/DI",
           "http://www.omg.org/spec/DD/20100524/DC", "http://www.omg.org/spec/DD/20100524/DI",
           "http://camunda.org/schema/1.0/bpmn"}
SANDBOX = "sandbox; default-src 'none'"


def with_script() -> bytes:
    xml = ORIGINAL.replace("<bpmn:extensionElements>", f"<bpmn:extensionElements>{SCRIPT}", 1)
    xml = xml.replace("?>", '?>\n<?xml-stylesheet type="text/xsl" href="/static/x.xsl"?>', 1)
    return xml.encode("utf-8")


def namespaces(xml: bytes) -> set[str]:
    return {etree.QName(e).namespace for e in etree.fromstring(xml).iter() if isinstance(e.tag, str)}


@pytest.fixture
def deployed(api, demo) -> None:
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(with_script()), "food_licence.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["version"] == 2


@pytest.mark.usefixtures("deployed")
def test_deploy_drops_foreign_elements_and_the_diagram_still_renders(app, api):
    case_no = food_to_review(api)  # on version 2
    staff = Browser(app, "market_approver")
    resp = staff.get(f"/staff/cases/{case_no}/diagram.xml")
    assert resp.status_code == 200
    assert namespaces(resp.data) <= ALLOWED
    assert b"script" not in resp.data and b"onload" not in resp.data and b"xml-stylesheet" not in resp.data
    assert resp.headers["X-Diagram-Current"].split() == ["review"]
    assert {"preview", "acceptance"} <= set(resp.headers["X-Diagram-Done"].split())
    page = staff.get(f"/staff/cases/{case_no}")
    assert "流程图" in main_text(page) and 'data-current="review"' in page.get_data(as_text=True)
    # what remains is the file as drawn: the documentation and properties beside the dropped elements
    preview = etree.fromstring(resp.data).find(".//{*}userTask[@id='preview']")
    assert preview is not None and preview.findtext("{*}documentation").startswith("核对申请材料")
    assert [p.get("name") for p in preview.iterfind(".//{*}property")] == ["stage", "status", "timeLimit"]


def test_deploying_the_same_file_again_is_no_new_version(api, deployed):
    again = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(with_script()), "food_licence.bpmn")},
                     content_type="multipart/form-data")
    assert (again.status_code, again.get_json()["version"]) == (200, 2)


def test_the_public_model_has_no_foreign_elements(app, deployed):
    resp = app.test_client().get(f"/items/{FOOD}/process.bpmn")
    assert resp.status_code == 200 and namespaces(resp.data) <= ALLOWED


@pytest.mark.parametrize("user, path", [
    ("market_approver", "/staff/cases/{case_no}/diagram.xml"),
    (None, f"/items/{FOOD}/process.bpmn"),
])
def test_every_xml_download_is_sandboxed_and_not_sniffed(app, api, user, path):
    case_no = food_to_review(api)
    client = Browser(app, user).client if user else app.test_client()
    resp = client.get(path.format(case_no=case_no))
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    assert resp.headers["Content-Security-Policy"] == SANDBOX
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
