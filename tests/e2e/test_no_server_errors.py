"""Inputs that used to answer 500 (issue 8 §3, §4): ids and pages beyond 64 bits, dates in year 9999 or 1,
bodies that are not objects or nest 100 000 deep, and the unclaim and inactive-item rules."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.models import Item

from .flows import FOOD, FOOD_APPLY, apply, food_to_review, task_id

pytestmark = pytest.mark.usefixtures("demo")

BEYOND_INTEGER = 2**31  # a PostgreSQL INTEGER column's largest value is 2**31 - 1
BEYOND_BIGINT = 2**63
DEEP = "[" * 100_000 + "]" * 100_000
BODY_ERROR = [{"field": "_body", "message": "必须是 JSON 对象 / body must be a JSON object"}]


@pytest.mark.parametrize("big", [BEYOND_INTEGER, BEYOND_BIGINT])
def test_ids_beyond_any_row_are_not_found(api, big):
    case_no = food_to_review(api)
    calls = [
        ("POST", f"/notifications/{big}/read", "supervisor"),
        ("GET", f"/supervision-orders/{big}", "supervisor"),
        ("POST", f"/supervision-orders/{big}/reply", "market_head"),
        ("POST", f"/supervision-orders/{big}/close", "supervisor"),
        ("POST", f"/cases/{case_no}/suspensions/{big}/end", "market_approver"),
        ("POST", f"/cases/{case_no}/extensions/{big}/decision", "market_head"),
    ]
    answers = {path: api.call(method, path, user, json={"approve": True, "reply": "x"}).status_code
               for method, path, user in calls}
    assert answers == {path: 404 for _, path, _ in calls}


@pytest.mark.parametrize("query, field", [("to=9999-12-31", "to"), ("from=0001-01-01", "from")])
def test_dashboard_dates_outside_the_window_are_refused(api, query, field):
    resp = api.get(f"/dashboard?{query}", "supervisor")
    assert resp.status_code == 400
    assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_a_reply_date_in_year_9999_is_refused(api):
    case_no = food_to_review(api)
    resp = api.post("/supervision-orders", "supervisor", json={
        "case_no": case_no, "department": "market", "reason": "请说明", "reply_by": "9999-12-31"})
    assert resp.status_code == 400
    assert [e["field"] for e in resp.get_json()["errors"]] == ["reply_by"]
    assert api.get("/supervision-orders", "supervisor").get_json()["total"] == 0


def test_paged_lists_answer_in_one_shape_and_ignore_unknown_arguments(api):
    food_to_review(api)
    shapes = {path: sorted(api.get(f"{path}?per_page=1&utm_source=mail", user).get_json())
              for path, user in (("/tasks", "admin"), ("/notifications", "citizen"),
                                 ("/supervision-orders", "supervisor"))}
    paged = ["items", "page", "pages", "per_page", "total"]
    assert shapes == {"/tasks": paged, "/notifications": sorted([*paged, "unread"]), "/supervision-orders": paged}
    board = api.get("/dashboard?page=1&per_page=5&utm_source=mail", "supervisor")
    assert board.status_code == 200 and sorted(board.get_json()["overdue"]) == paged


@pytest.mark.parametrize("body", [[1], "x", 5])
def test_an_item_body_that_is_not_an_object(api, body):
    assert api.put(f"/items/{FOOD}", "citizen", json=body).status_code == 403  # before the body is read
    resp = api.put(f"/items/{FOOD}", "admin", json=body)
    assert resp.status_code == 400 and resp.get_json()["errors"] == BODY_ERROR


@pytest.mark.parametrize("path, user", [("/auth/token", None), ("/cases", "citizen"), ("/items", "admin")])
def test_json_nested_100_000_deep_is_refused(api, path, user):
    resp = api.post(path, user, data=DEEP, content_type="application/json")
    assert resp.status_code == 400
    assert [e["field"] for e in resp.get_json()["errors"]] == ["_body"]


def test_a_body_that_is_not_json_is_refused(api):
    resp = api.post("/cases", "citizen", data="{item_code: 1", content_type="application/json")
    assert resp.status_code == 400
    assert [e["field"] for e in resp.get_json()["errors"]] == ["_body"]


def test_a_nul_character_is_refused(api):
    # PostgreSQL text cannot hold NUL: looking a code up by one used to fail there with a 500.
    assert [api.get(path, "admin").status_code for path in ("/items/%00", "/tasks?item_code=%00")] == [400, 400]
    resp = api.post("/cases", "citizen", json={"item_code": FOOD, "data": {"business_name": "\x00"}})
    assert resp.status_code == 400 and [e["field"] for e in resp.get_json()["errors"]] == ["_body"]


def test_unclaim_by_someone_who_is_neither_candidate_assignee_head_nor_admin(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    preview = task_id(api, case_no, "preview")
    answers = {user: api.post(f"/tasks/{preview}/unclaim", user).status_code
               for user in ("company", "citizen", "housing_clerk", "market_approver", "market_clerk", "market_head")}
    # The applicants and another department's clerk may not even see the task; a colleague who may
    # see the case is refused; the clerks it is offered to and their head may.
    assert answers == {"company": 404, "citizen": 404, "housing_clerk": 404, "market_approver": 403,
                       "market_clerk": 200, "market_head": 200}


def test_an_inactive_item_is_there_for_administrators_only(api, ctx):
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(Item).where(Item.code == FOOD).values(active=False))
        uow.commit()
    answers = {user: api.get(f"/items/{FOOD}", user).status_code for user in (None, "citizen", "market_clerk")}
    assert answers == {None: 404, "citizen": 404, "market_clerk": 404}
    shown = api.get(f"/items/{FOOD}", "admin")
    assert shown.status_code == 200 and shown.get_json()["active"] is False
