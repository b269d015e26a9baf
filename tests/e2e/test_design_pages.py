"""The designer's pages over HTTP: who may open them, the process catalogue's counts, the downloads of
exactly what was deployed, and the modeler's JSON endpoints (check, deploy, form check) refusing bad
input with a readable message and changing nothing."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from app.headers import PAGE_POLICY
from app.models import ProcessDefinition
from tests.web.staff_helpers import Browser, main_text

from .flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS, apply, complete

pytestmark = pytest.mark.usefixtures("demo")

META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PAGES = ["/design/processes", "/design/processes/food_licence", "/design/processes/food_licence/1/bpmn",
         "/design/processes/food_licence/1/forms/review.form", "/design/processes/food_licence/1/zip",
         "/design/processes/food_licence/1/source", "/design/modeler", "/design/modeler?key=food_licence&version=1",
         "/design/processes/food_licence/diff?a=1&b=1"]
POSTS = ["/design/check", "/design/deploy", "/design/forms/check"]


class Designer(Browser):
    """A signed-in page session that posts JSON with the modeler page's CSRF token, as its script does."""

    def post_json(self, url: str, body: Any) -> Any:
        if not self.token:
            page = self.get("/design/modeler").get_data(as_text=True)
            self.token = META_TOKEN.search(page).group(1)  # type: ignore[union-attr]
        return self.client.post(url, json=body, headers={**self.headers, "X-CSRFToken": self.token})


def versions_of(ctx: Any, key: str) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).where(ProcessDefinition.key == key)) or 0)


def bpmn_of(ctx: Any, name: str = "food_licence.bpmn") -> str:
    return str((ctx.bpmn_dir / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("user", ["market_clerk", "market_approver", "market_head", "supervisor", "company"])
def test_every_design_page_and_endpoint_is_refused_to_other_roles(app, user):
    other = Browser(app, user)
    for url in PAGES:
        assert other.get(url).status_code == 403, url
    # The CSRF token is valid (taken from a page this user may open): only the role refuses.
    token = re.search(r'name="csrf_token" value="([^"]+)"', other.get("/notifications/").get_data(as_text=True))
    for url in POSTS:
        resp = other.client.post(url, json={"bpmn": "<x/>", "form": "{}"}, headers={"X-CSRFToken": token.group(1)})
        assert resp.status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    for url in PAGES + POSTS:
        resp = client.post(url, json={}, headers={"X-CSRFToken": token}) if url in POSTS else client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_admin_and_designer_see_the_catalogue(app):
    for user in ("designer", "admin"):
        page = Browser(app, user).get("/design/processes")
        assert page.status_code == 200
        text = main_text(page)
        assert "食品经营许可" in text and "food_licence" in text and "420100-SCJG-001" in text
        assert "发证送达" in text and "无事项" in text  # the called issuance process belongs to no item


def test_versions_page_counts_running_and_finished_cases_per_version(app, ctx, api):
    finished = apply(api, FOOD, FOOD_APPLY)["case_no"]
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", ISSUE)):
        complete(api, finished, key, user, data)
    apply(api, FOOD, FOOD_APPLY)
    designer = Designer(app, "designer")
    changed = bpmn_of(ctx).replace('name="审查"', 'name="实质审查"')
    assert designer.post_json("/design/deploy", {"bpmn": changed, "filename": "food_licence.bpmn"}).status_code == 200
    apply(api, FOOD, FOOD_APPLY)
    apply(api, FOOD, FOOD_APPLY)

    page = designer.get("/design/processes/food_licence").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', page, flags=re.S))
    counts = {v: (re.search(r'class="num running">(\d+)<', row).group(1),  # type: ignore[union-attr]
                  re.search(r'class="num finished">(\d+)<', row).group(1))  # type: ignore[union-attr]
              for v, row in rows.items()}
    assert counts == {"2": ("2", "0"), "1": ("1", "1")}
    assert "designer" in rows["2"] and "命令行" in rows["1"]  # v1 came from the demo loader
    assert "/design/modeler?key=food_licence&amp;version=1" in rows["1"]
    listing = main_text(designer.get("/design/processes"))
    assert "v2" in listing and "（共 2 个版本）" in listing


def test_downloads_are_exactly_what_was_deployed(app, ctx):
    designer = Designer(app, "designer")
    form = json.dumps({"id": "Form_review", "type": "default", "schemaVersion": 16, "components": [
        {"type": "textfield", "id": "f1", "key": "review_opinion", "label": "审查意见（新）"}]}, ensure_ascii=False)
    xml = bpmn_of(ctx).replace('name="审查"', 'name="实质审查"')
    deployed = designer.post_json("/design/deploy", {"bpmn": xml, "filename": "food_licence.bpmn",
                                                     "forms": {"review.form": form}})
    assert deployed.status_code == 200 and deployed.get_json()["deployed"][0]["version"] == 2

    bpmn = designer.get("/design/processes/food_licence/2/bpmn")
    assert bpmn.status_code == 200 and bpmn.mimetype == "application/xml"
    assert "attachment" in bpmn.headers["Content-Disposition"] and "food_licence-v2.bpmn" in bpmn.headers["Content-Disposition"]
    assert "实质审查" in bpmn.get_data(as_text=True)
    assert designer.get("/design/processes/food_licence/2/forms/review.form").get_data(as_text=True) == form
    old = designer.get("/design/processes/food_licence/1/forms/review.form").get_data(as_text=True)
    assert old == (ctx.forms.forms_dir / "review.form").read_text(encoding="utf-8")  # v1 keeps its own
    archive = zipfile.ZipFile(io.BytesIO(designer.get("/design/processes/food_licence/2/zip").data))
    assert archive.read("forms/review.form").decode() == form
    assert archive.read("food_licence.bpmn").decode() == bpmn.get_data(as_text=True)
    source = designer.get("/design/processes/food_licence/2/source").get_json()
    assert source["bpmn"] == bpmn.get_data(as_text=True) and source["forms"]["review.form"] == form
    assert designer.get("/design/processes/food_licence/9/bpmn").status_code == 404
    assert designer.get("/design/processes/food_licence/2/forms/nope.form").status_code == 404
    assert designer.get("/design/processes/nope").status_code == 404


def test_check_marks_problems_by_element_and_changes_nothing(app, ctx):
    designer = Designer(app, "designer")
    broken = bpmn_of(ctx).replace('camunda:formKey="review.form"', 'camunda:formKey="missing.form"')
    resp = designer.post_json("/design/check", {"bpmn": broken, "filename": "food_licence.bpmn"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is False
    assert [p["element_id"] for p in body["problems"]] == ["review"] and "missing.form" in body["problems"][0]["message"]
    ok = designer.post_json("/design/check", {"bpmn": bpmn_of(ctx), "filename": "food_licence.bpmn"}).get_json()
    assert ok == {"ok": True, "problems": []}
    assert versions_of(ctx, "food_licence") == 1


@pytest.mark.parametrize("body, status", [
    ({"bpmn": "<definitions", "filename": "x.bpmn"}, 422),            # not XML
    ({"bpmn": "<a/>", "filename": "x.bpmn"}, 422),                    # XML, not BPMN
    ({"bpmn": "", "filename": "x.bpmn"}, 400),
    ({"filename": "x.bpmn"}, 400),
    ({"bpmn": "<a/>", "forms": ["not", "a", "map"]}, 400),
    ({"bpmn": "<a/>", "forms": {"a.form": 3}}, 400),
    ([1, 2], 400),
    ({"bpmn": "<a/>" + " " * (5 * 1024 * 1024)}, 400),               # larger than a BPMN file may be
])
def test_bad_diagrams_are_refused_readably_and_deploy_nothing(app, ctx, body, status):
    designer = Designer(app, "designer")
    before = versions_of(ctx, "food_licence")
    resp = designer.post_json("/design/deploy", body)
    assert resp.status_code == status
    answer = resp.get_json()
    assert answer["ok"] is False and answer["problems"] and all(p["message"] for p in answer["problems"])
    check = designer.post_json("/design/check", body)
    assert check.status_code in (200, 400) and check.get_json()["problems"]
    assert versions_of(ctx, "food_licence") == before
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessDefinition)) == 8  # the demo's


def test_deploy_with_a_bad_form_names_the_form_and_deploys_nothing(app, ctx):
    designer = Designer(app, "designer")
    resp = designer.post_json("/design/deploy", {"bpmn": bpmn_of(ctx), "filename": "food_licence.bpmn",
                                                 "forms": {"review.form": "{not json"}})
    assert resp.status_code == 422
    assert any(p.get("file") == "review.form" for p in resp.get_json()["problems"])
    assert versions_of(ctx, "food_licence") == 1


def test_same_content_keeps_the_version(app, ctx):
    designer = Designer(app, "designer")
    resp = designer.post_json("/design/deploy", {"bpmn": bpmn_of(ctx), "filename": "food_licence.bpmn"})
    assert resp.status_code == 200
    assert [(d["key"], d["version"], d["created"]) for d in resp.get_json()["deployed"]] == [("food_licence", 1, False)]


def test_form_check_reports_problems(app):
    designer = Designer(app, "designer")
    good = {"type": "default", "components": [{"type": "textfield", "key": "site_note", "label": "备注"}]}
    clash = {"type": "default", "components": [{"type": "textfield", "key": "date", "label": "日期"}]}
    assert designer.post_json("/design/forms/check", {"key": "a.form", "form": json.dumps(good)}).get_json() == \
        {"ok": True, "problems": []}
    assert designer.post_json("/design/forms/check", {"key": "a.form", "form": json.dumps(clash)}).get_json()["problems"][0]["field"] == "date"
    broken = designer.post_json("/design/forms/check", {"key": "a.form", "form": "{"}).get_json()
    assert broken["ok"] is False and broken["problems"][0]["message"]
    assert designer.post_json("/design/forms/check", {"form": 5}).status_code == 400


def test_json_posts_without_the_csrf_token_are_refused(app, ctx):
    designer = Designer(app, "designer")
    resp = designer.client.post("/design/deploy", json={"bpmn": bpmn_of(ctx)})
    assert resp.status_code == 400
    assert versions_of(ctx, "food_licence") == 1


def test_diff_needs_two_known_versions(app):
    designer = Designer(app, "designer")
    for query in ("", "?a=1", "?a=1&b=7", "?a=x&b=1"):
        resp = designer.get(f"/design/processes/food_licence/diff{query}")
        assert resp.status_code == 400 and "v1" in main_text(resp), query
    assert designer.get("/design/processes/nope/diff?a=1&b=1").status_code == 404


def test_diff_page_names_changed_properties_conditions_and_forms(app, ctx):
    designer = Designer(app, "designer")
    xml = (bpmn_of(ctx).replace('name="timeLimit" value="5wd"', 'name="timeLimit" value="3wd"')
           .replace('preview_result == "pass"', 'preview_result in ("pass", "ok")'))
    form = json.dumps({"type": "default", "components": [
        {"type": "textfield", "key": "review_opinion", "label": "意见"},
        {"type": "radio", "key": "review_result", "label": "结论", "values": [{"label": "准予", "value": "approve"}]}]})
    resp = designer.post_json("/design/deploy", {"bpmn": xml, "filename": "food_licence.bpmn",
                                                 "forms": {"review.form": form}})
    assert resp.status_code == 200, resp.get_json()
    page = designer.get("/design/processes/food_licence/diff?a=1&b=2")
    assert page.status_code == 200
    rows = [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
            for row in re.findall(r'<tr data-element-id="[^"]+">(.*?)</tr>', page.get_data(as_text=True), flags=re.S)]
    assert "审查 review property timeLimit 5wd 3wd" in rows
    assert '材料齐全 flow_preview_pass conditionExpression preview_result == "pass" preview_result in ("pass", "ok")' in rows
    assert "review.form 已修改" in main_text(page)
    assert "preview.form" not in main_text(page).split("表单")[-1]  # unchanged forms are not listed


def test_page_policies_stay_strict(app):
    designer = Designer(app, "designer")
    policy = designer.get("/design/modeler").headers["Content-Security-Policy"]
    assert policy.startswith(PAGE_POLICY + "; ")  # the site's policy, one directive added
    extra = policy[len(PAGE_POLICY) + 2:].split()
    assert extra[:2] == ["style-src-attr", "'unsafe-hashes'"] and len(extra) == 4  # two exact styles
    assert all(h.startswith("'sha256-") for h in extra[2:]) and "unsafe-inline" not in policy
    assert designer.get("/design/processes").headers["Content-Security-Policy"] == PAGE_POLICY
    for url in ("/design/processes/food_licence/1/bpmn", "/design/processes/food_licence/1/zip"):
        assert designer.get(url).headers["Content-Security-Policy"] == "sandbox; default-src 'none'", url
