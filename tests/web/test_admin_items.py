"""The item catalogue pages: the list and its filters, the form's messages next to their fields (nothing
saved), a draft that leaves the guide alone until another administrator publishes it, the history's
field diffs, and 403 for everyone but administrators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services.identity import users

from .portal_helpers import EN, FOOD, pdf_bytes, post, sign_in, text, upload

pytestmark = pytest.mark.usefixtures("demo")

NEW = {"code": "420100-TEST-002", "name": "测试事项（页面）", "type_code": "01", "department": "market",
       "case_kind": "promised", "statutory_limit": "20", "promised_limit": "10", "limit_unit": "wd",
       "process_key": "food_licence", "form_key": "food-licence-apply.form", "case_prefix": "CSYM", "fees": "不收费",
       "m-0-name": "申请书", "m-0-description": "签字盖章", "m-0-required": "1", "m-1-name": ""}


def error_for(page: str, field: str) -> str:
    """The message shown next to a field (its id is e-<field>, dots as dashes)."""
    match = re.search(rf'<p class="field-error" id="e-{re.escape(field.replace(".", "-"))}">([^<]*)</p>', page)
    return match.group(1) if match else ""


def test_the_list_filters_by_department_type_and_status(app):
    client = sign_in(app.test_client(), "admin")
    page = text(client.get("/admin/items", headers=EN))
    assert "420100-SCJG-001" in page and "420100-ZJJ-001" in page
    housing = text(client.get("/admin/items?department=housing", headers=EN))
    assert "420100-ZJJ-001" in housing and "420100-SCJG-001" not in housing
    assert "420100-SCJG-001" not in text(client.get("/admin/items?active=0", headers=EN))
    assert "No items match." in text(client.get("/admin/items?type_code=20", headers=EN))
    instant = text(client.get("/admin/items?case_kind=instant", headers=EN))
    assert "420100-SCJG-002" in instant and "420100-SCJG-001" not in instant
    assert client.get("/admin/items?q=食品&page=999999999999&active=x&type_code=zz").status_code == 200


def test_promised_above_statutory_is_refused_next_to_the_field(app):
    client = sign_in(app.test_client(), "admin")
    resp = post(client, "/admin/items/new", {**NEW, "promised_limit": "30", "case_prefix": "SPJY"},
                headers=EN, content_type="multipart/form-data")
    page = text(resp)
    assert resp.status_code == 400 and "Nothing was saved" in page
    assert "must not exceed the statutory limit" in error_for(page, "promised_limit")
    assert "420100-SCJG-001" in error_for(page, "case_prefix")
    assert 'value="测试事项（页面）"' in page  # what was typed is kept
    assert client.get("/admin/items/420100-TEST-002").status_code == 404  # nothing saved


def test_typing_errors_are_named_in_the_pages_language(app):
    client = sign_in(app.test_client(), "admin", headers=EN)
    resp = post(client, "/admin/items/new", {**NEW, "promised_limit": "ten", "case_prefix": "abc", "name": ""},
                headers=EN, content_type="multipart/form-data")
    page = text(resp)
    assert resp.status_code == 400
    assert error_for(page, "promised_limit") == "Please enter a valid value."
    assert error_for(page, "name") and error_for(page, "case_prefix")


def test_a_file_that_is_no_document_is_refused_at_its_row(app):
    client = sign_in(app.test_client(), "admin")
    resp = post(client, "/admin/items/new", {**NEW, "m-0-template": upload(b"<script>x</script>", "form.pdf")},
                headers=EN, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "only PDF, Word, Excel, PNG and JPEG" in error_for(text(resp), "materials.0.template")


def test_a_draft_waits_for_a_second_admin_and_the_history_shows_the_diff(app, demo):
    users.create_user(demo, "admin2", "demo1234", "admin")  # without the publish right the demo admin holds
    author = sign_in(app.test_client(), "admin2")
    created = post(author, "/admin/items/new", {**NEW, "m-0-template": upload(pdf_bytes(), "申请书范本.pdf")},
                   headers=EN, content_type="multipart/form-data")
    assert created.status_code == 302, text(created)
    page = text(author.get("/admin/items/420100-TEST-002", headers=EN))
    assert "申请书范本.pdf" in page
    assert re.search(r'<button type="submit" disabled aria-describedby="why-not">Publish revision 1</button>', page)
    assert "Another administrator publishes it" in page
    assert app.test_client().get("/items/420100-TEST-002").status_code == 404  # not in the guide
    second = sign_in(app.test_client(), "admin")
    publish_page = text(second.get("/admin/items/420100-TEST-002", headers=EN))
    assert '<button type="submit" class="primary">Publish revision 1</button>' in publish_page
    done = post(second, "/admin/items/420100-TEST-002/revisions/1/publish", {}, form_page="/admin/items/420100-TEST-002",
                headers=EN, follow_redirects=True)
    assert "Revision 1 is published" in text(done)
    guide = text(app.test_client().get("/items/420100-TEST-002"))
    assert "测试事项（页面）" in guide and "/items/420100-TEST-002/files/" in guide
    # a second revision: the promised limit changes; the history shows before and after
    changed = post(author, "/admin/items/420100-TEST-002", {**NEW, "promised_limit": "8",
                                                            "m-0-template-sha": _sha(page), "m-0-template-filename": "申请书范本.pdf"},
                   form_page="/admin/items/420100-TEST-002", headers=EN, content_type="multipart/form-data")
    assert changed.status_code == 302, text(changed)
    history = text(author.get("/admin/items/420100-TEST-002/history", headers=EN))
    row = re.search(r"<th scope=\"row\">Promised limit</th>\s*<td class=\"before\">(\d+)</td>\s*<td class=\"after\">(\d+)</td>",
                    history)
    assert row and row.groups() == ("10", "8")


def _sha(page: str) -> str:
    match = re.search(r'name="m-0-template-sha" value="([0-9a-f]{64})"', page)
    assert match
    return match.group(1)


@pytest.mark.parametrize("user", ["market_clerk", "designer", "supervisor", "citizen"])
def test_only_admins_open_the_catalogue(app, user):
    client = sign_in(app.test_client(), user)
    for path in ("/admin/items", "/admin/items/new", f"/admin/items/{FOOD}", f"/admin/items/{FOOD}/history"):
        assert client.get(path).status_code == 403, path
    token_page = client.get("/items")  # a page every user can open, for a CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(token_page))
    csrf = token.group(1) if token else ""
    for path in (f"/admin/items/{FOOD}", f"/admin/items/{FOOD}/active", f"/admin/items/{FOOD}/revisions/1/publish",
                 "/admin/items/new"):
        assert client.post(path, data={"csrf_token": csrf, "active": "0"}).status_code == 403, path


CATALOGUE = Path(__file__).resolve().parents[2] / "app/translations/items/zh/LC_MESSAGES/messages.po"


def test_no_message_shows_untranslated_on_the_chinese_pages(app, demo):
    """Every English message id of the catalogue pages has its Chinese text on a Chinese page."""
    ids = [i for i in re.findall(r'^msgid "(.+)"$', CATALOGUE.read_text(encoding="utf-8"), re.M)
           if "%(" not in i and len(i) > 12]
    users.create_user(demo, "admin2", "demo1234", "admin")
    client = sign_in(app.test_client(), "admin")
    saved = post(client, f"/admin/items/{FOOD}", {**NEW, "code": FOOD, "case_prefix": "SPJY",
                                                "name": "食品经营许可（修订）"}, content_type="multipart/form-data")
    assert saved.status_code == 302, text(saved)
    pages = "".join(text(client.get(p)) for p in ("/admin/items", "/admin/items/new", f"/admin/items/{FOOD}",
                                                  f"/admin/items/{FOOD}/history", f"/items/{FOOD}"))
    shown = [i for i in ids if i.replace('"', "&#34;") in pages or i in pages]
    assert shown == []
    assert "事项目录" in pages and "保存为草稿" in pages
