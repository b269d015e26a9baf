"""Users, departments, groups, who does what and the audit trail through /api/v1 (SQLite and PostgreSQL):
field errors change nothing, a disabled user's token stops at once, an administrator's password must be
changed before a token, non-administrators are refused everywhere, and the trail is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .flows import FOOD, FOOD_APPLY, apply, case, task_id

NEW_USER = {"username": "new_clerk", "full_name": "钱七", "role": "clerk", "department": "market",
            "groups": ["market.clerk"], "staff_no": "SJ0199", "phone": "13900001111", "email": "qian@example.cn",
            "password": "Temp-pass-1"}


def _fields(resp) -> dict[str, str]:
    return {e.get("field"): e["message"] for e in resp.get_json()["errors"]}


def _user_id(api, username: str) -> int:
    found = api.get(f"/users?q={username}", "admin").get_json()["items"]
    return next(u["id"] for u in found if u["username"] == username)


def _group_id(api, name: str) -> int:
    return next(g["id"] for g in api.get(f"/groups?q={name}", "admin").get_json()["items"] if g["name"] == name)


def _token(api, username: str, password: str):
    return api.client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _audit(api, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return api.get(f"/audit?{query}", "admin").get_json()["items"]


def test_create_user_with_field_errors_changes_nothing(api, demo):
    bad = {**NEW_USER, "username": "x", "role": "clerk", "department": "nowhere", "groups": ["no.such"],
           "staff_no": "SJ0101", "phone": "12345", "email": "not-an-address", "password": "short",
           "full_name": ""}
    resp = api.post("/users", "admin", json=bad)
    assert resp.status_code == 400
    assert set(_fields(resp)) == {"username", "department", "groups", "staff_no", "phone", "email", "password",
                                  "full_name"}
    assert "工号已被使用" in _fields(resp)["staff_no"]
    assert api.get("/users?q=new_clerk", "admin").get_json()["total"] == 0
    assert _audit(api, object_type="user") == []
    # a type error is a field message too, not a 500
    resp = api.post("/users", "admin", json={**NEW_USER, "groups": "market.clerk", "role": "king"})
    assert resp.status_code == 400 and {"groups", "role"} <= set(_fields(resp))
    taken = api.post("/users", "admin", json={**NEW_USER, "username": "market_clerk", "staff_no": None})
    assert taken.status_code == 400 and "已被使用" in _fields(taken)["username"]


def test_a_new_user_must_change_the_password_before_a_token(api, demo):
    resp = api.post("/users", "admin", json=NEW_USER)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["password"] is None  # the administrator chose it: nothing to show
    assert body["user"]["must_change_password"] is True and body["user"]["groups"] == ["market.clerk"]

    refused = _token(api, "new_clerk", NEW_USER["password"])
    assert refused.status_code == 403
    assert "POST /auth/password" in refused.get_json()["errors"][0]["message"]

    same = api.client.post("/api/v1/auth/password", json={
        "username": "new_clerk", "password": NEW_USER["password"], "new_password": NEW_USER["password"]})
    assert same.status_code == 400 and "new_password" in _fields(same)
    wrong = api.client.post("/api/v1/auth/password", json={
        "username": "new_clerk", "password": "wrong-password", "new_password": "Mine-now-42"})
    assert wrong.status_code == 401
    changed = api.client.post("/api/v1/auth/password", json={
        "username": "new_clerk", "password": NEW_USER["password"], "new_password": "Mine-now-42"})
    assert changed.status_code == 200
    token = _token(api, "new_clerk", "Mine-now-42")
    assert token.status_code == 200
    tasks = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert tasks.status_code == 200


def test_generated_password_and_reset(api, demo):
    resp = api.post("/users", "admin", json={**NEW_USER, "password": None})
    generated = resp.get_json()["password"]
    assert resp.status_code == 201 and len(generated) == 12
    uid = resp.get_json()["user"]["id"]
    assert api.client.post("/api/v1/auth/password", json={
        "username": "new_clerk", "password": generated, "new_password": "Mine-now-42"}).status_code == 200
    token = _token(api, "new_clerk", "Mine-now-42").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 200

    reset = api.post(f"/users/{uid}/reset-password", "admin")
    assert reset.status_code == 200 and reset.get_json()["user"]["must_change_password"] is True
    temporary = reset.get_json()["password"]
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 401  # the old token ended
    assert _token(api, "new_clerk", "Mine-now-42").status_code == 401
    assert _token(api, "new_clerk", temporary).status_code == 403  # change it first
    entry = _audit(api, object_type="user", object_id=uid, action="user.reset_password")[0]
    assert entry["after"]["password"] == "reset" and entry["after"]["must_change_password"] is True


def test_edit_user_with_errors_and_changes(api, demo):
    uid = _user_id(api, "market_clerk")
    bad = api.call("PATCH", f"/users/{uid}", "admin", json={"phone": "abc", "department": "nowhere"})
    assert bad.status_code == 400 and set(_fields(bad)) == {"phone", "department"}
    assert api.get(f"/users/{uid}", "admin").get_json()["phone"] is None
    unknown = api.call("PATCH", f"/users/{uid}", "admin", json={"password_hash": "x"})
    assert unknown.status_code == 400 and "password_hash" in _fields(unknown)

    ok = api.call("PATCH", f"/users/{uid}", "admin", json={
        "phone": "027-85551234", "email": "wang@example.cn", "groups": ["market.clerk", "market.approver"]})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["groups"] == ["market.approver", "market.clerk"]
    entry = _audit(api, object_type="user", object_id=uid)[0]
    assert entry["action"] == "user.update" and entry["actor"] == "admin"
    assert entry["before"] == {"phone": None, "email": None, "groups": ["market.clerk"]}
    assert entry["after"]["groups"] == ["market.approver", "market.clerk"]
    assert "password_hash" not in str(entry) and "scrypt" not in str(entry)
    assert api.get("/users/999999", "admin").status_code == 404


def test_disabled_users_token_stops_at_once_and_sign_in_is_refused(api, demo):
    uid = _user_id(api, "market_clerk")
    headers = {"Authorization": f"Bearer {api.token('market_clerk')}"}
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 200

    disabled = api.post(f"/users/{uid}/disable", "admin")
    assert disabled.status_code == 200 and disabled.get_json()["active"] is False
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 401
    refused = _token(api, "market_clerk", "demo1234")
    assert refused.status_code == 401 and "停用" in refused.get_json()["errors"][0]["message"]
    wrong = _token(api, "market_clerk", "not-the-password")  # no hint for whoever lacks the password
    assert "停用" not in wrong.get_json()["errors"][0]["message"]
    assert api.get("/users?active=false", "admin").get_json()["items"][0]["username"] == "market_clerk"

    assert api.post(f"/users/{uid}/enable", "admin").get_json()["active"] is True
    assert _token(api, "market_clerk", "demo1234").status_code == 200
    actions = [e["action"] for e in _audit(api, object_type="user", object_id=uid)]
    assert actions == ["user.enable", "user.disable"]


def test_a_disabled_users_claimed_task_goes_back_to_the_group(api, demo):
    """No case waits on someone who can no longer sign in: a colleague takes the task over."""
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    task = task_id(api, case_no, "preview")
    assert api.post(f"/tasks/{task}/claim", "market_clerk").status_code == 200
    assert api.post(f"/tasks/{task}/claim", "market_clerk2").status_code == 409  # held by a colleague

    assert api.post(f"/users/{_user_id(api, 'market_clerk')}/disable", "admin").status_code == 200
    assert next(t for t in case(api, case_no)["tasks"] if t["id"] == task)["assignee"] is None
    assert api.post(f"/tasks/{task}/claim", "market_clerk2").status_code == 200
    history = [e["action"] for e in case(api, case_no)["history"]]
    assert "unclaimed" in history


def test_admin_cannot_disable_or_demote_themselves_nor_the_last_admin(api, demo):
    me = _user_id(api, "admin")
    resp = api.post(f"/users/{me}/disable", "admin")
    assert resp.status_code == 409 and "自己" in resp.get_json()["errors"][0]["message"]
    assert api.call("PATCH", f"/users/{me}", "admin", json={"role": "clerk"}).status_code == 409
    # `boss` administers through a group's role, so `admin` is the last account whose role is admin
    api.post("/groups", "admin", json={"name": "admins", "role": "admin"})
    api.post("/users", "admin", json={**NEW_USER, "username": "boss", "groups": ["admins"], "staff_no": None})
    api.client.post("/api/v1/auth/password", json={
        "username": "boss", "password": NEW_USER["password"], "new_password": "Boss-pass-42"})
    api.token("boss", "Boss-pass-42")
    last = api.post(f"/users/{me}/disable", "boss")
    assert last.status_code == 409 and "至少要保留一个" in last.get_json()["errors"][0]["message"]
    assert api.call("PATCH", f"/users/{me}", "boss", json={"role": "clerk"}).status_code == 409
    assert api.get(f"/users/{me}", "boss").get_json()["active"] is True


def test_departments_and_groups(api, demo):
    bad = api.post("/departments", "admin", json={"code": "Bad Code", "name": ""})
    assert bad.status_code == 400 and set(_fields(bad)) == {"code", "name"}
    taken = api.post("/departments", "admin", json={"code": "market", "name": "x"})
    assert taken.status_code == 400 and "code" in _fields(taken)
    made = api.post("/departments", "admin", json={"code": "tax", "name": "税务局", "standard_groups": True})
    assert made.status_code == 201
    dept = made.get_json()
    assert dept["groups"] == ["tax.approver", "tax.clerk", "tax.head"]
    fixed = api.call("PATCH", f"/departments/{dept['id']}", "admin", json={"code": "taxes"})
    assert fixed.status_code == 400 and "code" in _fields(fixed)
    renamed = api.call("PATCH", f"/departments/{dept['id']}", "admin", json={"name": "税务局（新）"})
    assert renamed.get_json()["name"] == "税务局（新）"

    assert api.post("/groups", "admin", json={"name": "tax.approver"}).status_code == 400
    bad_group = api.post("/groups", "admin", json={"name": "a b", "department": "nowhere", "role": None})
    assert bad_group.status_code == 400 and set(_fields(bad_group)) == {"name", "department"}
    group = api.post("/groups", "admin", json={"name": "tax.reviewer", "department": "tax", "role": "approver"})
    assert group.status_code == 201
    gid = group.get_json()["id"]
    missing = api.put(f"/groups/{gid}/members", "admin", json={"members": ["market_clerk", "ghost"]})
    assert missing.status_code == 400 and "ghost" in _fields(missing)["members"]
    assert api.get(f"/groups/{gid}", "admin").get_json()["members"] == []
    members = api.put(f"/groups/{gid}/members", "admin", json={"members": ["market_clerk", "housing_clerk"]})
    assert members.get_json()["members"] == ["housing_clerk", "market_clerk"]
    members = api.put(f"/groups/{gid}/members", "admin", json={"members": ["housing_clerk"]})
    assert members.get_json()["members"] == ["housing_clerk"]
    entry = _audit(api, object_type="group", object_id=gid, action="group.members")[0]
    assert entry["before"] == {"members": ["housing_clerk", "market_clerk"]}
    assert entry["after"] == {"members": ["housing_clerk"]}
    assert api.call("PATCH", f"/groups/{gid}", "admin", json={"name": "other"}).status_code == 400
    assert api.call("PATCH", f"/groups/{gid}", "admin", json={"role": "head"}).get_json()["role"] == "head"
    assert {e["action"] for e in _audit(api, object_type="department")} == {"department.create", "department.update"}


def test_who_does_what(api, demo):
    fire = api.get(f"/groups/{_group_id(api, 'fire.approver')}/assignments", "admin").get_json()
    steps = {(s["process_key"], s["task_id"], s["via"]) for s in fire["steps"]}
    assert steps == {("construction_permit", "dept_approval", "expression")}
    assert fire["steps"][0]["expression"] == "${department}.approver"
    assert [i["code"] for i in fire["steps"][0]["items"]] == ["420100-ZJJ-001"]
    market = api.get(f"/groups/{_group_id(api, 'market.clerk')}/assignments", "admin").get_json()
    named = {(s["process_key"], s["task_id"]) for s in market["steps"] if s["via"] == "candidateGroups"}
    assert {("food_licence", "preview"), ("food_licence", "acceptance"),
            ("food_licence_reissue", "handle_on_spot")} <= named
    clerk = api.get(f"/groups/{_group_id(api, 'service_center.clerk')}/assignments", "admin").get_json()
    issuance = [s for s in clerk["steps"] if s["task_id"] == "issue_licence"][0]
    # issuance is a called process: it serves the items of the processes that call it
    assert {"420100-SCJG-001", "420100-ZJJ-001"} <= {i["code"] for i in issuance["items"]}


ENDPOINTS = [("GET", "/users"), ("POST", "/users"), ("GET", "/users/1"), ("PATCH", "/users/1"),
             ("POST", "/users/1/disable"), ("POST", "/users/1/enable"), ("POST", "/users/1/reset-password"),
             ("GET", "/departments"), ("POST", "/departments"), ("GET", "/departments/1"),
             ("PATCH", "/departments/1"), ("GET", "/groups"), ("POST", "/groups"), ("GET", "/groups/1"),
             ("PATCH", "/groups/1"), ("PUT", "/groups/1/members"), ("GET", "/groups/1/assignments"),
             ("GET", "/audit")]
BODIES = {"/users": NEW_USER, "/users/1": {"phone": "13900001111"}, "/departments": {"code": "tax", "name": "税务"},
          "/departments/1": {"name": "x"}, "/groups": {"name": "x.y"}, "/groups/1": {"role": "head"},
          "/groups/1/members": {"members": ["citizen"]}}


@pytest.mark.parametrize("user", ["market_clerk", "market_approver", "supervisor", "citizen", "designer"])
def test_everything_is_refused_to_non_administrators(api, demo, user):
    for method, path in ENDPOINTS:
        resp = api.call(method, path, user, json=BODIES.get(path) if method != "GET" else None)
        assert resp.status_code == 403, (method, path, resp.status_code)
    assert api.get("/users").status_code == 401  # and without a token: sign in first
    assert _audit(api, object_type="user") == [] and _audit(api, object_type="group") == []


def test_audit_filters_and_paging(api, demo, clock):
    api.post("/users", "admin", json=NEW_USER)
    api.post("/departments", "admin", json={"code": "tax", "name": "税务局"})
    assert [e["action"] for e in _audit(api, actor="admin", action="department")] == ["department.create"]
    assert _audit(api, since="2030-01-01") == []
    page = api.get("/audit?per_page=1&object_type=user", "admin").get_json()
    assert page["per_page"] == 1 and page["total"] >= 1
    bad = api.get("/audit?object_type=planet&since=yesterday", "admin")
    assert bad.status_code == 400 and set(_fields(bad)) == {"object_type", "since"}


def test_audit_entries_cannot_be_changed_or_deleted(api, demo, ctx):
    api.post("/departments", "admin", json={"code": "tax", "name": "税务局"})
    for statement in ("UPDATE audit_entries SET summary = 'forged'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"), ctx.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert _audit(api, object_type="department")[0]["summary"].startswith("创建部门")


def test_command_line_lets_a_locked_out_administrator_in_again(app, api, demo):
    cli = app.test_cli_runner()
    assert cli.invoke(args=["users", "disable", "admin"]).exit_code == 1  # the last active administrator
    reset = cli.invoke(args=["users", "reset-password", "admin"])
    assert reset.exit_code == 0, reset.output
    temporary = reset.output.strip().rsplit(": ", 1)[1]
    assert _token(api, "admin", temporary).status_code == 403  # change it first
    assert cli.invoke(args=["users", "disable", "ghost"]).exit_code == 1
    assert cli.invoke(args=["users", "disable", "market_clerk"]).exit_code == 0
    assert _token(api, "market_clerk", "demo1234").status_code == 401
    assert cli.invoke(args=["users", "enable", "market_clerk"]).exit_code == 0
    assert _token(api, "market_clerk", "demo1234").status_code == 200
    api.client.post("/api/v1/auth/password", json={"username": "admin", "password": temporary,
                                                   "new_password": "Admin-again-1"})
    api.token("admin", "Admin-again-1")
    actors = {e["actor"] for e in _audit(api, object_type="user", action="user.")}
    assert actors == {"cli", "admin"}


def test_calendar_changes_are_in_the_audit_trail(api, demo, ctx):
    from app.services.admin import calendar_admin
    from app.services.identity.auth import authenticate

    assert api.put("/calendar/days/2026-11-26", "admin", json={"kind": "holiday", "name": "地方假日",
                                                               "local": True}).status_code == 200
    assert api.put("/calendar/days/2026-11-26", "admin", json={"kind": None}).status_code == 200
    imported = api.post("/calendar/import", "admin", json={"year": 2027, "days": [
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]})
    assert imported.status_code == 200, imported.get_json()
    calendar_admin.set_published(ctx, authenticate(ctx, "admin", "demo1234"), 2027, False)
    entries = _audit(api, object_type="calendar")
    assert [e["action"] for e in entries] == ["calendar.unpublish", "calendar.import", "calendar.set_day",
                                              "calendar.set_day"]
    reset, made = entries[2], entries[3]
    assert made["object_id"] == "2026-11-26" and made["actor"] == "admin"
    assert made["before"] == {"kind": None, "name": "", "local": False}
    assert made["after"] == {"kind": "holiday", "name": "地方假日", "local": True}
    assert reset["after"] == {"kind": None, "name": "", "local": False}
    assert entries[1]["after"]["published"] is True and entries[0]["after"] == {"published": False}
    # a refused change writes nothing
    assert api.put("/calendar/days/2026-11-24", "admin", json={"kind": "workday"}).status_code == 400
    assert len(_audit(api, object_type="calendar")) == 4
