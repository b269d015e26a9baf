"""The organisation and audit pages as an administrator sees them: messages next to the fields that are
wrong (and nothing changed), disabling and resetting, the required password change, who does what for a
demo group, the audit trail with its filters; every page refused to other roles."""

from __future__ import annotations

import re

import pytest

from tests.web.signin import csrf_token, sign_in


@pytest.fixture
def admin(app, demo):
    return sign_in(app.test_client(), "admin")


def _post(client, path: str, data: dict, form_path: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_path or path)})


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def _user_id(client, username: str) -> int:
    html = client.get(f"/admin/users?q={username}").get_data(as_text=True)
    return int(re.search(rf'href="/admin/users/(\d+)">{username}</a>', html).group(1))


NEW = {"username": "new_clerk", "full_name": "钱七", "role": "clerk", "department": "market",
       "groups": ["market.clerk"], "staff_no": "SJ0199", "phone": "13900001111", "email": "qian@example.cn",
       "password": "Temp-pass-1"}


def test_new_user_errors_stand_next_to_their_fields(admin):
    resp = _post(admin, "/admin/users/new", {**NEW, "username": "x", "staff_no": "SJ0101", "phone": "12345",
                                             "email": "nope", "password": "short", "full_name": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "3-64" in _field_error(html, "username")
    assert "工号已被使用" in _field_error(html, "staff_no")
    assert "固定电话" in _field_error(html, "phone")
    assert "电子邮箱" in _field_error(html, "email")
    assert "8-256" in _field_error(html, "password")
    assert "必填" in _field_error(html, "full_name")
    assert 'value="12345"' in html and 'value="nope"' in html  # the form keeps what was typed
    assert "new_clerk" not in admin.get("/admin/users?q=new_clerk").get_data(as_text=True).split("</form>")[-1]


def test_create_edit_disable_and_reset(app, admin):
    resp = _post(admin, "/admin/users/new", NEW)
    assert resp.status_code == 302
    uid = _user_id(admin, "new_clerk")
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "该用户下次登录时必须修改密码" in page

    bad = _post(admin, f"/admin/users/{uid}", {**NEW, "email": "broken@", "department": "nowhere"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and _field_error(html, "email") and _field_error(html, "department")
    assert "broken@" in html  # what was typed stays in the form
    good = _post(admin, f"/admin/users/{uid}", {**NEW, "email": "qi@example.cn"})
    assert good.status_code == 302

    disabled = _post(admin, f"/admin/users/{uid}/active", {"active": "0"}, f"/admin/users/{uid}")
    assert disabled.status_code == 302
    assert "已停用" in admin.get(f"/admin/users/{uid}").get_data(as_text=True)

    reset = _post(admin, f"/admin/users/{uid}/reset-password", {}, f"/admin/users/{uid}")
    html = reset.get_data(as_text=True)
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', html).group(1)
    assert len(password) == 12
    me = _user_id(admin, "admin")
    own = _post(admin, f"/admin/users/{me}/active", {"active": "0"}, f"/admin/users/{me}")
    assert "不能停用自己的账号" in admin.get(own.headers["Location"]).get_data(as_text=True)


def test_generated_password_is_shown_once_then_the_user_must_change_it(app, admin):
    resp = _post(admin, "/admin/users/new", {**NEW, "password": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', html).group(1)

    user = app.test_client()
    signed = _post(user, "/login", {"username": "new_clerk", "password": password})
    assert "/password" in signed.headers["Location"]
    assert user.get("/staff/inbox").status_code == 302  # every page leads to the change
    assert "/password" in user.get("/staff/inbox").headers["Location"]
    mismatch = _post(user, "/password", {"current_password": password, "new_password": "Mine-now-42",
                                         "new_password_again": "Mine-now-43"})
    assert mismatch.status_code == 400 and _field_error(mismatch.get_data(as_text=True), "new_password_again")
    wrong = _post(user, "/password", {"current_password": "nope-nope", "new_password": "Mine-now-42",
                                      "new_password_again": "Mine-now-42"})
    assert wrong.status_code == 400 and _field_error(wrong.get_data(as_text=True), "current_password")
    done = _post(user, "/password", {"current_password": password, "new_password": "Mine-now-42",
                                     "new_password_again": "Mine-now-42"})
    assert done.status_code == 302
    assert user.get("/staff/inbox").status_code == 200


def test_disabled_user_is_told_at_sign_in_and_their_session_ends(app, admin):
    clerk = sign_in(app.test_client(), "market_clerk")
    assert clerk.get("/staff/inbox").status_code == 200
    uid = _user_id(admin, "market_clerk")
    _post(admin, f"/admin/users/{uid}/active", {"active": "0"}, f"/admin/users/{uid}")
    assert clerk.get("/staff/inbox").status_code == 302  # back to the sign-in page
    again = _post(app.test_client(), "/login", {"username": "market_clerk", "password": "demo1234"})
    assert again.status_code == 401 and "已停用" in again.get_data(as_text=True)


def test_departments_and_groups_pages(admin):
    bad = _post(admin, "/admin/departments/new", {"code": "Tax Office", "name": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and _field_error(html, "code") and _field_error(html, "name")
    ok = _post(admin, "/admin/departments/new", {"code": "tax", "name": "税务局", "standard_groups": "1"})
    assert ok.status_code == 302
    listing = admin.get("/admin/departments").get_data(as_text=True)
    assert "税务局" in listing and "tax.approver" in listing

    group_list = admin.get("/admin/groups?q=tax.clerk").get_data(as_text=True)
    gid = int(re.search(r'href="/admin/groups/(\d+)">tax.clerk</a>', group_list).group(1))
    unknown = _post(admin, f"/admin/groups/{gid}", {"department": "tax", "role": "clerk",
                                                    "members": "market_clerk\nghost"})
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 400 and "ghost" in _field_error(html, "members")
    assert "market_clerk" not in admin.get("/admin/groups?q=tax.clerk").get_data(as_text=True)
    saved = _post(admin, f"/admin/groups/{gid}", {"department": "tax", "role": "clerk", "members": "market_clerk"})
    assert saved.status_code == 302
    assert "market_clerk" in admin.get("/admin/groups?q=tax.clerk").get_data(as_text=True)


def test_who_does_what_lists_the_reference_steps_offered_to_a_group(admin):
    html = admin.get("/admin/assignments?group=market.approver").get_data(as_text=True)
    table = html.split('id="assignments"')[1]
    assert "food_licence" in table and "审查" in table and "<code>market.approver</code>" in table
    assert "420100-SCJG-001" in table
    fire = admin.get("/admin/assignments?group=fire.approver").get_data(as_text=True).split('id="assignments"')[1]
    assert "并联审批" in fire and "${department}.approver" in fire and "420100-ZJJ-001" in fire
    assert "没有名为 nobody 的用户组" in admin.get("/admin/assignments?group=nobody").get_data(as_text=True)


def test_audit_page_filters_and_shows_field_changes(admin):
    _post(admin, "/admin/users/new", NEW)
    uid = _user_id(admin, "new_clerk")
    _post(admin, f"/admin/users/{uid}", {**NEW, "phone": "027-85551234"})
    html = admin.get(f"/admin/audit?object_type=user&object_id={uid}").get_data(as_text=True)
    table = html.split('id="audit"')[1]
    assert "user.update" in table and "user.create" in table
    assert "<del>13900001111</del>" in table and "<ins>027-85551234</ins>" in table
    assert "password_hash" not in table and "scrypt" not in table
    only = admin.get("/admin/audit?action=user.create").get_data(as_text=True).split('id="audit"')[1]
    assert "user.update" not in only
    bad = admin.get("/admin/audit?since=2026-13-01&until=yesterday")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and _field_error(html, "f-since") and _field_error(html, "f-until")


PAGES = ["/admin/users", "/admin/users/new", "/admin/users/1", "/admin/departments", "/admin/departments/new",
         "/admin/departments/1", "/admin/groups", "/admin/groups/new", "/admin/groups/1",
         "/admin/assignments?group=market.clerk", "/admin/audit"]


@pytest.mark.parametrize("user", ["market_clerk", "market_approver", "supervisor", "citizen"])
def test_pages_are_refused_to_other_roles(app, demo, user):
    client = sign_in(app.test_client(), user)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")  # any page's token: the POSTs are refused before they are read
    for path in ("/admin/users/new", "/admin/users/1/active", "/admin/users/1/reset-password", "/admin/groups/1"):
        assert client.post(path, data={"csrf_token": token, "active": "0"}).status_code == 403, path


def test_audit_page_offers_and_filters_the_newer_kinds_of_change(app, admin):
    """Rating rules, service windows, templates and licences are audited; the page filters by them."""
    from tests.conftest import Api

    api = Api(app.test_client())
    rules = api.get("/rating-rules").get_json()
    assert api.put("/rating-rules", "admin", json={**rules, "window_days": 3}).status_code == 200
    html = admin.get("/admin/audit").get_data(as_text=True)
    for label in ("评价规则", "服务窗口", "消息模板", "电子证照"):
        assert f">{label}</option>" in html
    only = admin.get("/admin/audit?object_type=rating")
    assert only.status_code == 200
    table = only.get_data(as_text=True).split('id="audit"')[1]
    assert "rating.rules" in table and "评价规则" in table
